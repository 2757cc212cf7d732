"""The ZKML pipeline: evaluation circuit → settings → keys → Solidity verifier → proofs → calldata.

Layout:
  verifiers/<circuit-id>/      committed built-in circuits; a folder made by `apiary zk import` has the same files
                               (and keeps its build outputs in its own .build/)
      spec.json                the circuit spec (circuits.CircuitSpec): lowered architecture, task, samples per
                               chunk, input/output scales, input bound, class labels
      model.onnx               the evaluation graph (placeholder weights: the architecture, nobody's model);
                               regenerated from spec.json byte for byte by `check_statement`
      settings.json            ezkl settings (scale 0, polycommit inputs and params, public score, no Freivalds)
      vk.key                   verifying key
      Verifier.sol             ezkl's verifier with the VK moved to code storage (see verifier.py)
      vk.bin                   the VK bytes its constructor takes
      manifest.json            sha256 of each file, the SRS it was built with, tool versions
  .cache/zk/<id>-<manifest>/   build outputs of a committed circuit, never committed: reference.compiled, pk.key,
                               ezkl's raw verifier, keys.json; keyed by the manifest's sha256 (keycache.py)
  .cache/srs/                  development SRS files (insecure, reproducible; see srs.py)

Public statement of one proof (digits/iris circuits): proof bytes [0, 64) are the KZG commitment of the chunk's
features X, [64, 128) of its one-hot labels Y, [128, 192) of the model's weights; instance 0 is the number of
correctly classified samples. Contracts compare keccak256(proof[0:128]) with the chunk commitment and
keccak256(proof[128:192]) with the registered model commitment — no hashing inside the circuit.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("RUST_LOG", "error")  # ezkl's info logs (fidelity tables) would drown the progress lines

import ezkl  # noqa: E402
import numpy as np  # noqa: E402
import onnx  # noqa: E402

from ..paths import CACHE_DIR, PROJECT_ROOT, SOLC_VERSION, write_atomic  # noqa: E402
from . import evm  # noqa: E402
from . import keycache  # noqa: E402
from . import srs as srs_mod  # noqa: E402
from .circuits import CircuitSpec  # noqa: E402
from .encoding import (  # noqa: E402
    POINT_BYTES,
    commitment_hash,
    decompress_g1,
    felt_to_int,
    int_to_signed,
    point_from_affine,
    verify_calldata,
)
from .errors import ArtefactError, DataError, ModelError, ProofError, SrsError  # noqa: E402
from .models import one_hot  # noqa: E402
from .network import MAX_ABS_VALUE, Network, eval_graph, from_architecture  # noqa: E402
from .verifier import externalise_vk  # noqa: E402

VERIFIERS_DIR = PROJECT_ROOT / "verifiers"
BUILD_DIR = PROJECT_ROOT / "build"
DEV_SRS_DIR = CACHE_DIR / "srs"
ARTEFACTS = ("spec.json", "model.onnx", "settings.json", "vk.key", "Verifier.sol", "vk.bin")

# ezkl run arguments shared by every evaluation circuit. Scale 0: all values are integers (exact metric).
# decomp_base^decomp_legs bounds the magnitude Relu/Sign can decide on; MAX_ABS_VALUE keeps a safety margin.
RUN_ARGS = {
    "input_visibility": "polycommit",
    "param_visibility": "polycommit",
    "output_visibility": "public",
    "input_scale": 0,
    "param_scale": 0,
    # Range checks decompose values in base 1024 (a 1024-row table, so small circuits stay at 2^11..2^13 rows
    # instead of the 2^15 a 16384 table forces) with three legs: |values| < 1024^3 / 2.
    "decomp_base": 1024,
    "decomp_legs": 3,
    # ezkl checks matrix products with Freivalds' algorithm by default: fewer rows, but extra columns and
    # challenges in every proof. Without it the digits circuits take 2x the rows and verification drops from
    # ~919k to ~594k gas (proof 6,144 -> 3,616 bytes): the cheaper check wins where gas is the cost (docs/benchmarks.md).
    "disable_freivalds": True,
}
# ezkl also range-checks the public output; a sum of squared errors needs more legs: |score| < 1024^5 / 2.
REGRESSION_DECOMP_LEGS = 5
MAX_REGRESSION_SCORE = 2**49
MAX_REGRESSION_ERROR = 2**48  # each error is range-checked by a Relu with the same five legs

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    pass


# ---------------------------------------------------------------- files


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
MAX_JSON_DEPTH = 64


def _json_depth(text: str) -> int:
    depth = peak = 0
    for ch in re.findall(r"[\[\]{}]", _JSON_STRING.sub("", text)):
        depth += 1 if ch in "[{" else -1
        peak = max(peak, depth)
    return peak


def _json(path: Path) -> dict:
    """A JSON artefact. Nesting is bounded before parsing: json's C parser recurses, and a process whose recursion
    limit was raised (ape raises it) would overflow the C stack on a file of 100,000 brackets."""
    try:
        text = path.read_text()
        if _json_depth(text) > MAX_JSON_DEPTH:
            raise ArtefactError(f"{path} is corrupt: not JSON written by this project (nested deeper than {MAX_JSON_DEPTH} levels)")
        return json.loads(text)
    except FileNotFoundError:
        raise ArtefactError(f"{path} is missing") from None
    except UnicodeDecodeError:
        raise ArtefactError(f"{path} is corrupt: binary data, not JSON") from None
    except (ValueError, RecursionError) as exc:
        raise ArtefactError(f"{path} is corrupt: not JSON ({str(exc)[:120] or type(exc).__name__})") from None
    except OSError as exc:
        raise ArtefactError(f"{path} cannot be read: {exc.strerror or exc}") from None


@contextmanager
def _silenced_stdout():
    """ezkl prints notes ("low scale values…", fidelity tables) straight to the process's stdout/stderr; with
    scale 0 they never apply here, so they are hidden at the file-descriptor level while ezkl runs."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(devnull)
        for fd in saved:
            os.close(fd)


