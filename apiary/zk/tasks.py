"""A user's task for a circuit: their model file and their test-set file, turned into the integers it proves.

Models: an ONNX file (scikit-learn via skl2onnx, `torch.onnx.export`, ezkl's examples, `apiary zk train`), lowered
by `network.read_onnx` and quantised deterministically for the circuit (`network.quantise`); or the JSON an older
`apiary zk train` wrote. Test sets: CSV (a header row; the label column last, or named by `label`), `.npy` (a 2-D
array, labels in the last column) or `.npz` (arrays `X`/`y`, `features`/`labels` or `x`/`y`; or one 2-D array).

Chunking (documented, deterministic): rows are taken in file order; chunk *i* of a test set of *K* chunks is rows
`[i·S, (i+1)·S)` where *S* is the circuit's samples per chunk. Rows after `K·S` are not part of the test set. *K*
is always stated (`--chunks`) and is part of the test set's identity: its commitment hashes the ordered list of
the K chunk commitments, so a chunk index means the same rows in every command that names the same K.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import network
from .circuits import CircuitSpec
from .errors import DataError, ModelError

MAX_DATA_BYTES = 256 * 2**20  # a test set is a few thousand rows; anything this large is a mistake
MAX_VALUES = 2**26

Chunk = tuple[np.ndarray, np.ndarray]


# ---------------------------------------------------------------- test-set files


@dataclass
class Table:
    """Features (float64, rows × features) and raw labels (numbers or strings) read from a data file."""

    features: np.ndarray
    labels: np.ndarray
    path: str

    @property
    def rows(self) -> int:
        return int(self.features.shape[0])


def _size_checked(path: Path) -> None:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"data file {path} does not exist") from None
    except OSError as exc:
        raise DataError(f"data file {path} cannot be read: {exc.strerror or exc}") from None
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a data file")
    if size > MAX_DATA_BYTES:
        raise DataError(f"{path} is {size / 2**20:,.0f} MiB; test sets are limited to {MAX_DATA_BYTES // 2**20} MiB")
    if size == 0:
        raise DataError(f"{path} is empty")


def _numeric(values: np.ndarray, what: str) -> np.ndarray:
    try:
        out = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be numbers") from None
    if not np.all(np.isfinite(out)):
        raise DataError(f"{what} hold NaN or infinite values")
    return out


def _read_csv(path: Path, label: str | None) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a text CSV file (binary data)") from None
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise DataError(f"{path}: a CSV test set needs a header row and at least one data row")
    header = [h.strip() for h in rows[0]]
    width = len(header)
    if width < 2:
        raise DataError(f"{path}: the header names {width} column; a test set needs features and a label column")
    for n, row in enumerate(rows[1:], start=2):
        if len(row) != width:
            raise DataError(f"{path}: line {n} has {len(row)} fields, the header {width}")
    if label is None:
        col = width - 1
    elif label in header:
        col = header.index(label)
    else:
        raise DataError(f"{path}: no column named {label!r} (columns: {', '.join(header[:12])}{'…' if width > 12 else ''})")
    body = rows[1:]
    feature_cols = [i for i in range(width) if i != col]
    raw = [[row[i].strip() for i in feature_cols] for row in body]
    try:
        features = np.array([[float(v) for v in row] for row in raw], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: a feature value is not a number ({str(exc).split(': ', 1)[-1][:40]}); features must be numeric") from None
    labels = np.array([row[col].strip() for row in body])
    return Table(_numeric(features, f"{path}: features"), labels, str(path))


def _split(array: np.ndarray, path: Path) -> Table:
    if array.ndim != 2 or array.shape[1] < 2:
        raise DataError(f"{path}: expected a 2-D array with the label in the last column, got shape {array.shape}")
    return Table(_numeric(array[:, :-1], f"{path}: features"), array[:, -1], str(path))


def _check_npz_size(path: Path) -> None:
    """An .npz is a zip: its members' uncompressed sizes are checked before anything is decompressed."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise DataError(f"{path}: not a valid .npz file (not a zip archive)") from None
    if total > MAX_DATA_BYTES:
        raise DataError(f"{path} unpacks to {total / 2**20:,.0f} MiB; test sets are limited to {MAX_DATA_BYTES // 2**20} MiB")


