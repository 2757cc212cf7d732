"""Networks read from ONNX, quantised to integers, and written back as evaluation graphs for ezkl.

A user's ONNX model (from skl2onnx, ``torch.onnx.export`` or written by hand) is *lowered* to a short chain of
layers this project can prove exactly:

    affine   y = x·m + c, elementwise (scalers, batch norm, the 1/k² of an average pool)
    dense    y = x·W + b                (Gemm, MatMul [+ Add], LinearClassifier, LinearRegressor)
    conv     2-D convolution, zero padding, any stride, groups
    relu
    maxpool  no padding
    sumpool  an average pool without its division (the division becomes an affine layer, folded away)
    reshape  Flatten, Reshape, Squeeze, Unsqueeze (the per-sample shape only)

The chain stops at the model's logits: whatever follows (Softmax, ArgMax, ZipMap, a final Sigmoid, label
lookups) does not change which class scores highest, so the circuit scores the logits. Affine layers are folded
into the dense layer next to them wherever that is exact, so a scaler in front of an MLP costs nothing.

Quantisation (`quantise`) turns the float network into integers: inputs times the circuit's input scale, each
parametric layer's weights times a scale chosen so the largest weight uses the available bits and no value in
the network leaves the circuit's range on the calibration data. Nothing is rescaled inside the circuit: every
value is an exact integer (ezkl scale 0), so the in-circuit score equals `IntNetwork.score` here, bit for bit.
For classifiers any positive scale per layer keeps the argmax; for regressors the output scale is fixed by the
circuit (`target_bits`), because the committed targets live at that scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from .errors import DataError, ModelError

OPSET = 13
# Range checks decompose values in base 1024 with three legs (pipeline.RUN_ARGS): |value| < 2^29. Quantisation
# keeps every worst-case value (classifier margins included) below MAX_ABS_VALUE / 2, one bit of margin.
MAX_ABS_VALUE = 2**29
# Integer parameters travel as float32 initializers: exact below 2^24.
MAX_PARAM = 2**24
INPUT_BITS = 8
MAX_WEIGHT_BITS = 10

PARAMETRIC = ("affine", "dense", "conv")
QUANTISED_KEY = "apiary.quantised"
# Ops after the logits that keep the highest-scoring class: the classifier's chain ends at the first of these.
TERMINAL = {"Softmax", "LogSoftmax", "ArgMax", "ZipMap", "Normalizer", "Sigmoid", "Tanh", "Hardmax"}
PASSTHROUGH = {"Identity", "Dropout"}
RESHAPES = {"Flatten", "Reshape", "Squeeze", "Unsqueeze"}
SHAPE_ONLY = {"Shape", "Size"}  # consumers that read a tensor's shape, not its values
NONLINEAR_HIDDEN = {"Sigmoid", "Tanh", "LeakyRelu", "Elu", "Selu", "Gelu", "HardSigmoid", "Softplus", "PRelu", "Clip"}


@dataclass
class Layer:
    """One layer: `op`, its attributes (JSON-serialisable, part of the architecture) and its parameters."""

    op: str
    attrs: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)  # name -> ndarray (float64 before quantisation, int64 after)
    in_shape: tuple = ()
    out_shape: tuple = ()

    def arch(self) -> dict:
        body = {"op": self.op, "in": list(self.in_shape), "out": list(self.out_shape)}
        body.update({k: v for k, v in sorted(self.attrs.items())})
        if self.op == "affine":
            body["param_shape"] = list(self.params["m"].shape)
        return body


@dataclass
class Network:
    """A chain of layers from a flat input of `num_features` values (reshaped to `input_shape`) to the logits."""

    input_shape: tuple
    layers: list
    task: str  # classify | regress
    class_labels: list | None = None  # the model's own labels for class indices 0..C-1, when it names them
    source: str = ""
    quantised: bool = False  # integer parameters made for circuits (`to_onnx(quantised=True)`): used exactly as they are

    @property
    def num_features(self) -> int:
        return int(np.prod(self.input_shape))

    @property
    def num_outputs(self) -> int:
        return int(np.prod(self.layers[-1].out_shape)) if self.layers else self.num_features

    def architecture(self) -> list[dict]:
        return [layer.arch() for layer in self.layers]

    def forward(self, x: np.ndarray) -> np.ndarray:
        """(n, num_features) -> (n, num_outputs); float64 for a float network, exact int64 for an integer one."""
        h, _ = _run(self, x, track=False)
        return h

    def peak(self, x: np.ndarray) -> int:
        """Largest |value| anywhere in the network (inputs, every layer output, classifier margins)."""
        _, peak = _run(self, x, track=True)
        return peak


# ---------------------------------------------------------------- forward pass (float or exact integer)


def _conv(h: np.ndarray, w: np.ndarray, b: np.ndarray, strides, pads, group: int) -> np.ndarray:
    n, c, _, _ = h.shape
    m, cg, kh, kw = w.shape
    top, left, bottom, right = pads
    h = np.pad(h, ((0, 0), (0, 0), (top, bottom), (left, right)))
    windows = np.lib.stride_tricks.sliding_window_view(h, (kh, kw), axis=(2, 3))[:, :, :: strides[0], :: strides[1]]
    out = []
    per_group = m // group
    for g in range(group):
        patch = windows[:, g * cg : (g + 1) * cg]
        out.append(np.einsum("nchwij,mcij->nmhw", patch, w[g * per_group : (g + 1) * per_group]))
    return np.concatenate(out, axis=1) + b.reshape(1, m, 1, 1)


def _pool(h: np.ndarray, kernel, strides, reduce) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(h, tuple(kernel), axis=(2, 3))[:, :, :: strides[0], :: strides[1]]
    return reduce(windows, axis=(-2, -1))


def _run(net: Network, x: np.ndarray, *, track: bool, interval: bool = False) -> tuple[np.ndarray, int]:
    x = np.asarray(x)
    h = x.reshape((x.shape[0],) + tuple(net.input_shape))
    peak = int(np.abs(h).max(initial=0)) if track else 0
    for layer in net.layers:
        p = layer.params
        if layer.op == "affine":
            h = h * p["m"] + p["c"]
        elif layer.op == "dense":
            h = h @ p["W"] + p["b"]
        elif layer.op == "conv":
            h = _conv(h, p["W"], p["b"], layer.attrs["strides"], layer.attrs["pads"], layer.attrs["group"])
        elif layer.op == "relu":
            h = np.maximum(h, 0)
        elif layer.op == "maxpool":
            h = _pool(h, layer.attrs["kernel"], layer.attrs["strides"], np.max)
        elif layer.op == "sumpool":
            h = _pool(h, layer.attrs["kernel"], layer.attrs["strides"], np.sum)
        elif layer.op == "reshape":
            h = h.reshape((h.shape[0],) + tuple(layer.out_shape))
        else:  # pragma: no cover - layers are built by this module only
            raise ModelError(f"unknown layer {layer.op}")
        if track:
            peak = max(peak, int(np.ceil(np.abs(h).max(initial=0))))
    h = h.reshape(h.shape[0], -1)
    if track and net.task == "classify":
        # The score's range-checked values: margins L_c − L_true (Relu) and their sum over classes (Sign).
        # Σ_c relu(L_c − L_true) ≤ Σ_c (L_c − min L) for any true class; on interval bounds (all ≥ 0, the true
        # logit anywhere in ±bound) that becomes Σ_c 2·bound_c.
        spread = 2 * h.sum(axis=1) if interval else (h - h.min(axis=1, keepdims=True)).sum(axis=1)
        spread = spread + h.shape[1]  # the +1 of every strict margin
        peak = max(peak, int(np.ceil(spread.max(initial=0))), 2 * int(np.ceil(np.abs(h).max(initial=0))))
    return h, peak


# ---------------------------------------------------------------- reading ONNX


class _Graph:
    def __init__(self, proto: onnx.ModelProto, path: str):
        self.path = path
        self.proto = proto
        graph = proto.graph
        self.consts: dict[str, np.ndarray] = {}
        for init in graph.initializer:
            self.consts[init.name] = numpy_helper.to_array(init)
        for node in graph.node:
            if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
                for attr in node.attribute:
                    if attr.name == "value":
                        self.consts[node.output[0]] = numpy_helper.to_array(attr.t)
                    elif attr.name in ("value_float", "value_int"):
                        self.consts[node.output[0]] = np.array(helper.get_attribute_value(attr))
                    elif attr.name in ("value_floats", "value_ints"):
                        self.consts[node.output[0]] = np.array(helper.get_attribute_value(attr))
        self.consumers: dict[str, list] = {}
        for node in graph.node:
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(node)
        self.shapes: dict[str, tuple] = {}
        try:
            inferred = onnx.shape_inference.infer_shapes(proto, data_prop=True)
            for info in list(inferred.graph.value_info) + list(inferred.graph.output) + list(inferred.graph.input):
                dims = info.type.tensor_type.shape.dim
                self.shapes[info.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
        except Exception:  # shape inference is a help for reshapes, not a requirement
            pass

    def where(self, node) -> str:
        return f"node '{node.name or node.output[0]}'"

    def const(self, name: str):
        return self.consts.get(name)


def _attrs(node) -> dict:
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _unsupported(g: _Graph, node, why: str = "") -> ModelError:
    op = node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}.{node.op_type}"
    detail = f": {why}" if why else ""
    return ModelError(f"{g.path}: unsupported operator {op} ({g.where(node)}){detail}; supported: Gemm, MatMul, Add/Sub/Mul/Div "
                      "by constants, Conv, Relu, MaxPool, AveragePool, GlobalAveragePool, Flatten/Reshape, BatchNormalization, "
                      "Scaler, LinearClassifier, LinearRegressor, then Softmax/ArgMax/Sigmoid/ZipMap at the end")


def read_onnx(path: str | Path, task: str) -> Network:
    """Lower an ONNX file to a `Network`. Every failure is one ModelError naming the file and, where it applies,
    the operator and the node."""
    from .circuits import read_graph

    if task not in ("classify", "regress"):
        raise ModelError(f"task must be classify or regress, not {task!r}")
    proto = read_graph(path)
    g = _Graph(proto, str(path))
    inputs = [i for i in proto.graph.input if i.name not in g.consts]
    if len(inputs) != 1:
        raise ModelError(f"{path}: the model takes {len(inputs)} inputs ({', '.join(i.name for i in inputs)}); one feature tensor is supported")
    info = inputs[0]
    dims = [d.dim_value if d.HasField("dim_value") else None for d in info.type.tensor_type.shape.dim]
    if len(dims) < 2 or any(d is None or d < 1 for d in dims[1:]):
        raise ModelError(f"{path}: input '{info.name}' has shape {dims}; it needs a batch dimension first and fixed sizes after it")
    net = Network(tuple(int(d) for d in dims[1:]), [], task, source=Path(path).name, quantised=is_quantised_export(proto))
    cur, shape = info.name, net.input_shape
    while True:
        consumers = [n for n in g.consumers.get(cur, []) if n.op_type not in SHAPE_ONLY]
        terminal = [n for n in consumers if n.op_type in TERMINAL]
        if not consumers or terminal:
            if task == "classify":
                for n in terminal:
                    if _feeds_layers(g, n):  # the circuit scores the logits: nothing with weights may follow them
                        why = "a hidden non-linearity other than Relu" if n.op_type in NONLINEAR_HIDDEN else \
                            "layers with weights after it (the circuit scores the logits before it)"
                        raise _unsupported(g, n, why)
                break
            if consumers:
                raise _unsupported(g, consumers[0], "a regressor's output must be its prediction")
            break
        if len(consumers) != 1:
            ops = ", ".join(f"{n.op_type} ({g.where(n)})" for n in consumers)
            raise ModelError(f"{g.path}: tensor '{cur}' feeds several operators ({ops}); only a chain of layers is supported")
        node = consumers[0]
        step = _lower(g, net, node, cur, shape)
        if step is None:  # a terminal op producing the logits (LinearClassifier / LinearRegressor)
            break
        cur, shape = step
    if not net.layers:
        raise ModelError(f"{path}: no layer found between the input and the output")
    if task == "classify" and net.num_outputs < 2:
        if net.num_outputs == 1:  # one logit z: class 1 when z > 0, as [0, z]
            _binary_from_single_logit(net)
        else:
            raise ModelError(f"{path}: a classifier needs at least two outputs")
    _fold(net)
    return net


def _feeds_layers(g: _Graph, node) -> bool:
    """Does anything downstream of `node` carry weights (so `node` is a hidden activation, not the last op)?"""
    seen, todo = set(), list(node.output)
    while todo:
        name = todo.pop()
        for n in g.consumers.get(name, []):
            if id(n) in seen:
                continue
            seen.add(id(n))
            if n.op_type in ("Gemm", "MatMul", "Conv", "LinearClassifier", "LinearRegressor"):
                return True
            todo.extend(n.output)
    return False


def _binary_from_single_logit(net: Network) -> None:
    last = net.layers[-1]
    if last.op != "dense":
        raise ModelError(f"{net.source}: a one-logit classifier must end in a dense layer")
    w, b = last.params["W"], last.params["b"]
    last.params = {"W": np.hstack([-w, w]) / 2, "b": np.concatenate([-b, b]) / 2}
    last.out_shape = (2,)


def _lower(g: _Graph, net: Network, node, cur: str, shape: tuple):
    """Append the layer(s) for `node` (whose data input is `cur`); returns (output name, per-sample shape), or
    None where the node already produces the logits."""
    op, dom, a = node.op_type, node.domain, _attrs(node)
    out = node.output[0]
    ml = dom == "ai.onnx.ml"
    if dom not in ("", "ai.onnx", "ai.onnx.ml"):
        raise _unsupported(g, node, f"custom domain {dom}")
    others = [name for name in node.input if name and name != cur]

    def const_inputs():
        values = [g.const(name) for name in others]
        if any(v is None for v in values):
            raise _unsupported(g, node, "its other inputs are computed, not constants (residual or multi-input graphs are not supported)")
        return [np.asarray(v, dtype=np.float64) for v in values]

    if op in PASSTHROUGH or (op == "Cast" and a.get("to") in (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16)):
        return out, shape
    if op == "Cast":
        raise _unsupported(g, node, "a cast to a non-float type inside the network")
    if ml and op == "Scaler":
        offset = np.asarray(a.get("offset", [0.0]), dtype=np.float64)
        scale = np.asarray(a.get("scale", [1.0]), dtype=np.float64)
        _add_affine(net, shape, scale, -offset * scale)
        return out, shape
    if op in ("Add", "Sub", "Mul", "Div") and not ml:
        if len(node.input) != 2:
            raise _unsupported(g, node)
        (k,) = const_inputs()
        first = node.input[0] == cur
        if op == "Add":
            m, c = np.ones(1), k
        elif op == "Sub":
            m, c = (np.ones(1), -k) if first else (-np.ones(1), k)
        elif op == "Mul":
            m, c = k, np.zeros(1)
        else:
            if not first:
                raise _unsupported(g, node, "division by the input")
            if np.any(k == 0):
                raise ModelError(f"{g.path}: Div by zero ({g.where(node)})")
            m, c = 1.0 / k, np.zeros(1)
        _add_affine(net, shape, m, c)
        return out, shape
    if op == "BatchNormalization":
        scale, bias, mean, var = const_inputs()[:4]
        m = scale / np.sqrt(var + float(a.get("epsilon", 1e-5)))
        c = bias - mean * m
        bshape = (len(m),) + (1,) * (len(shape) - 1)
        _add_affine(net, shape, m.reshape(bshape), c.reshape(bshape))
        return out, shape
    if op in ("Gemm", "MatMul") and not ml:
        if len(shape) != 1:
            raise _unsupported(g, node, f"applied to a {len(shape) + 1}-D tensor: flatten first")
        if node.input[0] != cur:
            raise _unsupported(g, node, "the input must be the left operand")
        consts = const_inputs()
        w = consts[0]
        if op == "Gemm":
            if a.get("transA", 0):
                raise _unsupported(g, node, "transA=1")
            if a.get("transB", 0):
                w = w.T
            w = w * float(a.get("alpha", 1.0))
            b = consts[1] * float(a.get("beta", 1.0)) if len(consts) > 1 else np.zeros(w.shape[1])
        else:
            b = np.zeros(w.shape[1] if w.ndim == 2 else 1)
        if w.ndim != 2 or w.shape[0] != shape[0]:
            raise ModelError(f"{g.path}: {op} ({g.where(node)}) has weights {w.shape} for {shape[0]} inputs")
        b = np.broadcast_to(b, (w.shape[1],)).astype(np.float64)
        net.layers.append(Layer("dense", {}, {"W": w, "b": b.copy()}, shape, (w.shape[1],)))
        return out, (w.shape[1],)
    if ml and op in ("LinearClassifier", "LinearRegressor"):
        if len(shape) != 1:
            raise _unsupported(g, node, "needs a flat input")
        coef = np.asarray(a.get("coefficients", []), dtype=np.float64)
        intercepts = np.asarray(a.get("intercepts", []), dtype=np.float64)
        f = shape[0]
        if coef.size % f:
            raise ModelError(f"{g.path}: {op} ({g.where(node)}) has {coef.size} coefficients for {f} features")
        rows = coef.size // f
        w = coef.reshape(rows, f).T
        b = intercepts if intercepts.size == rows else np.zeros(rows)
        if op == "LinearClassifier":
            if net.task != "classify":
                raise ModelError(f"{g.path}: {g.where(node)} is a classifier; import it with --task classify")
            labels = a.get("classlabels_ints") or [s.decode() if isinstance(s, bytes) else s for s in a.get("classlabels_strings", [])]
            if rows == 1 and len(labels) == 2:  # binary with one score s: class 1 when s > 0
                w, b = np.hstack([-w, w]) / 2, np.concatenate([-b, b]) / 2
            net.class_labels = list(labels) if labels else None
        elif net.task != "regress":
            raise ModelError(f"{g.path}: {g.where(node)} is a regressor; import it with --task regress")
        net.layers.append(Layer("dense", {}, {"W": w, "b": b.copy()}, shape, (w.shape[1],)))
        return None
    if op == "Relu":
        net.layers.append(Layer("relu", {}, {}, shape, shape))
        return out, shape
    if op in NONLINEAR_HIDDEN:
        raise _unsupported(g, node, "a hidden non-linearity other than Relu")
    if op == "Conv":
        if len(shape) != 3:
            raise _unsupported(g, node, f"input shape {shape}: only 2-D convolutions (C, H, W) are supported")
        consts = const_inputs()
        w = consts[0]
        if w.ndim != 4:
            raise _unsupported(g, node, "weights must be 4-D")
        m_out, _, kh, kw = w.shape
        b = consts[1] if len(consts) > 1 else np.zeros(m_out)
        if any(d != 1 for d in a.get("dilations", [1, 1])):
            raise _unsupported(g, node, "dilations other than 1")
        group = int(a.get("group", 1))
        strides = list(a.get("strides", [1, 1]))
        pads = _pads(g, node, a, shape[1:], (kh, kw), strides)
        c, hgt, wid = shape
        if w.shape[1] * group != c:
            raise ModelError(f"{g.path}: Conv ({g.where(node)}) weights {w.shape} do not match {c} input channels, group {group}")
        oh = (hgt + pads[0] + pads[2] - kh) // strides[0] + 1
        ow = (wid + pads[1] + pads[3] - kw) // strides[1] + 1
        net.layers.append(Layer("conv", {"kernel": [kh, kw], "strides": strides, "pads": pads, "group": group},
                                {"W": w, "b": np.asarray(b, dtype=np.float64)}, shape, (m_out, oh, ow)))
        return out, (m_out, oh, ow)
    if op in ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"):
        if len(shape) != 3:
            raise _unsupported(g, node, f"input shape {shape}: only 2-D pooling is supported")
        if len(node.output) > 1 and node.output[1]:
            raise _unsupported(g, node, "the indices output")
        c, hgt, wid = shape
        if op.startswith("Global"):
            kernel, strides = [hgt, wid], [1, 1]
        else:
            kernel = list(a["kernel_shape"])
            strides = list(a.get("strides", [1, 1]))
            if any(a.get("pads", [0, 0, 0, 0])) or a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID", "NOTSET", "VALID"):
                raise _unsupported(g, node, "padded pooling")
            if a.get("ceil_mode", 0):
                raise _unsupported(g, node, "ceil_mode=1")
            if any(d != 1 for d in a.get("dilations", [1, 1])):
                raise _unsupported(g, node, "dilations other than 1")
        oh = (hgt - kernel[0]) // strides[0] + 1
        ow = (wid - kernel[1]) // strides[1] + 1
        kind = "maxpool" if "Max" in op else "sumpool"
        net.layers.append(Layer(kind, {"kernel": kernel, "strides": strides}, {}, shape, (c, oh, ow)))
        if kind == "sumpool":
            _add_affine(net, (c, oh, ow), np.array([1.0 / (kernel[0] * kernel[1])]), np.zeros(1))
        return out, (c, oh, ow)
    if op in RESHAPES:
        new = _reshaped(g, node, a, shape)
        if int(np.prod(new)) != int(np.prod(shape)):
            raise ModelError(f"{g.path}: {op} ({g.where(node)}) turns {shape} into {new}")
        if new != shape:
            net.layers.append(Layer("reshape", {}, {}, shape, new))
        return out, new
    raise _unsupported(g, node)


def _pads(g, node, a, spatial, kernel, strides) -> list[int]:
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", "VALID"):
        pads = list(a.get("pads", [0, 0, 0, 0])) if auto == "NOTSET" else [0, 0, 0, 0]
        return [int(p) for p in pads]
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0, 0, 0, 0]
        for i in range(2):
            out = -(-spatial[i] // strides[i])
            total = max(0, (out - 1) * strides[i] + kernel[i] - spatial[i])
            small, big = total // 2, total - total // 2
            pads[i], pads[i + 2] = (small, big) if auto == "SAME_UPPER" else (big, small)
        return pads
    raise _unsupported(g, node, f"auto_pad={auto}")


def _reshaped(g: _Graph, node, a: dict, shape: tuple) -> tuple:
    op = node.op_type
    if op == "Flatten":
        axis = int(a.get("axis", 1))
        if axis != 1:
            raise _unsupported(g, node, "Flatten with axis other than 1")
        return (int(np.prod(shape)),)
    inferred = g.shapes.get(node.output[0])
    if inferred and len(inferred) >= 1 and all(d is not None for d in inferred[1:]):
        return tuple(int(d) for d in inferred[1:])
    if op == "Reshape" and g.const(node.input[1]) is not None:
        target = [int(v) for v in g.const(node.input[1])]
        rest = target[1:]
        if rest.count(-1) <= 1:
            known = int(np.prod([d for d in rest if d != -1])) if rest else 1
            return tuple(int(np.prod(shape)) // known if d == -1 else d for d in rest)
    raise _unsupported(g, node, "its output shape cannot be determined; export with fixed input sizes")


def _add_affine(net: Network, shape: tuple, m: np.ndarray, c: np.ndarray) -> None:
    m = np.asarray(m, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    try:
        m, c = m.reshape(_pad_dims(m, shape)), c.reshape(_pad_dims(c, shape))
        full_m, full_c = np.broadcast_arrays(m, c)
        np.broadcast_shapes(full_m.shape, shape)
    except ValueError:
        raise ModelError(f"{net.source}: an elementwise constant of shape {m.shape}/{c.shape} does not fit the tensor {shape}") from None
    last = net.layers[-1] if net.layers else None
    if last is not None and last.op == "affine":  # merge: (x·m1 + c1)·m + c
        last.params = {"m": last.params["m"] * m, "c": last.params["c"] * m + c}
        return
    net.layers.append(Layer("affine", {}, {"m": m, "c": c}, shape, shape))


def _pad_dims(arr: np.ndarray, shape: tuple) -> tuple:
    """numpy broadcasting of a constant against a per-sample shape (the batch dimension dropped)."""
    dims = tuple(arr.shape)
    if len(dims) > len(shape):  # a constant that carries the batch dimension (1, ...)
        if dims[0] != 1:
            raise ValueError
        dims = dims[1:]
    return dims


# ---------------------------------------------------------------- folding


def _fold(net: Network) -> None:
    """Fold affine layers into an adjacent dense/conv layer wherever that is exact; normalise the rest."""
    changed = True
    while changed:
        changed = False
        for i, layer in enumerate(net.layers):
            if layer.op != "affine":
                continue
            m, c = layer.params["m"], layer.params["c"]
            prev = net.layers[i - 1] if i > 0 else None
            nxt = net.layers[i + 1] if i + 1 < len(net.layers) else None
            if prev is not None and prev.op in ("dense", "conv") and _per_output(prev, m) and _per_output(prev, c):
                mo, co = _per_output_vector(prev, m), _per_output_vector(prev, c)
                w = prev.params["W"]
                prev.params["W"] = w * (mo if prev.op == "dense" else mo.reshape(-1, 1, 1, 1))
                prev.params["b"] = prev.params["b"] * mo + co
            elif nxt is not None and nxt.op == "dense":
                mi = np.broadcast_to(m, layer.in_shape).reshape(-1)
                ci = np.broadcast_to(c, layer.in_shape).reshape(-1)
                w = nxt.params["W"]
                nxt.params["b"] = nxt.params["b"] + ci @ w
                nxt.params["W"] = mi[:, None] * w
            elif nxt is not None and nxt.op == "reshape" and i + 2 < len(net.layers) and net.layers[i + 2].op == "dense":
                # affine, flatten, dense: move the affine past the reshape, then fold it on the next pass
                reshape = nxt
                flat_m = np.broadcast_to(m, layer.in_shape).reshape(reshape.out_shape)
                flat_c = np.broadcast_to(c, layer.in_shape).reshape(reshape.out_shape)
                net.layers[i], net.layers[i + 1] = reshape, Layer("affine", {}, {"m": flat_m, "c": flat_c}, reshape.out_shape, reshape.out_shape)
                changed = True
                break
            else:
                layer.params = {"m": np.broadcast_to(m, layer.in_shape).copy(), "c": np.broadcast_to(c, layer.in_shape).copy()}
                continue
            del net.layers[i]
            changed = True
            break


def _per_output(layer: Layer, v: np.ndarray) -> bool:
    """Is `v` constant except along the layer's output channels (so it can scale its weights and bias)?"""
    if v.size == 1:
        return True
    channels = layer.out_shape[0]
    if layer.op == "dense":
        return v.size == channels and v.shape[-1] == channels
    return v.shape == (channels, 1, 1)


