"""Example tasks as a user brings them: a float model exported to ONNX by skl2onnx, and CSV files.

`apiary zk example --dataset iris --out-dir DIR` writes DIR/model.onnx (a scikit-learn pipeline: StandardScaler →
LogisticRegression; digits: an MLP with two hidden layers; diabetes: StandardScaler → LinearRegression), DIR/train.csv
(the rows it was trained on) and DIR/test.csv (held-out rows, never seen in training): exactly what `apiary zk
import`, `ape run market create --data` and `register-model --model` take. Deterministic for a given scikit-learn.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from ..paths import write_atomic
from .errors import DataError

EXAMPLES = {"iris": "classify", "digits": "classify", "diabetes": "regress"}
TEST_FRACTION = 0.2


def _csv(x: np.ndarray, y: np.ndarray, header: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row, label in zip(x, y):
        writer.writerow([f"{float(v):g}" for v in row] + [f"{label:g}" if isinstance(label, float) else int(label)])
    return out.getvalue()


def write_example(dataset: str, out_dir: Path) -> dict:
    from skl2onnx import to_onnx
    from sklearn import datasets
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if dataset not in EXAMPLES:
        raise DataError(f"no example '{dataset}': choose one of {', '.join(EXAMPLES)}")
    raw = getattr(datasets, f"load_{dataset}")()
    order = np.random.default_rng(7).permutation(len(raw.target))
    x, y = raw.data[order], raw.target[order]
    cut = len(y) - int(len(y) * TEST_FRACTION)
    if dataset == "iris":
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    elif dataset == "digits":
        model = MLPClassifier((32, 16), max_iter=500, random_state=0)
    else:
        model = make_pipeline(StandardScaler(), LinearRegression())
    model.fit(x[:cut], y[:cut])
    names = [str(n).replace(" (cm)", "").replace(" ", "_") for n in getattr(raw, "feature_names", [])] or \
        [f"f{i}" for i in range(x.shape[1])]
    header = names + ["target" if EXAMPLES[dataset] == "regress" else "label"]
    if EXAMPLES[dataset] == "regress":
        y = y.astype(float)
    out_dir = Path(out_dir)
    paths = {"model": out_dir / "model.onnx", "train": out_dir / "train.csv", "test": out_dir / "test.csv"}
    write_atomic(paths["model"], to_onnx(model, x[:1].astype(np.float32), target_opset=17).SerializeToString())
    write_atomic(paths["train"], _csv(x[:cut], y[:cut], header))
    write_atomic(paths["test"], _csv(x[cut:], y[cut:], header))
    score = model.score(x[cut:], y[cut:])
    return {"task": EXAMPLES[dataset], "test_rows": len(y) - cut, "held_out_score": float(score),
            **{k: str(v) for k, v in paths.items()}}
