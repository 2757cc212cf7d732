"""The commitment tooling's hashing rate and peak memory on a generated CSV, measured in a fresh process (its
peak resident memory is its own). Used by `ape run bench_data`."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from . import merkle


def _peak_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return 0


def _hash_in_child(path: str, queue) -> None:
    start = time.perf_counter()
    c = merkle.commit_file(path)
    queue.put((time.perf_counter() - start, _peak_mb(), c.rows))


def hashing_rate(rows: int, work: Path) -> tuple[float, int, int, int]:
    """(seconds, peak MB, distinct rows, file bytes) of committing a generated CSV of `rows` rows."""
    path = Path(work) / "rows.csv"
    with path.open("w") as f:
        f.write("id,sensor,reading,label\n")
        for i in range(rows):
            f.write(f"{i},s{i % 97},{(i * 7919) % 100003 / 1000},c{i % 10}\n")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_hash_in_child, args=(str(path), queue))
    child.start()
    seconds, peak, n = queue.get()
    child.join()
    return seconds, peak, n, path.stat().st_size
