"""Dataset files as a stream of canonical rows (CSV, .npy, .npz, Parquet, JSON lines), read in bounded memory.

A row's identity must not depend on the file format it travels in, on the order or names of its columns, or on
columns that say nothing about the row, or a copy converted from Parquet to CSV, with its columns shuffled and a
"source" column added, would escape duplicate detection. Every row is therefore reduced to a canonical byte string:

    row bytes = UTF-8 of the compact JSON array of its cells' canonical JSON texts, sorted (non-ASCII kept)

**Cells.** `cell` is one function of the value, whatever reader produced it; text (every CSV cell, a Parquet or
JSON string) is read as the typed value a writer would have written it from, because a CSV cannot tell the text
"7" from the integer 7, so no format may:

- null: None, NaN, NaT, a Parquet or JSON null, and the text pandas reads as missing (the empty cell, "NaN",
  "NA", "null", "None", …, after trimming surrounding whitespace);
- numbers by value: integers exact at any size (a 64-bit id or a nanosecond timestamp as an integer, as a float
  that holds it, or as text); integral floats as those integers (``1.0`` is ``1``); other floats as their shortest
  round-trip decimal, a float32 (or a float64 that is exactly a float32) at its own precision (``0.1``, not
  ``0.10000000149011612``; a float32 is numpy's shortest text, as pandas writes it: 2^30 is 1073741800); ±inf as
  ``"inf"``/``"-inf"``; an integral decimal exact, others as the float their text reads as; booleans as 1 and 0.
  Text is a number when it is one in ASCII digits: ``"007"`` is 7 and ``"1e3"`` is 1000 (pandas reads them so),
  ``"1_000"`` and ``"٣"`` stay text;
- times: a timestamp as ISO 8601 in UTC with its nanoseconds (``2024-01-01T12:00:00.5``; a time zone converted
  to UTC, a naive timestamp taken as UTC; midnight is the date, ``2024-01-01``, as pandas writes an all-midnight
  column); a time of day ``HH:MM:SS[.f]``; a duration as ``[-]P<d>DT<h>H<m>M<s>[.f]S``; text in pandas' forms
  (``2024-01-01 00:00:00+01:00``, ``-1 days +23:59:59``, ``P0DT0H0M1S``) is the value it names;
- bytes as ``"0x…"`` (a CSV carries pandas' ``b'…'`` literal, read back as the bytes); other text as written
  but for surrounding whitespace, Unicode NFC-normalised; nested lists and maps cell by cell.

**Rows.** A row is the *multiset* of its cells: sorted canonical texts, so neither column order nor column names
enter it (the names are the dataset's schema, committed beside the rows). Columns that are pandas' index, not
data — an unnamed column (pandas' default ``to_csv``), ``Unnamed: N`` (that file read back by pandas),
``__index_level_N__`` (a Parquet index) — are left out. A column that is constant over the whole file says
nothing about any row: when a file has such columns (and others), each row is committed twice, whole and without
them, so a copy with a constant column added shares rows with the original, and so does a part of it cut out by
one column's value. A file is read twice for this (the first pass stops as soon as every column has varied), never
held in memory. A CSV's delimiter (comma, semicolon, tab or bar) and encoding (UTF-8, or UTF-16/32 after a BOM)
are read from the file.
"""

from __future__ import annotations

import ast
import codecs
import csv
import datetime as _dt
import decimal
import io
import json
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..zk.errors import DataError

MAX_ROWS = 50_000_000  # the commitment keeps 32 bytes per row in memory: 1.6 GB at this bound
MAX_ROW_BYTES = 1 << 20  # one row's canonical bytes
BLOCK_ROWS = 4096  # rows read at a time from binary formats
FORMATS = "CSV (.csv, .tsv), NumPy (.npy, .npz), Parquet (.parquet) or JSON lines (.jsonl, .ndjson)"


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