def _per_output_vector(layer: Layer, v: np.ndarray) -> np.ndarray:
    n = layer.out_shape[0]
    return np.broadcast_to(v.reshape(-1), (n,)) if v.size == 1 else v.reshape(-1)


# ---------------------------------------------------------------- quantisation


@dataclass(frozen=True)
class Quantisation:
    """How a float network became integers: reported beside every proof."""

    input_scale: float
    weight_bits: int  # 0: the network was integer already and is used exactly as it is
    output_scale: float  # scale of the logits / predictions
    bound: int  # worst-case |value| anywhere in the network for inputs within the circuit's input bound


def quantise_inputs(x: np.ndarray, input_scale: float) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(x)):
        raise DataError("the data holds NaN or infinite values")
    q = np.round(x * input_scale)
    if np.abs(q).max(initial=0) >= MAX_PARAM:
        raise DataError(f"values reach {np.abs(x).max():.4g}; times the circuit's input scale {input_scale:g} that exceeds 2^24")
    return q.astype(np.int64)


def choose_input_scale(x: np.ndarray) -> float:
    """The smallest 2^k (k <= INPUT_BITS) that makes every value an integer of moderate size (pixels, counts,
    pixels/16: exact); otherwise the power of two that gives the largest |value| INPUT_BITS bits."""
    x = np.asarray(x, dtype=np.float64)
    top = float(np.abs(x).max(initial=0))
    for k in range(INPUT_BITS + 1):  # values that are exact multiples of 2^-k (pixels/16, counts): no rounding at all
        scaled = x * 2.0**k
        if np.array_equal(scaled, np.round(scaled)) and top * 2.0**k <= 2**12:
            return float(2.0**k)
    if top == 0:
        return 1.0
    return float(2.0 ** (INPUT_BITS - math.ceil(math.log2(top))))


