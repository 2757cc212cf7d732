"""Inference circuits: a proof that a registered model maps a committed input to given outputs.

Each evaluation circuit (built-in or imported) gets an inference twin in its folder, `<circuit>/inference/`:

      model.onnx       the inference graph (network.inference_graph: the network over one input, logits out;
                       placeholder weights), regenerated from the evaluation circuit's spec.json byte for byte
      settings.json    polycommit input and parameters, public outputs, scale 0 — and the *evaluation
                       circuit's* row count (logrows), even where fewer rows would do
      vk.key, Verifier.sol, vk.bin, manifest.json   as for evaluation circuits

Why the same row count: in ezkl's polycommit mode the weights' KZG commitment is the commitment of one
polynomial holding every parameter in graph order over the circuit's domain. The inference graph has exactly the
evaluation graph's parameters in the same order (its score adds none), so over the same domain the same weights
give the *same point*: keccak256 of it is the model commitment of the ModelRegistry. The compute market checks
an inference proof's weights point against the registered commitment: the model hired is the model registered
(and the one that won its bounty). `check_shared_commitment` shows it for a model.

Statement of an inference proof: proof bytes [0, 64) are the input's KZG commitment (a job's input commitment is
keccak256 of it), [64, 128) the weights'; the public instances are the logits (field elements; negatives as
R − |x|). The registry records the circuit as `<evaluation id>.infer` with metric Inference and `samples` = the
number of outputs.

Batch circuits (`<circuit>/inference-x<k>/`, `<evaluation id>.infer.x<k>`): the same network over k separate
inputs (network.batch_inference_graph), at the same row count. Each input is its own polycommit point, and an
input's point does not depend on its slot: it equals the single circuit's, so one proof settles up to k jobs
posted with single-circuit input commitments (ComputeMarket.submitProofBatch). Proof bytes [64i, 64i + 64) are
slot i's input, [64k, 64k + 64) the weights; instances are the k slots' logits in order; unused slots hold zero
inputs, which the market ignores. The registry records `samples` = k × outputs. Proving time is the domain's, not k's: at 2^17 rows (the
digits MLP) one proof of 16 inputs costs about what one of a single input does.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import ezkl
import numpy as np
import onnx

from ..paths import write_atomic
from . import evm
from . import srs as srs_mod
from .encoding import POINT_BYTES, R, commitment_hash, decompress_g1, felt_to_int, int_to_signed, verify_calldata
from .errors import ArtefactError, DataError, ModelError, ProofError
from .network import MAX_ABS_VALUE, Network, batch_inference_graph, from_architecture, inference_graph
from .pipeline import ensure_keys as pipeline_ensure_keys
from .pipeline import (Circuit, Progress, ProofBundle, _as_network, _check_model, _keys_and_verifier, _quiet, _run_args,
                       _silenced_stdout, _srs_record, _step, canonical_settings, expected_run_args, open_circuit, srs_for,
                       verify_bundle)

SUFFIX = ".infer"
FOLDER = "inference"
SAMPLES = 1  # one input per proof: a job is one inference
MAX_SLOTS = 64  # inputs of a batch circuit, at most
ARTEFACTS = ("model.onnx", "settings.json", "vk.key", "Verifier.sol", "vk.bin")


@dataclass
class InferenceCircuit:
    """The inference twin of an evaluation circuit (duck-types `pipeline.Circuit` for the SRS and verify helpers)."""

    evaluation: Circuit
    slots: int = 1  # inputs per proof (batch circuits: k ≥ 2)

    @property
    def folder(self) -> str:
        return FOLDER if self.slots == 1 else f"{FOLDER}-x{self.slots}"

    @property
    def root(self) -> Path:
        return self.evaluation.root / self.folder

    @property
    def circuit_id(self) -> str:
        return self.evaluation.circuit_id + SUFFIX + ("" if self.slots == 1 else f".x{self.slots}")

    @property
    def build_command(self) -> str:
        """The command that (re)builds this circuit's folder."""
        return f"apiary zk build-inference {self.evaluation.root}" + ("" if self.slots == 1 else f" --slots {self.slots}")

    @property
    def outputs_per_input(self) -> int:
        return self.spec.num_outputs

    @property
    def spec(self):
        return self.evaluation.spec

    @property
    def num_outputs(self) -> int:
        return self.spec.num_outputs * self.slots

    @property
    def build(self) -> Path:
        return self.evaluation.build / self.folder

    @property
    def pk(self) -> Path:
        return self.build / "pk.key"

    @property
    def compiled(self) -> Path:
        return self.build / "reference.compiled"  # where _keys_and_verifier writes it

    @property
    def settings(self) -> dict:
        return _read_json(self.root / "settings.json")

    @property
    def logrows(self) -> int:
        return int(self.settings["run_args"]["logrows"])

    @property
    def manifest(self) -> dict:
        return _read_json(self.root / "manifest.json")

    @property
    def manifest_sha256(self) -> bytes:
        import hashlib

        return hashlib.sha256((self.root / "manifest.json").read_bytes()).digest()

    def path(self, name: str) -> Path:
        return self.root / name

    def check_files(self) -> None:
        manifest = self.manifest
        for name in ARTEFACTS:
            path = self.root / name
            if not path.is_file():
                raise ArtefactError(f"{path} is missing: rebuild with `{self.build_command}`")
            if srs_mod.sha256_file(path) != manifest["files"].get(name):
                raise ArtefactError(f"{path} does not match its manifest.json (corrupt or edited): rebuild the inference circuit")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtefactError(f"{path} is missing: build the inference circuit with `apiary zk build-inference`") from None
    except (OSError, ValueError) as exc:
        raise ArtefactError(f"{path} is not readable JSON ({exc})") from None


