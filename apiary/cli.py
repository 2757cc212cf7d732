"""`apiary` command line. `apiary zk --help` lists the ZKML pipeline steps in the order a newcomer runs them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from .zk.errors import ZkError

SRS_HELP = "Powers-of-tau SRS file in ezkl's format (production). Default: the reproducible INSECURE dev SRS."


# The label column of a CSV test set: one option for every command that reads one.
_label_option = click.option("--label", default=None, help="The CSV column holding the label (default: the last column).")


def _echo(msg: str) -> None:
    click.echo(f"  {msg}", err=True)


@click.group()
def main() -> None:
    """Apiary protocol tooling."""


@main.command()
@click.option("--files", "folder", type=click.Path(file_okay=False, exists=True, path_type=Path), required=True,
              help="The folder to serve (packages to sell, job inputs): everything in it becomes public.")
@click.option("--host", default="0.0.0.0", show_default=True,
              help="Address to listen on: 0.0.0.0 every interface (others can reach it), 127.0.0.1 this machine only.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
def serve(folder, host, port):
    """Serve a folder's files over HTTP so buyers and providers on other machines can fetch them; prints the URLs
    to list (`data list --uri`, `compute post --uri`). Readers check every file against the chain."""
    from .sdk.serve import file_urls, make_server, reachable_address

    try:
        server = make_server(folder, host, port, log=lambda line: click.echo(f"  {line}", err=True))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    base = f"http://{reachable_address(host)}:{server.server_address[1]}/"
    click.echo(f"serving {folder.resolve()} at {base} (Ctrl-C stops); everything in it is public")
    for url in file_urls(folder, base):
        click.echo(f"  {url}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.group()
def zk() -> None:
    """ZKML pipeline: train → build circuit → keys → prove → verify → calldata.

    \b
    Your own model and test set:
      apiary zk import --onnx model.onnx --data test.csv --task classify --samples 64 --out my-circuit
      apiary zk testset my-circuit --data test.csv --chunks 4
      apiary zk prove my-circuit --model model.onnx --data test.csv --chunk 0 --chunks 4 --out proof.json
      apiary zk verify my-circuit proof.json --onchain
      apiary zk calldata proof.json
    A built-in example (held-out test set of a scikit-learn data set):
      apiary zk train --dataset iris --arch logreg --out model.onnx
      apiary zk prove iris-logreg-n8 --model model.onnx --chunk 0 --chunks 2 --out proof.json
    """


@zk.command()
@click.option("--dataset", type=click.Choice(["digits", "iris", "diabetes"]), required=True)
@click.option("--arch", type=click.Choice(["logreg", "mlp", "linreg"]), required=True, help="linreg for diabetes (regression).")
@click.option("--hidden", type=click.IntRange(1, 256), default=16, show_default=True, help="MLP hidden units.")
@click.option("--train-size", type=int, default=None, help="Samples to train on (default: all but the last 20%).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--weight-bits", type=click.IntRange(0, 12), default=6, show_default=True, help="Fractional bits of the integer weights.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="model.onnx (an integer ONNX model, the format every command takes) or model.json.")
def train(dataset, arch, hidden, train_size, seed, weight_bits, out):
    """Train an example model on a data set shipped with scikit-learn, quantised to integers.

    The built-in circuits are examples of the ONNX path: the model is written as ONNX (marked as already
    quantised, so it is proven exactly as trained) and any ONNX model of the same architecture works as well."""
    from .paths import write_atomic
    from .zk import models, network

    ds = models.load_dataset(dataset)
    size = train_size or int(len(ds.labels) * 0.8)
    model = models.train(ds, arch, size, hidden=hidden, seed=seed, weight_bits=weight_bits)
    held_out = ds.features[size:], ds.labels[size:]
    if out.suffix.lower() == ".json":
        write_atomic(out, json.dumps(model.to_json()))
    else:
        write_atomic(out, network.to_onnx(model.to_network(), quantised=True).SerializeToString())
    if model.is_regression:
        summary = f"squared error {model.score(*held_out) / 2 ** (2 * models.TARGET_BITS):,.0f} over {len(held_out[1])} held-out samples"
    else:
        summary = f"{model.score(*held_out)}/{len(held_out[1])} held-out samples correct"
    click.echo(f"{arch} on {dataset}: {summary}; written to {out}")


@zk.command()
@click.option("--dataset", type=click.Choice(["digits", "iris", "diabetes"]), required=True)
@click.option("--arch", type=click.Choice(["logreg", "mlp", "linreg"]), required=True, help="linreg for diabetes (regression).")
@click.option("--hidden", type=click.IntRange(1, 256), default=16, show_default=True)
@click.option("--samples", type=click.IntRange(1, 1024), required=True, help="Test samples per chunk (per proof).")
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=None, help="Default: verifiers/.")
def build(dataset, arch, hidden, samples, srs, out_dir):
    """Build a built-in example circuit (scikit-learn data set) under verifiers/<circuit-id>/."""
    from .zk import models, pipeline, tasks

    spec = models.builtin_spec(dataset, arch, samples, hidden)
    sample = tasks.builtin_test_set(spec, 1).chunks[0]
    circuit = pipeline.build_circuit(spec, sample=sample, srs_path=srs, out_dir=out_dir, progress=_echo)
    click.echo(f"built {circuit.circuit_id} in {circuit.root}")


@zk.command()
@click.option("--dataset", type=click.Choice(["iris", "digits", "diabetes"]), required=True)
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), required=True)
def example(dataset, out_dir):
    """Write an example task as a user brings one: model.onnx (scikit-learn, float), train.csv and test.csv."""
    from .zk import examples

    click.echo(json.dumps(examples.write_example(dataset, out_dir), indent=2))


@zk.command(name="import")
@click.option("--onnx", "onnx_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The model (skl2onnx, torch.onnx.export, ...): its architecture becomes the circuit's.")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="A test set of this task: CSV with a header (label last, or --label), .npy or .npz.")
@_label_option
@click.option("--task", type=click.Choice(["classify", "regress"]), required=True)
@click.option("--samples", type=click.IntRange(1, 1024), required=True, help="Test samples per chunk (per proof).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="The circuit folder to create.")
@click.option("--name", default=None, help="Circuit id (default: the folder's name).")
@click.option("--force", is_flag=True, help="Replace an existing circuit folder at --out.")
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
def import_(onnx_path, data, label, task, samples, out, name, force, srs):
    """Build an evaluation circuit for an ONNX model's architecture and a test set's format.

    \b
    The circuit runs the architecture over a chunk of SAMPLES test rows and outputs one public score: the
    correct count (classify) or the sum of squared errors (regress). Weights are private and committed,
    the test data committed; one verifier serves every model of the architecture. Scales are chosen
    from the data and the model: features enter as round(x * input_scale), regression targets as
    round(y * output_scale). The folder holds everything to audit and rebuild the verifier.
    """
    from .zk import importer

    report = importer.import_task(onnx_path, data, task=task, samples=samples, out=out, name=name, label=label,
                                  force=force, srs_path=srs, progress=_echo)
    click.echo(json.dumps(report, indent=2))


@zk.command()
@click.argument("circuit")
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
def keys(circuit, srs):
    """Regenerate the proving key (a build output) from a circuit's committed artefacts."""
    from .zk import pipeline

    c = pipeline.open_circuit(circuit)
    path = pipeline.ensure_keys(c, srs, progress=_echo)
    click.echo(f"proving key ready: {path}")