@contextmanager
def _step(progress: Progress, label: str):
    progress(f"{label}…")
    start = time.perf_counter()
    yield
    progress(f"{label}: done in {time.perf_counter() - start:.1f} s")


# ---------------------------------------------------------------- circuit directory


@dataclass
class Circuit:
    """A built evaluation circuit: committed artefacts plus local build outputs."""

    root: Path

    @property
    def circuit_id(self) -> str:
        return self.spec.circuit_id

    @property
    def committed(self) -> bool:
        return self.root.parent.resolve() == VERIFIERS_DIR.resolve()

    @property
    def build(self) -> Path:
        # Committed circuits keep build outputs (proving key, compiled circuit) in the shared cache, keyed by their
        # manifest; a circuit folder made by `apiary zk import` keeps them inside itself, in .build/ (not part of
        # its manifest), so they move with it.
        if self.committed:
            return CACHE_DIR / "zk" / f"{self.root.name}-{self.manifest_sha256.hex()[:16]}"
        return self.root / ".build"

    @property
    def spec(self) -> CircuitSpec:
        try:
            return CircuitSpec.from_dict(_json(self.root / "spec.json"))
        except TypeError as exc:
            raise ArtefactError(f"{self.root / 'spec.json'} is corrupt ({exc})") from None

    @property
    def settings(self) -> dict:
        return _json(self.root / "settings.json")

    @property
    def logrows(self) -> int:
        return int(self.settings["run_args"]["logrows"])

    @property
    def manifest(self) -> dict:
        return _json(self.root / "manifest.json")

    @property
    def manifest_sha256(self) -> bytes:
        """What the VerifierRegistry records for this circuit."""
        import hashlib

        return hashlib.sha256((self.root / "manifest.json").read_bytes()).digest()

    @property
    def pk(self) -> Path:
        return self.build / "pk.key"

    @property
    def compiled(self) -> Path:
        return self.build / "reference.compiled"

    def path(self, name: str) -> Path:
        return self.root / name

    def check_files(self) -> None:
        """Every committed artefact is present and matches the manifest's hash."""
        manifest = self.manifest
        for name in ARTEFACTS:
            path = self.root / name
            if not path.is_file():
                raise ArtefactError(f"{path} is missing: rebuild the circuit with `apiary zk build`")
            if srs_mod.sha256_file(path) != manifest["files"].get(name):
                raise ArtefactError(f"{path} does not match manifest.json (corrupt or edited): rebuild the circuit")


def open_circuit(circuit_id_or_path: str | Path) -> Circuit:
    """A circuit folder (a path, relative to the current directory) or a committed circuit's id."""
    path = Path(circuit_id_or_path).expanduser()
    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise ArtefactError(f"{path} is not a circuit folder (no manifest.json): make one with `apiary zk import`")
        return Circuit(path)
    root = VERIFIERS_DIR / str(circuit_id_or_path)
    if "/" in str(circuit_id_or_path) or not (root / "manifest.json").is_file():
        known = sorted(p.name for p in VERIFIERS_DIR.iterdir() if (p / "manifest.json").is_file()) if VERIFIERS_DIR.is_dir() else []
        raise ArtefactError(f"no circuit folder or built-in circuit '{circuit_id_or_path}' (built-in: {', '.join(known) or 'none'}); "
                            "make one with `apiary zk import`")
    return Circuit(root)


# ---------------------------------------------------------------- SRS


def resolve_srs(logrows: int, srs_path: Path | None, progress: Progress = _quiet) -> Path:
    """The SRS to use: the user's file (checked), or the reproducible development SRS (built once, cached)."""
    if srs_path is not None:
        srs_mod.check_srs(Path(srs_path), logrows)
        return Path(srs_path)
    path = srs_mod.dev_srs_path(DEV_SRS_DIR, logrows)
    if not path.is_file():
        progress(f"building the INSECURE development SRS for 2^{logrows} rows (once; ~{max(1, 2 ** logrows // 2000)} s)")
        srs_mod.ensure_dev_srs(DEV_SRS_DIR, logrows)
    return path


def _srs_record(path: Path) -> dict:
    dev = path.name.startswith("dev-insecure-")
    return {"kind": "dev-insecure" if dev else "user", "file": path.name, "sha256": srs_mod.sha256_file(path)}