def open_inference(evaluation: Circuit | str | Path, slots: int = 1) -> InferenceCircuit:
    """The inference circuit of an evaluation circuit (an id under verifiers/, a folder, or a Circuit); with
    `slots` ≥ 2, its batch circuit of that many inputs."""
    circuit = evaluation if isinstance(evaluation, Circuit) else open_circuit(evaluation)
    ic = InferenceCircuit(circuit, _check_slots(slots))
    if not ic.root.is_dir():
        what = "inference circuit" if slots == 1 else f"batch inference circuit of {slots} inputs"
        raise ArtefactError(f"circuit {circuit.circuit_id} has no {what} ({ic.root} is missing): build it with "
                            f"`{ic.build_command}`")
    return ic


def batch_sizes(evaluation: Circuit) -> list[int]:
    """The batch circuits built for an evaluation circuit (their slot counts), smallest first."""
    sizes = []
    for path in evaluation.root.glob(f"{FOLDER}-x*"):
        suffix = path.name[len(FOLDER) + 2:]
        if path.is_dir() and suffix.isdigit() and int(suffix) >= 2:
            sizes.append(int(suffix))
    return sorted(sizes)


def _check_slots(slots: int) -> int:
    if not isinstance(slots, int) or not 1 <= slots <= MAX_SLOTS:
        raise DataError(f"an inference circuit takes 1 (single) to {MAX_SLOTS} inputs (got {slots!r})")
    return slots


def _graph(evaluation: Circuit, slots: int = 1, net: Network | None = None) -> onnx.ModelProto:
    spec = evaluation.spec
    net = net or from_architecture(spec.architecture)
    if slots == 1:
        return inference_graph(net, SAMPLES, spec.circuit_id)
    return batch_inference_graph(net, slots, spec.circuit_id)


def _input_data(xs: list[np.ndarray]) -> str:
    """ezkl's input file: one flat list per graph input (a single circuit has one)."""
    return json.dumps({"input_data": [np.asarray(x).flatten().tolist() for x in xs]})


def _manifest(ic: InferenceCircuit, staging: Path, srs: Path) -> dict:
    from .pipeline import _ezkl_version
    from ..paths import SOLC_VERSION

    return {
        "circuit_id": ic.circuit_id,
        "evaluation_circuit": ic.evaluation.circuit_id,
        "evaluation_manifest_sha256": ic.evaluation.manifest_sha256.hex(),
        "files": {name: srs_mod.sha256_file(staging / name) for name in ARTEFACTS},
        "srs": _srs_record(srs),
        "tools": {"ezkl": _ezkl_version(), "solc": SOLC_VERSION},
        "statement": {
            "instances": [f"output {i}" for i in range(ic.num_outputs)] if ic.slots == 1 else
                         [f"slot {i // ic.outputs_per_input} output {i % ic.outputs_per_input}" for i in range(ic.num_outputs)],
            "metric": "inference",
            "proof_commitments": ({"input": [0, 64], "weights": [64, 128]} if ic.slots == 1 else
                                  {"inputs": [[64 * i, 64 * i + 64] for i in range(ic.slots)],
                                   "weights": [64 * ic.slots, 64 * ic.slots + 64]}),
        },
    }