@zk.command()
@click.argument("circuit")
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
def rebuild(circuit, srs):
    """Rebuild the verifier from the committed graph and settings and compare it byte for byte."""
    from .zk import pipeline

    from .zk import inference

    c = pipeline.open_circuit(circuit)
    if not pipeline.rebuild_verifier(c, srs, progress=_echo):
        raise ZkError(f"rebuilt verifier differs from {c.root}: the artefacts were edited or built with other tools")
    click.echo(f"{c.circuit_id}: vk.key, Verifier.sol and vk.bin rebuilt identically")
    for slots in [1, *inference.batch_sizes(c)] if inference.InferenceCircuit(c).root.is_dir() else []:
        ic = inference.open_inference(c, slots)
        if not inference.rebuild_verifier(ic, srs, progress=_echo):
            raise ZkError(f"rebuilt inference verifier differs from {ic.root}: edited or built with other tools")
        click.echo(f"{ic.circuit_id}: vk.key, Verifier.sol and vk.bin rebuilt identically")


@zk.command(name="build-inference")
@click.argument("circuit")
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
@click.option("--slots", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Inputs per proof: 2 or more builds the batch circuit (CIRCUIT/inference-x<slots>/), whose one "
                   "proof settles up to that many proof-mode jobs of a model.")
def build_inference(circuit, srs, slots):
    """Build a circuit's inference twin (CIRCUIT/inference/): one input in, its logits out, proven at the
    evaluation circuit's row count so that a model's weights commit to the same point (its registered commitment)."""
    from .zk import inference

    ic = inference.build_inference(circuit, srs, progress=_echo, slots=slots)
    click.echo(f"{ic.circuit_id}: {ic.root} (2^{ic.logrows} rows, {ic.num_outputs} public outputs); register it as "
               f"{ic.circuit_id} with metric inference")


