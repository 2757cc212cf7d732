"""`apiary zk import`: a user's ONNX model and test set → a circuit folder for the model's architecture.

Scales, chosen for the user and recorded in spec.json:
  input_scale   1 for integer features up to 4096 (pixels, counts: exact); else the power of two that gives the
                largest |feature| 8 bits (`network.choose_input_scale`).
  input_bound   the largest |integer feature| of the test set; quantisation plans every model for inputs up to
                it (worst case), and test chunks beyond it are refused with a clear message.
  output_scale  regressors: the power of two that gives the largest |target| TARGET_BITS bits; predictions and
                targets meet at this scale, the SSE is in units of 1/output_scale².
"""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import numpy as np

from . import network, pipeline, tasks
from .circuits import CircuitSpec
from .errors import ArtefactError, DataError, ModelError

TARGET_BITS = 16


def choose_output_scale(targets: np.ndarray) -> float:
    top = float(np.abs(targets).max(initial=0))
    if top == 0:
        return 1.0
    return float(2.0 ** (TARGET_BITS - math.ceil(math.log2(top))))


def _circuit_id(out: Path, name: str | None) -> str:
    if name is not None:
        return name
    slug = re.sub(r"[^a-z0-9._-]+", "-", out.resolve().name.lower()).strip("-._")[:64]
    return slug or "circuit"


def _check_out(out: Path, force: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise ArtefactError(f"{out} exists and is not a folder: choose another --out")
    if (out / "manifest.json").is_file():
        if not force:
            raise ArtefactError(f"{out} already holds a circuit: pass --force to replace it, or choose another --out")
        return
    if any(out.iterdir()):
        raise ArtefactError(f"{out} exists and is not empty (and not a circuit folder): choose another --out")


def import_task(onnx_path: Path, data: Path, *, task: str, samples: int, out: Path, name: str | None = None,
                label: str | None = None, force: bool = False, srs_path: Path | None = None,
                progress=pipeline._quiet) -> dict:
    """Build the circuit folder `out`; returns a report. Nothing is written before every check has passed."""
    out = Path(out)
    _check_out(out, force)
    net = network.read_onnx(onnx_path, task)
    progress(f"{onnx_path}: {' → '.join(layer.op for layer in net.layers)}, {net.num_features} features, {net.num_outputs} outputs")
    table = tasks.read_table(data, label)
    if table.features.shape[1] != net.num_features:
        raise DataError(f"{data} has {table.features.shape[1]} feature columns; the model takes {net.num_features}")
    if table.rows < samples:
        raise DataError(f"{data} has {table.rows} rows, fewer than one chunk of {samples}")
    input_scale = network.choose_input_scale(table.features)
    x = network.quantise_inputs(table.features, input_scale)
    if task == "regress":
        targets = tasks._numeric(table.labels, f"{data}: regression targets")
        output_scale, class_labels = choose_output_scale(targets), []
    else:
        output_scale, class_labels = 1.0, tasks.class_labels_for(net)
    spec = CircuitSpec(
        circuit_id=_circuit_id(out, name), task=task, samples=samples, architecture=network.architecture_of(net),
        input_scale=input_scale, input_bound=max(1, int(np.abs(x).max(initial=0))), output_scale=output_scale,
        class_labels=class_labels, dataset=None, source=Path(onnx_path).name,
    )
    test = tasks.test_set_from_table(spec, table, None)  # every label must be a class; chunk rows
    model = tasks.model_for(spec, net, onnx_path)
    q = model.quantisation
    fid = tasks.fidelity(model, spec, test.chunks[0], test.float_features[0], test.float_labels[0])
    progress(f"scales: inputs x{input_scale:g} (bound {spec.input_bound}), "
             + (f"targets x{output_scale:g}, " if spec.is_regression else "")
             + (f"weights {q.weight_bits} bits" if q.weight_bits else "integer model used exactly"))
    progress(f"chunk 0: {fid.line(spec)}")
    if out.exists() and force:
        staging_parent = out.resolve().parent
        circuit = pipeline.build_circuit(spec, sample=test.chunks[0], srs_path=srs_path,
                                         root_dir=staging_parent / f".{out.name}.new", progress=progress)
        shutil.rmtree(out)
        circuit.root.rename(out)
    else:
        pipeline.build_circuit(spec, sample=test.chunks[0], srs_path=srs_path, root_dir=out, progress=progress)
    circuit = pipeline.open_circuit(out)
    settings = circuit.settings
    return {
        "circuit": spec.circuit_id,
        "folder": str(out),
        "task": task,
        "metric": spec.metric,
        "samples_per_chunk": samples,
        "chunks_in_data": len(test.chunks),
        "unused_rows": test.unused_rows,
        "layers": [layer.op for layer in net.layers],
        "input_scale": input_scale,
        "output_scale": output_scale,
        "logrows": settings["run_args"]["logrows"],
        "manifest_sha256": "0x" + circuit.manifest_sha256.hex(),
        "chunk0": {"float_score": fid.float_score, "in_circuit_score": fid.circuit_score, "within_tolerance": fid.ok},
    }


__all__ = ["import_task", "choose_output_scale", "ModelError"]
