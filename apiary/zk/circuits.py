"""Evaluation circuits: an ONNX graph that runs a model over a batch of test samples and outputs its score.

Formulation (cheap in ezkl: no ArgMax, no Equal, no Cast, no lookup tables):

    L = model(X)                      (n × C) integer logits
    t = ReduceSum(L ⊙ Y, axis=1)      (n × 1) the true class's logit; Y is the one-hot label matrix
    r = ReduceSum(Relu(L − t), axis=1)   r_i = 0  ⇔  the true class has the highest logit (ties count)
    wrong = ReduceSum(Sign(r))        scalar number of misclassified samples
    score = n − wrong                 the public output: number of correct predictions

ArgMax + Equal + Cast (the naive graph) add lookups and confuse ezkl's output scale; Relu and Sign on integers at
scale 0 become range checks and the output is the exact integer.

Regression (linreg on diabetes): `score = Σ (X·W + b − 2^8·y)²`, the sum of squared errors in units of 2^-16
(predictions are integers at scale 2^8). No non-linearity, so no range checks at all; lower is better. Visibility: X and Y are *hashed* inputs (their
Poseidon hashes are public instances: the chunk of the test set), the weights are *hashed* params (their hash is
the model commitment), the score is a public output.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .errors import ModelError
from .models import TARGET_BITS, QuantisedModel

OPSET = 13


@dataclass(frozen=True)
class CircuitSpec:
    """What fixes a verifier: architecture shapes and samples per chunk. Every model of this spec shares it."""

    dataset: str
    architecture: str
    num_features: int
    num_classes: int
    samples: int
    hidden: int = 0

    @property
    def is_regression(self) -> bool:
        return self.architecture == "linreg"

    @property
    def metric(self) -> str:
        """`correct` (count, higher is better) or `sse` (sum of squared errors, lower is better)."""
        return "sse" if self.is_regression else "correct"

    @property
    def label_width(self) -> int:
        return 1 if self.is_regression else self.num_classes

    @property
    def circuit_id(self) -> str:
        arch = self.architecture if not self.hidden else f"{self.architecture}{self.hidden}"
        return f"{self.dataset}-{arch}-n{self.samples}"

    def as_dict(self) -> dict:
        return asdict(self)

    def layer_shapes(self) -> list[tuple[int, int]]:
        if self.architecture in ("logreg", "linreg"):
            return [(self.num_features, self.num_classes)]
        return [(self.num_features, self.hidden), (self.hidden, self.num_classes)]

    def check_model(self, model: QuantisedModel) -> None:
        shapes = [tuple(w.shape) for w in model.weights]
        if model.architecture != self.architecture or shapes != self.layer_shapes():
            raise ModelError(
                f"model is {model.architecture} with layers {shapes}, but circuit {self.circuit_id} needs "
                f"{self.architecture} with layers {self.layer_shapes()}"
            )
        for kind, tensors in (("weight", model.weights), ("bias", model.biases)):
            for index, tensor in enumerate(tensors):
                if not np.any(tensor):
                    raise ModelError(
                        f"{kind} tensor {index} is entirely zero; ezkl folds it into a different circuit whose proofs "
                        "this verifier cannot check: give it a non-zero entry (e.g. quantise with more weight bits)"
                    )


def spec_for(model: QuantisedModel, dataset: str, samples: int) -> CircuitSpec:
    hidden = int(model.weights[0].shape[1]) if model.architecture == "mlp" else 0
    return CircuitSpec(dataset, model.architecture, model.num_features, model.num_classes, samples, hidden)


def placeholder_model(spec: CircuitSpec) -> QuantisedModel:
    """A model of the spec's shape with all weights 1: the reference graph of a circuit carries no one's model.

    With polycommit params the circuit, and so the verifying key, is the same for every model of the spec —
    except that ezkl folds a tensor that is *entirely zero* into a different circuit. The placeholder is
    therefore all ones, and `check_model` refuses models with an all-zero tensor.
    """
    weights = [np.ones(shape, dtype=np.int64) for shape in spec.layer_shapes()]
    biases = [np.ones(shape[1], dtype=np.int64) for shape in spec.layer_shapes()]
    return QuantisedModel(spec.architecture, weights, biases)


def build_eval_graph(spec: CircuitSpec, model: QuantisedModel) -> onnx.ModelProto:
    """The evaluation graph of `model` over `spec.samples` samples (inputs X: n×F, Y: n×C one-hot)."""
    spec.check_model(model)
    n, f, c = spec.samples, spec.num_features, spec.label_width
    inits = [numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
             numpy_helper.from_array(np.array([float(n)], dtype=np.float32), "n")]
    nodes = []
    h = "X"
    for i, (w, b) in enumerate(zip(model.weights, model.biases)):
        inits += [numpy_helper.from_array(w.astype(np.float32), f"W{i}"),
                  numpy_helper.from_array(b.astype(np.float32), f"b{i}")]
        nodes += [helper.make_node("MatMul", [h, f"W{i}"], [f"xw{i}"]),
                  helper.make_node("Add", [f"xw{i}", f"b{i}"], [f"z{i}"])]
        h = f"z{i}"
        if i < len(model.weights) - 1:
            nodes.append(helper.make_node("Relu", [h], [f"h{i}"]))
            h = f"h{i}"
    if spec.is_regression:
        # score = Σ (prediction − 2^TARGET_BITS · y)²: exact integers, no non-linearity at all.
        inits.append(numpy_helper.from_array(np.array([float(1 << TARGET_BITS)], dtype=np.float32), "target_scale"))
        nodes += [
            helper.make_node("Mul", ["Y", "target_scale"], ["target"]),
            helper.make_node("Sub", [h, "target"], ["error"]),
            helper.make_node("Mul", ["error", "error"], ["squared"]),
            helper.make_node("ReduceSum", ["squared"], ["score"], keepdims=0),
        ]
        inits = [i for i in inits if i.name != "n"]
        return _finish(spec, nodes, inits, n, f, c)
    nodes += [
        helper.make_node("Mul", [h, "Y"], ["masked"]),
        helper.make_node("ReduceSum", ["masked", "axis1"], ["true_logit"], keepdims=1),
        helper.make_node("Sub", [h, "true_logit"], ["margin"]),
        helper.make_node("Relu", ["margin"], ["excess"]),
        helper.make_node("ReduceSum", ["excess", "axis1"], ["excess_sum"], keepdims=1),
        helper.make_node("Sign", ["excess_sum"], ["wrong"]),
        helper.make_node("ReduceSum", ["wrong"], ["wrong_count"], keepdims=0),
        helper.make_node("Sub", ["n", "wrong_count"], ["score"]),
    ]
    return _finish(spec, nodes, inits, n, f, c)


def _finish(spec: CircuitSpec, nodes: list, inits: list, n: int, f: int, c: int) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes,
        f"apiary-eval-{spec.circuit_id}",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [n, f]),
         helper.make_tensor_value_info("Y", TensorProto.FLOAT, [n, c])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1])],
        inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="apiary")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto


def read_graph(path) -> onnx.ModelProto:
    """Load and check an ONNX file, turning every failure into one clear ModelError."""
    try:
        proto = onnx.load(str(path))
        onnx.checker.check_model(proto)
    except FileNotFoundError:
        raise ModelError(f"ONNX file {path} does not exist") from None
    except Exception as exc:  # onnx raises DecodeError, ValidationError, ... for malformed files
        raise ModelError(f"{path} is not a valid ONNX model ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})") from None
    return proto
