"""The dataset commitment: a Merkle root over a dataset's distinct row hashes that does not depend on row order.

    row hash  h    = keccak256(row bytes)                    (apiary/data/rows.py: canonical bytes)
    leaf      L(h) = keccak256(0x00 ‖ h)
    node      N    = keccak256(0x01 ‖ left ‖ right)

The distinct leaves (a row repeated in one file is one row of the set) are **sorted ascending** — so the root
does not depend on row order — and laid out as a complete binary tree of depth d = ⌈log₂ n⌉, padded on the
right with EMPTY (zero) leaves. A proof is the leaf's position and its d siblings; positions matter because a
licence dispute shows that piece i of a delivered file is not leaf i (the sorted order makes "leaf i" a fact
about the data, not about the file). Leaves and inner nodes hash different prefixes, so neither can be
presented as the other (no second preimages); a challenger gives the row hash h, never a leaf, and EMPTY is no
leaf of any row. `contracts/data/RowMerkle.sol` checks the same proofs on chain.

Memory: 64 bytes per distinct row (sorted leaves and their row hashes) plus one level at a time when proving.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from eth_hash.auto import keccak

from ..zk.errors import DataError
from . import rows as rows_mod

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"


def row_hash(data: bytes) -> bytes:
    return keccak(data)


def leaf(h: bytes) -> bytes:
    return keccak(LEAF_PREFIX + h)


EMPTY = b"\x00" * 32


def node(left: bytes, right: bytes) -> bytes:
    return keccak(NODE_PREFIX + left + right)


def depth(n: int) -> int:
    """Levels above the leaves of a tree of n leaves: ⌈log₂ n⌉ (0 for one leaf)."""
    return max(n - 1, 0).bit_length()


def _sorted_unique(leaves: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort 32-byte leaves bytewise (as four big-endian words), drop repeats; row hashes follow their leaves."""
    words = leaves.view(">u8").reshape(-1, 4)
    order = np.lexsort(words.T[::-1])
    out, rows = leaves[order], hashes[order]
    if len(out) > 1:
        keep = np.ones(len(out), dtype=bool)
        keep[1:] = np.any(out[1:] != out[:-1], axis=1)
        out, rows = out[keep], rows[keep]
    return out, rows


def _parent_level(level: list[bytes]) -> list[bytes]:
    if len(level) % 2:
        level = level + [EMPTY]
    return [node(level[i], level[i + 1]) for i in range(0, len(level), 2)]


def _padded(level: list[bytes]) -> list[bytes]:
    return level + [EMPTY] * ((1 << depth(len(level))) - len(level))


@dataclass
class Commitment:
    """A dataset's commitment and the sorted distinct leaves it was built from."""

    root: bytes
    rows: int  # distinct rows (what is committed)
    rows_read: int  # rows in the file, repeats included
    schema: rows_mod.Schema
    schema_hash: bytes
    leaves: np.ndarray  # (rows, 32) uint8, sorted
    hashes: np.ndarray  # (rows, 32) uint8: the row hash of each leaf, in leaf order

    def index_of(self, h: bytes) -> int:
        """Position of row hash `h`'s leaf among the sorted leaves; DataError if the dataset lacks that row."""
        target = np.frombuffer(leaf(h), dtype=np.uint8)
        words = self.leaves.view(">u8").reshape(-1, 4)
        key = tuple(int(w) for w in target.view(">u8"))
        lo, hi = 0, len(words)
        while lo < hi:  # bytewise binary search over the sorted leaves
            mid = (lo + hi) // 2
            if tuple(int(w) for w in words[mid]) < key:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(words) and np.array_equal(self.leaves[lo], target):
            return lo
        raise DataError(f"row {h.hex()} is not in this dataset")

    def contains(self, h: bytes) -> bool:
        try:
            self.index_of(h)
        except DataError:
            return False
        return True

    def proof(self, h: bytes) -> tuple[int, list[bytes]]:
        """(position, sibling hashes from row `h`'s leaf up to the root): RowMerkle.contains."""
        index = self.index_of(h)
        return index, self.proof_at(index)

    def proof_at(self, index: int) -> list[bytes]:
        """Siblings of the leaf at `index` (sorted position), bottom up."""
        return proof_at([bytes(x) for x in self.leaves], index)