def _read_numpy(path: Path) -> Table:
    if path.suffix.lower() == ".npz":
        _check_npz_size(path)
    try:
        # Memory-mapped: a header that declares a huge array allocates nothing before the size check below.
        loaded = np.load(path, allow_pickle=False, mmap_mode="r" if path.suffix.lower() == ".npy" else None)
        if isinstance(loaded, np.ndarray) and loaded.nbytes > MAX_DATA_BYTES:
            raise DataError(f"{path} holds {loaded.nbytes / 2**20:,.0f} MiB; test sets are limited to {MAX_DATA_BYTES // 2**20} MiB")
        if isinstance(loaded, np.ndarray):
            loaded = np.array(loaded)
    except MemoryError:
        raise DataError(f"{path} declares an array too large to load") from None
    except ValueError as exc:
        raise DataError(f"{path}: not a NumPy file this tool reads ({str(exc)[:100]})") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: not a valid NumPy file ({str(exc)[:100] or type(exc).__name__})") from None
    if isinstance(loaded, np.ndarray):
        return _split(loaded, path)
    with loaded as archive:
        names = set(archive.files)
        for x_name, y_name in (("X", "y"), ("features", "labels"), ("x", "y"), ("X", "Y")):
            if x_name in names and y_name in names:
                x, y = archive[x_name], archive[y_name]
                x = x.reshape(len(x), -1) if x.ndim > 2 else x
                if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
                    raise DataError(f"{path}: {x_name} {x.shape} and {y_name} {y.shape} do not form a test set")
                return Table(_numeric(x, f"{path}: {x_name}"), y, str(path))
        if len(names) == 1:
            return _split(archive[next(iter(names))], path)
    raise DataError(f"{path}: an .npz test set holds arrays X and y (or features and labels); found {', '.join(sorted(names)) or 'none'}")


def read_table(path: str | Path, label: str | None = None) -> Table:
    """Read a test-set file (CSV, .npy, .npz). Every problem is one DataError naming the file."""
    path = Path(path)
    _size_checked(path)
    suffix = path.suffix.lower()
    if suffix in (".npy", ".npz"):
        if label is not None:
            raise DataError(f"{path}: --label names a CSV column; NumPy test sets keep labels in y or the last column")
        table = _read_numpy(path)
    elif suffix in (".csv", ".txt", ""):
        table = _read_csv(path, label)
    else:
        raise DataError(f"{path}: unknown test-set format {suffix!r}; use CSV (.csv), .npy or .npz")
    if table.rows == 0:
        raise DataError(f"{path} holds no rows")
    if table.features.size > MAX_VALUES:
        raise DataError(f"{path} holds {table.features.size:,} values; test sets are limited to {MAX_VALUES:,}")
    return table


# ---------------------------------------------------------------- labels and features as circuit integers