def interval_bound(net: Network, input_bound: float) -> int:
    """The largest |value| the network can reach, anywhere, for any input with every |x_i| <= input_bound.

    Run on |parameters| and an all-`input_bound` input: dense/conv/affine outputs become Σ|w|·bound + |b|, Relu
    and MaxPool keep bounds, sum pools add them; classifier margins (differences of two logits) count double.
    A worst case, so a quantisation planned on it never leaves the circuit's range on any admissible chunk."""
    absolute = Network(net.input_shape, [Layer(l.op, l.attrs, {k: np.abs(np.asarray(v, dtype=np.float64)) for k, v in l.params.items()},
                                               l.in_shape, l.out_shape) for l in net.layers], net.task)
    x = np.full((1, net.num_features), float(input_bound))
    _, peak = _run(absolute, x, track=True, interval=True)
    return peak


def _quantise_with(net: Network, input_scale: float, bits: int, output_scale: float | None) -> tuple[Network, float]:
    layers = []
    scale = input_scale
    parametric = [i for i, layer in enumerate(net.layers) if layer.op in PARAMETRIC]
    for i, layer in enumerate(net.layers):
        p = layer.params
        if layer.op not in PARAMETRIC:
            layers.append(Layer(layer.op, dict(layer.attrs), {}, layer.in_shape, layer.out_shape))
            continue
        key = "m" if layer.op == "affine" else "W"
        top = float(np.abs(p[key]).max(initial=0))
        if output_scale is not None and i == parametric[-1]:
            w_scale = output_scale / scale
        else:
            w_scale = (2.0**bits - 1) / top if top > 0 else 1.0
        new_scale = scale * w_scale
        bias_key = "c" if layer.op == "affine" else "b"
        params = {key: np.round(p[key] * w_scale).astype(np.int64), bias_key: np.round(p[bias_key] * new_scale).astype(np.int64)}
        # ezkl folds an all-zero tensor into a different circuit (another verifying key). A bias that rounds to
        # all zeros (torch's bias=False, a centred layer) gets one unit in its first entry: a change of
        # 1/new_scale, far below the model's resolution once the scale is large, refused where it is not.
        if not np.any(params[bias_key]) and new_scale >= 2**8:
            params[bias_key].reshape(-1)[0] = 1
        layers.append(Layer(layer.op, dict(layer.attrs), params, layer.in_shape, layer.out_shape))
        scale = new_scale
    return Network(net.input_shape, layers, net.task, net.class_labels, net.source), scale