def build_inference(evaluation: Circuit | str | Path, srs_path: Path | None = None,
                    progress: Progress = _quiet, *, slots: int = 1) -> InferenceCircuit:
    """Build (or rebuild) the inference twin of an evaluation circuit in `<circuit>/inference/` (with `slots` ≥ 2,
    its batch circuit in `<circuit>/inference-x<slots>/`): graph, settings at the evaluation circuit's row count,
    keys, verifier, manifest. Written to a temporary folder first."""
    circuit = evaluation if isinstance(evaluation, Circuit) else open_circuit(evaluation)
    circuit.check_files()
    ic = InferenceCircuit(circuit, _check_slots(slots))
    spec = circuit.spec
    staging = Path(tempfile.mkdtemp(dir=circuit.root, prefix=".inference."))
    build = ic.build
    build.mkdir(parents=True, exist_ok=True)
    try:
        onnx.save(_graph(circuit, slots), str(staging / "model.onnx"))
        data = build / "calibration.json"
        data.write_text(_input_data([np.zeros(spec.num_features, dtype=np.int64)] * slots))
        with _step(progress, "settings"), _silenced_stdout():
            args = _run_args(spec)
            args.num_inner_cols = circuit.settings["run_args"].get("num_inner_cols", 2)
            if not ezkl.gen_settings(str(staging / "model.onnx"), str(staging / "settings.json"), py_run_args=args):
                raise ProofError("ezkl rejected the inference graph")
            ezkl.calibrate_settings(str(data), str(staging / "model.onnx"), str(staging / "settings.json"), "resources", scales=[0])
        settings = canonical_settings(json.loads((staging / "settings.json").read_text()))
        needed = int(settings["run_args"]["logrows"])
        if needed > circuit.logrows:
            raise ProofError(f"the inference graph of {circuit.circuit_id} ({slots} input(s)) needs 2^{needed} rows, more "
                             f"than its evaluation "
                             f"circuit's 2^{circuit.logrows}: the weights would not share their commitment")
        settings["run_args"]["logrows"] = circuit.logrows  # the same domain: the same weights point
        (staging / "settings.json").write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
        progress(f"inference circuit {ic.circuit_id}: 2^{circuit.logrows} rows (the evaluation circuit's), "
                 f"{settings['num_rows']} used, {ic.num_outputs} public outputs")
        srs = srs_for(circuit, srs_path, progress)
        _keys_and_verifier(staging, build, srs, progress)
        size = evm.compile_verifier(staging / "Verifier.sol", build).runtime_size
        if size > evm.EIP170_LIMIT:
            raise ProofError(f"the inference verifier of {circuit.circuit_id} is {size:,} bytes, over EIP-170")
        (staging / "manifest.json").write_text(json.dumps(_manifest(ic, staging, srs), indent=2, sort_keys=True) + "\n")
        if ic.root.exists():
            shutil.rmtree(ic.root)
        os.replace(staging, ic.root)
        ic.root.chmod(0o755)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ic


