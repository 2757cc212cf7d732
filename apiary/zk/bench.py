"""Benchmark of the evaluation circuits: size, time, memory and gas, written as a Markdown + JSON report.

Not a test: numbers depend on the machine. Proving runs in a fresh process so its peak memory is its own.
"""

from __future__ import annotations

import json
import multiprocessing
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from . import evm, models, network, pipeline, tasks

PAIRING_FLOOR_GAS = 150_000  # ~ two-pairing KZG check + a few MSMs: the physical floor of one verification
REFERENCE = [
    # (dataset, architecture, hidden, samples): the committed circuits
    ("digits", "mlp", 16, 64),
    ("digits", "logreg", 0, 64),
    ("iris", "logreg", 0, 8),
    ("diabetes", "linreg", 0, 64),
]
EXPLORE_SAMPLES = [32, 64, 128, 256]
EXPLORE_DECOMP = [(1024, 3), (16384, 2)]
EXPLORE_INNER_COLS = [2, 1]
EXPLORE_FREIVALDS = [False, True]  # True: ezkl's Freivalds matrix-product check (its default; ours is off)
GOAL_TEST_SET = 1024  # the reference: the digits MLP on 1,024 test samples
GOAL_GAS_PER_SAMPLE = 4_000
GOAL_GAS_PER_CALL = 600_000
GOAL_PROVE_S = 120
GOAL_PEAK_MB = 6 * 1024


@dataclass
class Row:
    circuit: str
    variant: str
    samples: int
    logrows: int
    rows_used: int
    proof_bytes: int
    instances: int
    prove_s: float
    prove_peak_mb: int
    verifier_runtime_bytes: int
    ezkl_raw_runtime_bytes: int
    deploy_gas: int
    verify_gas: int
    gas_per_sample: float
    floor_ratio: float
    score: int
    python_score: int
    batch_proofs: int = 0  # digits MLP rows: proofs of the 1,024-sample test set verified in one verifyBatch call
    batch_gas: int = 0


def _prove_in_child(circuit_root: str, model_path: str, chunk: tuple, out: str, queue) -> None:
    circuit = pipeline.Circuit(Path(circuit_root))
    model = tasks.load_model(circuit.spec, Path(model_path)).integer
    start = time.perf_counter()
    bundle = pipeline.prove(circuit, model, *chunk, Path(out))
    queue.put((time.perf_counter() - start, _peak_mb(), bundle.score))


def _peak_mb() -> int:
    """This process's own peak resident memory: VmHWM, reset by exec (ru_maxrss is not: a spawned child would
    report at least its parent's size)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def measure(circuit: pipeline.Circuit, model, chunk, variant: str, work: Path, batch: int = 0) -> Row:
    """Prove one chunk in a fresh process (its peak memory is its own) and verify on a py-evm chain. `model` is a
    built-in QuantisedModel or the path of a model file for the circuit. With `batch`, also the gas of verifying
    that many proofs in one Halo2BatchVerifier call (the same proof repeated: a halo2 verifier's gas does not
    depend on the proof's values beyond calldata bytes)."""
    pipeline.ensure_keys(circuit)
    if isinstance(model, (str, Path)):
        model_path = Path(model)
    else:
        model_path = work / f"{circuit.circuit_id}.model.json"
        model.save(model_path)
    integer = tasks.load_model(circuit.spec, model_path).integer
    proof_path = work / f"{circuit.circuit_id}.{variant}.proof.json"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_prove_in_child, args=(str(circuit.root), str(model_path), chunk, str(proof_path), queue))
    child.start()
    seconds, peak_mb, score = queue.get()
    child.join()
    bundle = pipeline.load_proof(proof_path)
    compiled = evm.compile_verifier(circuit.path("Verifier.sol"), circuit.build)
    raw = circuit.build / "Verifier.ezkl.sol"
    raw_size = evm.compile_verifier(raw, circuit.build).runtime_size if raw.is_file() else 0
    chain = evm.PyEvmChain()
    address, deploy_gas = chain.deploy_verifier(compiled, circuit.path("vk.bin").read_bytes())
    gas = chain.verify_gas(address, bundle.calldata())
    batch_gas = evm.measure_batch([(circuit, bundle)] * batch, separate=False).batched if batch else 0
    settings = circuit.settings
    spec = circuit.spec
    return Row(circuit.circuit_id, variant, spec.samples, circuit.logrows, settings["num_rows"], len(bundle.proof),
               len(bundle.instances), round(seconds, 2), peak_mb, compiled.runtime_size, raw_size, deploy_gas, gas,
               round(gas / spec.samples, 1), round(gas / PAIRING_FLOOR_GAS, 2), score, network.score(integer, *chunk), batch, batch_gas)