@zk.command()
@click.argument("circuit")
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The model (ONNX, or the JSON of `apiary zk train`); omit for the input commitment only.")
@click.option("--input", "input_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="One input: .npy, .json (a list) or .csv (one row; a header is skipped).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Prove the inference and write the proof here (JSON: proof, instances).")
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
def infer(circuit, model_path, input_path, out, srs):
    """Run a model on one input exactly as the inference circuit does: the input commitment (what a compute job
    names), the outputs and, with --out, a proof of them."""
    from .zk import inference, tasks

    ic = inference.open_inference(circuit)
    x = inference.read_input(ic, input_path)
    result = {"circuit": ic.circuit_id, "input_commitment": "0x" + inference.input_commitment(ic, x, srs).hex()}
    if model_path is not None:
        model = tasks.load_model(ic.spec, model_path).integer
        result["outputs"] = inference.outputs_of(model, x)
        if out is not None:
            start = time.perf_counter()
            proof = inference.prove_inference(ic, model, x, out, srs, progress=_echo)
            result.update(model_commitment="0x" + proof.model_commitment.hex(), proof=str(out),
                          seconds=round(time.perf_counter() - start, 1))
    elif out is not None:
        raise ZkError("--out proves an inference: pass --model too")
    click.echo(json.dumps(result, indent=2))


def _test_set(spec, data, label, chunks):
    from .zk import tasks

    if data is not None:
        return tasks.load_test_set(spec, data, chunks, label)
    if label is not None:
        raise ZkError("--label names a column of --data")
    return tasks.builtin_test_set(spec, chunks)


@zk.command()
@click.argument("circuit")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Test-set file (CSV, .npy, .npz). Default: the built-in circuit's held-out test set.")
@_label_option
@click.option("--chunks", type=click.IntRange(1, 1000), default=None,
              help="Chunks K in the test set (chunk i = rows [i*S, (i+1)*S)); part of its identity.")
@click.option("--data-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the test data in its publishable binary encoding (apiary.zk.testdata).")
@click.option("--from-data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Commitments of a published test-data file instead (to compare with those a bounty revealed).")
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the commitments as JSON.")
def testset(circuit, data, label, chunks, data_out, from_data, srs, out):
    """Commitments of a test set, chunk by chunk, and of the whole ordered set with its test data.

    \b
    --data-out also writes the test data (circuit integers), encoded for publication; test_data_hash
    (its keccak256) is bound into test_set_commitment. --from-data decodes a published test-data file
    and recomputes its chunk commitments, to compare with those a bounty revealed.
    """
    from .paths import write_atomic
    from .zk import pipeline, testdata
    from .zk.errors import DataError

    c = pipeline.open_circuit(circuit)
    spec = c.spec
    if from_data is not None:
        if chunks is not None or data_out is not None or data is not None:
            raise DataError("--from-data takes the chunks from the file: drop --chunks, --data and --data-out")
        try:
            encoded = from_data.read_bytes()
        except OSError as exc:
            raise DataError(f"test data file {from_data} cannot be read: {exc.strerror or exc}") from None
        try:
            test_chunks = testdata.decode(encoded)
        except DataError as exc:
            raise DataError(f"{from_data}: {exc}") from None
        unused = 0
    else:
        if chunks is None:
            raise DataError("give --chunks K: the number of chunks is part of the test set's identity")
        ts = _test_set(spec, data, label, chunks)
        test_chunks, unused = ts.chunks, ts.unused_rows
        encoded = testdata.encode(test_chunks)
    commitments = []
    for i, (x, y) in enumerate(test_chunks):
        try:
            commitments.append(pipeline.chunk_commitment(c, x, y, srs))
        except DataError as exc:
            raise DataError(f"chunk {i}: {exc}") from None
    data_hash = testdata.data_hash(encoded)
    body = {"circuit": c.circuit_id, "samples_per_chunk": spec.samples, "chunks": ["0x" + h.hex() for h in commitments],
            "test_set_commitment": "0x" + pipeline.test_set_commitment(commitments, data_hash).hex(),
            "test_data_hash": "0x" + data_hash.hex(), "test_data_bytes": len(encoded)}
    if unused:
        body["unused_rows"] = unused
    if from_data is not None or data_out is not None:
        body["test_data"] = str(from_data or data_out)
    if data_out is not None:
        write_atomic(data_out, encoded)
    if out:
        write_atomic(out, json.dumps(body, indent=2) + "\n")
    click.echo(json.dumps(body, indent=2))


@zk.command()
@click.argument("circuit")
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The model: ONNX (or the JSON of an older `apiary zk train`).")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Test-set file (CSV, .npy, .npz). Default: the built-in circuit's held-out test set.")
@_label_option
@click.option("--chunk", type=click.IntRange(0), required=True, help="Index of the chunk to prove.")
@click.option("--chunks", type=click.IntRange(1), required=True, help="Chunks K in the test set (part of its identity).")
@click.option("--tolerance", type=click.FloatRange(0), default=None,
              help="Largest accepted difference between the float model's score and the in-circuit score: samples "
                   "(classify, default 0) or relative SSE (regress, default 0.01).")
