"""Proving keys and compiled circuits as a cache that several processes share safely.

A built-in circuit's build outputs live in `.cache/zk/<circuit-id>-<manifest sha256 prefix>/`: keyed by the
manifest, so a rebuilt circuit (new keys, new manifest) never picks up the old proving key, and two checkouts or
branches with different builds of one circuit keep theirs apart. A folder made by `apiary zk import` keeps them
in its own `.build/` (they move with the folder); both are managed the same way:

  * one builder at a time: `exclusive(build)` holds an advisory lock on `build/.lock`, so parallel test workers
    or two commands started together build a key once and the second one waits and reuses it;
  * a record of what was built: `keys.json` holds the size and sha256 of `pk.key` and `reference.compiled` and
    the sha256 of the verifying key they belong to; `state(build, vk_sha)` checks it (sizes always, contents once
    per process), so a truncated or corrupted file is detected and rebuilt instead of failing inside a proof.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..paths import locked, write_atomic
from .srs import sha256_file

RECORD = "keys.json"
FILES = ("pk.key", "reference.compiled")

# (path, size, mtime_ns) of files whose sha256 this process has checked: a 600 MB proving key is hashed once.
_checked: set[tuple[str, int, int]] = set()


def _identity(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


@contextmanager
def exclusive(build: Path) -> Iterator[None]:
    """Hold the build folder's lock: one process builds its keys while the others wait for them."""
    with locked(build / ".lock"):
        yield


def record(build: Path, vk_sha: str) -> None:
    """Write keys.json for the keys just built into `build` (after they are complete and in place)."""
    entries = {}
    for name in FILES:
        path = build / name
        entries[name] = {"size": path.stat().st_size, "sha256": sha256_file(path)}
        _checked.add(_identity(path))
    write_atomic(build / RECORD, json.dumps({"vk_sha256": vk_sha, "files": entries}, indent=2, sort_keys=True) + "\n")


def state(build: Path, vk_sha: str) -> str:
    """'valid', 'missing' (never built, or built for another verifying key) or 'corrupt: <why>'."""
    try:
        body = json.loads((build / RECORD).read_text())
    except FileNotFoundError:
        return "missing"
    except (OSError, ValueError):
        return f"corrupt: {RECORD} is unreadable"
    if body.get("vk_sha256") != vk_sha:
        return "missing"
    for name in FILES:
        path, expected = build / name, body.get("files", {}).get(name, {})
        if not path.is_file():
            return f"corrupt: {name} is missing"
        identity = _identity(path)
        if identity[1] != expected.get("size"):
            return f"corrupt: {name} has {identity[1]:,} bytes, {expected.get('size')} were written"
        if identity not in _checked:
            if sha256_file(path) != expected.get("sha256"):
                return f"corrupt: {name} does not match its recorded sha256"
            _checked.add(identity)
    return "valid"


def discard(build: Path) -> None:
    """Remove a build folder's keys and record (before a rebuild); the lock file stays."""
    for name in (RECORD, *FILES):
        (build / name).unlink(missing_ok=True)


def temporary(build: Path, name: str) -> Path:
    """A scratch path in `build` that no other process uses (ezkl writes there; a rename puts it in place)."""
    return build / f".{name}.{os.getpid()}.tmp"