def is_integer_network(net: Network) -> bool:
    return all(np.array_equal(v, np.round(v)) for layer in net.layers for v in layer.params.values())


def _as_integers(net: Network) -> Network:
    return Network(net.input_shape, [Layer(l.op, dict(l.attrs), {k: np.round(v).astype(np.int64) for k, v in l.params.items()},
                                           l.in_shape, l.out_shape) for l in net.layers], net.task, net.class_labels, net.source)


def quantise(net: Network, input_scale: float, input_bound: int, *, output_scale: float | None = None,
             exact: bool = False) -> tuple[Network, Quantisation]:
    """The integer network for a circuit: deterministic, from the weights and the circuit's scales alone.

    The same model always quantises to the same integers (so the commitment it registers under is the one its
    proofs carry), whatever chunk it is later proven on. Weight bits are the most (<= MAX_WEIGHT_BITS) whose
    worst-case values (`interval_bound`) stay within the circuit's range for every input within `input_bound`.
    `exact`: the network is integer already (the built-in examples, `apiary zk train`, an integer ONNX export) and
    is used as it is, so its score is exact; its range is then checked on each chunk at proving time.
    `output_scale` fixes the scale of a regressor's predictions (the circuit's targets live at that scale)."""
    limit = MAX_ABS_VALUE // 2
    if exact:
        if not is_integer_network(net):
            raise ModelError(f"{net.source}: marked as an integer (quantised) model, but its parameters are not integers")
        integer = _as_integers(net)
        check_integer_network(integer)
        return integer, Quantisation(1.0, 0, output_scale or 1.0, interval_bound(integer, input_bound))
    found = _most_bits(net, input_scale, output_scale, MAX_WEIGHT_BITS, lambda c: interval_bound(c, input_bound), limit)
    if found is not None:
        return found
    raise ModelError(f"{net.source}: no quantisation keeps this model's values within the circuit's range (±{limit:,}) "
                     f"for inputs up to {input_bound} (input scale {input_scale:g}): the network is too deep or its weights too large")