@click.option("--allow-mismatch", is_flag=True, help="Prove even when the scores differ beyond the tolerance (warns).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
def prove(circuit, model_path, data, label, chunk, chunks, tolerance, allow_mismatch, out, srs):
    """Prove a model's score on one test chunk, beside the float model's score on the same rows."""
    from .zk import pipeline, tasks

    c = pipeline.open_circuit(circuit)
    spec = c.spec
    model = tasks.load_model(spec, model_path)
    tasks.check_chunk_index(chunk, chunks)
    ts = _test_set(spec, data, label, chunks)
    fid = tasks.fidelity(model, spec, ts.chunks[chunk], ts.float_features[chunk], ts.float_labels[chunk], tolerance)
    _echo(f"chunk {chunk}/{chunks} of {ts.source}: {fid.line(spec)}")
    if not fid.ok:
        message = ("the in-circuit score differs from the float model's beyond the tolerance (quantisation): "
                   "raise --tolerance or pass --allow-mismatch to prove it anyway")
        if not allow_mismatch:
            raise ZkError(message)
        _echo(f"warning: {message}")
    start = time.perf_counter()
    bundle = pipeline.prove(c, model.integer, *ts.chunks[chunk], out, srs, progress=_echo)
    q = model.quantisation
    click.echo(json.dumps({**bundle.summary(), "float_score": fid.float_score, "in_circuit_score_units": fid.circuit_in_units,
                           "weight_bits": q.weight_bits or "exact (integer model)", "seconds": round(time.perf_counter() - start, 1),
                           "proof": str(out)}, indent=2))


@zk.command()
@click.argument("circuit")
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), required=True, help="A float ONNX model.")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Calibration rows (CSV, .npy, .npz): training data, never the test set of a sealed bounty.")
@_label_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The quantised ONNX model to write.")
def quantise(circuit, model_path, data, label, out):
    """Quantise a model with more weight bits than the worst-case default, planned on calibration data.

    
    By default every command quantises a float model for the worst input the circuit admits: sound
    but coarse for deep networks. This plans on real rows instead (4x headroom) and writes an integer
    ONNX model that every command then uses exactly as it is. Register and prove with that file.
    """
    from .zk import pipeline, tasks

    spec = pipeline.open_circuit(circuit).spec
    table = tasks.read_table(data, label)
    x = tasks.encode_features(spec, table.features, what=str(data))
    model = tasks.quantise_to_file(spec, model_path, x, out)
    click.echo(f"{out}: {model.quantisation.weight_bits} weight bits (peak {model.quantisation.bound:,} on {len(x)} rows); "
               f"register and prove with this file")


