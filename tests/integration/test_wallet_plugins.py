"""Hardware wallets and a Safe for the people who sign by hand (issue 21): ape's wallet plugins install beside the
project's lock. The test asks pip's resolver (a dry run against requirements.lock), not a device: a pin in the lock
that a wallet plugin cannot live with (`rlp` 5 against ledgereth's `rlp~=4.0.1`) fails it."""

from __future__ import annotations

import subprocess
import sys

from apiary.paths import PROJECT_ROOT

PLUGINS = ("ape-ledger", "ape-trezor", "ape-safe", "ape-frame")


def test_wallet_plugins__resolve_beside_the_lock():
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--disable-pip-version-check",
                           "-c", str(PROJECT_ROOT / "requirements.lock"), *PLUGINS],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    would = next((line for line in done.stdout.splitlines() if line.startswith("Would install")), "")
    for plugin in PLUGINS:
        assert plugin in would or f"{plugin} " in done.stdout, done.stdout[-2000:]
    assert "rlp-" not in would, f"a wallet plugin would change a locked package: {would}"
