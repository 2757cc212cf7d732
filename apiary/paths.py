"""Where the project keeps its tools, and the offline compiler set-up every entry point shares."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOLC_VERSION = "0.8.28"
SOLC_DIR = PROJECT_ROOT / "tools" / "solc"
NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"
# Deployment manifests and per-deployment local state (sealed-bounty secrets, proposals). The environment can
# point them elsewhere (tests against a node they start must not touch a developer's own deployments).
DEPLOYMENTS_DIR = Path(os.environ.get("APIARY_DEPLOYMENTS_DIR") or PROJECT_ROOT / "deployments")
STATE_DIR = Path(os.environ.get("APIARY_STATE_DIR") or PROJECT_ROOT / "build")
# What can be rebuilt from committed files at any time (proving keys, the development SRS): shared by every
# process of a checkout, each entry keyed by what it was built from (apiary/zk/keycache.py).
CACHE_DIR = Path(os.environ.get("APIARY_CACHE_DIR") or PROJECT_ROOT / ".cache")


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write `data` to `path` through a temporary file and a rename: readers never see half a file, and a
    failure leaves the old file (or none) in place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def locked(lock_file: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `lock_file` (created if missing): processes that build the same cached
    thing (a proving key, a proof) take turns, and the later one finds the first one's result."""
    lock_file = Path(lock_file)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_file, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class ToolchainError(RuntimeError):
    """The local toolchain is incomplete; the message says which command fixes it."""


def use_project_toolchain() -> None:
    """Point ape-solidity/py-solc-x at the project's solc-js stand-in and put the npm binaries (anvil) on PATH.

    Never downloads: if the pinned compiler is missing, it says how to install it instead.
    """
    stand_in = SOLC_DIR / f"solc-v{SOLC_VERSION}"
    solcjs = PROJECT_ROOT / "node_modules" / "solc" / "package.json"
    if not stand_in.is_file() or not solcjs.is_file():
        raise ToolchainError(
            f"solc {SOLC_VERSION} (npm package `solc`) is not installed: run `npm ci` in {PROJECT_ROOT}"
        )
    os.environ.setdefault("SOLCX_BINARY_PATH", str(SOLC_DIR))
    path = os.environ.get("PATH", "")
    if str(NODE_BIN) not in path.split(os.pathsep):
        os.environ["PATH"] = f"{NODE_BIN}{os.pathsep}{path}"
