"""Bring your own task, as a user runs it: `apiary zk import / testset / prove / verify --onchain` on models exported
by scikit-learn (a scaler in front, an MLP with two hidden layers, a regressor) and PyTorch (a CNN), with test sets
in CSV and NumPy files; the built-in circuits through the same commands; bad input refused with one line and
nothing written. Proofs are real (ezkl) and verified by the Solidity verifier on an in-process chain.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

FIXTURES = Path(__file__).parent.parent / "fixtures" / "onnx"
pytestmark = pytest.mark.slow


def apiary(*args, cwd: Path, ok: bool = True):
    result = subprocess.run([sys.executable, "-c", "from apiary.cli import run; run()", *map(str, args)],
                            capture_output=True, text=True, cwd=cwd, timeout=900)
    if ok:
        assert result.returncode == 0, result.stderr[-2000:]
    assert "Traceback" not in result.stderr + result.stdout
    return result


def _write_csv(path: Path, x: np.ndarray, y, header=None):
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header or [f"f{i}" for i in range(x.shape[1])] + ["label"])
        for row, label in zip(x, y):
            w.writerow([repr(float(v)) for v in row] + [label])


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Models and test sets as users bring them (trained on one half, tested on rows they never saw)."""
    from skl2onnx import to_onnx
    from sklearn import datasets
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    root = tmp_path_factory.mktemp("byo")
    iris = datasets.load_iris()
    order = np.random.default_rng(1).permutation(150)
    x, y = iris.data[order], iris.target[order]
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x[:100], y[:100])
    (root / "iris.onnx").write_bytes(to_onnx(pipe, x[:1].astype(np.float32)).SerializeToString())
    _write_csv(root / "iris.csv", x[100:124], y[100:124], ["sepal_l", "sepal_w", "petal_l", "petal_w", "species"])

    digits = datasets.load_digits()
    mlp = MLPClassifier((16, 8), max_iter=400, random_state=0).fit(digits.data[:1200], digits.target[:1200])
    (root / "mlp.onnx").write_bytes(to_onnx(mlp, digits.data[:1].astype(np.float32)).SerializeToString())
    np.savez(root / "digits.npz", X=digits.data[1200:1216], y=digits.target[1200:1216])

    diabetes = datasets.load_diabetes()
    reg = make_pipeline(StandardScaler(), LinearRegression()).fit(diabetes.data[:380], diabetes.target[:380])
    (root / "reg.onnx").write_bytes(to_onnx(reg, diabetes.data[:1].astype(np.float32)).SerializeToString())
    np.save(root / "diabetes.npy", np.hstack([diabetes.data[380:412], diabetes.target[380:412, None]]))
    return root


def _prove_and_verify(work: Path, circuit: str, model: str, data: str | None, chunk: int, chunks: int, name: str):
    args = ["zk", "prove", circuit, "--model", model, "--chunk", chunk, "--chunks", chunks, "--out", f"{name}.json"]
    if data:
        args += ["--data", data]
    proved = apiary(*args, cwd=work)
    summary = json.loads(proved.stdout)
    fidelity = re.search(r"float model (\S+) .*in-circuit (\S+)", proved.stderr)
    verified = apiary("zk", "verify", circuit, f"{name}.json", "--onchain", cwd=work)
    gas = int(re.search(r"verifyProof took ([\d,]+) gas", verified.stdout).group(1).replace(",", ""))
    return summary, fidelity, gas


def test_byo__sklearn_scaler_logistic_regression_from_csv(work):
    report = json.loads(apiary("zk", "import", "--onnx", "iris.onnx", "--data", "iris.csv", "--task", "classify",
                               "--samples", 8, "--out", "iris-task", cwd=work).stdout)
    assert report["layers"] == ["dense"] and report["chunks_in_data"] == 3
    testset = json.loads(apiary("zk", "testset", "iris-task", "--data", "iris.csv", "--chunks", 3, cwd=work).stdout)
    for chunk in (0, 2):
        summary, fidelity, gas = _prove_and_verify(work, "iris-task", "iris.onnx", "iris.csv", chunk, 3, f"iris{chunk}")
        assert summary["score"] == summary["float_score"]  # the float model's count, exactly
        assert summary["chunk_commitment"] == testset["chunks"][chunk]
        assert 0 < gas < 1_200_000
    batched = apiary("zk", "verify", "iris-task", "iris0.json", "iris2.json", "--onchain", cwd=work).stdout
    separate, one_call = (int(g.replace(",", "")) for g in re.search(
        r"2 proofs valid on chain: ([\d,]+) gas in 2 verifyProof calls; ([\d,]+) gas in one verifyBatch", batched).groups())
    assert one_call < separate - 80_000  # one pairing check saved