def quantise_calibrated(net: Network, input_scale: float, x_calibration: np.ndarray, *, output_scale: float | None = None,
                        headroom: int = 4) -> tuple[Network, Quantisation]:
    """More weight bits than the worst case allows, planned on data: the most bits whose peak on the (integer)
    calibration inputs stays `headroom`× inside the range. Used once to write a quantised model file
    (`apiary zk quantise`), which is then proven exactly: the commitment stays fixed. A chunk far from the
    calibration data can still overflow; proving checks every chunk before any work and says so."""
    x = np.asarray(x_calibration, dtype=np.int64)
    # peak · headroom < limit, for integer peaks: peak < ⌈limit / headroom⌉
    found = _most_bits(net, input_scale, output_scale, MAX_WEIGHT_BITS + 6, lambda c: c.peak(x), -(-(MAX_ABS_VALUE // 2) // headroom))
    if found is not None:
        return found
    raise ModelError(f"{net.source}: no quantisation keeps this model's values within the circuit's range on the calibration data")


def _most_bits(net: Network, input_scale: float, output_scale: float | None, max_bits: int, peak_of, limit: int):
    """The integer network with the most weight bits (≤ max_bits) whose parameters stay exact in float32 and whose
    `peak_of` stays below `limit`, with its Quantisation; None when no number of bits does."""
    for bits in range(max_bits, 0, -1):
        candidate, scale = _quantise_with(net, input_scale, bits, output_scale)
        if not _params_fit(candidate):
            continue
        peak = peak_of(candidate)
        if peak < limit:
            check_integer_network(candidate)
            return candidate, Quantisation(input_scale, bits, scale, peak)
    return None


def _params_fit(net: Network) -> bool:
    return all(int(np.abs(v).max(initial=0)) < MAX_PARAM for layer in net.layers for v in layer.params.values())


def check_integer_network(net: Network) -> None:
    for i, layer in enumerate(net.layers):
        for name, value in layer.params.items():
            if not np.any(value):
                raise ModelError(f"{net.source or 'model'}: layer {i} ({layer.op}) parameter {name} is entirely zero; ezkl folds it "
                                 "into a different circuit whose proofs this verifier cannot check: give it a non-zero entry")
            if int(np.abs(value).max(initial=0)) >= MAX_PARAM:
                raise ModelError(f"{net.source or 'model'}: layer {i} ({layer.op}) parameter {name} reaches "
                                 f"{int(np.abs(value).max())}, beyond 2^24: quantise with fewer weight bits")


# ---------------------------------------------------------------- architecture and placeholder


def architecture_of(net: Network) -> dict:
    return {"input_shape": list(net.input_shape), "layers": net.architecture(), "task": net.task}


def from_architecture(arch: dict, fill: float = 1.0) -> Network:
    """A network of the architecture with every parameter `fill`: the placeholder of a circuit's reference graph."""
    layers = []
    for body in arch["layers"]:
        op = body["op"]
        in_shape, out_shape = tuple(body["in"]), tuple(body["out"])
        attrs = {k: v for k, v in body.items() if k not in ("op", "in", "out", "param_shape")}
        params = {}
        if op == "dense":
            params = {"W": np.full((in_shape[0], out_shape[0]), fill), "b": np.full(out_shape[0], fill)}
        elif op == "conv":
            kh, kw = attrs["kernel"]
            params = {"W": np.full((out_shape[0], in_shape[0] // attrs["group"], kh, kw), fill), "b": np.full(out_shape[0], fill)}
        elif op == "affine":
            params = {"m": np.full(tuple(body["param_shape"]), fill), "c": np.full(tuple(body["param_shape"]), fill)}
        layers.append(Layer(op, attrs, params, in_shape, out_shape))
    return Network(tuple(arch["input_shape"]), layers, arch["task"])


def same_architecture(net: Network, arch: dict) -> str | None:
    """None when `net` has exactly the architecture `arch`, else a one-line description of the first difference."""
    mine = architecture_of(net)
    if mine["input_shape"] != list(arch["input_shape"]):
        return f"input shape {tuple(mine['input_shape'])} instead of {tuple(arch['input_shape'])}"
    if mine["task"] != arch["task"]:
        return f"a {mine['task']} model, the circuit is for {arch['task']}"
    if len(mine["layers"]) != len(arch["layers"]):
        return f"{len(mine['layers'])} layers ({_ops(mine)}) instead of {len(arch['layers'])} ({_ops(arch)})"
    for i, (a, b) in enumerate(zip(mine["layers"], arch["layers"])):
        if a != b:
            return f"layer {i} is {_describe(a)}, the circuit has {_describe(b)}"
    return None


def _ops(arch: dict) -> str:
    return " → ".join(layer["op"] for layer in arch["layers"])


def _describe(layer: dict) -> str:
    return f"{layer['op']} {tuple(layer['in'])}→{tuple(layer['out'])}"


# ---------------------------------------------------------------- evaluation graph


def _network_nodes(net: Network, x: str, batch: int, inits: list, nodes: list, *, flat_input: bool = True) -> str:
    """Append the nodes and initializers of `net` applied to tensor `x` (batch × features); returns the name of
    its (batch × outputs) logits. `batch` is the fixed sample count, or -1 for a graph of any batch size."""

    def const_int(name, values):
        inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))

    h = x
    if len(net.input_shape) > 1 and flat_input:
        const_int("shape_in", [batch, *net.input_shape])
        nodes.append(helper.make_node("Reshape", [x, "shape_in"], ["x_shaped"]))
        h = "x_shaped"
    for i, layer in enumerate(net.layers):
        p = layer.params
        out = f"l{i}"
        if layer.op == "dense":
            inits += [numpy_helper.from_array(p["W"].astype(np.float32), f"W{i}"), numpy_helper.from_array(p["b"].astype(np.float32), f"b{i}")]
            nodes += [helper.make_node("MatMul", [h, f"W{i}"], [f"xw{i}"]), helper.make_node("Add", [f"xw{i}", f"b{i}"], [out])]
        elif layer.op == "conv":
            inits += [numpy_helper.from_array(p["W"].astype(np.float32), f"W{i}"), numpy_helper.from_array(p["b"].astype(np.float32), f"b{i}")]
            nodes.append(helper.make_node("Conv", [h, f"W{i}", f"b{i}"], [out], kernel_shape=layer.attrs["kernel"],
                                          strides=layer.attrs["strides"], pads=layer.attrs["pads"], group=layer.attrs["group"]))
        elif layer.op == "affine":
            inits += [numpy_helper.from_array(p["m"].astype(np.float32), f"m{i}"), numpy_helper.from_array(p["c"].astype(np.float32), f"c{i}")]
            nodes += [helper.make_node("Mul", [h, f"m{i}"], [f"xm{i}"]), helper.make_node("Add", [f"xm{i}", f"c{i}"], [out])]
        elif layer.op == "relu":
            nodes.append(helper.make_node("Relu", [h], [out]))
        elif layer.op == "maxpool":
            nodes.append(helper.make_node("MaxPool", [h], [out], kernel_shape=layer.attrs["kernel"], strides=layer.attrs["strides"]))
        elif layer.op == "sumpool" and batch < 0:
            # A portable model file: AveragePool times k², which `read_onnx` lowers back to this sum pool.
            kh, kw = layer.attrs["kernel"]
            inits.append(numpy_helper.from_array(np.array([float(kh * kw)], dtype=np.float32), f"k{i}"))
            nodes += [helper.make_node("AveragePool", [h], [f"avg{i}"], kernel_shape=[kh, kw], strides=layer.attrs["strides"]),
                      helper.make_node("Mul", [f"avg{i}", f"k{i}"], [out])]
        elif layer.op == "sumpool":
            # In circuits: a sum pool as a depthwise convolution with a kernel of ones: exact integers (an AveragePool would
            # divide and round). The ones are a parameter like any other: the model's own.
            channels = layer.in_shape[0]
            kh, kw = layer.attrs["kernel"]
            inits.append(numpy_helper.from_array(np.ones((channels, 1, kh, kw), dtype=np.float32), f"W{i}"))
            nodes.append(helper.make_node("Conv", [h, f"W{i}"], [out], kernel_shape=[kh, kw], strides=layer.attrs["strides"], group=channels))
        elif layer.op == "reshape":
            const_int(f"shape{i}", [batch, *layer.out_shape])
            nodes.append(helper.make_node("Reshape", [h, f"shape{i}"], [out]))
        h = out
    if len(net.layers[-1].out_shape) != 1:
        const_int("shape_out", [batch, net.num_outputs])
        nodes.append(helper.make_node("Reshape", [h, "shape_out"], ["logits"]))
        h = "logits"
    return h


def to_onnx(net: Network, *, quantised: bool) -> onnx.ModelProto:
    """`net` as an ONNX model of any batch size: input `input` (N × the input shape), output `logits`. `quantised` marks
    an integer model made for circuits (metadata `apiary.quantised`): importing it again uses it exactly as it is."""
    inits, nodes = [], []
    h = _network_nodes(net, "input", -1, inits, nodes, flat_input=False)
    nodes.append(helper.make_node("Identity", [h], ["logits"]))
    graph = helper.make_graph(nodes, "apiary-model", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", *net.input_shape])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", net.num_outputs])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="apiary")
    proto.ir_version = 8
    helper.set_model_props(proto, {QUANTISED_KEY: "1" if quantised else "0", "apiary.task": net.task})
    onnx.checker.check_model(proto)
    return proto


def is_quantised_export(proto: onnx.ModelProto) -> bool:
    return any(p.key == QUANTISED_KEY and p.value == "1" for p in proto.metadata_props)


def eval_graph(net: Network, samples: int, name: str) -> onnx.ModelProto:
    """The evaluation graph: the integer network over `samples` samples, then the score.

    Inputs X (n × features, integers) and Y (n × classes one-hot, or n × outputs of targets at the output
    scale). Classifier score = Σ_i Σ_c Y_ic − Σ_i sign(Σ_c relu(L_ic − L_i,true + 1 − Y_ic)): the number of samples
    whose true class has strictly the highest logit (a tie is wrong). The sample count comes from Y itself, never from a constant:
    every float initializer is a *committed parameter* of the model in ezkl's polycommit mode, so a constant
    in the score would be the prover's to choose. Regressor score = Σ (prediction − Y)², Y already at the
    output scale (again, no constant for the prover to pick).
    """
    n, f, c = samples, net.num_features, net.num_outputs
    inits, nodes = [], []

    def const_int(name, values):
        inits.append(numpy_helper.from_array(np.asarray(values, dtype=np.int64), name))

    h = _network_nodes(net, "X", n, inits, nodes)
    const_int("axis1", [1])
    const_int("shape_score", [1])
    if net.task == "regress":
        # Each error passes a Relu, which range-checks it (|e| < 2^49 with the regression circuits' five legs):
        # committed weights are field elements a patched prover may choose freely, and an unchecked error could
        # wrap its square around the field modulus to make the sum of squares anything, zero included.
        nodes += [
            helper.make_node("Sub", [h, "Y"], ["over"]),
            helper.make_node("Sub", ["Y", h], ["under"]),
            helper.make_node("Relu", ["over"], ["over_pos"]),
            helper.make_node("Relu", ["under"], ["under_pos"]),
            helper.make_node("Mul", ["over_pos", "over_pos"], ["over_sq"]),
            helper.make_node("Mul", ["under_pos", "under_pos"], ["under_sq"]),
            helper.make_node("Add", ["over_sq", "under_sq"], ["squared"]),
            helper.make_node("ReduceSum", ["squared"], ["sse"], keepdims=1),
            helper.make_node("Reshape", ["sse", "shape_score"], ["score"]),
        ]
    else:
        # A sample is correct only if its true class's logit is *strictly* the highest: margin_c = L_c − L_true + 1
        # for every other class (the 1 is Σ_c Y − Y, built from the committed labels, never a constant). Were ties
        # correct, a model with equal logits (identical last-layer columns) would score every sample.
        nodes += [
            helper.make_node("Mul", [h, "Y"], ["masked"]),
            helper.make_node("ReduceSum", ["masked", "axis1"], ["true_logit"], keepdims=1),
            helper.make_node("ReduceSum", ["Y", "axis1"], ["row_one"], keepdims=1),
            helper.make_node("Sub", ["row_one", "Y"], ["other"]),
            helper.make_node("Sub", [h, "true_logit"], ["diff"]),
            helper.make_node("Add", ["diff", "other"], ["margin"]),
            helper.make_node("Relu", ["margin"], ["excess"]),
            helper.make_node("ReduceSum", ["excess", "axis1"], ["excess_sum"], keepdims=1),
            helper.make_node("Sign", ["excess_sum"], ["wrong"]),
            helper.make_node("ReduceSum", ["wrong"], ["wrong_count"], keepdims=1),
            helper.make_node("ReduceSum", ["Y"], ["count"], keepdims=1),
            helper.make_node("Sub", ["count", "wrong_count"], ["correct"]),
            helper.make_node("Reshape", ["correct", "shape_score"], ["score"]),
        ]
    graph = helper.make_graph(
        nodes, f"apiary-eval-{name}",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [n, f]), helper.make_tensor_value_info("Y", TensorProto.FLOAT, [n, c])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, [1])],
        inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="apiary")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto


