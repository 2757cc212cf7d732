"""Test data that can be published on chain: a compact, versioned binary encoding of a whole test set.

A sealed bounty's sponsor publishes its test data at reveal, and the sealed commitment binds it by
``keccak256(testData)`` (`data_hash`). A prover decodes the published bytes (`decode`), recomputes each chunk's
commitment and compares it with the revealed chunk commitments (`check_against_commitments`): a chunk whose
data does not open its commitment shows that the sponsor published falsified data.

Format, version 1 (all integers little-endian)::

    offset  size  field
    0       4     magic  b"APYT"
    4       1     version = 1
    5       4     C  chunks              uint32, >= 1
    9       4     S  samples per chunk   uint32, >= 1
    13      4     F  features per sample uint32, >= 1
    17      1     WX bytes per feature value: 1, 2, 4 or 8
    18      1     WY bytes per label value:   1, 2, 4 or 8
    19      ...   one zlib stream (RFC 1950, compression level 9), to the very end of the data, of
                    X: C·S·F signed WX-byte integers: chunk 0's features row by row (sample-major), chunk 1, …
                    Y: C·S   signed WY-byte integers: chunk 0's labels, chunk 1, …

Values are the integers that enter the circuit (`pipeline.chunk_input`): features as they are, labels as class
indices (the circuit one-hot encodes them) or, for regression, integer targets. `encode` picks the smallest
signed width that holds every value of X (resp. Y). The decompressed size must be exactly
``C·S·(F·WX + WY)`` bytes, at most `MAX_DECODED_BYTES` (16 MiB) and `MAX_VALUES` values; `decode` checks the declared sizes before it
allocates anything and refuses trailing bytes. Encoding is deterministic for the same input and the same zlib
build; nobody needs to re-encode, though: the hash binds the published bytes, and the chunk commitments bind
the values they decode to.
"""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

import numpy as np

from .errors import DataError

if TYPE_CHECKING:
    from pathlib import Path

    from .pipeline import Circuit

MAGIC = b"APYT"
VERSION = 1
HEADER = struct.Struct("<4sBIIIBB")
WIDTHS = {1: np.dtype("<i1"), 2: np.dtype("<i2"), 4: np.dtype("<i4"), 8: np.dtype("<i8")}
MAX_DECODED_BYTES = 16 * 2**20
MAX_VALUES = 2**22  # decoded as int64: at most 32 MiB in memory
COMPRESSION_LEVEL = 9

Chunk = tuple[np.ndarray, np.ndarray]


def _width(values: np.ndarray) -> int:
    low, high = int(values.min()), int(values.max())
    for width in WIDTHS:
        bound = 1 << (8 * width - 1)
        if -bound <= low and high < bound:
            return width
    raise DataError(f"values {low}..{high} do not fit in 64-bit signed integers")


def _integers(value, what: str, ndim: int) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"{what} must be an integer array, not {array.dtype}")
    if array.ndim != ndim:
        raise DataError(f"{what} must have {ndim} dimension{'s' if ndim > 1 else ''}, not shape {array.shape}")
    if array.dtype == np.uint64 and array.size and int(array.max()) >= 2**63:
        raise DataError(f"{what} has values beyond 64-bit signed integers")
    return array.astype(np.int64)


def encode(chunks: list[Chunk]) -> bytes:
    """The whole test set, chunks in order, in the format above. Refuses (DataError) ragged or non-integer data."""
    if not isinstance(chunks, (list, tuple)) or not chunks:
        raise DataError("a test set needs at least one chunk")
    xs, ys = [], []
    for i, chunk in enumerate(chunks):
        if not isinstance(chunk, (tuple, list)) or len(chunk) != 2:
            raise DataError(f"chunk {i} is not a (features, labels) pair")
        features, labels = chunk
        xs.append(_integers(features, f"chunk {i} features", 2))
        ys.append(_integers(labels, f"chunk {i} labels", 1))
        if xs[i].shape[0] != ys[i].shape[0]:
            raise DataError(f"chunk {i}: {xs[i].shape[0]} feature rows but {ys[i].shape[0]} labels")
        if xs[i].shape != xs[0].shape:
            raise DataError(f"chunk {i} has shape {xs[i].shape}, chunk 0 {xs[0].shape}: chunks must have one shape")
    samples, features = xs[0].shape
    if samples < 1 or features < 1:
        raise DataError(f"chunks of shape {xs[0].shape} are empty")
    if len(chunks) >= 2**32 or samples >= 2**32 or features >= 2**32:
        raise DataError("test set dimensions must each be below 2^32")
    x, y = np.concatenate(xs), np.concatenate(ys)
    wx, wy = _width(x), _width(y)
    size = len(chunks) * samples * (features * wx + wy)
    if size > MAX_DECODED_BYTES or x.size + y.size > MAX_VALUES:
        raise DataError(f"test set of {x.size + y.size:,} values ({size:,} bytes) exceeds what a decoder accepts "
                        f"({MAX_VALUES:,} values, {MAX_DECODED_BYTES:,} bytes)")
    raw = x.astype(WIDTHS[wx]).tobytes() + y.astype(WIDTHS[wy]).tobytes()
    return HEADER.pack(MAGIC, VERSION, len(chunks), samples, features, wx, wy) + zlib.compress(raw, COMPRESSION_LEVEL)


