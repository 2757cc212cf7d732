"""Publishable test data: a compact binary encoding of a whole test set, its hash, and checking it against
revealed chunk commitments (how a prover catches a sponsor who published falsified data)."""

from __future__ import annotations

import json
import re
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from apiary.zk import models, pipeline, testdata
from apiary.zk.errors import DataError


def _same(a, b) -> bool:
    return len(a) == len(b) and all(
        x1.dtype == np.int64 and y1.dtype == np.int64 and x1.shape == x2.shape and y1.shape == y2.shape
        and np.array_equal(x1, x2) and np.array_equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))


@st.composite
def integer_test_sets(draw):
    chunks = draw(st.integers(1, 4))
    samples = draw(st.integers(1, 12))
    features = draw(st.integers(1, 10))
    bits = draw(st.sampled_from([7, 8, 15, 16, 31, 32, 63]))
    values = st.integers(-(2**bits), 2**bits - 1) if bits < 63 else st.integers(-(2**63), 2**63 - 1)
    label_values = draw(st.sampled_from([st.integers(0, 9), st.integers(-(2**40), 2**40), values]))
    dtype = draw(st.sampled_from([np.int64, np.int32, np.int16, np.int8])) if bits <= 7 else np.int64
    return [(draw(hnp.arrays(dtype, (samples, features), elements=values)),
             draw(hnp.arrays(np.int64, (samples,), elements=label_values)))
            for _ in range(chunks)]


@settings(max_examples=300, deadline=None)
@given(integer_test_sets())
def test_testdata__decode_inverts_encode(chunks):
    data = testdata.encode(chunks)
    assert _same(testdata.decode(data), [(np.asarray(x, np.int64), np.asarray(y, np.int64)) for x, y in chunks])
    assert testdata.encode(chunks) == data  # deterministic
    assert data[:5] == b"APYT\x01"


@settings(max_examples=100, deadline=None)
@given(integer_test_sets())
def test_testdata__smallest_width_that_fits(chunks):
    data = testdata.encode(chunks)
    x = np.concatenate([c[0] for c in chunks]).astype(np.int64)
    wx = data[17]
    assert -(2 ** (8 * wx - 1)) <= x.min() and x.max() < 2 ** (8 * wx - 1)
    if wx > 1:
        narrower = wx // 2
        assert not (-(2 ** (8 * narrower - 1)) <= x.min() and x.max() < 2 ** (8 * narrower - 1))


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_testdata__random_bytes_raise_only_data_error(data):
    for candidate in (data, b"APYT\x01" + data, testdata.HEADER.pack(b"APYT", 1, 1, 2, 3, 1, 1) + data):
        try:
            testdata.decode(candidate)
        except DataError as exc:
            assert "\n" not in str(exc)


@settings(max_examples=300, deadline=None)
@given(integer_test_sets(), st.data())
def test_testdata__mutated_encodings_raise_only_data_error(chunks, data):
    encoded = bytearray(testdata.encode(chunks))
    kind = data.draw(st.sampled_from(["flip", "cut", "append", "splice"]))
    if kind == "flip":
        i = data.draw(st.integers(0, len(encoded) - 1))
        encoded[i] ^= 1 << data.draw(st.integers(0, 7))
    elif kind == "cut":
        encoded = encoded[: data.draw(st.integers(0, len(encoded) - 1))]
    elif kind == "append":
        encoded += data.draw(st.binary(min_size=1, max_size=20))
    else:
        i = data.draw(st.integers(0, len(encoded)))
        encoded[i:i] = data.draw(st.binary(min_size=1, max_size=8))
    try:
        testdata.decode(bytes(encoded))
    except DataError as exc:
        assert "\n" not in str(exc)


def _header(chunks=1, samples=2, features=3, wx=1, wy=1, magic=b"APYT", version=1) -> bytes:
    return testdata.HEADER.pack(magic, version, chunks, samples, features, wx, wy)