def srs_for(circuit: Circuit, srs_path: Path | None, progress: Progress = _quiet) -> Path:
    """The SRS a circuit was built with; refuses a different one (keys would not match the verifier)."""
    path = resolve_srs(circuit.logrows, srs_path, progress)
    expected = circuit.manifest["srs"]
    if srs_path is None and expected["kind"] == "dev-insecure" and srs_mod.sha256_file(path) != expected["sha256"]:
        # The cached development SRS is rebuilt from its seed when it does not hash as the manifest says (a
        # corrupted or truncated cache file); a circuit built with another one still fails below.
        progress(f"the cached development SRS {path} does not match {circuit.circuit_id}'s manifest: rebuilding it")
        write_atomic(path, srs_mod.build_dev_srs(circuit.logrows))
    if srs_mod.sha256_file(path) != expected["sha256"]:
        hint = "omit --srs to use the development SRS" if expected["kind"] == "dev-insecure" else f"pass the SRS file {expected['file']}"
        raise SrsError(f"{path} is not the SRS circuit {circuit.circuit_id} was built with ({expected['kind']}, sha256 {expected['sha256'][:12]}…): {hint}")
    return path


# ---------------------------------------------------------------- data


def chunk_input(spec: CircuitSpec, features: np.ndarray, labels: np.ndarray) -> dict:
    """ezkl input JSON for one chunk of circuit integers (`tasks.encode_features` / `encode_labels`), after
    checking shapes and types: X (S × F), Y (S × C one-hot for classifiers, S × 1 targets at the output scale)."""
    features = np.asarray(features)
    labels = np.asarray(labels)
    if features.shape != (spec.samples, spec.num_features):
        raise DataError(f"chunk features have shape {features.shape}; circuit {spec.circuit_id} takes ({spec.samples}, {spec.num_features})")
    if labels.shape != (spec.samples,):
        raise DataError(f"chunk labels have shape {labels.shape}; circuit {spec.circuit_id} takes ({spec.samples},)")
    for name, values in (("features", features), ("labels", labels)):
        if values.dtype == np.bool_ or not np.issubdtype(values.dtype, np.number) or not np.array_equal(values, np.round(values)):
            raise DataError(f"chunk {name} must be integers (encode them with apiary.zk.tasks first)")
    if np.abs(features).max(initial=0) >= 2**24:
        raise DataError("chunk features reach 2^24: beyond what the circuit takes")
    if spec.is_regression:
        y = np.asarray(labels, dtype=np.int64).reshape(-1, 1)
    else:
        y = one_hot(labels, spec.num_classes)
    return {"input_data": [features.astype(np.int64).flatten().tolist(), y.flatten().tolist()]}


def _check_range(net: Network, features: np.ndarray) -> None:
    peak = net.peak(np.asarray(features, dtype=np.int64))
    if peak >= MAX_ABS_VALUE // 2:
        raise ModelError(f"model values reach {peak:,} on this chunk, beyond the circuit's range (±{MAX_ABS_VALUE // 2:,}): "
                         "quantise with fewer weight bits")


def _check_errors_range(net: Network, features: np.ndarray, labels: np.ndarray, spec: CircuitSpec) -> None:
    if not spec.is_regression:
        return
    errors = net.forward(np.asarray(features, dtype=np.int64)) - np.asarray(labels, dtype=np.int64).reshape(-1, 1)
    top = int(np.abs(errors).max(initial=0))
    if top >= MAX_REGRESSION_ERROR:
        raise ModelError(f"a prediction is off by {top:,} (at the circuit's output scale), beyond what the circuit can "
                         f"range-check ({MAX_REGRESSION_ERROR:,}): the model is far off on this chunk")


def _check_score_range(spec: CircuitSpec, score: int) -> None:
    if spec.is_regression and score >= MAX_REGRESSION_SCORE:
        raise ModelError(f"squared error {score} exceeds what the circuit can range-check "
                         f"({MAX_REGRESSION_SCORE}): the model is far off on this chunk")


# ---------------------------------------------------------------- build


def _run_args(spec: CircuitSpec) -> ezkl.PyRunArgs:
    args = ezkl.PyRunArgs()
    for key, value in RUN_ARGS.items():
        setattr(args, key, value)
    if spec.is_regression:
        args.decomp_legs = REGRESSION_DECOMP_LEGS
    return args


def _generate_verifier(vk: Path, settings: Path, srs: Path, sol: Path) -> str:
    """ezkl's per-circuit verifier source. ezkl also tries to compile it with a solc 0.8.20 that it would
    download; a HOME whose svm folder holds a refusing stand-in stops that, and we compile with our own solc."""
    with tempfile.TemporaryDirectory() as home:
        fake = Path(home) / ".svm" / "0.8.20" / "solc-0.8.20"
        fake.parent.mkdir(parents=True)
        fake.write_text("#!/bin/sh\necho 'apiary compiles ezkl verifiers with its pinned solc' >&2\nexit 1\n")
        fake.chmod(0o755)
        old_home = os.environ.get("HOME")
        os.environ["HOME"] = home
        try:
            async def generate() -> None:  # ezkl's futures need a running event loop when created
                await ezkl.create_evm_verifier(str(vk), str(settings), str(sol), str(sol.with_suffix(".abi")),
                                               srs_path=str(srs), reusable=False)

            asyncio.run(generate())
        except Exception as exc:  # ezkl raises after writing the source when its own compile step fails
            if not sol.is_file() or "contract Halo2Verifier" not in sol.read_text():
                raise ProofError(f"ezkl could not generate the verifier: {exc}") from None
        finally:
            if old_home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = old_home
    return sol.read_text()