# pandas' default missing-value texts (read_csv's na_values): a converter that reads them writes nulls
_NULL_TEXT = frozenset({"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
                        "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})
_TRUE_TEXT = frozenset({"True", "TRUE", "true"})  # read_csv's boolean texts
_FALSE_TEXT = frozenset({"False", "FALSE", "false"})
_INTEGER = re.compile(r"([+-]?[0-9]+)(?:\.0*)?", re.ASCII)  # "12.00" too: the text of an integral decimal
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_INF = re.compile(r"([+-]?)inf(?:inity)?", re.ASCII | re.IGNORECASE)
_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
                        r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,9}))?)?)?"
                        r"(Z|[+-][0-9]{2}:?[0-9]{2})?", re.ASCII)
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?", re.ASCII)
_PANDAS_DURATION = re.compile(r"(-?[0-9]+) days?(?: ([+-]?)([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]{1,9}))?)?",
                              re.ASCII)  # the clock left out where every value of the column is whole days
_ISO_DURATION = re.compile(r"(-?)P(?:(-?[0-9]+)D)?"
                           r"(?:T(?:(-?[0-9]+)H)?(?:(-?[0-9]+)M)?(?:([0-9]+)(?:\.([0-9]{1,9}))?S)?)?", re.ASCII)
_BYTES_LITERAL = re.compile(r"b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\"", re.ASCII | re.DOTALL)
_MAX_DIGITS = 4000  # Python refuses to print integers of more than 4,300 digits; longer digit strings stay text
_SECOND = 10**9
_DAY = 86_400 * _SECOND


def cell(value):
    """One cell in canonical form (see the module docstring): a JSON value, the same for the same value in any
    format. Idempotent: the canonical form of a canonical cell is itself."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pandas' NA and NaT, without pandas
        return None
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, np.datetime64):
        return _datetime64(value)
    if isinstance(value, np.timedelta64):  # before np.integer: numpy counts a duration as one
        return _timedelta64(value)
    if isinstance(value, (bool, np.bool_)):
        return int(value)  # True == 1: a boolean column cast to 0/1 is the same column
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (np.float32, np.float16)):
        return _text(str(value))  # numpy's shortest text at the value's own precision: what pandas writes
    if isinstance(value, (float, np.floating)):
        return _float(float(value))
    if isinstance(value, decimal.Decimal):
        return _decimal(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "0x" + bytes(value).hex()
    if isinstance(value, _dt.datetime):
        return _datetime(value)
    if isinstance(value, _dt.date):
        return _timestamp(value.year, value.month, value.day, 0)
    if isinstance(value, _dt.time):
        return _time_of_day(value.hour, value.minute, value.second, value.microsecond * 1000)
    if isinstance(value, _dt.timedelta):
        ns = ((value.days * 86_400 + value.seconds) * 10**6 + value.microseconds) * 1000
        return _duration(ns + getattr(value, "nanoseconds", 0))  # pandas' Timedelta keeps nanoseconds beside
    if isinstance(value, (list, tuple, np.ndarray)):
        return [cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): cell(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    return _text(str(value))


def _text(text: str):
    """Text as the value a writer wrote it from, or the text itself (trimmed, NFC) when it names no other value."""
    t = text.strip()
    if t in _NULL_TEXT:
        return None
    if t in _TRUE_TEXT:
        return 1
    if t in _FALSE_TEXT:
        return 0
    if (m := _INTEGER.fullmatch(t)) and len(m.group(1)) <= _MAX_DIGITS:
        return int(m.group(1))
    if _FLOAT.fullmatch(t):
        return _float(float(t))
    if m := _INF.fullmatch(t):
        return "-inf" if m.group(1) == "-" else "inf"
    parsed = _time_text(t)
    if parsed is not None:
        return parsed
    if t.isascii() and _BYTES_LITERAL.fullmatch(t):
        literal = _bytes_literal(t)
        if literal is not None:
            return "0x" + literal.hex()
    return t if t.isascii() else unicodedata.normalize("NFC", t)


def _bytes_literal(t: str) -> bytes | None:
    """The bytes of pandas' text for a bytes cell (Python's repr), or None if `t` is no valid literal."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an unknown escape ("b'\\d'") is a warning, the bytes are still defined
        try:
            return ast.literal_eval(t)  # a literal and nothing else: the pattern admits no expression
        except (SyntaxError, ValueError):
            return None  # a broken escape ("b'\\x'")


