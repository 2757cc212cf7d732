"""`apiary` command line. `apiary zk --help` lists the ZKML pipeline steps in the order a newcomer runs them."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from .zk.errors import ZkError

SRS_HELP = "Powers-of-tau SRS file in ezkl's format (production). Default: the reproducible INSECURE dev SRS."


def _echo(msg: str) -> None:
    click.echo(f"  {msg}", err=True)


@click.group()
def main() -> None:
    """Apiary protocol tooling."""


@main.group()
def zk() -> None:
    """ZKML pipeline: train → build circuit → keys → prove → verify → calldata.

    \b
    Typical session:
      apiary zk train --dataset iris --arch logreg --out model.json
      apiary zk build --dataset iris --arch logreg --samples 8
      apiary zk testset iris-logreg-n8 --chunks 2
      apiary zk prove iris-logreg-n8 --model model.json --chunk 0 --out proof.json
      apiary zk verify iris-logreg-n8 proof.json
      apiary zk calldata proof.json
    """


@zk.command()
@click.option("--dataset", type=click.Choice(["digits", "iris", "diabetes"]), required=True)
@click.option("--arch", type=click.Choice(["logreg", "mlp", "linreg"]), required=True, help="linreg for diabetes (regression).")
@click.option("--hidden", type=click.IntRange(1, 256), default=16, show_default=True, help="MLP hidden units.")
@click.option("--train-size", type=int, default=None, help="Samples to train on (default: all but the last 20%).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--weight-bits", type=click.IntRange(0, 12), default=6, show_default=True, help="Fractional bits of the integer weights.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def train(dataset, arch, hidden, train_size, seed, weight_bits, out):
    """Train a model on a data set shipped with scikit-learn and quantise it to integers."""
    from .zk import models

    ds = models.load_dataset(dataset)
    size = train_size or int(len(ds.labels) * 0.8)
    model = models.train(ds, arch, size, hidden=hidden, seed=seed, weight_bits=weight_bits)
    held_out = ds.features[size:], ds.labels[size:]
    model.save(out)
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
    """Build an evaluation circuit and its Solidity verifier under verifiers/<circuit-id>/."""
    from .zk import circuits, models, pipeline

    ds = models.load_dataset(dataset)
    spec = circuits.CircuitSpec(dataset, arch, ds.num_features, ds.num_classes, samples, hidden if arch == "mlp" else 0)
    sample = models.test_chunks(ds, samples, 1)[0]
    circuit = pipeline.build_circuit(spec, sample=sample, srs_path=srs, out_dir=out_dir, progress=_echo)
    click.echo(f"built {circuit.circuit_id} in {circuit.root}")


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

    c = pipeline.open_circuit(circuit)
    if not pipeline.rebuild_verifier(c, srs, progress=_echo):
        raise ZkError(f"rebuilt verifier differs from {c.root}: the artefacts were edited or built with other tools")
    click.echo(f"{c.circuit_id}: vk.key, Verifier.sol and vk.bin rebuilt identically")


@zk.command()
@click.argument("circuit")
@click.option("--chunks", type=click.IntRange(1, 1000), default=None, help="Chunks of the held-out test set.  [default: 1]")
@click.option("--data-out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the test data in its publishable binary encoding (apiary.zk.testdata).")
@click.option("--from-data", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Commitments of a published test-data file instead of the held-out test set.")
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the commitments as JSON.")
def testset(circuit, chunks, data_out, from_data, srs, out):
    """Commitments of a test set, chunk by chunk, and of the whole ordered set with its test data.

    \b
    By default the held-out test set of the circuit's data set. --data-out also writes its test data,
    encoded for publication; test_data_hash (its keccak256) is bound into test_set_commitment.
    --from-data decodes a published test-data file and recomputes its chunk commitments,
    to compare with those a bounty revealed.
    """
    from .paths import write_atomic
    from .zk import models, pipeline, testdata
    from .zk.errors import DataError

    c = pipeline.open_circuit(circuit)
    spec = c.spec
    if from_data is not None:
        if chunks is not None or data_out is not None:
            raise DataError("--from-data takes the chunks from the file: drop --chunks and --data-out")
        try:
            data = from_data.read_bytes()
        except OSError as exc:
            raise DataError(f"test data file {from_data} cannot be read: {exc.strerror or exc}") from None
        try:
            test_chunks = testdata.decode(data)
        except DataError as exc:
            raise DataError(f"{from_data}: {exc}") from None
    else:
        test_chunks = models.test_chunks(models.load_dataset(spec.dataset), spec.samples, chunks or 1)
        data = testdata.encode(test_chunks)
    commitments = []
    for i, (x, y) in enumerate(test_chunks):
        try:
            commitments.append(pipeline.chunk_commitment(c, x, y, srs))
        except DataError as exc:
            raise DataError(f"chunk {i}: {exc}") from None
    data_hash = testdata.data_hash(data)
    body = {"circuit": c.circuit_id, "chunks": ["0x" + h.hex() for h in commitments],
            "test_set_commitment": "0x" + pipeline.test_set_commitment(commitments, data_hash).hex(),
            "test_data_hash": "0x" + data_hash.hex(), "test_data_bytes": len(data)}
    if from_data is not None or data_out is not None:
        body["test_data"] = str(from_data or data_out)
    if data_out is not None:
        write_atomic(data_out, data)
    if out:
        write_atomic(out, json.dumps(body, indent=2) + "\n")
    click.echo(json.dumps(body, indent=2))


@zk.command()
@click.argument("circuit")
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--chunk", type=click.IntRange(0), default=None, help="Index of a held-out test chunk of the circuit's data set.")
@click.option("--chunks", type=click.IntRange(1), default=1, show_default=True, help="Number of chunks the test set has.")
@click.option("--data", type=click.Path(dir_okay=False, path_type=Path), default=None, help='JSON {"features": [[..]], "labels": [..]} instead of --chunk.')
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
def prove(circuit, model_path, chunk, chunks, data, out, srs):
    """Prove a model's score on one test chunk."""
    from .zk import models, pipeline
    from .zk.errors import DataError

    c = pipeline.open_circuit(circuit)
    model = models.QuantisedModel.load(model_path)
    if (chunk is None) == (data is None):
        raise DataError("give exactly one of --chunk (held-out test chunk) or --data (a JSON chunk file)")
    if data is not None:
        features, labels = models.load_chunk_file(data)
    else:
        if chunk >= chunks:
            raise DataError(f"--chunk {chunk} is outside a test set of {chunks} chunks")
        features, labels = models.test_chunks(models.load_dataset(c.spec.dataset), c.spec.samples, chunks)[chunk]
    start = time.perf_counter()
    bundle = pipeline.prove(c, model, features, labels, out, srs, progress=_echo)
    click.echo(json.dumps({**bundle.summary(), "seconds": round(time.perf_counter() - start, 1), "proof": str(out)}, indent=2))