def build_circuit(spec: CircuitSpec, *, sample: tuple[np.ndarray, np.ndarray], srs_path: Path | None = None,
                  out_dir: Path | None = None, root_dir: Path | None = None, progress: Progress = _quiet) -> Circuit:
    """Build a circuit from scratch: graph, settings (calibrated logrows), keys, verifier, manifest.

    `sample` is one chunk of real data (circuit integers), used only to calibrate logrows. The circuit lands in
    `root_dir`, else `out_dir/<circuit id>`, else verifiers/<circuit id>. Everything is written to a temporary
    directory first and moved into place at the end: a failure leaves no half-written circuit.
    """
    root = (out_dir or VERIFIERS_DIR) / spec.circuit_id if root_dir is None else Path(root_dir)
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root.parent, prefix=f".{root.name}."))
    build = staging / ".build"  # moves with the folder; a committed circuit's then moves to the shared cache
    build.mkdir(parents=True, exist_ok=True)
    try:
        (staging / "spec.json").write_text(json.dumps(spec.as_dict(), indent=2, sort_keys=True) + "\n")
        onnx.save(eval_graph(from_architecture(spec.architecture), spec.samples, spec.circuit_id), str(staging / "model.onnx"))
        data = build / "calibration.json"
        data.write_text(json.dumps(chunk_input(spec, *sample)))
        # Wide circuits (convolutions, pooling) give verifiers over EIP-170 with two inner columns; one column
        # trades rows for columns and brings them back under the limit. Tried in this order; the first fits.
        for inner_cols in dict.fromkeys((RUN_ARGS.get("num_inner_cols", 2), 1)):
            with _step(progress, "settings and calibration"), _silenced_stdout():
                args = _run_args(spec)
                args.num_inner_cols = inner_cols
                if not ezkl.gen_settings(str(staging / "model.onnx"), str(staging / "settings.json"), py_run_args=args):
                    raise ProofError("ezkl rejected the evaluation graph")
                ezkl.calibrate_settings(str(data), str(staging / "model.onnx"), str(staging / "settings.json"), "resources", scales=[0])
                settings = canonical_settings(json.loads((staging / "settings.json").read_text()))
                (staging / "settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
            logrows = settings["run_args"]["logrows"]
            progress(f"circuit {spec.circuit_id}: 2^{logrows} rows, {settings['num_rows']} used, {inner_cols} inner column(s)")
            srs = resolve_srs(logrows, srs_path, progress)
            _keys_and_verifier(staging, build, srs, progress)
            size = evm.compile_verifier(staging / "Verifier.sol", build).runtime_size
            if size <= evm.EIP170_LIMIT:
                break
            progress(f"verifier runtime {size:,} bytes exceeds EIP-170 ({evm.EIP170_LIMIT:,})")
        else:
            raise ProofError(f"the verifier of {spec.circuit_id} is {size:,} bytes, over EIP-170's {evm.EIP170_LIMIT:,}, even "
                             "with one inner column: use a smaller network or fewer samples per chunk")
        _write_manifest(staging, srs, spec.circuit_id)
        if root.exists():
            shutil.rmtree(root)
        root.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging, root)
        root.chmod(0o755)  # mkdtemp made it private
        built = Circuit(root)
        if built.committed:  # its keys go where ensure_keys looks for them: the cache entry of its new manifest
            with keycache.exclusive(built.build):
                keycache.discard(built.build)
                for item in (root / ".build").iterdir():
                    if item.name != ".lock":  # the cache entry's own lock file is the one held
                        shutil.move(str(item), str(built.build / item.name))
            shutil.rmtree(root / ".build")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Circuit(root)


def canonical_settings(settings: dict) -> dict:
    """ezkl's settings as a reproducible build writes them: no timestamp, and the range checks and lookup tables
    in one order. ezkl lists them from a hash set, so two runs on the same graph can order them differently, and
    the order lays out the fixed columns: the same circuit would get a different verifying key and verifier."""
    settings = dict(settings)
    settings.pop("timestamp", None)
    if "required_range_checks" in settings:  # [low, high] pairs
        settings["required_range_checks"] = sorted(settings["required_range_checks"])
    if "required_lookups" in settings:  # operation names or {operation: parameters}
        settings["required_lookups"] = sorted(settings["required_lookups"], key=lambda op: json.dumps(op, sort_keys=True))
    return settings


