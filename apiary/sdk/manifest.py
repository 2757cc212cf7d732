"""Deployment manifests: what was deployed where, with which parameters, written atomically."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..paths import write_atomic


def write_manifest(path: Path, network: str, chain_id: int, addresses: dict[str, str], params: dict[str, Any]) -> Path:
    """Write the manifest as JSON, atomically: no half-written manifest on failure."""
    body = {
        "network": network,
        "chain_id": chain_id,
        "deployed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "contracts": addresses,
        "params": params,
    }
    return write_atomic(path, json.dumps(body, indent=2, sort_keys=True) + "\n")


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"no deployment manifest at {path}: deploy first with `ape run deploy`") from None
