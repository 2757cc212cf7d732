"""Compatibility shims for the old `apiary.chain` package: the code now lives in `apiary.deploy` (deployment,
governance), `apiary.demo` (the demo) and `apiary.sdk` (manifest, market reads). Import from those."""