def check_inference_statement(ic: InferenceCircuit) -> None:
    """The folder says what the evaluation circuit's spec says: the graph regenerates byte for byte, the settings
    keep the visibilities, scales and range checks, and the row count is the evaluation circuit's."""
    ic.check_files()
    if _graph(ic.evaluation, ic.slots).SerializeToString() != ic.path("model.onnx").read_bytes():
        raise ArtefactError(f"{ic.root}: model.onnx is not the inference graph of {ic.evaluation.circuit_id}'s spec")
    run_args = ic.settings.get("run_args", {})
    for key, value in expected_run_args(ic.spec).items():
        if run_args.get(key) != value:
            raise ArtefactError(f"{ic.root}: settings.json has {key}={run_args.get(key)!r}, the statement needs {value!r}")
    if ic.logrows != ic.evaluation.logrows:
        raise ArtefactError(f"{ic.root}: 2^{ic.logrows} rows, not the evaluation circuit's 2^{ic.evaluation.logrows}: "
                            "its weights commitment would differ from the registered one")
    if ic.manifest.get("evaluation_manifest_sha256") != ic.evaluation.manifest_sha256.hex():
        raise ArtefactError(f"{ic.root} was built for another build of {ic.evaluation.circuit_id} (its manifest changed): "
                            f"rebuild it with `apiary zk build-inference {ic.evaluation.root}`")
    if ic.manifest.get("circuit_id") != ic.circuit_id:
        raise ArtefactError(f"{ic.root}: manifest.json names {ic.manifest.get('circuit_id')!r}, not {ic.circuit_id!r}")


def ensure_keys(ic: InferenceCircuit, srs_path: Path | None = None, progress: Progress = _quiet) -> Path:
    """The proving key (a build output), regenerated from the committed artefacts when missing or stale: the
    evaluation circuits' mechanism (`pipeline.ensure_keys`), which an InferenceCircuit satisfies."""
    return pipeline_ensure_keys(ic, srs_path, progress)


# ---------------------------------------------------------------- inputs, outputs, proofs


def encode_input(ic: InferenceCircuit, features) -> np.ndarray:
    """One input as circuit integers (1 × features), checked: shape, integer values, within the circuit's bound."""
    x = np.asarray(features)
    spec = ic.spec
    if x.size != spec.num_features:
        raise DataError(f"an input of {x.size} values; circuit {spec.circuit_id} takes {spec.num_features}")
    if x.dtype == np.bool_ or not np.issubdtype(x.dtype, np.number) or not np.array_equal(x, np.round(x)):
        raise DataError("input values must be integers at the circuit's input scale (apiary.zk.tasks.encode_features)")
    x = x.astype(np.int64).reshape(SAMPLES, spec.num_features)
    if np.abs(x).max(initial=0) >= 2**24:
        raise DataError("input values reach 2^24: beyond what the circuit takes")
    return x


def outputs_of(model, features) -> list[int]:
    """The model's exact integer outputs (logits) on one input: what an honest provider posts."""
    net = _as_network(model)
    return [int(v) for v in net.forward(np.asarray(features, dtype=np.int64).reshape(1, -1)).reshape(-1)]


def to_instances(outputs: list[int]) -> list[int]:
    """Signed outputs as the field elements the proof's instances (and a job's posted outputs) carry."""
    return [int(v) % R for v in outputs]


def from_instances(instances: list[int]) -> list[int]:
    return [int_to_signed(int(v)) for v in instances]


def _witness(ic: InferenceCircuit, net: Network, x: np.ndarray | list[np.ndarray], work: Path,
             srs_path: Path | None) -> dict:
    """The witness of `net` on input x (a single circuit) or on a list of `ic.slots` inputs (a batch circuit)."""
    xs = list(x) if isinstance(x, list) else [x]
    if len(xs) != ic.slots:
        raise DataError(f"{ic.circuit_id} takes {ic.slots} input(s), not {len(xs)}")
    onnx.save(_graph(ic.evaluation, ic.slots, net), str(work / "model.onnx"))
    (work / "input.json").write_text(_input_data(xs))
    srs = srs_for(ic, srs_path)
    with _silenced_stdout():
        ezkl.compile_circuit(str(work / "model.onnx"), str(work / "model.compiled"), str(ic.path("settings.json")))
    ezkl.gen_witness(str(work / "input.json"), str(work / "model.compiled"), str(work / "witness.json"),
                     vk_path=str(ic.path("vk.key")), srs_path=str(srs))
    return json.loads((work / "witness.json").read_text())


