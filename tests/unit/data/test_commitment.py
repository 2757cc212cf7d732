"""Dataset commitments from files: format- and order-independent, bounded memory, one clear error per bad file."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from apiary.data import merkle, rows
from apiary.zk.errors import DataError


@pytest.fixture
def same_table(tmp_path):
    """One table in five files: CSV, shuffled CSV, Parquet (float32 column), .npy, .npz."""
    x = np.array([[1, 0.1, 7], [2, 0.2, 8], [3, 1.0, 9], [4, 2.5, 10]])
    (tmp_path / "t.csv").write_text("a,b,c\n" + "".join(f"{int(r[0])},{r[1]},{int(r[2])}\n" for r in x))
    (tmp_path / "shuffled.csv").write_text("a,b,c\n" + "".join(f"{int(r[0])},{r[1]},{int(r[2])}.0\n" for r in x[::-1]))
    pq.write_table(pa.table({"a": x[:, 0].astype(np.int64), "b": x[:, 1].astype(np.float32), "c": x[:, 2]}),
                   tmp_path / "t.parquet", row_group_size=2)
    np.save(tmp_path / "t.npy", x)
    np.savez(tmp_path / "t.npz", X=x[:, :2], y=x[:, 2].astype(np.int32))
    return tmp_path


def test_commitment__same_rows_in_any_format_or_order__same_root(same_table):
    roots = {name: merkle.commit_file(same_table / name) for name in
             ("t.csv", "shuffled.csv", "t.parquet", "t.npy", "t.npz")}
    assert len({c.root for c in roots.values()}) == 1
    assert all(c.rows == 4 for c in roots.values())
    assert roots["t.csv"].schema_hash == roots["t.parquet"].schema_hash  # same column names


def test_commitment__one_changed_cell__another_root(same_table):
    text = (same_table / "t.csv").read_text().replace("0.2", "0.21")
    (same_table / "changed.csv").write_text(text)
    assert merkle.commit_file(same_table / "changed.csv").root != merkle.commit_file(same_table / "t.csv").root


def test_merkle__every_row_proves_at_its_sorted_position_and_nothing_else_does():
    for n in (1, 2, 3, 5, 8, 13):
        c = merkle.commit_rows(iter([rows.row_bytes([i]) for i in range(n)]), rows.Schema(["a"], "t"))
        assert [bytes(x) for x in c.leaves] == sorted(bytes(x) for x in c.leaves)
        for i, h in enumerate(c.hashes):
            index, siblings = c.proof(bytes(h))
            assert index == i and len(siblings) == merkle.depth(n)
            assert merkle.verify(c.root, bytes(h), (index, siblings))
            assert n == 1 or not merkle.verify(c.root, bytes(h), (index ^ 1, siblings))
            assert not merkle.verify(c.root, bytes(h), (index + (1 << len(siblings)), siblings))
        outsider = merkle.row_hash(rows.row_bytes([n + 1]))
        assert not c.contains(outsider)
        with pytest.raises(DataError, match="not in this dataset"):
            c.proof(outsider)
        if n > 1:  # a leaf or an inner node passed as a row never verifies
            h = bytes(c.hashes[0])
            index, path = c.proof(h)
            assert not merkle.verify(c.root, merkle.leaf(h), (index, path))
            assert not merkle.verify(c.root, merkle.node(merkle.leaf(h), path[0]), (index >> 1, path[1:]))
            assert not merkle.verify(c.root, merkle.EMPTY, (n, path)) if n < (1 << len(path)) else True


def test_cells__one_function_of_the_value_for_text_and_typed_cells():
    assert rows.row_bytes(["1", "1.0", "0.10", "abc", "", " 2 ", "1e3", "nan", "-0"]) == \
        b'["abc",0,0.1,1,1,1000,2,null,null]'  # the cells sorted: a row has no column order
    assert rows.cell(np.float32(0.1)) == 0.1 and rows.cell(np.float64(np.nan)) is None
    assert rows.cell(float("inf")) == "inf" and rows.cell(np.int8(-3)) == -3 and rows.cell(b"\x01") == "0x01"
    assert rows.cell(2**60) == rows.cell(str(2**60)) == 2**60  # beyond 2^53: exact, as text or as a number


@pytest.mark.parametrize("name,content,message", [
    ("empty.csv", "", "is empty"),
    ("header.csv", "a,b\n", "holds no rows"),
    ("ragged.csv", "a,b\n1,2\n3\n", "line 3 has 1 cells, the header names 2"),
    ("dupcols.csv", "a,a\n1,2\n", "name every column once"),
    ("bad.parquet", "not parquet", "not a readable Parquet file"),
    ("data.xlsx", "x", "unknown data format"),
    ("quote.csv", 'a,b\n"1,2\n', "unreadable|line"),
    ("index.csv", ",Unnamed: 1\n0,1\n", "every column is a pandas index"),
    ("empty.jsonl", "\n", "holds no rows"),
    ("array.jsonl", '{"a": 1}\n[1]\n', "line 2 is not a JSON object"),
    ("broken.jsonl", '{"a": 1}\n{"a":\n', "line 2 is not JSON"),
    ("extra.jsonl", '{"a": 1}\n{"a": 2, "b": 3}\n', "line 2 has keys the first line lacks"),
])
def test_bad_files__one_clear_error(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DataError, match=message) as err:
        merkle.commit_file(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_bad_arrays__pickles_truncation_shapes_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="Python objects"):
        merkle.commit_file(tmp_path / "obj.npy")
    np.save(tmp_path / "cube.npy", np.zeros((2, 2, 2)))
    with pytest.raises(DataError, match="shape"):
        merkle.commit_file(tmp_path / "cube.npy")
    np.save(tmp_path / "full.npy", np.arange(20000, dtype=np.int64).reshape(-1, 2))
    data = (tmp_path / "full.npy").read_bytes()
    (tmp_path / "cut.npy").write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated"):
        merkle.commit_file(tmp_path / "cut.npy")
    np.savez(tmp_path / "ragged.npz", X=np.zeros((3, 2)), y=np.zeros(4))
    with pytest.raises(DataError, match="differ in length"):
        merkle.commit_file(tmp_path / "ragged.npz")
    (tmp_path / "zip.npz").write_bytes(b"PK not a zip")
    with pytest.raises(DataError, match="cannot read"):
        merkle.commit_file(tmp_path / "zip.npz")
    with zipfile.ZipFile(tmp_path / "none.npz", "w") as z:
        z.writestr("readme.txt", "no arrays")
    with pytest.raises(DataError, match="no arrays"):
        merkle.commit_file(tmp_path / "none.npz")


def test_oversized__row_and_row_count_limits(tmp_path, monkeypatch):
    (tmp_path / "wide.csv").write_text("a\n" + "x" * (rows.MAX_ROW_BYTES + 10) + "\n")
    with pytest.raises(DataError, match="wide.csv"):
        merkle.commit_file(tmp_path / "wide.csv")
    monkeypatch.setattr(rows, "MAX_ROWS", 5)
    np.save(tmp_path / "many.npy", np.arange(6))
    with pytest.raises(DataError, match="more than 5 rows"):
        merkle.commit_file(tmp_path / "many.npy")


def test_schema__column_names_committed(tmp_path):
    (tmp_path / "a.csv").write_text("x,y\n1,2\n")
    (tmp_path / "b.csv").write_text("x,z\n1,2\n")
    a, b = merkle.commit_file(tmp_path / "a.csv"), merkle.commit_file(tmp_path / "b.csv")
    assert a.root == b.root and a.schema_hash != b.schema_hash
    assert json.loads(a.schema.canonical()) == {"columns": ["x", "y"]}