def test_testdata__malformed_inputs_each_say_what_is_wrong():
    good = testdata.encode([(np.arange(6).reshape(2, 3), np.array([0, 1]))])
    payload = good[testdata.HEADER.size :]
    cases = {
        b"": "truncated",
        b"APY": "truncated",
        b"XXXX" + good[4:]: "bad magic",
        _header(version=2) + payload: "version 2 is not supported",
        _header(chunks=0) + payload: "none may be 0",
        _header(wx=3) + payload: "must be 1, 2, 4 or 8",
        good[:-1]: "truncated",
        good[: testdata.HEADER.size + 2]: "truncated",
        good + b"\x00": "1 trailing bytes",
        good + zlib.compress(b"more"): "trailing bytes",
        _header(samples=1) + payload: "more than the 4 bytes its header declares",
        _header(samples=3) + payload: "holds 8 bytes of values; its header declares 12",
        _header() + b"not zlib at all": "corrupt",
    }
    for data, expected in cases.items():
        with pytest.raises(DataError, match=re.escape(expected)):
            testdata.decode(data)
    with pytest.raises(DataError, match="must be bytes"):
        testdata.decode("APYT")


def test_testdata__decompression_bomb_is_refused_before_allocating():
    # Declared sizes beyond the cap: refused from the header alone.
    with pytest.raises(DataError, match="over the"):
        testdata.decode(_header(chunks=2**32 - 1, samples=2**32 - 1, features=2**32 - 1, wx=8, wy=8) + b"x")
    # A small header in front of a stream that inflates to 64 MiB: only the declared bytes (+1) are inflated.
    bomb = zlib.compress(bytes(64 * 2**20), 9)
    assert len(bomb) < 100_000
    with pytest.raises(DataError, match="more than the 8 bytes"):
        testdata.decode(_header() + bomb)
    # A well-formed header declaring just over the cap.
    cap = testdata.MAX_DECODED_BYTES
    with pytest.raises(DataError, match="over the"):
        testdata.decode(_header(chunks=1, samples=cap // 8 + 1, features=7, wx=1, wy=1) + bomb)


def test_testdata__encode_refuses_what_it_cannot_represent():
    x, y = np.zeros((2, 3), np.int64), np.zeros(2, np.int64)
    cases = {
        "at least one chunk": [],
        "integer array": [(x.astype(float), y)],
        "2 dimensions": [(x.ravel(), y)],
        "1 dimension": [(x, x)],
        "3 labels": [(x, np.zeros(3, np.int64))],
        "one shape": [(x, y), (np.zeros((2, 4), np.int64), y)],
        "empty": [(np.zeros((0, 3), np.int64), np.zeros(0, np.int64))],
        "beyond 64-bit": [(np.full((2, 3), 2**63, np.uint64), y)],
        "not a (features, labels) pair": [x],
    }
    for expected, chunks in cases.items():
        with pytest.raises(DataError, match=re.escape(expected)):
            testdata.encode(chunks)
    with pytest.raises(DataError, match="integer array"):
        testdata.encode([(x.astype(bool), y)])


def test_testdata__format_is_what_the_docstring_says():
    x = np.array([[1, -2, 300], [4, 5, 6]])
    y = np.array([1, 0])
    data = testdata.encode([(x, y)])
    magic, version, chunks, samples, features, wx, wy = struct.unpack_from("<4sBIIIBB", data)
    assert (magic, version, chunks, samples, features, wx, wy) == (b"APYT", 1, 1, 2, 3, 2, 1)
    raw = zlib.decompress(data[19:])
    assert raw == x.astype("<i2").tobytes() + y.astype("<i1").tobytes()
    from eth_utils import keccak

    assert testdata.data_hash(data) == keccak(data)


def test_testdata__digits_test_sets_round_trip_and_stay_small():
    ds = models.load_dataset("digits")
    sizes = {}
    for k in (1, 2, 4):
        chunks = models.test_chunks(ds, 64, k)
        data = testdata.encode(chunks)
        assert _same(testdata.decode(data), chunks)
        sizes[k] = len(data)
    assert sizes[1] < 1800 and sizes[4] < 4 * 1800  # raw values are 64·65 bytes per chunk


def test_testdata__published_data_checked_against_revealed_commitments(iris_circuit, iris_chunks):
    revealed = [pipeline.chunk_commitment(iris_circuit, *chunk) for chunk in iris_chunks]
    published = testdata.decode(testdata.encode(iris_chunks))
    assert testdata.check_against_commitments(iris_circuit, published, revealed) == []

    # One label changed, one chunk swapped, one missing, one of the wrong shape: each index is reported.
    x1, y1 = published[1]
    forged = [published[0], (x1, (y1 + 1) % 3)]
    assert testdata.check_against_commitments(iris_circuit, forged, revealed) == [1]
    assert testdata.check_against_commitments(iris_circuit, published[::-1], revealed) == [0, 1]
    assert testdata.check_against_commitments(iris_circuit, published[:1], revealed) == [1]
    assert testdata.check_against_commitments(iris_circuit, published, revealed[:1]) == [1]
    wrong_shape = [(published[0][0][:, :2], published[0][1]), published[1]]
    assert testdata.check_against_commitments(iris_circuit, wrong_shape, revealed) == [0]
    out_of_range = [(published[0][0], published[0][1] + 5), published[1]]
    assert testdata.check_against_commitments(iris_circuit, out_of_range, revealed) == [0]


def _cli(*args):
    return subprocess.run([sys.executable, "-c", "from apiary.cli import run; run()", *args],
                          capture_output=True, text=True, timeout=300)


def test_cli__testset_writes_data_and_recomputes_commitments_from_it(iris_circuit, iris_chunks, tmp_path):
    data_file = tmp_path / "test.apyt"
    written = _cli("zk", "testset", str(iris_circuit.root), "--chunks", "2", "--data-out", str(data_file))
    assert written.returncode == 0, written.stderr
    body = json.loads(written.stdout)
    data = data_file.read_bytes()
    expected = [pipeline.chunk_commitment(iris_circuit, *chunk) for chunk in iris_chunks]
    assert body["chunks"] == ["0x" + c.hex() for c in expected]
    assert body["test_data_hash"] == "0x" + testdata.data_hash(data).hex()
    assert body["test_data_bytes"] == len(data)
    assert body["test_set_commitment"] == "0x" + pipeline.test_set_commitment(expected, testdata.data_hash(data)).hex()

    read = _cli("zk", "testset", str(iris_circuit.root), "--from-data", str(data_file))
    assert read.returncode == 0, read.stderr
    assert {k: v for k, v in json.loads(read.stdout).items() if k != "test_data"} == \
           {k: v for k, v in body.items() if k != "test_data"}

    # A falsified file: its commitments differ from the revealed ones, and its hash from the committed one.
    forged = iris_chunks[0][0].copy()
    forged[0, 0] += 1
    forged_file = tmp_path / "forged.apyt"
    forged_file.write_bytes(testdata.encode([(forged, iris_chunks[0][1]), iris_chunks[1]]))
    recomputed = json.loads(_cli("zk", "testset", str(iris_circuit.root), "--from-data", str(forged_file)).stdout)
    assert recomputed["chunks"][0] != body["chunks"][0] and recomputed["chunks"][1] == body["chunks"][1]
    assert recomputed["test_data_hash"] != body["test_data_hash"]


@pytest.mark.parametrize("content,expected", [
    (b"", "truncated"),
    (b"\x89PNG\r\n\x1a\n" + bytes(40), "bad magic"),
    (testdata.HEADER.pack(b"APYT", 1, 1, 8, 4, 1, 1) + b"\x78\x9c garbage", "corrupt"),
    (testdata.encode([(np.zeros((8, 3), np.int64), np.zeros(8, np.int64))]), "chunk 0: chunk features have shape (8, 3)"),
])
def test_cli__testset_from_malformed_data__one_line_error(iris_circuit, tmp_path, content, expected):
    path = tmp_path / "data.apyt"
    path.write_bytes(content)
    result = _cli("zk", "testset", str(iris_circuit.root), "--from-data", str(path))
    assert result.returncode == 1 and result.stdout == ""
    assert expected in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
