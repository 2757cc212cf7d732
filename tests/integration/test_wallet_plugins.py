"""Hardware wallets and a Safe for the people who sign by hand (issue 21): ape's wallet plugins install beside the
project's lock. The test asks pip's resolver (a dry run against requirements.lock), not a device: a pin in the lock
that a wallet plugin cannot live with (`rlp` 5 against ledgereth's `rlp~=4.0.1`) fails it."""

from __future__ import annotations

import os
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


FRAME = "ape-frame==0.8.1"  # what the resolver picks beside the lock today


def test_wallet_app_not_running__one_line_that_names_it__other_accounts_unaffected(tmp_path):
    """ape-frame installed, Frame not running: the plugin asks Frame (127.0.0.1:1248) for the account's address,
    and the connection error used to surface as a traceback (or, through the node's error path, as "cannot reach
    the node"). A command given `--account frame` now says in one line that Frame does not answer, before anything
    is sent; a command with any other account is not touched by the plugin being there. (ape's own
    `ape accounts list --all` still asks Frame and fails in the plugin: the README says so.)"""
    site = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check", "-q",
                           "--target", str(site), FRAME], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(site), "APIARY_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
           "APIARY_STATE_DIR": str(tmp_path / "build")}
    ape = str(PROJECT_ROOT / ".venv" / "bin" / "ape")
    transfer = [ape, "run", "data", "transfer", "--to", "0x" + "11" * 20, "--amount", "1",
                "--network", "ethereum:local:test"]
    plugins = subprocess.run([ape, "plugins", "list"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert "frame" in plugins.stdout, plugins.stdout + plugins.stderr  # the plugin is really loaded

    frame = subprocess.run([*transfer, "--account", "frame"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert frame.returncode == 1, frame.stdout + frame.stderr
    lines = frame.stderr.strip().splitlines()
    assert lines == [lines[-1]] and "Traceback" not in frame.stderr, frame.stderr
    assert "Frame wallet does not answer" in lines[-1] and "127.0.0.1:1248" in lines[-1], lines[-1]
    assert "start Frame" in lines[-1] and "node" not in lines[-1], lines[-1]

    listed = subprocess.run([ape, "accounts", "list"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert listed.returncode == 0 and "Traceback" not in listed.stdout + listed.stderr, listed.stderr  # the README's

    other = subprocess.run([*transfer, "--account", "TEST::0"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                           text=True, timeout=300)
    assert other.returncode == 1 and "Traceback" not in other.stderr, other.stdout + other.stderr
    assert "Frame" not in other.stderr and "deploy" in other.stderr, other.stderr  # no deployment here: one line
