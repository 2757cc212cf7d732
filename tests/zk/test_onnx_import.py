"""Bring your own model: ONNX files from skl2onnx and PyTorch lowered, quantised and checked against onnxruntime.

Fast (no proofs): the lowering must compute what onnxruntime computes on the original file, quantisation must be a
pure function of the weights and the circuit's scales, and every refusal is one ModelError naming what is wrong.
The proofs of these models are in test_byo_task.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from apiary.zk import network, tasks
from apiary.zk.errors import DataError, ModelError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "onnx"


def _ort_logits(path: Path, x: np.ndarray, output: int = 0) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    dims = session.get_inputs()[0].shape
    if dims[0] == 1:  # exported with a fixed batch of one (torch.export's default): row by row
        return np.concatenate([session.run(None, {name: row.astype(np.float32).reshape(dims)})[output] for row in x])
    shape = [len(x)] + [d for d in dims[1:]]
    return session.run(None, {name: x.astype(np.float32).reshape(shape)})[output]


@pytest.fixture(scope="module")
def digits16():
    with np.load(FIXTURES / "digits16_test.npz") as data:
        return data["X"], data["y"]


@pytest.mark.parametrize("name", ["cnn_digits.onnx", "cnn_digits_dynamo.onnx", "mlp_bias_free.onnx"])
def test_lowering__torch_exports_compute_what_onnxruntime_computes(name, digits16):
    x, _ = digits16
    net = network.read_onnx(FIXTURES / name, "classify")
    ours = net.forward(x)
    theirs = _ort_logits(FIXTURES / name, x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_lowering__cnn_keeps_its_layers(digits16):
    net = network.read_onnx(FIXTURES / "cnn_digits.onnx", "classify")
    assert [layer.op for layer in net.layers] == ["conv", "relu", "maxpool", "reshape", "dense"]
    assert net.input_shape == (1, 8, 8)


def test_lowering__torch_and_dynamo_exports_share_one_architecture():
    a = network.architecture_of(network.read_onnx(FIXTURES / "cnn_digits.onnx", "classify"))
    b = network.architecture_of(network.read_onnx(FIXTURES / "cnn_digits_dynamo.onnx", "classify"))
    assert a == b


def _sklearn_pipeline_onnx(tmp_path: Path):
    from skl2onnx import to_onnx
    from sklearn import datasets
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    iris = datasets.load_iris()
    x = iris.data.astype(np.float32)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x[::2], iris.target[::2])
    path = tmp_path / "iris.onnx"
    path.write_bytes(to_onnx(model, x[:1]).SerializeToString())
    return path, x, model


def test_lowering__sklearn_scaler_folds_into_the_linear_layer(tmp_path):
    path, x, model = _sklearn_pipeline_onnx(tmp_path)
    net = network.read_onnx(path, "classify")
    assert [layer.op for layer in net.layers] == ["dense"]  # the scaler costs nothing
    assert net.class_labels == [0, 1, 2]
    np.testing.assert_array_equal(np.argmax(net.forward(x), axis=1), model.predict(x))


def test_lowering__sklearn_mlp_with_two_hidden_layers(tmp_path):
    from skl2onnx import to_onnx
    from sklearn import datasets
    from sklearn.neural_network import MLPClassifier

    d = datasets.load_digits()
    clf = MLPClassifier((16, 8), max_iter=50, random_state=0).fit(d.data[:500], d.target[:500])
    path = tmp_path / "mlp.onnx"
    path.write_bytes(to_onnx(clf, d.data[:1].astype(np.float32)).SerializeToString())
    net = network.read_onnx(path, "classify")
    assert [layer.op for layer in net.layers] == ["dense", "relu", "dense", "relu", "dense"]
    np.testing.assert_array_equal(np.argmax(net.forward(d.data[500:700]), axis=1), clf.predict(d.data[500:700]))


def test_lowering__sklearn_regressor(tmp_path):
    from skl2onnx import to_onnx
    from sklearn import datasets
    from sklearn.linear_model import LinearRegression

    d = datasets.load_diabetes()
    reg = LinearRegression().fit(d.data[:300], d.target[:300])
    path = tmp_path / "reg.onnx"
    path.write_bytes(to_onnx(reg, d.data[:1].astype(np.float32)).SerializeToString())
    net = network.read_onnx(path, "regress")
    np.testing.assert_allclose(net.forward(d.data[300:])[:, 0], reg.predict(d.data[300:]), rtol=1e-4)


# ---------------------------------------------------------------- quantisation


def test_quantise__deterministic_and_within_range_for_any_admissible_input():
    net = network.read_onnx(FIXTURES / "cnn_digits.onnx", "classify")
    a, qa = network.quantise(net, 16.0, 16)
    b, qb = network.quantise(net, 16.0, 16)
    for la, lb in zip(a.layers, b.layers):
        for key in la.params:
            np.testing.assert_array_equal(la.params[key], lb.params[key])
    assert qa == qb
    assert qa.bound < network.MAX_ABS_VALUE // 2
    worst = np.full((3, 64), 16)  # every pixel at the bound, and adversarial patterns
    worst[1, ::2] = 0
    worst[2] = np.random.default_rng(0).integers(0, 17, 64)
    assert a.peak(worst) <= qa.bound


def test_quantise__zero_bias_gets_one_unit():
    net = network.read_onnx(FIXTURES / "mlp_bias_free.onnx", "classify")
    integer, _ = network.quantise(net, 16.0, 16)
    bias = integer.layers[0].params["b"]
    assert bias.reshape(-1)[0] == 1 and not np.any(bias.reshape(-1)[1:])


def test_quantise__integer_export_is_taken_exactly(tmp_path):
    from apiary.zk import models

    model = models.train(models.load_dataset("iris"), "logreg", 100)
    path = tmp_path / "m.onnx"
    path.write_bytes(network.to_onnx(model.to_network(), quantised=True).SerializeToString())
    spec = models.builtin_spec("iris", "logreg", 8)
    loaded = tasks.load_model(spec, path)
    np.testing.assert_array_equal(loaded.integer.layers[0].params["W"], model.weights[0])
    assert loaded.quantisation.weight_bits == 0


def test_quantise__calibrated_file_reads_back_exactly(tmp_path, digits16):
    from apiary.zk.circuits import CircuitSpec

    net = network.read_onnx(FIXTURES / "cnn_digits.onnx", "classify")
    spec = CircuitSpec("cnn", "classify", 4, network.architecture_of(net), 16.0, 16, 1.0, [str(i) for i in range(10)])
    x = tasks.encode_features(spec, digits16[0])
    model = tasks.quantise_to_file(spec, FIXTURES / "cnn_digits.onnx", x, tmp_path / "q.onnx")
    again = tasks.load_model(spec, tmp_path / "q.onnx")
    assert again.quantisation.weight_bits == 0  # used exactly as written
    assert model.quantisation.weight_bits >= network.quantise(net, 16.0, 16)[1].weight_bits
    for la, lb in zip(model.integer.layers, again.integer.layers):
        for key in la.params:
            np.testing.assert_array_equal(la.params[key], lb.params[key])


# ---------------------------------------------------------------- refusals


def test_refuse__truncated_onnx(tmp_path):
    path = tmp_path / "cut.onnx"
    path.write_bytes((FIXTURES / "cnn_digits.onnx").read_bytes()[:700])
    with pytest.raises(ModelError, match="not a valid ONNX model"):
        network.read_onnx(path, "classify")


def _graph_with(op: str, tmp_path: Path, **attrs) -> Path:
    w = numpy_helper.from_array(np.ones((4, 3), dtype=np.float32), "W")
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"], name="dense0"), helper.make_node(op, ["h"], ["y"], name="weird", **attrs),
             helper.make_node("MatMul", ["y", "W2"], ["z"], name="dense1")]
    w2 = numpy_helper.from_array(np.ones((3, 2), dtype=np.float32), "W2")
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["N", 2])], [w, w2])
    path = tmp_path / f"{op}.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


@pytest.mark.parametrize("op", ["Sin", "Tanh", "Softsign"])
def test_refuse__unsupported_operator_names_operator_and_node(op, tmp_path):
    with pytest.raises(ModelError, match=rf"unsupported operator {op} \(node 'weird'\)"):
        network.read_onnx(_graph_with(op, tmp_path), "classify")


def test_refuse__model_of_another_architecture(tmp_path):
    from apiary.zk import models

    spec = models.builtin_spec("iris", "logreg", 8)
    with pytest.raises(ModelError, match="does not fit circuit iris-logreg-n8"):
        tasks.load_model(spec, FIXTURES / "mlp_bias_free.onnx")


def test_refuse__data_file_problems(tmp_path):
    from apiary.zk import models

    spec = models.builtin_spec("iris", "logreg", 2)
    bad = {
        "wide.csv": "a,b,c,d,e,label\n1,2,3,4,5,0\n1,2,3,4,5,1\n",
        "label.csv": "a,b,c,d,label\n1,2,3,4,0\n1,2,3,4,7\n",
        "text.csv": "a,b,c,d,label\n1,2,x,4,0\n1,2,3,4,1\n",
        "ragged.csv": "a,b,c,d,label\n1,2,3,4,0\n1,2,3,4\n",
        "empty.csv": "",
    }
    expect = {"wide.csv": "5 feature columns", "label.csv": "label '7'", "text.csv": "not a number",
              "ragged.csv": "line 3 has 4 fields", "empty.csv": "is empty"}
    for name, text in bad.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(DataError, match=expect[name]):
            tasks.load_test_set(spec, tmp_path / name, 1)
    (tmp_path / "x.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DataError, match="x.npy"):
        tasks.load_test_set(spec, tmp_path / "x.npy", 1)
    (tmp_path / "ok.csv").write_text("a,b,c,d,label\n1,2,3,4,0\n1,2,3,4,1\n")
    with pytest.raises(DataError, match="2 chunks of 2 need 4"):
        tasks.load_test_set(spec, tmp_path / "ok.csv", 2)
    with pytest.raises(DataError, match="outside a test set of 1 chunks"):
        tasks.check_chunk_index(1, 1)


def test_chunking__rows_in_file_order_and_independent_of_k(tmp_path):
    from apiary.zk import models

    spec = models.builtin_spec("iris", "logreg", 2)
    rows = "\n".join(f"{i},{i},{i},{i},{i % 3}" for i in range(7))
    (tmp_path / "t.csv").write_text("a,b,c,d,species\n" + rows + "\n")
    two = tasks.load_test_set(spec, tmp_path / "t.csv", 2)
    three = tasks.load_test_set(spec, tmp_path / "t.csv", 3)
    np.testing.assert_array_equal(two.chunks[1][0], three.chunks[1][0])
    np.testing.assert_array_equal(three.chunks[2][0][:, 0], [4, 5])
    assert three.unused_rows == 1
    named = tasks.load_test_set(spec, tmp_path / "t.csv", 1, label="species")
    np.testing.assert_array_equal(named.chunks[0][1], [0, 1])


def test_refuse__npz_bomb_and_pickles(tmp_path):
    import zipfile

    from apiary.zk import models

    spec = models.builtin_spec("iris", "logreg", 2)
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("X.npy", b"\0" * (300 * 2**20))  # 300 MiB of zeros compress to a few hundred KB
    with pytest.raises(DataError, match="unpacks to 300 MiB"):
        tasks.load_test_set(spec, bomb, 1)
    pickled = tmp_path / "objects.npy"
    np.save(pickled, np.array([{"a": 1}, {"b": 2}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="objects.npy"):
        tasks.load_test_set(spec, pickled, 1)


def test_classes__another_label_order_is_aligned_other_classes_refused(tmp_path):
    from skl2onnx import to_onnx
    from sklearn import datasets
    from sklearn.linear_model import LogisticRegression

    from apiary.zk.circuits import CircuitSpec

    iris = datasets.load_iris()
    names = np.array(["setosa", "versicolor", "virginica"])[iris.target]
    clf = LogisticRegression(max_iter=500).fit(iris.data, names)
    path = tmp_path / "named.onnx"
    path.write_bytes(to_onnx(clf, iris.data[:1].astype(np.float32)).SerializeToString())
    net = network.read_onnx(path, "classify")
    arch = network.architecture_of(net)
    spec = CircuitSpec("named", "classify", 4, arch, 16.0, 128, 1.0, ["virginica", "setosa", "versicolor"])
    model = tasks.load_model(spec, path)
    logits = model.float_net.forward(iris.data)
    np.testing.assert_array_equal(np.array(spec.class_labels)[np.argmax(logits, axis=1)], clf.predict(iris.data))
    # the calibrated file is written in the circuit's class order too (it no longer carries the names)
    x = tasks.encode_features(spec, iris.data)
    written = tasks.quantise_to_file(spec, path, x, tmp_path / "named.q.onnx")
    again = tasks.load_model(spec, tmp_path / "named.q.onnx").integer
    np.testing.assert_array_equal(again.forward(x), written.integer.forward(x))
    assert (np.array(spec.class_labels)[np.argmax(again.forward(x), axis=1)] == clf.predict(iris.data)).mean() > 0.9
    other = CircuitSpec("other", "classify", 4, arch, 16.0, 128, 1.0, ["a", "b", "c"])
    with pytest.raises(ModelError, match="predicts classes setosa, versicolor, virginica"):
        tasks.load_model(other, path)


def test_refuse__npy_header_declaring_a_huge_array(tmp_path):
    from apiary.zk import models

    header = np.lib.format
    path = tmp_path / "huge.npy"
    with path.open("wb") as f:
        header.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False, "shape": (2**32, 5)})
        f.write(b"\0" * 64)
    with pytest.raises(DataError, match="huge.npy"):
        tasks.load_test_set(models.builtin_spec("iris", "logreg", 2), path, 1)


def test_refuse__layers_after_the_softmax(tmp_path):
    w = numpy_helper.from_array(np.ones((4, 3), dtype=np.float32), "W")
    w2 = numpy_helper.from_array(np.eye(3, dtype=np.float32)[::-1].copy(), "W2")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["h"], name="fc"),
                               helper.make_node("Softmax", ["h"], ["p"], name="softmax"),
                               helper.make_node("MatMul", ["p", "W2"], ["y"], name="flip")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [w, w2])
    path = tmp_path / "after.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    with pytest.raises(ModelError, match=r"unsupported operator Softmax \(node 'softmax'\): layers with weights after it"):
        network.read_onnx(path, "classify")