@zk.command()
@click.argument("circuit")
@click.argument("proof", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--srs", type=click.Path(path_type=Path), default=None, help=SRS_HELP)
def verify(circuit, proof, srs):
    """Verify a proof off chain (the same check the on-chain verifier makes)."""
    from .zk import pipeline

    pipeline.verify_local(pipeline.open_circuit(circuit), proof, srs)
    click.echo(f"{proof}: valid")


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
@click.option("--explore", is_flag=True, help="Also build and measure digits-mlp16 variants (chunk sizes, range-check decomposition).")
@click.option("--out-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("reports"), show_default=True)
def bench(explore, out_dir):
    """Measure every reference circuit (proof time, memory, sizes, gas) and write reports/zk-bench.{md,json}."""
    from .zk import bench as bench_mod

    md, js = bench_mod.run(out_dir, explore, log=_echo)
    click.echo(md.read_text())
    click.echo(f"report: {md} and {js}")


@zk.command()
@click.option("--logrows", type=click.IntRange(1, 24), required=True)
def srs(logrows):
    """Build the reproducible, INSECURE development SRS for 2^LOGROWS rows (cached under build/srs)."""
    from .zk import pipeline

    path = pipeline.resolve_srs(logrows, None, progress=_echo)
    click.echo(f"{path} (insecure: its secret is public; never use it to secure value)")


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
