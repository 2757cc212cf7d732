"""Dataset files as a stream of canonical rows (CSV, .npy, .npz, Parquet), read in bounded memory.

A row's identity must not depend on the file format it travels in, or a copy converted from CSV to Parquet
would escape duplicate detection. Every row is therefore reduced to a canonical byte string:

    row bytes = UTF-8 of the compact JSON array of its cells (no spaces, keys none, non-ASCII kept)

with cells normalised: integers and integral floats below 2^53 → JSON integers (``1``, ``1.0``, ``"1"`` in a CSV,
``np.float32(1)`` are one value); other finite floats → the shortest decimal that round-trips at the column's own
precision (a float32 ``0.1`` is ``0.1``, not ``0.10000000149011612``); NaN → ``null``; ±inf → ``"inf"``/``"-inf"``;
booleans → ``true``/``false``; CSV cells that are not numbers stay text exactly as written; bytes → ``"0x…"``;
dates and times → ISO 8601 text. The header (CSV column names, Parquet schema, the arrays' shapes) is the
dataset's *schema*, committed beside the rows, not a row.
"""

from __future__ import annotations

import csv
import datetime as _dt
import decimal
import json
import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..zk.errors import DataError

MAX_ROWS = 50_000_000  # the commitment keeps 32 bytes per row in memory: 1.6 GB at this bound
MAX_ROW_BYTES = 1 << 20  # one row's canonical bytes
BLOCK_ROWS = 4096  # rows read at a time from binary formats
_EXACT_INT = 1 << 53
FORMATS = "CSV (.csv, .tsv), NumPy (.npy, .npz) or Parquet (.parquet)"


@dataclass
class Schema:
    """What the rows mean: column names (or the arrays' names and shapes) and the format they were read from."""

    columns: list[str]
    source_format: str
    extra: dict = field(default_factory=dict)

    def canonical(self) -> bytes:
        """The committed schema: column names only, so the same table in another format has the same schema."""
        return json.dumps({"columns": self.columns}, separators=(",", ":"), ensure_ascii=False).encode()


# ---------------------------------------------------------------- cells


def _number(x: float, text: str | None = None):
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer() and abs(x) < _EXACT_INT:
        return int(x)
    return float(text) if text is not None else x


def cell(value):
    """One cell in canonical form (see the module docstring)."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (np.float16, np.float32)):
        return _number(float(value), str(value))  # numpy's shortest repr at the value's own precision
    if isinstance(value, (float, np.floating)):
        return _number(float(value))
    if isinstance(value, decimal.Decimal):
        return _number(float(value)) if value.is_finite() else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return str(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): cell(v) for k, v in sorted(value.items())}
    return str(value)


def csv_cell(text: str):
    """A CSV cell: a number if it reads as one (so '1', '1.0' and 1 agree), else the text as written."""
    stripped = text.strip()
    if stripped and stripped[0] in "+-.0123456789" and stripped.lower() not in ("-", "+", "."):
        try:
            return int(stripped, 10) if abs(int(stripped, 10)) < _EXACT_INT else stripped
        except ValueError:
            pass
        try:
            x = float(stripped)
        except ValueError:
            return text
        return _number(x) if math.isfinite(x) else text
    return text


def row_bytes(cells: list) -> bytes:
    data = json.dumps(cells, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    if len(data) > MAX_ROW_BYTES:
        raise DataError(f"a row of {len(data):,} bytes exceeds the {MAX_ROW_BYTES:,}-byte limit per row")
    return data


# ---------------------------------------------------------------- readers


@dataclass
class RowSource:
    """An opened dataset file: its schema and an iterator over canonical row bytes."""

    path: Path
    schema: Schema
    rows: Iterator[bytes]


def open_rows(path: str | Path) -> RowSource:
    """Open a dataset file for streaming. Every problem is one DataError naming the file and what to do."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            return _csv(path, "\t" if suffix == ".tsv" else ",")
        if suffix == ".npy":
            return _npy(path)
        if suffix == ".npz":
            return _npz(path)
        if suffix in (".parquet", ".pq"):
            return _parquet(path)
    except DataError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read it as {suffix[1:]} ({str(exc).splitlines()[0][:160]})") from None
    raise DataError(f"{path}: unknown data format {suffix!r}; use {FORMATS}")


def _guarded(path: Path, rows: Iterator[bytes]) -> Iterator[bytes]:
    """Re-raise a reader's late failure (a corrupt block halfway through) as one DataError naming the file."""
    try:
        yield from rows
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    except (OSError, ValueError, csv.Error, zipfile.BadZipFile, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"{path}: unreadable from row data onwards ({str(exc).splitlines()[0][:160]})") from None