def _setup_keys(artefacts: Path, vk_out: Path, build: Path, srs: Path, progress: Progress = _quiet) -> None:
    """Compile the graph and run ezkl's setup into `build` (the caller holds its lock): through temporaries renamed
    into place, so a failure or a second process never leaves half a key, then recorded for `vk_out`'s key."""
    compiled_tmp, pk_tmp = keycache.temporary(build, "reference.compiled"), keycache.temporary(build, "pk.key")
    keycache.discard(build)
    try:
        with _step(progress, "compile circuit"), _silenced_stdout():
            ezkl.compile_circuit(str(artefacts / "model.onnx"), str(compiled_tmp), str(artefacts / "settings.json"))
        with _step(progress, "key generation (setup)"):
            ezkl.setup(str(compiled_tmp), str(vk_out), str(pk_tmp), srs_path=str(srs))
        os.replace(compiled_tmp, build / "reference.compiled")
        os.replace(pk_tmp, build / "pk.key")
    finally:
        for tmp in (compiled_tmp, pk_tmp):
            tmp.unlink(missing_ok=True)
    keycache.record(build, srs_mod.sha256_file(vk_out))


def _keys_and_verifier(artefacts: Path, build: Path, srs: Path, progress: Progress) -> None:
    with keycache.exclusive(build):
        _setup_keys(artefacts, artefacts / "vk.key", build, srs, progress)
    with _step(progress, "Solidity verifier"):
        raw = _generate_verifier(artefacts / "vk.key", artefacts / "settings.json", srs, build / "Verifier.ezkl.sol")
        source, vk_bytes = externalise_vk(raw)
        (artefacts / "Verifier.sol").write_text(source)
        (artefacts / "vk.bin").write_bytes(vk_bytes)