def inference_graph(net: Network, samples: int, name: str) -> onnx.ModelProto:
    """The inference graph: the integer network over `samples` inputs X (n × features), its logits as output.

    Its float initializers are exactly the evaluation graph's, in the same order (the score adds none), so at the
    evaluation circuit's row count the weights' KZG commitment is the same point in both circuits: the model a
    compute job hires is the model registered, and proven in its bounty (apiary.zk.inference).
    """
    n, f, c = samples, net.num_features, net.num_outputs
    inits, nodes = [], []
    h = _network_nodes(net, "X", n, inits, nodes)
    nodes.append(helper.make_node("Identity", [h], ["logits"]))
    graph = helper.make_graph(nodes, f"apiary-infer-{name}", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [n, f])],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [n, c])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="apiary")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto


def batch_inference_graph(net: Network, slots: int, name: str) -> onnx.ModelProto:
    """The batch inference graph: `slots` separate inputs X0…X{k-1} (1 × features each, so each is its own
    committed point, equal to that input's point in the single inference circuit), concatenated and run through
    the integer network; their logits (k × outputs) out. The same initializers as `inference_graph`."""
    f, c = net.num_features, net.num_outputs
    names = [f"X{i}" for i in range(slots)]
    inits, nodes = [], [helper.make_node("Concat", names, ["X"], axis=0)]
    h = _network_nodes(net, "X", slots, inits, nodes)
    nodes.append(helper.make_node("Identity", [h], ["logits"]))
    graph = helper.make_graph(nodes, f"apiary-infer-x{slots}-{name}",
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, f]) for n in names],
                              [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [slots, c])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="apiary")
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto


def score(net: Network, x_int: np.ndarray, y: np.ndarray) -> int:
    """What the evaluation circuit outputs for integer inputs `x_int` and `y` (class indices, or targets at the
    output scale): exact integer arithmetic."""
    logits = net.forward(np.asarray(x_int, dtype=np.int64))
    if net.task == "regress":
        err = logits - np.asarray(y, dtype=np.int64).reshape(logits.shape)
        return int(np.sum(err * err))
    y = np.asarray(y, dtype=np.int64)
    true = np.take_along_axis(logits, y[:, None], axis=1)
    return int((np.sum(logits >= true, axis=1) == 1).sum())  # the true class strictly highest: ties are wrong


def float_score(net: Network, x: np.ndarray, y: np.ndarray) -> float:
    """The float model's score on the same samples: correct count, or SSE in the targets' own units."""
    out = net.forward(np.asarray(x, dtype=np.float64))
    if net.task == "regress":
        err = out - np.asarray(y, dtype=np.float64).reshape(out.shape)
        return float(np.sum(err * err))
    return int((np.argmax(out, axis=1) == np.asarray(y)).sum())