def test_byo__sklearn_mlp_with_two_hidden_layers_from_npz(work):
    apiary("zk", "import", "--onnx", "mlp.onnx", "--data", "digits.npz", "--task", "classify", "--samples", 8,
           "--out", "digits-mlp", cwd=work)
    summary, _, gas = _prove_and_verify(work, "digits-mlp", "mlp.onnx", "digits.npz", 1, 2, "mlp1")
    assert summary["score"] == summary["float_score"]
    assert gas > 0


def test_byo__torch_cnn(work):
    import shutil

    shutil.copy(FIXTURES / "cnn_digits.onnx", work / "cnn.onnx")
    with np.load(FIXTURES / "digits16_test.npz") as data:
        np.savez(work / "digits16.npz", X=data["X"][:8], y=data["y"][:8])
    report = json.loads(apiary("zk", "import", "--onnx", "cnn.onnx", "--data", "digits16.npz", "--task", "classify",
                               "--samples", 2, "--out", "cnn", cwd=work).stdout)
    assert report["layers"] == ["conv", "relu", "maxpool", "reshape", "dense"]
    assert report["input_scale"] == 16.0  # pixels/16 enter the circuit exactly
    summary, _, gas = _prove_and_verify(work, "cnn", "cnn.onnx", "digits16.npz", 3, 4, "cnn3")
    assert summary["score"] == summary["float_score"]
    assert gas > 0


def test_byo__sklearn_regressor_within_tolerance(work):
    apiary("zk", "import", "--onnx", "reg.onnx", "--data", "diabetes.npy", "--task", "regress", "--samples", 16,
           "--out", "diabetes", cwd=work)
    summary, _, gas = _prove_and_verify(work, "diabetes", "reg.onnx", "diabetes.npy", 1, 2, "reg1")
    spec = json.loads((work / "diabetes" / "spec.json").read_text())
    in_units = summary["score"] / spec["output_scale"] ** 2
    assert summary["in_circuit_score_units"] == pytest.approx(in_units)
    assert in_units == pytest.approx(summary["float_score"], rel=0.01)
    assert gas > 0


def test_byo__built_in_circuit_through_the_same_commands(work):
    apiary("zk", "train", "--dataset", "iris", "--arch", "logreg", "--out", "iris-builtin.onnx", cwd=work)
    summary, fidelity, gas = _prove_and_verify(work, "iris-logreg-n8", "iris-builtin.onnx", None, 1, 2, "builtin1")
    assert summary["weight_bits"] == "exact (integer model)"
    assert summary["score"] == summary["float_score"]


def test_byo__one_verifier_serves_every_model_of_the_architecture(work):
    """Another user's model of the same architecture (trained on other rows) proves under the same circuit."""
    from skl2onnx import to_onnx
    from sklearn import datasets
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    iris = datasets.load_iris()
    other = make_pipeline(MinMaxScaler(), LogisticRegression(C=0.1, max_iter=500)).fit(iris.data[::3], iris.target[::3])
    (work / "other.onnx").write_bytes(to_onnx(other, iris.data[:1].astype(np.float32)).SerializeToString())
    summary, _, _ = _prove_and_verify(work, "iris-task", "other.onnx", "iris.csv", 1, 3, "other1")
    first = json.loads(apiary("zk", "decode", "iris0.json", cwd=work).stdout)
    assert summary["model_commitment"] != first["model_commitment"]


# ---------------------------------------------------------------- bad input: one line, non-zero, nothing written


def _refused(work: Path, expected: str, *args, written: str):
    result = apiary(*args, cwd=work, ok=False)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert not (work / written).exists()


def test_refuse__truncated_onnx(work):
    (work / "cut.onnx").write_bytes((work / "iris.onnx").read_bytes()[:300])
    _refused(work, "cut.onnx is not a valid ONNX model", "zk", "import", "--onnx", "cut.onnx", "--data", "iris.csv",
             "--task", "classify", "--samples", 8, "--out", "cut-task", written="cut-task")
    _refused(work, "cut.onnx is not a valid ONNX model", "zk", "prove", "iris-task", "--model", "cut.onnx", "--data",
             "iris.csv", "--chunk", 0, "--chunks", 3, "--out", "cut.json", written="cut.json")