def input_point(ic: InferenceCircuit, features, srs_path: Path | None = None) -> bytes:
    """The input's KZG commitment (64 bytes, as proofs carry it): ezkl's commitment of the input values over the
    circuit's domain, the polycommit point its witness has (a test checks both agree). No model needed."""
    from .encoding import point_from_affine

    x = encode_input(ic, features)
    message = [(int(v) % R).to_bytes(32, "little").hex() for v in x.flatten()]
    points = ezkl.kzg_commit(message, str(ic.path("vk.key")), str(ic.path("settings.json")), str(srs_for(ic, srs_path)))
    if len(points) != 1:
        raise ArtefactError(f"circuit {ic.circuit_id} commits one input in {len(points)} points, not one")
    return point_from_affine(points[0].x, points[0].y)


def input_commitment(ic: InferenceCircuit, features, srs_path: Path | None = None) -> bytes:
    """bytes32 a compute job names its input by: keccak256 of the input's KZG commitment point."""
    return commitment_hash(input_point(ic, features, srs_path))


@dataclass
class InferenceProof:
    proof: bytes
    instances: list[int]
    slots: int = 1  # inputs the proof's circuit takes (a batch proof: k ≥ 2)

    @property
    def input_commitment(self) -> bytes:
        return self.input_commitment_at(0)

    def input_commitment_at(self, slot: int) -> bytes:
        """The input commitment of slot `slot` (a single proof has slot 0 only)."""
        if not 0 <= slot < self.slots:
            raise IndexError(f"slot {slot} of a proof of {self.slots} input(s)")
        return commitment_hash(self.proof[slot * POINT_BYTES : (slot + 1) * POINT_BYTES])

    @property
    def model_commitment(self) -> bytes:
        return commitment_hash(self.proof[self.slots * POINT_BYTES : (self.slots + 1) * POINT_BYTES])

    @property
    def outputs(self) -> list[int]:
        return from_instances(self.instances)

    def outputs_at(self, slot: int) -> list[int]:
        return from_instances(self.instances_at(slot))

    def instances_at(self, slot: int) -> list[int]:
        per = len(self.instances) // self.slots
        return self.instances[slot * per : (slot + 1) * per]

    def calldata(self) -> bytes:
        return verify_calldata(self.proof, self.instances)

    def to_json(self) -> str:
        body = {"proof": "0x" + self.proof.hex(), "instances": [hex(v) for v in self.instances]}
        if self.slots != 1:
            body["slots"] = self.slots
        return json.dumps(body)

    @classmethod
    def from_json(cls, text: str) -> InferenceProof:
        try:
            body = json.loads(text)
            proof = bytes.fromhex(body["proof"].removeprefix("0x"))
            instances = [int(v, 16) for v in body["instances"]]
            slots = int(body.get("slots", 1))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProofError(f"not an inference proof file ({type(exc).__name__}: {exc})") from None
        if (not 1 <= slots <= MAX_SLOTS or len(proof) < (slots + 1) * POINT_BYTES or len(instances) % slots
                or any(not 0 <= v < R for v in instances)):
            raise ProofError("inference proof is truncated or has instances outside the field")
        return cls(proof, instances, slots)


def prove_inference(ic: InferenceCircuit, model, features, out: Path | None = None, srs_path: Path | None = None,
                    progress: Progress = _quiet) -> InferenceProof:
    """Prove that `model` maps `features` to its outputs. Refuses before proving when the model does not fit the
    circuit or its values leave the circuit's range; checks the in-circuit outputs against the exact ones and
    verifies the proof before writing `out` (atomically)."""
    if ic.slots != 1:
        raise DataError(f"{ic.circuit_id} is a batch circuit: prove_inference_batch")
    return _prove(ic, model, [features], out, srs_path, progress)


def prove_inference_batch(ic: InferenceCircuit, model, inputs: list, out: Path | None = None,
                          srs_path: Path | None = None, progress: Progress = _quiet) -> InferenceProof:
    """One proof of a batch circuit for up to `ic.slots` inputs (slot i is inputs[i]; the remaining slots hold
    zero inputs; their outputs settle nothing). Checked as `prove_inference` checks one input."""
    if ic.slots < 2:
        raise DataError(f"{ic.circuit_id} takes one input: prove_inference")
    if not 1 <= len(inputs) <= ic.slots:
        raise DataError(f"{len(inputs)} inputs for a batch circuit of {ic.slots} slots")
    zero = np.zeros(ic.spec.num_features, dtype=np.int64)
    return _prove(ic, model, list(inputs) + [zero] * (ic.slots - len(inputs)), out, srs_path, progress)