@zk.command()
@click.argument("circuit")
@click.argument("proofs", nargs=-1, required=True, metavar="PROOF...", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--onchain", is_flag=True, help="Also verify with the Solidity verifier on an in-process chain and print the "
              "gas; with several proofs, also all of them in one transaction with one batched pairing check.")
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
def verify(circuit, proofs, onchain, srs):
    """Verify proofs off chain (the same check the on-chain verifier makes); --onchain runs the verifier too."""
    from .zk import evm, pipeline

    c = pipeline.open_circuit(circuit)
    bundles = []
    for proof in proofs:
        bundles.append(pipeline.verify_local(c, proof, srs))
        click.echo(f"{proof}: valid (score {bundles[-1].score})")
    if onchain:
        c.check_files()
        compiled = evm.compile_verifier(c.path("Verifier.sol"), c.build)
        chain = evm.PyEvmChain()
        address, deploy_gas = chain.deploy_verifier(compiled, c.path("vk.bin").read_bytes())
        gas = chain.verify_gas(address, bundles[0].calldata())
        click.echo(f"{proofs[0]}: valid on chain: verifyProof took {gas:,} gas ({gas / c.spec.samples:,.0f} per sample; "
                   f"verifier {compiled.runtime_size:,} bytes, deployed for {deploy_gas:,} gas)")
        if len(bundles) > 1:
            click.echo(f"verifying {len(bundles)} proofs one by one and in one batch ...")
            gas = evm.measure_batch([(c, b) for b in bundles])
            n = len(bundles)
            click.echo(f"{n} proofs valid on chain: {sum(gas.separate):,} gas in {n} verifyProof calls; "
                       f"{gas.batched:,} gas in one verifyBatch call (one pairing check; {gas.saved:,} gas or "
                       f"{gas.saved / sum(gas.separate):.0%} saved; {gas.batched / (n * c.spec.samples):,.0f} per sample)")


@zk.command(name="check-deployed")
@click.argument("circuit")
@click.argument("address")
@click.option("--rpc", required=True, help="JSON-RPC URL of the network the verifier is deployed on.")
@click.option("--registry", default=None, help="VerifierRegistry address: also check its entry for this circuit.")
@click.option("--name", "registry_name", default=None, help="The circuit's name in the registry (default: its id).")
def check_deployed(circuit, address, rpc, registry, registry_name):
    """Check a deployed verifier against what the circuit's committed artefacts rebuild to.

    \b
    Compiles Verifier.sol with the pinned solc and compares the runtime code at ADDRESS byte for byte,
    then the verifying-key data contract it reads (0x00 followed by vk.bin), and with --registry the
    registry's verifier address and manifest hash (sha256 of manifest.json) for this circuit.
    Exits 1 when anything differs. Run `apiary zk rebuild CIRCUIT` to check the artefacts themselves.
    """
    from .zk import deployed, pipeline

    c = pipeline.open_circuit(circuit)
    report = deployed.check(c, address, rpc, registry=registry, name=registry_name)
    for line in report.lines:
        click.echo(line)
    if not report.ok:
        raise ZkError(f"{address} is not the verifier circuit {c.circuit_id} rebuilds to")
    click.echo(f"{address}: exactly circuit {c.circuit_id}'s verifier")


