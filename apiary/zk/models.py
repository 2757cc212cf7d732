"""Data sets, training and integer quantisation, with a plain-Python reference of the in-circuit metric.

Exactness by construction: inputs, labels and weights are **integers** and the circuit runs at ezkl scale 0, so
every value in the circuit is the same integer the reference computes here — no fixed-point rounding anywhere.
Digits pixels are already integers 0..16; iris features are quantised to 0.1 cm; weights to a power of two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import DataError, ModelError

DATASETS = ("digits", "iris", "diabetes")
ARCHITECTURES = ("logreg", "mlp", "linreg")
REGRESSION_DATASETS = ("diabetes",)
# Regression: predictions and targets both live at scale 2^TARGET_BITS inside the circuit, so the squared
# error is exact in units of 2^(-2·TARGET_BITS).
TARGET_BITS = 8


@dataclass(frozen=True)
class Dataset:
    name: str
    features: np.ndarray  # int64, (n, f)
    labels: np.ndarray  # int64, (n,)
    num_classes: int

    @property
    def num_features(self) -> int:
        return int(self.features.shape[1])


def load_dataset(name: str) -> Dataset:
    """A data set shipped inside scikit-learn (no download), as integers."""
    from sklearn import datasets

    if name == "digits":
        raw = datasets.load_digits()
        features = raw.data.astype(np.int64)  # 0..16 already
    elif name == "iris":
        raw = datasets.load_iris()
        features = np.round(raw.data * 10).astype(np.int64)  # millimetres
    elif name == "diabetes":
        raw = datasets.load_diabetes()  # standardised features (|x| < 0.25), integer targets 25..346
        features = np.round(raw.data * 1000).astype(np.int64)
    else:
        raise DataError(f"unknown data set '{name}': choose one of {', '.join(DATASETS)}")
    # A fixed shuffle so train and test sets mix all classes, identical on every machine.
    order = np.random.default_rng(7).permutation(len(raw.target))
    labels = raw.target.astype(np.int64)[order]
    num_classes = 1 if name in REGRESSION_DATASETS else int(labels.max()) + 1
    return Dataset(name, features[order], labels, num_classes)


@dataclass
class QuantisedModel:
    """Integer layers: logits = W_k·relu(…relu(W_1·x + b_1)…) + b_k, all in int64."""

    architecture: str
    weights: list[np.ndarray]  # (in, out) each
    biases: list[np.ndarray]
    meta: dict = field(default_factory=dict)

    @property
    def num_features(self) -> int:
        return int(self.weights[0].shape[0])

    @property
    def num_classes(self) -> int:
        return int(self.weights[-1].shape[1])

    @property
    def is_regression(self) -> bool:
        return self.architecture == "linreg"

    def score(self, features: np.ndarray, labels: np.ndarray) -> int:
        """The metric the circuit outputs (`network.score`, the one reference): correctly classified samples (the
        true class strictly highest), or for regression the squared error Σ (prediction − 2^TARGET_BITS · target)²,
        predictions being integers at scale 2^TARGET_BITS."""
        from .network import score

        labels = np.asarray(labels, dtype=np.int64)
        return score(self.to_network(), features, labels << TARGET_BITS if self.is_regression else labels)

    @property
    def task(self) -> str:
        return "regress" if self.is_regression else "classify"

    def to_network(self):
        """The same integer layers as a `network.Network` (dense, relu, ..., dense): exact, nothing rescaled."""
        from .network import Layer, Network

        layers = []
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            layers.append(Layer("dense", {}, {"W": w.astype(np.int64), "b": b.astype(np.int64)}, (w.shape[0],), (w.shape[1],)))
            if i < len(self.weights) - 1:
                layers.append(Layer("relu", {}, {}, (w.shape[1],), (w.shape[1],)))
        return Network((self.num_features,), layers, self.task, source=self.architecture, quantised=True)

    def to_json(self) -> dict:
        return {
            "architecture": self.architecture,
            "weights": [w.tolist() for w in self.weights],
            "biases": [b.tolist() for b in self.biases],
            "meta": self.meta,
        }

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json()))

    @classmethod
    def load(cls, path: Path) -> "QuantisedModel":
        try:
            body = json.loads(Path(path).read_text())
            return cls(
                body["architecture"],
                [np.array(w, dtype=np.int64) for w in body["weights"]],
                [np.array(b, dtype=np.int64) for b in body["biases"]],
                body.get("meta", {}),
            )
        except FileNotFoundError:
            raise ModelError(f"model file {path} does not exist: train one with `apiary zk train`") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"{path} is not a model written by `apiary zk train` ({exc})") from None


def train(dataset: Dataset, architecture: str, train_size: int, *, hidden: int = 16, seed: int = 0,
          weight_bits: int = 6, max_iter: int = 300) -> QuantisedModel:
    """Train on the first `train_size` samples and quantise weights to `weight_bits` fractional bits."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.neural_network import MLPClassifier

    if architecture not in ARCHITECTURES:
        raise ModelError(f"unknown architecture '{architecture}': choose one of {', '.join(ARCHITECTURES)}")
    if not 1 <= train_size < len(dataset.labels):
        raise DataError(f"train_size must be within 1..{len(dataset.labels) - 1}, got {train_size}")
    x = dataset.features[:train_size].astype(np.float64)
    y = dataset.labels[:train_size]
    scale = float(1 << weight_bits)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if architecture == "linreg":
            if dataset.name not in REGRESSION_DATASETS:
                raise ModelError(f"linreg needs a regression data set ({', '.join(REGRESSION_DATASETS)})")
            reg = LinearRegression().fit(x, y)
            target = float(1 << TARGET_BITS)
            weights = [np.round(reg.coef_.reshape(-1, 1) * target).astype(np.int64)]
            biases = [np.round(np.array([reg.intercept_]) * target).astype(np.int64)]
        elif dataset.name in REGRESSION_DATASETS:
            raise ModelError(f"{dataset.name} is a regression data set: use --arch linreg")
        elif architecture == "logreg":
            clf = LogisticRegression(max_iter=max_iter, random_state=seed).fit(x, y)
            coef = clf.coef_.T
            intercept = clf.intercept_
            if coef.shape[1] == 1:  # binary problems: sklearn keeps one column
                coef = np.hstack([-coef, coef]) / 2
                intercept = np.array([-intercept[0], intercept[0]]) / 2
            weights = [np.round(coef * scale).astype(np.int64)]
            biases = [np.round(intercept * scale).astype(np.int64)]
        else:
            clf = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=max_iter, random_state=seed).fit(x, y)
            w1, w2 = clf.coefs_
            b1, b2 = clf.intercepts_
            # Layer 1 at scale 2^bits, layer 2 multiplies by another 2^bits: logits at scale 2^(2·bits).
            weights = [np.round(w1 * scale).astype(np.int64), np.round(w2 * scale).astype(np.int64)]
            biases = [np.round(b1 * scale).astype(np.int64), np.round(b2 * scale * scale).astype(np.int64)]
    return QuantisedModel(architecture, weights, biases,
                          {"dataset": dataset.name, "train_size": train_size, "seed": seed, "weight_bits": weight_bits})


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.int64)
    if labels.ndim != 1 or labels.min(initial=0) < 0 or labels.max(initial=0) >= num_classes:
        raise DataError(f"labels must be a vector of class indices in 0..{num_classes - 1}")
    return np.eye(num_classes, dtype=np.int64)[labels]