def _prove(ic: InferenceCircuit, model, inputs: list, out: Path | None, srs_path: Path | None,
           progress: Progress) -> InferenceProof:
    net = _as_network(model)
    _check_model(ic.evaluation, net)
    xs = [encode_input(ic, features) for features in inputs]
    expected = []
    for x in xs:
        peak = net.peak(x)
        if peak >= MAX_ABS_VALUE // 2:
            raise ModelError(f"model values reach {peak:,} on this input, beyond the circuit's range (±{MAX_ABS_VALUE // 2:,})")
        expected += outputs_of(net, x)
    pk = ensure_keys(ic, srs_path, progress)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with _step(progress, "witness"):
            witness = _witness(ic, net, xs if ic.slots > 1 else xs[0], work, srs_path)
        in_circuit = [int_to_signed(felt_to_int(v)) for row in witness["outputs"] for v in row]
        if in_circuit != expected:
            raise ProofError(f"circuit computed outputs {in_circuit} but the model gives {expected}: values out of range?")
        what = "inference proof" if ic.slots == 1 else f"batch inference proof ({len(inputs)} slots)"
        with _step(progress, f"{what} ({ic.circuit_id}, 2^{ic.logrows} rows)"):
            ezkl.prove(str(work / "witness.json"), str(work / "model.compiled"), str(pk), str(work / "proof.json"),
                       srs_path=str(srs_for(ic, srs_path)))
        body = json.loads((work / "proof.json").read_text())
        result = InferenceProof(bytes(body["proof"]), [felt_to_int(v) for v in body["instances"][0]], ic.slots)
    verify_inference(ic, result, srs_path, name="the new proof")
    if out is not None:
        write_atomic(Path(out), result.to_json().encode())
    return result


def verify_inference(ic: InferenceCircuit, proof: InferenceProof, srs_path: Path | None = None, *, name: str = "proof") -> None:
    """Raise ProofError unless ezkl accepts exactly these proof bytes and instances (what goes on chain)."""
    verify_bundle(ic, ProofBundle(proof.proof, list(proof.instances)), srs_path, name=name)


def check_shared_commitment(ic: InferenceCircuit, model, srs_path: Path | None = None) -> bytes:
    """The weights' commitment in the inference circuit equals the model's registered (evaluation) commitment;
    returns it. Raises ArtefactError otherwise (the inference circuit was not built at the same row count)."""
    from .pipeline import model_commitment

    net = _as_network(model)
    registered = model_commitment(ic.evaluation, net, srs_path)
    with tempfile.TemporaryDirectory() as tmp:
        zero = np.zeros((SAMPLES, ic.spec.num_features), dtype=np.int64)
        witness = _witness(ic, net, zero if ic.slots == 1 else [zero] * ic.slots, Path(tmp), srs_path)
    points = witness["processed_params"]["polycommit"]
    if len(points) != 1 or len(points[0]) != 1:
        raise ArtefactError(f"circuit {ic.circuit_id} commits the weights in {sum(map(len, points))} points, not one")
    here = commitment_hash(decompress_g1(points[0][0]))
    if here != registered:
        raise ArtefactError(f"the weights commit to 0x{here.hex()} in {ic.circuit_id} but to 0x{registered.hex()} in "
                            f"{ic.evaluation.circuit_id}: the inference circuit cannot serve this model's jobs")
    return registered


def input_limit(ic: InferenceCircuit) -> int:
    """The most bytes an input file of this circuit may have: 256 per feature (a number, or a header name) and
    64 KiB over. One input is kilobytes; the bound keeps what a job can make an agent read and parse small."""
    return (64 << 10) + 256 * ic.spec.num_features