def _write_manifest(artefacts: Path, srs: Path, circuit_id: str) -> None:
    spec_metric = CircuitSpec.from_dict(json.loads((artefacts / "spec.json").read_text())).metric
    manifest = {
        "circuit_id": circuit_id,
        "files": {name: srs_mod.sha256_file(artefacts / name) for name in ARTEFACTS},
        "srs": _srs_record(srs),
        "tools": {"ezkl": _ezkl_version(), "solc": SOLC_VERSION},
        "statement": {
            "instances": ["score"],
            "metric": spec_metric,
            "proof_commitments": {"features": [0, 64], "labels": [64, 128], "weights": [128, 192]},
        },
    }
    (artefacts / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _ezkl_version() -> str:
    from importlib.metadata import version

    return version("ezkl")


def ensure_keys(circuit: Circuit, srs_path: Path | None = None, progress: Progress = _quiet) -> Path:
    """Regenerate the proving key from the committed artefacts (build output), checking the VK matches."""
    circuit.check_files()
    if srs_path is not None:
        srs_for(circuit, srs_path)  # an explicit SRS is always checked, even when keys are cached
    vk_sha = srs_mod.sha256_file(circuit.path("vk.key"))  # which verifying key the cached proving key belongs to
    build = circuit.build
    with keycache.exclusive(build):  # a second process waits here and then finds the keys the first one built
        state = keycache.state(build, vk_sha)
        if state == "valid":
            return circuit.pk
        if state != "missing":
            progress(f"cached keys of {circuit.circuit_id} in {build} are {state}: rebuilding them")
        srs = srs_for(circuit, srs_path, progress)
        with _step(progress, f"proving key for {circuit.circuit_id}"):
            vk_tmp = keycache.temporary(build, "vk")
            try:
                _setup_keys(circuit.root, vk_tmp, build, srs)
                if vk_tmp.read_bytes() != circuit.path("vk.key").read_bytes():
                    keycache.discard(build)  # keys for another verifying key are no cache entry of this one
                    raise ArtefactError(f"regenerated verifying key differs from {circuit.path('vk.key')}: artefacts and "
                                        "SRS do not belong together")
            finally:
                vk_tmp.unlink(missing_ok=True)
    return circuit.pk


def expected_run_args(spec: CircuitSpec) -> dict:
    """The run arguments every circuit of this spec must have: visibilities, scales and range-check legs."""
    legs = REGRESSION_DECOMP_LEGS if spec.is_regression else RUN_ARGS["decomp_legs"]
    return {"input_visibility": "KZGCommit", "param_visibility": "KZGCommit", "output_visibility": "Public",
            "input_scale": 0, "param_scale": 0, "decomp_base": RUN_ARGS["decomp_base"], "decomp_legs": legs,
            "ignore_range_check_inputs_outputs": False}


def check_statement(circuit: Circuit) -> None:
    """The folder's graph and settings say what its spec says: the evaluation graph regenerates byte for byte from
    the architecture (so it hides no parameter the prover could choose in the score), and the settings keep the
    visibilities, scales and range checks the statement relies on. Raises ArtefactError otherwise."""
    spec = circuit.spec
    graph = eval_graph(from_architecture(spec.architecture), spec.samples, spec.circuit_id).SerializeToString()
    if graph != circuit.path("model.onnx").read_bytes():
        raise ArtefactError(f"{circuit.root}: model.onnx is not the evaluation graph of its spec.json (edited, or built by "
                            "another tool): do not register or use it")
    run_args = circuit.settings.get("run_args", {})
    for key, value in expected_run_args(spec).items():
        if run_args.get(key) != value:
            raise ArtefactError(f"{circuit.root}: settings.json has {key}={run_args.get(key)!r}, the statement needs {value!r}")
    if circuit.manifest.get("circuit_id") != spec.circuit_id:
        raise ArtefactError(f"{circuit.root}: manifest.json names circuit {circuit.manifest.get('circuit_id')!r}, spec.json {spec.circuit_id!r}")


def rebuild_verifier(circuit: Circuit, srs_path: Path | None = None, progress: Progress = _quiet) -> bool:
    """Rebuild the graph from the spec, and VK and verifier source from graph + settings; True when all match."""
    circuit.check_files()
    check_statement(circuit)
    srs = srs_for(circuit, srs_path, progress)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("model.onnx", "settings.json"):
            shutil.copy(circuit.path(name), work / name)
        _keys_and_verifier(work, work, srs, progress)
        return all((work / name).read_bytes() == circuit.path(name).read_bytes() for name in ("vk.key", "Verifier.sol", "vk.bin"))


# ---------------------------------------------------------------- commitments


def _srs_and_vk(circuit: Circuit, srs_path: Path | None) -> tuple[str, str, str]:
    return str(circuit.path("vk.key")), str(circuit.path("settings.json")), str(srs_for(circuit, srs_path))


def chunk_points(circuit: Circuit, features: np.ndarray, labels: np.ndarray, srs_path: Path | None = None) -> tuple[bytes, bytes]:
    """KZG commitments (EVM encoding) of a chunk's features and one-hot labels, as its proof will carry them."""
    data = chunk_input(circuit.spec, features, labels)["input_data"]
    vk, settings, srs = _srs_and_vk(circuit, srs_path)
    points = []
    for values in data:
        felts = [ezkl.float_to_felt(float(v), 0) for v in values]
        (point,) = ezkl.kzg_commit(felts, vk, settings, srs)
        points.append(point_from_affine(point.x, point.y))
    return points[0], points[1]


def chunk_commitment(circuit: Circuit, features: np.ndarray, labels: np.ndarray, srs_path: Path | None = None) -> bytes:
    """bytes32 identifying one test chunk on chain: keccak256(commit(X) ‖ commit(Y))."""
    return commitment_hash(*chunk_points(circuit, features, labels, srs_path))


def test_set_commitment(chunk_commitments: list[bytes], test_data_hash: bytes, salt: bytes = bytes(32)) -> bytes:
    """bytes32 a bounty commits to: `ModelBounties.testSetCommitment(chunks, keccak256(testData), salt)`, computed
    off chain (a sealed bounty commits to it with a secret salt; open bounties store it with a zero salt)."""
    from eth_abi import encode
    from eth_utils import keccak

    return keccak(encode(["bytes32[]", "bytes32", "bytes32"], [chunk_commitments, test_data_hash, salt]))


# ---------------------------------------------------------------- proving


@dataclass
class ProofBundle:
    """A proof's bytes and public instances: the one thing that is verified off chain and sent on chain."""

    proof: bytes
    instances: list[int]

    @property
    def score(self) -> int:
        return int_to_signed(self.instances[-1])

    @property
    def features_point(self) -> bytes:
        return self.proof[0:POINT_BYTES]

    @property
    def labels_point(self) -> bytes:
        return self.proof[POINT_BYTES : 2 * POINT_BYTES]

    @property
    def weights_point(self) -> bytes:
        return self.proof[2 * POINT_BYTES : 3 * POINT_BYTES]

    @property
    def chunk_commitment(self) -> bytes:
        return commitment_hash(self.features_point, self.labels_point)

    @property
    def model_commitment(self) -> bytes:
        return commitment_hash(self.weights_point)

    def calldata(self) -> bytes:
        return verify_calldata(self.proof, self.instances)

    def ezkl_json(self) -> dict:
        """The canonical proof.json of exactly these bytes and instances: what `verify_bundle` hands to ezkl."""
        return {
            "protocol": None,
            "instances": [[value.to_bytes(32, "little").hex() for value in self.instances]],
            "proof": list(self.proof),
            "hex_proof": "0x" + self.proof.hex(),
            "split": None,
            "pretty_public_inputs": None,
            "timestamp": None,
            "version": None,
        }

    def summary(self) -> dict:
        return {
            "score": self.score,
            "chunk_commitment": "0x" + self.chunk_commitment.hex(),
            "model_commitment": "0x" + self.model_commitment.hex(),
            "proof_bytes": len(self.proof),
            "instances": [hex(i) for i in self.instances],
        }


# Every top-level field ezkl 23 writes into proof.json. ezkl's verifier reads only `proof` (a byte list) and
# `instances` (little-endian hex field elements); the rest are copies (`hex_proof`, `pretty_public_inputs`),
# aggregation/split data this project never uses (`protocol`, `split`: must be null) or metadata.
_PROOF_FIELDS = frozenset({"protocol", "instances", "proof", "hex_proof", "split", "pretty_public_inputs", "timestamp", "version"})
_PRETTY_FIELDS = frozenset({"inputs", "rescaled_inputs", "processed_inputs", "processed_params", "processed_outputs",
                            "outputs", "rescaled_outputs"})
_LE_FELT = re.compile(r"[0-9a-f]{64}")
_BE_FELT = re.compile(r"0x[0-9a-f]{64}")


class _Malformed(Exception):
    pass


def _string_rows(value, what: str) -> list[str]:
    """ezkl's Vec<Vec<String>>, flattened."""
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise _Malformed(f"'{what}' is not a list of lists")
    flat = [item for row in value for item in row]
    if not all(isinstance(item, str) for item in flat):
        raise _Malformed(f"'{what}' holds something other than strings")
    return flat


def _decimal(text: str):
    from decimal import Decimal, InvalidOperation

    try:
        return Decimal(text[:100])
    except InvalidOperation:
        return None


def _proof_fields(body) -> tuple[bytes, list[int], list[str]]:
    """(proof bytes, instances, names of the redundant fields that disagree with them)."""
    if not isinstance(body, dict):
        raise _Malformed(f"a JSON {type(body).__name__}, not an object")
    unknown = sorted(set(body) - _PROOF_FIELDS)
    if unknown:
        raise _Malformed(f"unknown field '{unknown[0][:40]}'")
    for key in ("protocol", "split"):
        if body.get(key) is not None:
            raise _Malformed(f"'{key}' is set (aggregated and split proofs are not supported)")
    raw = body.get("proof")
    if raw is None:
        raise _Malformed("no 'proof' field")
    if not isinstance(raw, list) or not all(type(b) is int and 0 <= b < 256 for b in raw):
        raise _Malformed("'proof' is not a list of bytes")
    proof = bytes(raw)
    if "instances" not in body:
        raise _Malformed("no 'instances' field")
    columns = body["instances"]
    if not isinstance(columns, list) or len(columns) != 1:
        raise _Malformed("'instances' must hold exactly one column")
    felts = _string_rows(columns, "instances")
    if not felts:
        raise _Malformed("no public instances")
    for felt in felts:
        if not _LE_FELT.fullmatch(felt):
            raise _Malformed(f"instance {felt[:70]!r} is not 64 lowercase hex digits")
    instances = [felt_to_int(felt) for felt in felts]
    for key in ("timestamp", "version"):  # metadata, read by nobody: only its type is checked
        value = body.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, str))):
            raise _Malformed(f"'{key}' is neither a number nor a string")

    disagree = []
    hex_proof = body.get("hex_proof")
    if hex_proof is not None and (not isinstance(hex_proof, str) or hex_proof.lower() != "0x" + proof.hex()):
        disagree.append("'hex_proof' != 'proof'")
    pretty = body.get("pretty_public_inputs")
    if pretty is not None:
        if not isinstance(pretty, dict):
            raise _Malformed("'pretty_public_inputs' is not an object")
        unknown = sorted(set(pretty) - _PRETTY_FIELDS)
        if unknown:
            raise _Malformed(f"unknown field 'pretty_public_inputs.{unknown[0][:40]}'")
        # Only the score is public (inputs and weights are polycommit): every other public-value list is empty.
        for key in sorted(_PRETTY_FIELDS - {"outputs", "rescaled_outputs"}):
            if key in pretty and _string_rows(pretty[key], f"pretty_public_inputs.{key}"):
                disagree.append(f"'pretty_public_inputs.{key}' is not empty")
        if "outputs" in pretty:
            outputs = _string_rows(pretty["outputs"], "pretty_public_inputs.outputs")
            if len(outputs) != len(instances) or any(
                    not _BE_FELT.fullmatch(o) or int(o, 16) != i for o, i in zip(outputs, instances)):
                disagree.append("'pretty_public_inputs.outputs' != 'instances'")
        if "rescaled_outputs" in pretty:  # scale 0: the rescaled outputs are the signed instances
            rescaled = _string_rows(pretty["rescaled_outputs"], "pretty_public_inputs.rescaled_outputs")
            if len(rescaled) != len(instances) or any(
                    _decimal(r) != int_to_signed(i) for r, i in zip(rescaled, instances)):
                disagree.append("'pretty_public_inputs.rescaled_outputs' != 'instances'")
    return proof, instances, disagree


