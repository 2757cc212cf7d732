"""Compatibility reader for scripts written before per-provider manifests: use `apiary.sdk.manifest`.

`read_manifest(deployments/<ecosystem>-<network>.json)` returns the old shape (`contracts` as name → address)
from the newest `<ecosystem>-<network>-<provider>.json` when the old file does not exist. It does not check the
node; `apiary.sdk.manifest.load_manifest` does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..sdk.manifest import ManifestError, read_manifest_file


def read_manifest(path: Path) -> dict[str, Any]:
    path = Path(path)
    if path.is_file():
        return json.loads(path.read_text())
    candidates = sorted((p for p in path.parent.glob(f"{path.stem}-*.json") if "." not in p.stem),
                        key=lambda p: p.stat().st_mtime) if path.parent.is_dir() else []
    if not candidates:
        raise ManifestError(f"no deployment manifest for {path.stem}: deploy first with ./dev deploy "
                            "(ape run deploy)")
    manifest = read_manifest_file(candidates[-1])
    return {**manifest.data, "network": manifest.choice, "contracts": manifest.addresses}