def decode(data: bytes) -> list[Chunk]:
    """Chunks (int64 features of shape (S, F), int64 labels of shape (S,)) of encoded test data.

    Anything malformed raises DataError with one line saying what is wrong; nothing larger than the header's
    declared (and capped) size is ever allocated or decompressed."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DataError(f"test data must be bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) < HEADER.size:
        if not MAGIC.startswith(data[:4]):
            raise DataError("not Apiary test data (bad magic)")
        raise DataError(f"test data truncated: {len(data)} bytes, the header alone is {HEADER.size}")
    magic, version, count, samples, features, wx, wy = HEADER.unpack_from(data)
    if magic != MAGIC:
        raise DataError("not Apiary test data (bad magic)")
    if version != VERSION:
        raise DataError(f"test data format version {version} is not supported (this tool reads version {VERSION})")
    if min(count, samples, features) < 1:
        raise DataError(f"test data declares {count} chunks × {samples} samples × {features} features: none may be 0")
    if wx not in WIDTHS or wy not in WIDTHS:
        raise DataError(f"test data declares value widths {wx} and {wy} bytes: each must be 1, 2, 4 or 8")
    x_bytes = count * samples * features * wx
    expected = x_bytes + count * samples * wy
    if expected > MAX_DECODED_BYTES or count * samples * (features + 1) > MAX_VALUES:
        raise DataError(f"test data declares {count * samples * (features + 1):,} values ({expected:,} bytes), over "
                        f"the {MAX_VALUES:,} values and {MAX_DECODED_BYTES:,} bytes accepted")
    stream = zlib.decompressobj()
    try:
        raw = stream.decompress(data[HEADER.size :], expected)
        if len(raw) == expected and not stream.eof and stream.decompress(stream.unconsumed_tail, 1):
            raise DataError(f"test data decompresses to more than the {expected:,} bytes its header declares")
    except zlib.error as exc:
        raise DataError(f"test data is corrupt: {exc}") from None
    if not stream.eof:
        raise DataError("test data truncated: the compressed values end early")
    if stream.unused_data:
        raise DataError(f"test data has {len(stream.unused_data)} trailing bytes after its values")
    if len(raw) != expected:
        raise DataError(f"test data holds {len(raw):,} bytes of values; its header declares {expected:,}")
    x = np.frombuffer(raw, dtype=WIDTHS[wx], count=count * samples * features).astype(np.int64)
    y = np.frombuffer(raw, dtype=WIDTHS[wy], offset=x_bytes).astype(np.int64)
    x = x.reshape(count, samples, features)
    y = y.reshape(count, samples)
    return [(x[i].copy(), y[i].copy()) for i in range(count)]


def data_hash(data: bytes) -> bytes:
    """keccak256 of the encoded test data: what a sealed bounty's commitment binds."""
    from eth_utils import keccak

    return keccak(bytes(data))


def check_against_commitments(circuit: "Circuit", chunks: list[Chunk], commitments: list[bytes],
                              srs_path: "Path | None" = None) -> list[int]:
    """Indices of the chunks whose data does not open the revealed chunk commitment at the same index.

    A chunk that the circuit cannot take (wrong shape, a label out of range) and a commitment without a chunk
    (or a chunk without a commitment) count as mismatches: each index listed is evidence of falsified or
    withheld test data. An empty list means every revealed chunk can be proved against."""
    from . import pipeline

    bad = []
    for i in range(max(len(chunks), len(commitments))):
        if i >= len(chunks) or i >= len(commitments):
            bad.append(i)
            continue
        try:
            ok = pipeline.chunk_commitment(circuit, *chunks[i], srs_path) == bytes(commitments[i])
        except DataError:
            ok = False
        if not ok:
            bad.append(i)
    return bad