@zk.command()
@click.argument("proof", type=click.Path(dir_okay=False, path_type=Path))
def decode(proof):
    """Decode a proof's public statement: score, chunk commitment, model commitment."""
    from .zk import pipeline

    click.echo(json.dumps(pipeline.load_proof(proof).summary(), indent=2))


@zk.command()
@click.argument("proof", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write raw calldata bytes here.")
def calldata(proof, out):
    """Calldata for the verifier's verifyProof(bytes,uint256[])."""
    from .zk import pipeline

    data = pipeline.load_proof(proof).calldata()
    if out:
        out.write_bytes(data)
        click.echo(f"{len(data)} bytes written to {out}")
    else:
        click.echo("0x" + data.hex())


@zk.command()
@click.option("--explore", is_flag=True, help="Also build and measure digits-mlp16 variants (chunk sizes, range-check "
              "decomposition, inner columns, Freivalds).")
@click.option("--goal", is_flag=True, help="Also measure the variants that bear on the 1,024-sample goal (faster than --explore).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True)
def bench(explore, goal, out_dir):
    """Measure every reference circuit (proof time, memory, sizes, gas) and write reports/zk-bench.{md,json}."""
    from .zk import bench as bench_mod

    md, js = bench_mod.run(out_dir, explore, log=_echo, goal=goal)
    click.echo(md.read_text())
    click.echo(f"report: {md} and {js}")


@zk.command()
@click.option("--logrows", type=click.IntRange(1, 24), required=True)
def srs(logrows):
    """Build the reproducible, INSECURE development SRS for 2^LOGROWS rows (cached under .cache/srs)."""
    from .zk import pipeline

    path = pipeline.resolve_srs(logrows, None, progress=_echo)
    click.echo(f"{path} (insecure: its secret is public; never use it to secure value)")


@main.group()
def data() -> None:
    """Data market tooling that needs no chain: dataset commitments, device keys, packages.

    \b
      apiary data commit rows.csv                       # root, rows, schema hash (CSV, .npy, .npz, Parquet, .jsonl)
      apiary data device-key --type p256 --out cam.pem  # a test camera's key (ES256), for attestations
      apiary data check-package rows.apkg               # what a package holds (rows, roots)
    On chain: ape run data --help
    """


@data.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--progress", is_flag=True, help="Report the hashing rate every 65,536 rows.")
def commit(file, progress):
    """Print a dataset file's commitment: the order-independent Merkle root of its distinct rows."""
    from .data import merkle

    started = time.perf_counter()
    c = merkle.commit_file(file, progress=progress)
    seconds = time.perf_counter() - started
    click.echo(json.dumps({"root": "0x" + c.root.hex(), "rows": c.rows, "rows_read": c.rows_read,
                           "schema": c.schema.columns, "schema_hash": "0x" + c.schema_hash.hex(),
                           "seconds": round(seconds, 3), "rows_per_second": round(c.rows_read / max(seconds, 1e-9))},
                          indent=2))


@data.command("device-key")
@click.option("--type", "key_type", type=click.Choice(["p256", "secp256k1"]), default="p256", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def device_key(key_type, out):
    """Create a device key file (a stand-in for a camera's signing key) and print its device id and public key."""
    from .data import attest

    key = attest.new_device_key(attest.KeyType.P256 if key_type == "p256" else attest.KeyType.SECP256K1)
    key.save(out)
    x, y = key.public
    click.echo(json.dumps({"device_id": "0x" + key.device_id.hex(), "type": key_type, "x": "0x" + x.hex(),
                           "y": "0x" + y.hex(), "file": str(out)}, indent=2))


@data.command("check-package")
@click.argument("package", type=click.Path(dir_okay=False, path_type=Path))
def check_package(package):
    """Print what an encrypted package claims (rows, dataset root, cipher root, key hash)."""
    from .data import exchange

    p = exchange.read_package(package)
    click.echo(json.dumps({**p.header, "cipher_root": "0x" + p.cipher_root.hex(), "pieces": p.rows}, indent=2))


def run() -> None:
    try:
        main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ZkError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