def load_proof(path: Path) -> ProofBundle:
    """Read an ezkl proof.json: its `proof` bytes and `instances`, exactly what ezkl verifies.

    Every redundant copy ezkl writes (`hex_proof`, the `pretty_public_inputs` values) must agree with them: a
    file whose fields disagree was edited and is refused, so what verifies off chain is what is sent on chain.
    """
    path = Path(path)
    body = _json(path)
    try:
        proof, instances, disagree = _proof_fields(body)
    except (_Malformed, ArtefactError) as exc:
        raise ArtefactError(f"{path} is not an ezkl proof ({exc}); prove again with `apiary zk prove`") from None
    if disagree:
        raise ArtefactError(f"{path}: its fields disagree ({'; '.join(disagree)}), so what verifies is not what "
                            "would be sent on chain (an edited file?): refused; prove again with `apiary zk prove`")
    if len(proof) < 3 * POINT_BYTES or len(proof) % 32:
        raise ArtefactError(f"{path}: proof of {len(proof)} bytes is truncated")
    return ProofBundle(proof, instances)


def model_commitment(circuit: Circuit, model: Network, srs_path: Path | None = None) -> bytes:
    """bytes32 a model registers under: keccak256 of the KZG commitment of its integer weights in this circuit."""
    spec = circuit.spec
    model = _as_network(model)
    zeros = chunk_input(spec, np.zeros((spec.samples, spec.num_features), dtype=np.int64), np.zeros(spec.samples, dtype=np.int64))
    with tempfile.TemporaryDirectory() as tmp:
        witness = _witness(circuit, model, zeros, Path(tmp), srs_path)
    points = witness["processed_params"]["polycommit"]
    if len(points) != 1 or len(points[0]) != 1:
        # Proofs carry exactly one weights point ([128, 192)); weights spread over several would be unbound.
        raise ArtefactError(f"circuit {circuit.circuit_id} commits its weights in {sum(map(len, points))} points, not one: unsupported")
    return commitment_hash(decompress_g1(points[0][0]))