def _float(x: float):
    if math.isnan(x):
        return None
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x.is_integer():
        return int(x)  # exact: 1e23 is the integer the float holds, as the float's own text reads back
    narrow = np.float32(x)
    if float(narrow) == x:  # a float32 widened on the way (below 2^23, so its shortest text is not integral)
        return float(str(narrow))
    return x


def _decimal(value: decimal.Decimal):
    if value.is_nan():
        return None
    if value.is_infinite():
        return "-inf" if value < 0 else "inf"
    if value == value.to_integral_value() and value.adjusted() <= _MAX_DIGITS:
        return int(value)  # "12345678901234567890.00" is that integer, exactly, as its text is
    return _float(float(value))  # other decimals as their text reads: a float (17 digits)


def _time_text(t: str):
    """A timestamp, time of day or duration in ISO 8601 or pandas' text, canonical; None if `t` is none of them."""
    if m := _TIMESTAMP.fullmatch(t):
        year, month, day, hour, minute, second, fraction, zone = m.groups()
        try:
            at = _dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
            if zone and zone != "Z":
                sign = -1 if zone[0] == "-" else 1
                at -= sign * _dt.timedelta(hours=int(zone[1:3]), minutes=int(zone[-2:]))
        except (ValueError, OverflowError):
            return None  # not a date (2024-02-30) or outside years 1-9999 after the zone: text
        return _timestamp(at.year, at.month, at.day, _day_ns(at.hour, at.minute, at.second, _ns(fraction)))
    if m := _TIME.fullmatch(t):
        hour, minute, second, fraction = m.groups()
        if int(hour) < 24 and int(minute) < 60 and int(second) < 60:
            return _time_of_day(int(hour), int(minute), int(second), _ns(fraction))
        return None
    if m := _PANDAS_DURATION.fullmatch(t):
        days, sign, hour, minute, second, fraction = m.groups()
        clock = _day_ns(int(hour or 0), int(minute or 0), int(second or 0), _ns(fraction))
        return _duration(int(days) * _DAY + (-clock if sign == "-" else clock))
    if (m := _ISO_DURATION.fullmatch(t)) and any(m.groups()[1:5]):
        sign, days, hours, minutes, seconds, fraction = m.groups()
        total = (int(days or 0) * _DAY + int(hours or 0) * 3600 * _SECOND + int(minutes or 0) * 60 * _SECOND
                 + int(seconds or 0) * _SECOND + _ns(fraction))
        return _duration(-total if sign else total)
    return None


def _ns(fraction: str | None) -> int:
    return int((fraction or "").ljust(9, "0"))


def _day_ns(hour: int, minute: int, second: int, ns: int) -> int:
    return ((hour * 60 + minute) * 60 + second) * _SECOND + ns


def _fraction(ns: int) -> str:
    return "." + f"{ns:09d}".rstrip("0") if ns else ""


def _timestamp(year: int, month: int, day: int, day_ns: int) -> str:
    date = f"{year:04d}-{month:02d}-{day:02d}"
    if not day_ns:
        return date  # midnight is the date: pandas writes an all-midnight column as dates
    second, ns = divmod(day_ns, _SECOND)
    minute, second = divmod(second, 60)
    hour, minute = divmod(minute, 60)
    return f"{date}T{hour:02d}:{minute:02d}:{second:02d}{_fraction(ns)}"


def _time_of_day(hour: int, minute: int, second: int, ns: int) -> str:
    return f"{hour:02d}:{minute:02d}:{second:02d}{_fraction(ns)}"


def _duration(ns: int) -> str:
    sign, ns = ("-" if ns < 0 else ""), abs(ns)
    days, ns = divmod(ns, _DAY)
    second, ns = divmod(ns, _SECOND)
    minute, second = divmod(second, 60)
    hour, minute = divmod(minute, 60)
    return f"{sign}P{days}DT{hour}H{minute}M{second}{_fraction(ns)}S"


def _datetime(value: _dt.datetime) -> str:
    ns = value.microsecond * 1000 + getattr(value, "nanosecond", 0)  # pandas' Timestamp keeps ns beside the µs
    wall = _dt.datetime(value.year, value.month, value.day, value.hour, value.minute, value.second)
    offset = value.utcoffset() if value.tzinfo is not None else None
    if offset:
        try:
            wall -= offset  # to UTC, in Python's own arithmetic (pandas' overflows near its nanosecond bounds)
        except OverflowError:
            return _timestamp(wall.year, wall.month, wall.day, _day_ns(wall.hour, wall.minute, wall.second, ns)) \
                + f"{offset}"  # UTC falls outside years 1-9999: the wall clock and its offset
    return _timestamp(wall.year, wall.month, wall.day, _day_ns(wall.hour, wall.minute, wall.second, ns))