def test_chunks(dataset: Dataset, samples: int, chunks: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The held-out test set: the last `samples × chunks` samples, in order, cut into chunks."""
    total = samples * chunks
    if samples < 1 or chunks < 1 or total >= len(dataset.labels):
        raise DataError(f"{chunks} chunks of {samples} samples do not fit in {dataset.name} ({len(dataset.labels)} samples)")
    start = len(dataset.labels) - total
    return [
        (dataset.features[start + i * samples : start + (i + 1) * samples], dataset.labels[start + i * samples : start + (i + 1) * samples])
        for i in range(chunks)
    ]


def load_chunk_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A chunk from JSON: {"features": [[int, ...], ...], "labels": [int, ...]}."""
    try:
        body = json.loads(Path(path).read_text())
        features = np.array(body["features"])
        labels = np.array(body["labels"])
    except FileNotFoundError:
        raise DataError(f"data file {path} does not exist") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise DataError(f"{path} must be JSON with 'features' (2-D integers) and 'labels' (class indices): {exc}") from None
    if features.ndim != 2 or labels.ndim != 1 or len(features) != len(labels):
        raise DataError(f"{path}: features {features.shape} and labels {labels.shape} do not form a chunk")
    if not np.issubdtype(features.dtype, np.number) or not np.array_equal(features, np.round(features)):
        raise DataError(f"{path}: features must be integers")
    return features.astype(np.int64), labels.astype(np.int64)


def builtin_spec(dataset: str, architecture: str, samples: int, hidden: int = 16):
    """The spec of a built-in example circuit (`apiary zk build`): the architecture of `train`'s models on a data
    set shipped with scikit-learn, integer inputs (scale 1), regressors' targets at scale 2^TARGET_BITS."""
    from .circuits import CircuitSpec
    from .network import architecture_of

    if architecture not in ARCHITECTURES:
        raise ModelError(f"unknown architecture '{architecture}': choose one of {', '.join(ARCHITECTURES)}")
    ds = load_dataset(dataset)
    if (architecture == "linreg") != (dataset in REGRESSION_DATASETS):
        raise ModelError(f"{dataset} needs {'linreg' if dataset in REGRESSION_DATASETS else 'logreg or mlp'}")
    f, c = ds.num_features, ds.num_classes
    shapes = [(f, c)] if architecture != "mlp" else [(f, hidden), (hidden, c)]
    placeholder = QuantisedModel(architecture, [np.ones(s, dtype=np.int64) for s in shapes],
                                 [np.ones(s[1], dtype=np.int64) for s in shapes])
    arch_name = architecture if architecture != "mlp" else f"mlp{hidden}"
    regress = architecture == "linreg"
    return CircuitSpec(
        circuit_id=f"{dataset}-{arch_name}-n{samples}",
        task="regress" if regress else "classify",
        samples=samples,
        architecture=architecture_of(placeholder.to_network()),
        input_scale=1.0,
        input_bound=int(np.abs(ds.features).max()),
        output_scale=float(1 << TARGET_BITS) if regress else 1.0,
        class_labels=[] if regress else [str(i) for i in range(c)],
        dataset=dataset,
        source=f"apiary zk train --dataset {dataset} --arch {architecture}",
    )
