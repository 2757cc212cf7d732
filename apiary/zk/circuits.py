"""What fixes a verifier: a network *architecture*, the samples per chunk and the fixed-point scales.

Every evaluation circuit, built-in or imported from a user's ONNX file, is one `CircuitSpec`: the lowered
architecture (`network.architecture_of`: layer ops and shapes, no weights), the task (classify | regress), the
samples per chunk, the input scale (test features enter the circuit as `round(x · input_scale)`), the bound on
those integers that quantisation plans for, and for regressors the output scale (targets enter as
`round(y · output_scale)`). Every model of that architecture shares the verifier; its weights are private and
committed (polycommit), and so are the test chunk's features and labels.

The evaluation graph (`network.eval_graph`) holds **no constant the prover could choose**: in ezkl's polycommit
mode every float initializer is a committed parameter of the model, so the sample count comes from the labels
and regression targets arrive already at the output scale. (The first version of the built-in circuits had a
float `n` and a `target_scale`: a model owner could commit `n = samples + k` or `target_scale = 0` and prove a
score it does not have. They are rebuilt on this graph.)
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import numpy as np
import onnx

from .errors import DataError, ModelError

SPEC_VERSION = 2
TASKS = ("classify", "regress")
_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


@dataclass(frozen=True)
class CircuitSpec:
    """A circuit's identity and everything a prover needs to quantise a model and a test set for it."""

    circuit_id: str
    task: str
    samples: int
    architecture: dict  # network.architecture_of(...): input_shape, layers, task
    input_scale: float = 1.0
    input_bound: int = 0  # largest |integer feature| quantisation plans for; chunks beyond it are refused
    output_scale: float = 1.0  # regressors: targets and predictions at this scale; classifiers: 1
    class_labels: list = field(default_factory=list)  # classifiers: the label value of each class index
    dataset: str | None = None  # built-in examples: the scikit-learn data set of the held-out test set
    source: str = ""  # the model file the circuit was imported from (informative)
    version: int = SPEC_VERSION

    def __post_init__(self):
        if self.task not in TASKS:
            raise ModelError(f"task must be one of {', '.join(TASKS)}, not {self.task!r}")
        if not _ID.fullmatch(self.circuit_id):
            raise ModelError(f"circuit id {self.circuit_id!r} must be 1-64 of a-z, 0-9, '.', '_', '-', starting with a letter or digit")
        if not isinstance(self.samples, int) or not 1 <= self.samples <= 4096:
            raise DataError(f"samples per chunk must be within 1..4096, not {self.samples}")

    # -- shapes

    @property
    def input_shape(self) -> tuple:
        return tuple(self.architecture["input_shape"])

    @property
    def num_features(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def num_outputs(self) -> int:
        return int(np.prod(self.architecture["layers"][-1]["out"]))

    @property
    def num_classes(self) -> int:
        return 1 if self.is_regression else self.num_outputs

    @property
    def label_width(self) -> int:
        """Columns of Y in the circuit: one-hot classes, or the regressor's outputs."""
        return self.num_outputs

    @property
    def is_regression(self) -> bool:
        return self.task == "regress"

    @property
    def metric(self) -> str:
        """`correct` (count, higher is better) or `sse` (sum of squared errors, lower is better)."""
        return "sse" if self.is_regression else "correct"

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, body: dict) -> "CircuitSpec":
        if not isinstance(body, dict) or body.get("version") != SPEC_VERSION:
            raise ModelError("spec.json is not a version-2 circuit spec (built by an older tool?): rebuild the circuit")
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(body) - known)
        if unknown:
            raise ModelError(f"spec.json has unknown field '{unknown[0]}'")
        return cls(**body)


def read_graph(path) -> onnx.ModelProto:
    """Load and check an ONNX file, turning every failure into one clear ModelError."""
    try:
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
    except FileNotFoundError:
        raise ModelError(f"ONNX file {path} does not exist") from None
    except IsADirectoryError:
        raise ModelError(f"{path} is a folder, not an ONNX file") from None
    except Exception as exc:  # onnx raises DecodeError, ValidationError, ... for malformed files
        first = (str(exc).splitlines() or [""])[0][:160]
        raise ModelError(f"{path} is not a valid ONNX model ({type(exc).__name__}: {first}); export it again "
                         "(skl2onnx's to_onnx or torch.onnx.export)") from None
    return proto