def _csv(path: Path, delimiter: str) -> RowSource:
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.reader(handle, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        handle.close()
        raise DataError(f"{path} is empty: a CSV dataset needs a header row and at least one row") from None
    except csv.Error as exc:
        handle.close()
        raise DataError(f"{path}: malformed CSV header ({exc})") from None
    if not header or len(set(header)) != len(header) or any(not h.strip() for h in header):
        handle.close()
        raise DataError(f"{path}: the first row must name every column once (got {header[:8]})")

    def rows() -> Iterator[bytes]:
        with handle:
            for line_no, record in enumerate(reader, start=2):
                if not record:
                    continue  # a blank line is not a row
                if len(record) != len(header):
                    raise DataError(f"line {line_no} has {len(record)} cells, the header names {len(header)}")
                yield row_bytes([csv_cell(c) for c in record])

    return RowSource(path, Schema(list(header), "csv"), _guarded(path, rows()))


def _array_stream(path: Path, handle, name: str) -> tuple[tuple, np.dtype, Iterator[np.ndarray]]:
    """Read an .npy header from a file object and stream its rows in blocks (no pickles, C order)."""
    version = np.lib.format.read_magic(handle)
    shape, fortran, dtype = np.lib.format._read_array_header(handle, version)  # noqa: SLF001 (numpy's own reader)
    if dtype.hasobject:
        raise DataError(f"{path}: array {name!r} holds Python objects (a pickle); save plain numbers or text")
    if len(shape) not in (1, 2):
        raise DataError(f"{path}: array {name!r} has shape {shape}; a dataset is 1-D (one value a row) or 2-D")
    if fortran and len(shape) == 2 and shape[1] > 1:
        raise DataError(f"{path}: array {name!r} is stored column-major; save it with np.save(np.ascontiguousarray(a))")
    width = shape[1] if len(shape) == 2 else 1
    row_size = dtype.itemsize * width

    def blocks() -> Iterator[np.ndarray]:
        left = shape[0]
        while left:
            n = min(left, BLOCK_ROWS)
            raw = handle.read(n * row_size)
            if len(raw) != n * row_size:
                raise DataError(f"array {name!r} is truncated: {shape[0] - left + len(raw) // max(row_size, 1):,} of "
                                f"{shape[0]:,} rows present")
            yield np.frombuffer(raw, dtype=dtype).reshape(n, width)
            left -= n

    return shape, dtype, blocks()


def _npy(path: Path) -> RowSource:
    handle = path.open("rb")
    shape, dtype, blocks = _array_stream(path, handle, "array")
    columns = [f"c{i}" for i in range(shape[1] if len(shape) == 2 else 1)]

    def rows() -> Iterator[bytes]:
        with handle:
            for block in blocks:
                for row in block:
                    yield row_bytes([cell(v) for v in row])

    return RowSource(path, Schema(columns, "npy", {"dtype": str(dtype)}), _guarded(path, rows()))


def _npz(path: Path) -> RowSource:
    """Arrays of equal length side by side, in name order (X then y for the usual features/labels pair)."""
    archive = zipfile.ZipFile(path)
    names = sorted(n for n in archive.namelist() if n.endswith(".npy"))
    if not names:
        archive.close()
        raise DataError(f"{path}: the archive holds no arrays")
    streams, columns, length = [], [], None
    for member in names:
        handle = archive.open(member)
        name = member[:-4]
        shape, _, blocks = _array_stream(path, handle, name)
        if length is not None and shape[0] != length:
            archive.close()
            raise DataError(f"{path}: arrays differ in length ({name!r} has {shape[0]:,} rows, the others {length:,})")
        length = shape[0]
        width = shape[1] if len(shape) == 2 else 1
        columns += [name] if len(shape) == 1 else [f"{name}{i}" for i in range(width)]
        streams.append(blocks)

    def rows() -> Iterator[bytes]:
        with archive:
            for parts in zip(*streams):
                for i in range(parts[0].shape[0]):
                    yield row_bytes([cell(v) for part in parts for v in part[i]])

    return RowSource(path, Schema(columns, "npz"), _guarded(path, rows()))


def _parquet(path: Path) -> RowSource:
    import pyarrow.parquet as pq

    try:
        handle = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid / ArrowException for a corrupt file
        raise DataError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0][:160]})") from None
    columns = list(handle.schema_arrow.names)

    def rows() -> Iterator[bytes]:
        try:
            for batch in handle.iter_batches(batch_size=BLOCK_ROWS):
                data = {c: _parquet_column(batch.column(i)) for i, c in enumerate(columns)}
                for i in range(batch.num_rows):
                    yield row_bytes([cell(data[c][i]) for c in columns])
        except DataError:
            raise
        except Exception as exc:  # pyarrow's errors for a corrupt page
            raise DataError(f"a Parquet page is unreadable ({str(exc).splitlines()[0][:160]})") from None

    return RowSource(path, Schema(columns, "parquet"), _guarded(path, rows()))




def _parquet_column(column) -> list:
    """A Parquet column's values; float32/float16 kept as numpy scalars so they round at their own precision."""
    import pyarrow as pa

    if pa.types.is_float32(column.type) or pa.types.is_float16(column.type):
        values = column.to_numpy(zero_copy_only=False)
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        return [None if null else v for v, null in zip(values, nulls)]
    return column.to_pylist()