def test_refuse__unsupported_operator(work):
    from onnx import TensorProto, helper, numpy_helper, save

    w = numpy_helper.from_array(np.ones((4, 3), dtype=np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["h"], name="fc"),
                               helper.make_node("Erf", ["h"], ["y"], name="gelu_part")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [w])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(work / "erf.onnx"))
    _refused(work, "unsupported operator Erf (node 'gelu_part')", "zk", "import", "--onnx", "erf.onnx", "--data",
             "iris.csv", "--task", "classify", "--samples", 8, "--out", "erf-task", written="erf-task")


def test_refuse__csv_width_does_not_match_the_model(work):
    (work / "wide.csv").write_text("a,b,c,d,e,label\n" + "1,2,3,4,5,0\n" * 8)
    _refused(work, "wide.csv has 5 feature columns; the model takes 4", "zk", "import", "--onnx", "iris.onnx", "--data",
             "wide.csv", "--task", "classify", "--samples", 8, "--out", "wide-task", written="wide-task")
    _refused(work, "wide.csv has 5 feature columns; circuit iris-task takes 4", "zk", "prove", "iris-task", "--model",
             "iris.onnx", "--data", "wide.csv", "--chunk", 0, "--chunks", 1, "--out", "wide.json", written="wide.json")


def test_refuse__label_out_of_range(work):
    rows = (work / "iris.csv").read_text().splitlines()
    rows[3] = ",".join(rows[3].split(",")[:-1] + ["7"])
    (work / "badlabel.csv").write_text("\n".join(rows) + "\n")
    _refused(work, "row 3 has label '7', not a class of circuit iris-task", "zk", "prove", "iris-task", "--model",
             "iris.onnx", "--data", "badlabel.csv", "--chunk", 0, "--chunks", 3, "--out", "bad.json", written="bad.json")


def test_refuse__chunk_index_out_of_range(work):
    _refused(work, "--chunk 3 is outside a test set of 3 chunks", "zk", "prove", "iris-task", "--model", "iris.onnx",
             "--data", "iris.csv", "--chunk", 3, "--chunks", 3, "--out", "oob.json", written="oob.json")
    _refused(work, "iris.csv has 24 rows: 4 chunks of 8 need 32", "zk", "testset", "iris-task", "--data", "iris.csv",
             "--chunks", 4, "--out", "oob-testset.json", written="oob-testset.json")


def test_refuse__import_over_an_existing_folder(work):
    (work / "notes").mkdir(exist_ok=True)
    (work / "notes" / "mine.txt").write_text("keep me")
    _refused(work, "exists and is not empty", "zk", "import", "--onnx", "iris.onnx", "--data", "iris.csv", "--task",
             "classify", "--samples", 8, "--out", "notes", written="notes/manifest.json")
    assert (work / "notes" / "mine.txt").read_text() == "keep me"
    _refused(work, "already holds a circuit: pass --force", "zk", "import", "--onnx", "iris.onnx", "--data", "iris.csv",
             "--task", "classify", "--samples", 8, "--out", "iris-task", written="iris-task/.nothing")


def test_refuse__quantisation_changes_the_score_beyond_tolerance(work):
    """A model whose float score the circuit cannot reproduce is refused unless the user accepts it."""
    from onnx import TensorProto, helper, numpy_helper, save

    # Class 2's weights exceed class 0's by 1e-6: the float model predicts class 2 on every row. Quantised, the
    # two columns are equal and the zero bias gets its one unit on class 0 (see network.quantise): class 0 wins.
    w = numpy_helper.from_array(np.array([[1.0, 0.0, 1.0 + 1e-6]] * 4, dtype=np.float32), "W")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="fc")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], [w])
    save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(work / "tie.onnx"))
    rows = (work / "iris.csv").read_text().splitlines()[1:9]
    (work / "tie.csv").write_text("a,b,c,d,label\n" + "".join(",".join(r.split(",")[:4] + ["2"]) + "\n" for r in rows))
    _refused(work, "differs from the float model's beyond the tolerance", "zk", "prove", "iris-task", "--model",
             "tie.onnx", "--data", "tie.csv", "--chunk", 0, "--chunks", 1, "--out", "tie.json", written="tie.json")
    warned = apiary("zk", "prove", "iris-task", "--model", "tie.onnx", "--data", "tie.csv", "--chunk", 0, "--chunks", 1,
                    "--out", "tie.json", "--allow-mismatch", cwd=work)
    assert "warning:" in warned.stderr and "float model 8/8 correct, in-circuit 0/8" in warned.stderr
    assert json.loads(warned.stdout)["score"] == 0