def root_of(sorted_leaves: Iterable[bytes]) -> bytes:
    level = list(sorted_leaves)
    if not level:
        raise DataError("a dataset needs at least one row")
    level = _padded(level)
    while len(level) > 1:
        level = _parent_level(level)
    return level[0]


def proof_at(leaves: list[bytes], index: int) -> list[bytes]:
    """Siblings of leaf `index` of the padded tree over `leaves` (any leaf values, in the given order)."""
    if not 0 <= index < len(leaves):
        raise DataError(f"position {index} is outside the {len(leaves)} leaves")
    level = _padded(list(leaves))
    path: list[bytes] = []
    while len(level) > 1:
        path.append(level[index ^ 1])
        level = _parent_level(level)
        index //= 2
    return path


def root_from(leaf_value: bytes, index: int, siblings: list[bytes]) -> bytes:
    acc = leaf_value
    for sibling in siblings:
        acc = node(sibling, acc) if index & 1 else node(acc, sibling)
        index >>= 1
    return acc


def verify(root: bytes, h: bytes, proof: tuple[int, list[bytes]]) -> bool:
    """Row hash `h` sits at the proof's position in the tree of `root` (position beyond the path: no)."""
    index, siblings = proof
    return index >> len(siblings) == 0 and root_from(leaf(h), index, siblings) == root


def schema_hash(schema: rows_mod.Schema) -> bytes:
    return keccak(schema.canonical())


def commit_rows(row_iter: Iterable[bytes], schema: rows_mod.Schema, *, what: str = "dataset",
                progress: Callable[[int], None] | None = None) -> Commitment:
    chunks: list[np.ndarray] = []
    hash_chunks: list[np.ndarray] = []
    buffer, hash_buffer = bytearray(), bytearray()
    count = 0

    def flush() -> None:
        chunks.append(np.frombuffer(bytes(buffer), dtype=np.uint8).reshape(-1, 32))
        hash_chunks.append(np.frombuffer(bytes(hash_buffer), dtype=np.uint8).reshape(-1, 32))
        buffer.clear()
        hash_buffer.clear()

    for data in row_iter:
        h = row_hash(data)
        hash_buffer += h
        buffer += leaf(h)
        count += 1
        if count > rows_mod.MAX_ROWS:
            raise DataError(f"{what} has more than {rows_mod.MAX_ROWS:,} rows; split it into several datasets")
        if len(buffer) >= 32 * 65536:
            flush()
            if progress:
                progress(count)
    if count == 0:
        raise DataError(f"{what} holds no rows: a dataset needs at least one")
    if buffer:
        flush()
    leaves, hashes = _sorted_unique(np.concatenate(chunks), np.concatenate(hash_chunks))
    return Commitment(root_of(bytes(x) for x in leaves), len(leaves), count, schema, schema_hash(schema), leaves, hashes)


def shared_rows(a: Commitment, b: Commitment, limit: int | None = None) -> list[bytes]:
    """Row hashes present in both datasets, ascending (the order a duplicate challenge lists them in)."""
    common = set(bytes(x) for x in a.hashes).intersection(bytes(x) for x in b.hashes)
    return sorted(common)[:limit]


def commit_file(path: str | Path, *, progress: bool = False) -> Commitment:
    """Stream a dataset file and commit to its rows; with `progress`, report on stderr every 65,536 rows."""
    source = rows_mod.open_rows(path)
    started = time.monotonic()

    def report(n: int) -> None:
        print(f"  {n:,} rows hashed ({n / max(time.monotonic() - started, 1e-9):,.0f} rows/s)", file=sys.stderr)

    c = commit_rows(source.rows, source.schema, what=str(path), progress=report if progress else None)
    c.rows_read = source.read  # the file's rows: one with constant columns yields two row forms each
    return c