def _model_for(dataset: models.Dataset, arch: str, hidden: int, test_size: int) -> models.QuantisedModel:
    return models.train(dataset, arch, min(len(dataset.labels) - test_size, 1400), hidden=hidden or 16)


# (samples, inner columns, Freivalds): the variants `--goal` measures against the 1,024-sample goal
GOAL_VARIANTS = [(64, 1, False), (64, 2, True), (128, 1, False), (256, 2, False)]


def _variant(samples: int, cols: int, freivalds: bool, base: int, legs: int, work: Path, log, rows: list) -> Row:
    variant = f"samples={samples} decomp={base}^{legs} cols={cols}{' freivalds' if freivalds else ''}"
    log(f"explore digits-mlp16 {variant}")
    model = _model_for(models.load_dataset("digits"), "mlp", 16, samples * 4)
    spec = models.builtin_spec("digits", "mlp", samples, 16)
    chunk = tasks.builtin_test_set(spec, 4).chunks[0]
    saved = dict(pipeline.RUN_ARGS)
    pipeline.RUN_ARGS.update(decomp_base=base, decomp_legs=legs, num_inner_cols=cols, disable_freivalds=not freivalds)
    try:
        circuit = pipeline.build_circuit(spec, sample=chunk, out_dir=work / f"v{len(rows)}")
    finally:
        pipeline.RUN_ARGS.clear()
        pipeline.RUN_ARGS.update(saved)
    return measure(circuit, model, chunk, variant, work, batch=-(-GOAL_TEST_SET // samples))


def run(out_dir: Path, explore: bool, log: Callable[[str], None] = print, goal: bool = False) -> tuple[Path, Path]:
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="apiary-bench-"))
    try:
        for dataset_name, arch, hidden, samples in REFERENCE:
            ds = models.load_dataset(dataset_name)
            chunks = 2 if dataset_name == "diabetes" else 4  # diabetes has 442 samples
            model = _model_for(ds, arch, hidden, samples * chunks)
            spec = models.builtin_spec(dataset_name, arch, samples, hidden or 16)
            circuit = pipeline.open_circuit(spec.circuit_id)
            log(f"reference {circuit.circuit_id}")
            batch = -(-GOAL_TEST_SET // samples) if circuit.circuit_id.startswith("digits-mlp16") else 0
            rows.append(measure(circuit, model, tasks.builtin_test_set(spec, chunks).chunks[0], "reference", work, batch))
        rows += _imported(work, log)
        if goal:
            for samples, cols, freivalds in GOAL_VARIANTS:
                rows.append(_variant(samples, cols, freivalds, 1024, 3, work, log, rows))
        if explore:
            for samples in EXPLORE_SAMPLES:
                for (base, legs), cols, freivalds in [(d, c, f) for d in EXPLORE_DECOMP for c in EXPLORE_INNER_COLS
                                                      for f in EXPLORE_FREIVALDS]:
                    default = (base, legs) == EXPLORE_DECOMP[0] and cols == EXPLORE_INNER_COLS[0] and not freivalds
                    if not default and samples not in (64, 256):
                        continue  # the other levers are compared at 64 and 256 samples a chunk
                    rows.append(_variant(samples, cols, freivalds, base, legs, work, log, rows))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return _write(rows, out_dir)


def _imported(work: Path, log: Callable[[str], None]) -> list[Row]:
    """Circuits imported from ONNX as a user would: scikit-learn examples and the PyTorch CNN of the tests."""
    from . import examples, importer

    rows = []
    cases = [("iris", "classify", 8, None), ("digits", "classify", 64, None), ("diabetes", "regress", 64, None)]
    cnn = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "onnx"
    if (cnn / "cnn_digits.onnx").is_file():
        cases.append(("cnn", "classify", 4, cnn))
    for name, task, samples, fixture in cases:
        folder = work / f"example-{name}"
        if fixture is None:
            paths = examples.write_example(name, folder)
            model, data = Path(paths["model"]), Path(paths["test"])
        else:
            model, data = fixture / "cnn_digits.onnx", fixture / "digits16_test.npz"
        log(f"imported {name} ({model.name}, {samples} samples a chunk)")
        importer.import_task(model, data, task=task, samples=samples, out=work / f"imported-{name}", name=f"imported-{name}")
        circuit = pipeline.open_circuit(work / f"imported-{name}")
        chunk = tasks.load_test_set(circuit.spec, data, 1).chunks[0]
        rows.append(measure(circuit, model, chunk, f"imported {model.name}", work))
    return rows


def _goal(rows: list[Row]) -> list[str]:
    """The issue's goals on the digits MLP with a 1,024-sample test set, per variant measured."""
    lines = ["", f"## Goal: digits MLP, {GOAL_TEST_SET:,} test samples", "",
             f"Targets: ≤ {GOAL_GAS_PER_SAMPLE:,} gas per test sample in total, ≤ {GOAL_GAS_PER_CALL:,} gas per verification "
             f"call, each proof ≤ {GOAL_PROVE_S} s and ≤ {GOAL_PEAK_MB // 1024} GB on this machine. One proof per chunk, one "
             "verification call per proof (`met`). The last two columns are the batching lever: every proof of the "
             "test set in one `Halo2BatchVerifier.verifyBatch` call, one pairing check for all (one transaction, so "
             "not within the per-call target; measured by repeating one proof, whose gas does not depend on its values).",
             "", "| variant | proofs | gas per call | gas per sample | prove s | peak MB | met | batched: gas, one call "
             "| batched: gas per sample |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if not r.circuit.startswith("digits-mlp16"):
            continue
        proofs = -(-GOAL_TEST_SET // r.samples)
        per_sample = r.verify_gas * proofs / GOAL_TEST_SET
        met = [per_sample <= GOAL_GAS_PER_SAMPLE, r.verify_gas <= GOAL_GAS_PER_CALL, r.prove_s <= GOAL_PROVE_S,
               r.prove_peak_mb <= GOAL_PEAK_MB]
        names = ["gas/sample", "gas/call", "time", "memory"]
        verdict = "all" if all(met) else "not " + ", ".join(n for n, ok in zip(names, met) if not ok)
        batched = (f"{r.batch_gas:,} | {r.batch_gas / GOAL_TEST_SET:,.0f}" if r.batch_proofs == proofs and r.batch_gas
                   else "– | –")
        lines.append(f"| {r.variant} | {proofs} | {r.verify_gas:,} | {per_sample:,.0f} | {r.prove_s} | {r.prove_peak_mb:,} "
                     f"| {verdict} | {batched} |")
    return lines


def _write(rows: list[Row], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {multiprocessing.cpu_count()} cores, Python {platform.python_version()}"
    json_path = out_dir / "zk-bench.json"
    json_path.write_text(json.dumps({"machine": machine, "rows": [asdict(r) for r in rows]}, indent=2) + "\n")
    head = ("| circuit | variant | samples | logrows (used) | proof B | inst. | prove s | peak MB | verifier B "
            "(ezkl raw) | verify gas | gas/sample | × floor | score (python) |")
    lines = [
        "# ZK evaluation circuits — benchmark",
        "",
        f"Machine: {machine}. Gas measured on py-evm (eth-tester, default EIP-170 limit) for a whole transaction "
        f"calling `verifyProof` (21k base and calldata included). Floor: {PAIRING_FLOOR_GAS:,} gas for a 2-pairing "
        "KZG check. Proving runs in a fresh process; peak MB is that process's own peak resident memory (VmHWM).",
        "",
        head,
        "|" + "|".join(["---"] * (head.count("|") - 1)) + "|",
    ]
    for r in rows:
        lines.append(
            f"| {r.circuit} | {r.variant} | {r.samples} | {r.logrows} ({r.rows_used:,}) | {r.proof_bytes:,} | {r.instances} "
            f"| {r.prove_s} | {r.prove_peak_mb:,} | {r.verifier_runtime_bytes:,} ({r.ezkl_raw_runtime_bytes or 'n/a':,}) "
            f"| {r.verify_gas:,} | {r.gas_per_sample:,.0f} | {r.floor_ratio} | {r.score} ({r.python_score}) |"
        )
    lines += _goal(rows)
    md_path = out_dir / "zk-bench.md"
    md_path.write_text("\n".join(lines) + "\n")
    return md_path, json_path