def _label_key(value) -> str:
    """Labels compare as text, numbers normalised: '3', 3, 3.0 and '3.0' are the same class."""
    text = str(value.decode() if isinstance(value, bytes) else value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def class_labels_for(net: network.Network) -> list:
    """The label of each class index: the model's own (skl2onnx classifiers name them), else 0..C-1."""
    if net.class_labels:
        return [_label_key(v) for v in net.class_labels]
    return [str(i) for i in range(net.num_outputs)]


def encode_features(spec: CircuitSpec, features: np.ndarray, *, what: str = "data") -> np.ndarray:
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[1] != spec.num_features:
        width = features.shape[1] if features.ndim == 2 else features.shape
        raise DataError(f"{what} has {width} feature columns; circuit {spec.circuit_id} takes {spec.num_features}")
    x = network.quantise_inputs(features, spec.input_scale)
    top = int(np.abs(x).max(initial=0))
    if spec.input_bound and top > spec.input_bound:
        raise DataError(f"{what}: a feature reaches {top / spec.input_scale:g} (x{spec.input_scale:g} = {top}), beyond the bound "
                        f"{spec.input_bound} circuit {spec.circuit_id} was built for: import a circuit for this data")
    return x


def encode_labels(spec: CircuitSpec, labels: np.ndarray, *, what: str = "data") -> np.ndarray:
    """Class indices (classifiers) or targets at the output scale (regressors), as int64."""
    labels = np.asarray(labels)
    if spec.is_regression:
        y = _numeric(labels, f"{what}: regression targets")
        if spec.num_outputs != 1:
            raise DataError(f"circuit {spec.circuit_id} predicts {spec.num_outputs} outputs; test sets give one target a row")
        q = np.round(y * spec.output_scale)
        if np.abs(q).max(initial=0) >= 2**40:
            raise DataError(f"{what}: targets reach {np.abs(y).max():g}, too large for the circuit's output scale {spec.output_scale:g}")
        return q.astype(np.int64)
    index = {label: i for i, label in enumerate(spec.class_labels)}
    out = np.empty(len(labels), dtype=np.int64)
    for row, value in enumerate(labels):
        key = _label_key(value)
        if key not in index:
            shown = ", ".join(spec.class_labels[:10]) + ("…" if len(spec.class_labels) > 10 else "")
            raise DataError(f"{what}: row {row + 1} has label {key!r}, not a class of circuit {spec.circuit_id} ({shown})")
        out[row] = index[key]
    return out


def chunk_rows(spec: CircuitSpec, rows: int, chunks: int | None, *, what: str = "data") -> int:
    """The number of chunks K: as stated, or every whole chunk the file holds. Refuses K·S > rows."""
    whole = rows // spec.samples
    if chunks is None:
        if whole == 0:
            raise DataError(f"{what} has {rows} rows, fewer than one chunk of {spec.samples}")
        return whole
    if chunks < 1:
        raise DataError("--chunks must be at least 1")
    if chunks > whole:
        raise DataError(f"{what} has {rows} rows: {chunks} chunks of {spec.samples} need {chunks * spec.samples}")
    return chunks


def check_chunk_index(index: int, chunks: int) -> None:
    if not 0 <= index < chunks:
        raise DataError(f"--chunk {index} is outside a test set of {chunks} chunks (0..{chunks - 1})")


@dataclass
class TestSet:
    """A test set as the circuit sees it: integer chunks, plus the float rows for the fidelity report."""

    chunks: list[Chunk]  # (features int64 S×F, labels int64 S) each
    float_features: list[np.ndarray]  # S×F float64 each (None for the built-in integer sets)
    float_labels: list[np.ndarray]
    source: str
    unused_rows: int = 0

    __test__ = False  # not a pytest class


def load_test_set(spec: CircuitSpec, path: str | Path, chunks: int | None, label: str | None = None) -> TestSet:
    return test_set_from_table(spec, read_table(path, label), chunks)


def test_set_from_table(spec: CircuitSpec, table: Table, chunks: int | None) -> TestSet:
    """The table's first K whole chunks as circuit integers (K as stated, or every whole chunk it holds)."""
    what = table.path
    k = chunk_rows(spec, table.rows, chunks, what=what)
    used = k * spec.samples
    x = encode_features(spec, table.features[:used], what=what)
    y = encode_labels(spec, table.labels[:used], what=what)
    s = spec.samples
    return TestSet([(x[i * s : (i + 1) * s], y[i * s : (i + 1) * s]) for i in range(k)],
                   [table.features[i * s : (i + 1) * s] for i in range(k)],
                   [table.labels[i * s : (i + 1) * s] for i in range(k)], what, table.rows - used)


def builtin_test_set(spec: CircuitSpec, chunks: int) -> TestSet:
    """The held-out test set of a built-in example circuit (its scikit-learn data set; see models.test_chunks)."""
    from . import models

    if not spec.dataset:
        raise DataError(f"circuit {spec.circuit_id} has no built-in test set: give one with --data FILE (CSV, .npy, .npz)")
    raw = models.test_chunks(models.load_dataset(spec.dataset), spec.samples, chunks)
    out = []
    for features, labels in raw:
        y = np.asarray(labels, dtype=np.int64)
        out.append((np.asarray(features, dtype=np.int64), (y * int(spec.output_scale)) if spec.is_regression else y))
    return TestSet(out, [c[0].astype(np.float64) for c in raw], [c[1] for c in raw], f"held-out {spec.dataset}")


# ---------------------------------------------------------------- models


@dataclass
class Model:
    """A model ready for a circuit: the integers it proves with, the float network it came from, and how."""

    integer: network.Network
    float_net: network.Network
    quantisation: network.Quantisation
    path: str

    def score(self, chunk: Chunk) -> int:
        return network.score(self.integer, *chunk)


def load_model(spec: CircuitSpec, path: str | Path) -> Model:
    """The model file (ONNX, or the JSON of an older `apiary zk train`) quantised for circuit `spec`."""
    return model_for(spec, _fitted(spec, Path(path)), path)


def model_for(spec: CircuitSpec, net: network.Network, path: str | Path) -> Model:
    """A network of the circuit's architecture, quantised for it (used exactly as it is when already integer)."""
    integer, q = network.quantise(net, spec.input_scale, spec.input_bound,
                                  output_scale=spec.output_scale if spec.is_regression else None, exact=net.quantised)
    return Model(integer, net, q, str(path))


def _fitted(spec: CircuitSpec, path: Path) -> network.Network:
    """The model file's network, refused unless it has the circuit's architecture; classes in the circuit's order."""
    net = _read_model(path, spec.task)
    diff = network.same_architecture(net, spec.architecture)
    if diff is not None:
        raise ModelError(f"{path} does not fit circuit {spec.circuit_id}: {diff}")
    _align_classes(net, spec, path)
    return net


def _align_classes(net: network.Network, spec: CircuitSpec, path: Path) -> None:
    """A model that names its classes (skl2onnx does) in another order than the circuit's gets its output columns
    reordered to the circuit's; one with other classes is refused. Unnamed classes are taken as 0..C-1."""
    if spec.is_regression or not net.class_labels or not spec.class_labels:
        return
    mine = [_label_key(v) for v in net.class_labels]
    if mine == list(spec.class_labels):
        return
    if sorted(mine) != sorted(spec.class_labels):
        raise ModelError(f"{path} predicts classes {', '.join(mine[:10])}; circuit {spec.circuit_id} scores classes "
                         f"{', '.join(spec.class_labels[:10])}")
    last = net.layers[-1]
    if last.op != "dense":
        raise ModelError(f"{path} names its classes in another order than circuit {spec.circuit_id} and does not end in a dense layer")
    order = [mine.index(label) for label in spec.class_labels]
    last.params = {"W": last.params["W"][:, order], "b": np.asarray(last.params["b"])[order]}
    net.class_labels = list(spec.class_labels)


def quantise_to_file(spec: CircuitSpec, model_path: str | Path, calibration: np.ndarray, out: str | Path) -> Model:
    """Quantise a float model on calibration features (circuit integers) and write it as a quantised ONNX file,
    which every command then uses exactly as it is (its commitment never changes)."""
    from ..paths import write_atomic

    net = _fitted(spec, Path(model_path))
    if net.quantised:
        raise ModelError(f"{model_path} is already quantised (an integer model): use it as it is")
    integer, q = network.quantise_calibrated(net, spec.input_scale, calibration,
                                             output_scale=spec.output_scale if spec.is_regression else None)
    proto = network.to_onnx(integer, quantised=True)
    from onnx import helper

    helper.set_model_props(proto, {network.QUANTISED_KEY: "1", "apiary.task": spec.task, "apiary.circuit": spec.circuit_id,
                                   "apiary.input_scale": repr(spec.input_scale), "apiary.weight_bits": str(q.weight_bits)})
    write_atomic(Path(out), proto.SerializeToString())
    reread = load_model(spec, out)
    if not all(np.array_equal(a, b) for la, lb in zip(reread.integer.layers, integer.layers)
               for a, b in zip(la.params.values(), lb.params.values())):
        Path(out).unlink(missing_ok=True)
        raise ModelError(f"{out}: the quantised model does not read back as written (please report this model)")
    return Model(integer, net, q, str(out))


def _read_model(path: Path, task: str) -> network.Network:
    try:
        with path.open("rb") as f:
            head = f.read(1)
    except FileNotFoundError:
        raise ModelError(f"model file {path} does not exist") from None
    except IsADirectoryError:
        raise ModelError(f"{path} is a folder, not a model file") from None
    if path.suffix.lower() == ".json" or head == b"{":
        from .models import QuantisedModel

        model = QuantisedModel.load(path)
        if model.task != task:
            raise ModelError(f"{path} is a {model.task} model; the circuit is for {task}")
        return model.to_network()
    return network.read_onnx(path, task)


def float_scores(model: Model, spec: CircuitSpec, features: np.ndarray, labels: np.ndarray) -> float:
    """The float model's score on the rows as they are in the file: correct count, or SSE in target units."""
    if spec.is_regression:
        return network.float_score(model.float_net, features, _numeric(labels, "targets"))
    index = {label: i for i, label in enumerate(spec.class_labels)}
    y = np.array([index[_label_key(v)] for v in labels])
    return network.float_score(model.float_net, features, y)


def in_circuit_units(spec: CircuitSpec, score: int) -> float:
    """An integer score in the float model's units: the count as it is; an SSE divided by output_scale²."""
    return float(score) if not spec.is_regression else score / (spec.output_scale**2)


@dataclass
class Fidelity:
    float_score: float
    circuit_score: int
    circuit_in_units: float
    tolerance: float
    ok: bool

    def line(self, spec: CircuitSpec) -> str:
        if spec.is_regression:
            return (f"float model SSE {self.float_score:.6g}, in-circuit {self.circuit_in_units:.6g} "
                    f"(relative difference {_rel(self.float_score, self.circuit_in_units):.2%}, tolerance {self.tolerance:.2%})")
        return (f"float model {int(self.float_score)}/{spec.samples} correct, in-circuit {self.circuit_score}/{spec.samples} "
                f"(tolerance {int(self.tolerance)} sample{'s' if self.tolerance != 1 else ''})")


def _rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), 1e-12)


DEFAULT_CLASSIFY_TOLERANCE = 0  # samples a chunk
DEFAULT_REGRESS_TOLERANCE = 0.01  # relative


def fidelity(model: Model, spec: CircuitSpec, chunk: Chunk, float_features, float_labels,
             tolerance: float | None = None) -> Fidelity:
    circuit = model.score(chunk)
    units = in_circuit_units(spec, circuit)
    if float_features is None:
        flt = units
    else:
        flt = float_scores(model, spec, float_features, float_labels)
    if spec.is_regression:
        tol = DEFAULT_REGRESS_TOLERANCE if tolerance is None else tolerance
        ok = _rel(flt, units) <= tol or math.isclose(flt, units, abs_tol=1e-9)
    else:
        tol = DEFAULT_CLASSIFY_TOLERANCE if tolerance is None else tolerance
        ok = abs(flt - circuit) <= tol
    return Fidelity(flt, circuit, units, tol, ok)
