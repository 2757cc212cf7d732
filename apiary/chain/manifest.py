"""Compatibility re-export: use `apiary.sdk.manifest`."""

from ..sdk.manifest import read_manifest, write_manifest  # noqa: F401
