"""Deployment manifests: what was deployed where, with which parameters, written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


def write_manifest(path: Path, network: str, chain_id: int, addresses: dict[str, str], params: dict[str, Any]) -> Path:
    """Write the manifest as JSON; a temporary file plus rename means no half-written manifest on failure."""
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "network": network,
        "chain_id": chain_id,
        "deployed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "contracts": addresses,
        "params": params,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(body, handle, indent=2, sort_keys=True)
            handle.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no deployment manifest at {path}: deploy first with `ape run deploy`") from None