def _datetime64(value: np.datetime64):
    if np.isnat(value):
        return None
    unit, _ = np.datetime_data(value.dtype)
    if unit in ("Y", "M", "W"):
        value = value.astype("datetime64[D]")
    return _text(str(value))  # numpy's ISO text, to its own unit (years beyond 9999 stay text)


_NS_PER_UNIT = {"W": 7 * _DAY, "D": _DAY, "h": 3600 * _SECOND, "m": 60 * _SECOND, "s": _SECOND, "ms": 10**6,
                "us": 10**3, "ns": 1}


def _timedelta64(value: np.timedelta64):
    if np.isnat(value):
        return None
    unit, count = np.datetime_data(value.dtype)
    if unit not in _NS_PER_UNIT:
        return _text(str(value))  # months, years and units below a nanosecond have no fixed length here
    return _duration(int(value.astype(np.int64)) * count * _NS_PER_UNIT[unit])


def encode(value) -> str:
    """A cell's canonical JSON text: what a row sorts and joins."""
    return json.dumps(cell(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _joined(texts: list[str]) -> bytes:
    data = ("[" + ",".join(sorted(texts)) + "]").encode()  # code-point order is UTF-8 byte order
    if len(data) > MAX_ROW_BYTES:
        raise DataError(f"a row of {len(data):,} bytes exceeds the {MAX_ROW_BYTES:,}-byte limit per row")
    return data


def row_bytes(values: list) -> bytes:
    """One row's canonical bytes, all its cells kept (a file's rows also drop its constant columns: `open_rows`)."""
    return _joined([encode(v) for v in values])


# ---------------------------------------------------------------- rows of a file

_INDEX_NAME = re.compile(r"|Unnamed: [0-9]+|__index_level_[0-9]+__")


def is_index_column(name: str) -> bool:
    """pandas' index written as a column: unnamed (to_csv's default), `Unnamed: N` (that file read back), or
    `__index_level_N__` (to_parquet). Row numbers, not data: never part of a row."""
    return bool(_INDEX_NAME.fullmatch(name.strip()))


@dataclass
class RowSource:
    """An opened dataset file: its schema and an iterator over canonical row bytes. `read` counts the file's rows
    as they are read (a file with constant columns yields two row forms per row)."""

    path: Path
    schema: Schema
    rows: Iterator[bytes]
    read: int = 0


Records = Callable[[], Iterator[list]]  # a fresh pass over a file: each row's values in its column order


def _source(path: Path, columns: list[str], source_format: str, records: Records,
            extra: dict | None = None) -> RowSource:
    """The file's rows, pandas' index columns left out; two passes over `records`: constant columns, then rows."""
    keep = [i for i, name in enumerate(columns) if not is_index_column(name)]
    if not keep:
        raise DataError(f"{path}: every column is a pandas index ({columns[:8]}); a dataset needs a data column")
    left_out = [columns[i] for i in range(len(columns)) if i not in keep]
    schema = Schema([columns[i] for i in keep], source_format, dict(extra or {}))
    if left_out:
        schema.extra["index"] = left_out
    source = RowSource(path, schema, iter(()))

    def rows() -> Iterator[bytes]:
        constant = _constant_columns(records(), keep)
        reduced = 0 < len(constant) < len(keep)
        for values in records():
            source.read += 1
            texts = [encode(values[i]) for i in keep]
            yield _joined(texts)
            if reduced:
                yield _joined([t for j, t in enumerate(texts) if j not in constant])

    source.rows = _guarded(path, rows())
    return source


def _constant_columns(records: Iterator[list], keep: list[int]) -> set[int]:
    """Positions (in `keep`) of the columns whose canonical value is the same in every row. Stops reading as soon
    as every column has varied, so a file without constant columns is read a second time only a few rows deep."""
    first: list[str] | None = None
    candidates: set[int] = set()
    for values in records:
        texts = [encode(values[i]) for i in keep]
        if first is None:
            first, candidates = texts, set(range(len(keep)))
            continue
        candidates = {j for j in candidates if texts[j] == first[j]}
        if not candidates:
            break
    if hasattr(records, "close"):
        records.close()  # a generator stopped early closes its file now
    return candidates


def open_rows(path: str | Path) -> RowSource:
    """Open a dataset file for streaming. Every problem is one DataError naming the file and what to do."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            return _csv(path, "\t" if suffix == ".tsv" else None)
        if suffix == ".npy":
            return _npy(path)
        if suffix == ".npz":
            return _npz(path)
        if suffix in (".parquet", ".pq"):
            return _parquet(path)
        if suffix in (".jsonl", ".ndjson", ".json"):
            return _json_lines(path)
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


# ---------------------------------------------------------------- readers


def _text_encoding(path: Path) -> str:
    """UTF-8 (a BOM skipped), or UTF-16/32 when the file starts with their BOM (Excel's and pandas' `encoding=`)."""
    with path.open("rb") as f:
        head = f.read(4)
    for bom, name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                      (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if head.startswith(bom):
            return name
    return "utf-8-sig"


def _delimiter(path: Path, encoding: str) -> str:
    """The delimiter that splits the header and the first row into the most cells, as many in each: a comma,
    unless the file uses semicolons, tabs or bars throughout (a copy re-exported with another delimiter)."""
    with path.open(newline="", encoding=encoding) as f:
        head = f.read(1 << 16)
    best, width = ",", 0
    for candidate in (",", ";", "\t", "|"):
        try:
            records = [r for r in csv.reader(io.StringIO(head), delimiter=candidate) if r][:2]
        except csv.Error:
            continue
        if len(records) == 2 and len(records[0]) == len(records[1]) > width:
            best, width = candidate, len(records[0])
    return best


def _csv(path: Path, delimiter: str | None) -> RowSource:
    encoding = _text_encoding(path)
    delimiter = delimiter or _delimiter(path, encoding)
    with path.open(newline="", encoding=encoding) as handle:
        try:
            header = next(csv.reader(handle, delimiter=delimiter, strict=True))
        except StopIteration:
            raise DataError(f"{path} is empty: a CSV dataset needs a header row and at least one row") from None
        except csv.Error as exc:
            raise DataError(f"{path}: malformed CSV header ({exc})") from None
    named = [h for h in header if not is_index_column(h)]
    if not header or len(set(named)) != len(named):
        raise DataError(f"{path}: the first row must name every column once (got {header[:8]})")

    def records() -> Iterator[list]:
        with path.open(newline="", encoding=encoding) as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            next(reader)
            for record in reader:
                if not record:
                    continue  # a blank line is not a row
                if len(record) != len(header):
                    raise DataError(f"line {reader.line_num} has {len(record)} cells, the header names {len(header)}")
                yield record

    return _source(path, list(header), "csv", records)


def _json_lines(path: Path) -> RowSource:
    """One JSON object a line (pandas' `to_json(orient="records", lines=True)`); the first line names the columns,
    a key missing from a later line is null there."""
    encoding = _text_encoding(path)

    def objects() -> Iterator[tuple[int, dict]]:
        with path.open(encoding=encoding) as handle:
            for line_no, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    raise DataError(f"line {line_no} is not JSON ({exc}); save one object a line, e.g. "
                                    "df.to_json(path, orient='records', lines=True)") from None
                if not isinstance(value, dict):
                    raise DataError(f"line {line_no} is not a JSON object: save one object a row, e.g. "
                                    "df.to_json(path, orient='records', lines=True)")
                yield line_no, value

    lines = objects()
    try:
        first = next(lines, None)
    except DataError as exc:
        raise DataError(f"{path}: {exc}") from None
    finally:
        lines.close()
    if first is None:
        raise DataError(f"{path} holds no rows: a JSON lines dataset needs one object a line")
    columns = list(first[1])

    def records() -> Iterator[list]:
        for line_no, obj in objects():
            extra = obj.keys() - set(columns)
            if extra:
                raise DataError(f"line {line_no} has keys the first line lacks ({sorted(extra)[:4]})")
            yield [obj.get(c) for c in columns]

    return _source(path, columns, "jsonl", records)


def _array_stream(path: Path, handle, name: str) -> tuple[tuple, np.dtype, Iterator[np.ndarray]]:
    """Read an .npy header from a file object and stream its rows in blocks (no pickles, C order)."""
    version = np.lib.format.read_magic(handle)
    shape, fortran, dtype = np.lib.format._read_array_header(handle, version)  # noqa: SLF001 (numpy's own reader)
    if dtype.hasobject:
        raise DataError(f"{path}: array {name!r} holds Python objects (a pickle); save plain numbers or text")
    if len(shape) not in (1, 2) or (dtype.names and len(shape) != 1):
        raise DataError(f"{path}: array {name!r} has shape {shape}; a dataset is 1-D (one value or record a row) "
                        "or 2-D")
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


def _array_columns(name: str, shape: tuple, dtype: np.dtype) -> list[str]:
    """A record array's fields, a 2-D array's columns name0, name1, …, or a 1-D array's one column."""
    if dtype.names:
        return list(dtype.names)
    return [name] if len(shape) == 1 else [f"{name}{i}" for i in range(shape[1])]


def _array_values(block: np.ndarray, i: int) -> list:
    row = block[i]
    if block.dtype.names:
        return [row[0][f] for f in block.dtype.names]
    return list(row)


def _npy(path: Path) -> RowSource:
    with path.open("rb") as handle:
        shape, dtype, _ = _array_stream(path, handle, "array")
    columns = _array_columns("c", shape, dtype)

    def records() -> Iterator[list]:
        with path.open("rb") as handle:
            for block in _array_stream(path, handle, "array")[2]:
                for i in range(block.shape[0]):
                    yield _array_values(block, i)

    return _source(path, columns, "npy", records, {"dtype": str(dtype)})


def _npz(path: Path) -> RowSource:
    """Arrays of equal length side by side (X then y for the usual features/labels pair)."""
    with zipfile.ZipFile(path) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".npy"))
        if not names:
            raise DataError(f"{path}: the archive holds no arrays")
        columns, length = [], None
        for member in names:
            with archive.open(member) as handle:
                shape, dtype, _ = _array_stream(path, handle, member[:-4])
            if length is not None and shape[0] != length:
                raise DataError(f"{path}: arrays differ in length ({member[:-4]!r} has {shape[0]:,} rows, the others "
                                f"{length:,})")
            length = shape[0]
            columns += _array_columns(member[:-4], shape, dtype)

    def records() -> Iterator[list]:
        with zipfile.ZipFile(path) as archive:
            streams = [_array_stream(path, archive.open(m), m[:-4])[2] for m in names]
            for parts in zip(*streams):
                for i in range(parts[0].shape[0]):
                    yield [v for part in parts for v in _array_values(part, i)]

    return _source(path, columns, "npz", records)


def _parquet(path: Path) -> RowSource:
    import pyarrow.parquet as pq

    def opened():
        try:
            return pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises its own ArrowInvalid / ArrowException for a corrupt file
            raise DataError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0][:160]})") from None

    columns = list(opened().schema_arrow.names)

    def records() -> Iterator[list]:
        handle = opened()
        try:
            for batch in handle.iter_batches(batch_size=BLOCK_ROWS):
                data = [_parquet_column(batch.column(i)) for i in range(len(columns))]
                for i in range(batch.num_rows):
                    yield [column[i] for column in data]
        except DataError:
            raise
        except Exception as exc:  # pyarrow's errors for a corrupt page
            raise DataError(f"a Parquet page is unreadable ({str(exc).splitlines()[0][:160]})") from None

    return _source(path, columns, "parquet", records)


def _parquet_column(column) -> list:
    """A Parquet column's values; float32/float16 kept as numpy scalars so they read as pandas writes them."""
    import pyarrow as pa

    if pa.types.is_float32(column.type) or pa.types.is_float16(column.type):
        values = column.to_numpy(zero_copy_only=False)
        nulls = column.is_null().to_numpy(zero_copy_only=False)
        return [None if null else v for v, null in zip(values, nulls)]
    return column.to_pylist()