def _as_network(model) -> Network:
    """A quantised network; the integer models of `models.train` (QuantisedModel) convert exactly."""
    return model.to_network() if hasattr(model, "to_network") else model


def _check_model(circuit: Circuit, model: Network) -> None:
    from .network import check_integer_network, same_architecture

    if not isinstance(model, Network):
        raise ModelError(f"a circuit proves a quantised network (apiary.zk.tasks.load_model), not {type(model).__name__}")
    diff = same_architecture(model, circuit.spec.architecture)
    if diff is not None:
        raise ModelError(f"model does not fit circuit {circuit.circuit_id}: {diff}")
    check_integer_network(model)


def _witness(circuit: Circuit, model: Network, data: dict, work: Path, srs_path: Path | None) -> dict:
    """ezkl witness of `model` on one chunk; `data` is `chunk_input`'s already validated JSON."""
    model = _as_network(model)
    _check_model(circuit, model)
    onnx.save(eval_graph(model, circuit.spec.samples, circuit.spec.circuit_id), str(work / "model.onnx"))
    (work / "input.json").write_text(json.dumps(data))
    vk, _settings, srs = _srs_and_vk(circuit, srs_path)
    with _silenced_stdout():
        ezkl.compile_circuit(str(work / "model.onnx"), str(work / "model.compiled"), str(circuit.path("settings.json")))
    ezkl.gen_witness(str(work / "input.json"), str(work / "model.compiled"), str(work / "witness.json"), vk_path=vk, srs_path=srs)
    return json.loads((work / "witness.json").read_text())


def prove(circuit: Circuit, model: Network, features: np.ndarray, labels: np.ndarray, out: Path,
          srs_path: Path | None = None, progress: Progress = _quiet) -> ProofBundle:
    """Prove that `model` (a quantised network) scores what it scores on this chunk of circuit integers.
    Writes `out` (ezkl proof.json) atomically, only once the in-circuit score equals the exact reference."""
    from .network import score as exact_score

    model = _as_network(model)
    _check_model(circuit, model)
    data = chunk_input(circuit.spec, features, labels)  # shapes, integer values, label range — before any work
    _check_range(model, features)
    _check_errors_range(model, features, labels, circuit.spec)
    expected = exact_score(model, features, labels)
    _check_score_range(circuit.spec, expected)
    pk = ensure_keys(circuit, srs_path, progress)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with _step(progress, "witness"):
            witness = _witness(circuit, model, data, work, srs_path)
        in_circuit = int_to_signed(felt_to_int(witness["outputs"][0][0]))
        if in_circuit != expected:
            raise ProofError(f"circuit computed score {in_circuit} but the model scores {expected}: values out of range?")
        with _step(progress, f"proof ({circuit.circuit_id}, 2^{circuit.logrows} rows)"):
            ezkl.prove(str(work / "witness.json"), str(work / "model.compiled"), str(pk), str(work / "proof.json"),
                       srs_path=str(srs_for(circuit, srs_path)))
        bundle = load_proof(work / "proof.json")
        verify_bundle(circuit, bundle, srs_path, name="the new proof")  # never write a proof that does not verify
        write_atomic(Path(out), (work / "proof.json").read_bytes())
    return bundle


def verify_local(circuit: Circuit, proof_path: Path, srs_path: Path | None = None) -> ProofBundle:
    """Off-chain verification with ezkl (the same check the Solidity verifier makes); returns what verified.

    ezkl is handed a canonical proof.json rebuilt from the loaded `ProofBundle`, never the file itself: the
    bytes and instances it verifies are exactly those `ProofBundle.calldata()` sends.
    """
    bundle = load_proof(proof_path)
    verify_bundle(circuit, bundle, srs_path, name=str(proof_path))
    return bundle


def verify_bundle(circuit: Circuit, bundle: ProofBundle, srs_path: Path | None = None, *, name: str = "proof") -> None:
    """Raise ProofError unless ezkl accepts exactly `bundle.proof` with `bundle.instances`."""
    srs = srs_for(circuit, srs_path)
    with tempfile.TemporaryDirectory() as tmp:
        canonical = Path(tmp) / "proof.json"
        canonical.write_text(json.dumps(bundle.ezkl_json()))
        try:
            ok = ezkl.verify(str(canonical), str(circuit.path("settings.json")), str(circuit.path("vk.key")), srs_path=str(srs))
        except Exception as exc:  # ezkl raises on invalid proofs rather than returning False
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise ProofError(f"proof {name} does not verify: {first}") from None
    if not ok:
        raise ProofError(f"proof {name} does not verify")