def _read_input_bytes(path: Path, limit: int) -> bytes:
    """A job's URI is the requester's choice, and providers' agents and watchdogs read it: the file is opened once
    without blocking, checked on the open descriptor (a regular, non-empty file of at most `limit` bytes: no
    device, FIFO, directory or procfs file, and no swap between the check and the read) and read from it."""
    import stat

    try:  # a device is not even opened (opening one can have effects); the descriptor is checked again below
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise DataError(f"{path} is not a regular file")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise DataError(f"input file {path} does not exist") from None
    except OSError as exc:
        raise DataError(f"input file {path} cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DataError(f"{path} is not a regular file")
        if info.st_size == 0:
            raise DataError(f"{path} is empty")
        if info.st_size > limit:
            raise DataError(f"{path} is {info.st_size:,} bytes, more than one input of this circuit can be ({limit:,})")
        data = b""
        while len(data) <= limit and (chunk := os.read(fd, limit + 1 - len(data))):
            data += chunk
    except OSError as exc:
        raise DataError(f"input file {path} cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise DataError(f"{path} grew past {limit:,} bytes while it was read")
    return data


def _npy_values(data: bytes, features: int, path: Path | str) -> np.ndarray:
    """A .npy input: its header is read first, so a header that claims a huge shape allocates nothing."""
    import io

    buffer = io.BytesIO(data)
    version = np.lib.format.read_magic(buffer)
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in readers:
        raise DataError(f"{path} is a .npy file of format {version[0]}.{version[1]}; save it with numpy.save")
    shape, _fortran, dtype = readers[version](buffer)
    if dtype.hasobject or dtype.kind not in "biuf" or int(np.prod(shape, dtype=object)) != features:
        raise DataError(f"{path} holds a {dtype} array of shape {shape}; one input is {features} numbers")
    buffer.seek(0)
    return np.asarray(np.load(buffer, allow_pickle=False), dtype=np.float64)


def _json_numbers(value, path: Path | str):
    """A .json input: numbers in (nested) lists; true/false, strings and objects are refused, not read as 1 or 0."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            raise DataError(f"{path} holds {json.dumps(item)[:40]}: an input is a list of numbers")
    return value


def read_input(ic: InferenceCircuit, path: Path) -> np.ndarray:
    """One raw input from a file — .npy, .json (a list of numbers) or .csv (the first row of numbers; a header
    is skipped) — encoded at the circuit's input scale and checked against its bound (1 × features)."""
    path = Path(path)
    if path.suffix not in INPUT_SUFFIXES:
        raise DataError(f"{path}: an input is a .npy, .json or .csv file")
    return parse_input(ic, _read_input_bytes(path, input_limit(ic)), path.suffix, str(path))


INPUT_SUFFIXES = (".npy", ".json", ".csv")


def parse_input(ic: InferenceCircuit, data: bytes, suffix: str, path: str) -> np.ndarray:
    """One raw input from the bytes of a .npy, .json or .csv file (`path` names it in errors): see read_input."""
    from .tasks import encode_features

    try:
        if suffix == ".npy":
            raw = _npy_values(data, ic.spec.num_features, path)
        elif suffix == ".json":
            raw = np.asarray(_json_numbers(json.loads(data), path), dtype=np.float64)
        else:
            rows = [line for line in data.decode().splitlines() if line.strip()]
            values = None
            for line in rows[:2]:
                try:
                    values = [float(v) for v in line.split(",")]
                    break
                except ValueError:
                    continue  # the header
            if values is None:
                raise DataError(f"{path} has no row of numbers in its first two lines")
            raw = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError, RecursionError, OverflowError, MemoryError) as exc:
        raise DataError(f"{path} is not one numeric input ({type(exc).__name__}: {str(exc)[:120]})") from None
    if raw.size != ic.spec.num_features:
        raise DataError(f"{path} holds {raw.size} values; circuit {ic.spec.circuit_id} takes {ic.spec.num_features}")
    if not np.all(np.isfinite(raw)):
        raise DataError(f"{path} holds NaN or infinite values")
    return encode_features(ic.spec, raw.reshape(1, -1), what=str(path))


def rebuild_verifier(ic: InferenceCircuit, srs_path: Path | None = None, progress: Progress = _quiet) -> bool:
    """Regenerate the VK and verifier from the committed graph and settings; True when all match byte for byte."""
    check_inference_statement(ic)
    srs = srs_for(ic, srs_path, progress)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("model.onnx", "settings.json"):
            shutil.copy(ic.path(name), work / name)
        _keys_and_verifier(work, work, srs, progress)
        return all((work / name).read_bytes() == ic.path(name).read_bytes() for name in ("vk.key", "Verifier.sol", "vk.bin"))
