"""The README's step-by-step model market block, run verbatim with bash against the node it starts itself.

The block is the text between `<!-- market-flow:begin -->` and `<!-- market-flow:end -->` in README.md. It runs
in the repository root with `set -euo pipefail`, on a free port (`APIARY_NODE_PORT`), with its own deployments
folder and state folder (a developer's node and manifests are never touched); proofs are cached in build/proofs/
as for any user. Whatever happens, the whole process group (the node included) is stopped afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
from decimal import Decimal

import pytest

from apiary.paths import PROJECT_ROOT
from tests.ports import free_port

MODEL_OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # TEST::1
TIMEOUT = 420


def readme_bash_block(name: str) -> str:
    """The one ```bash block between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in README.md."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = (PROJECT_ROOT / "README.md").read_text()
    assert text.count(begin) == 1 and text.count(end) == 1, f"README.md needs exactly one {name} block"
    section = text[text.index(begin) + len(begin) : text.index(end)]
    match = re.fullmatch(r"\s*```bash\n(.*?)```\s*", section, re.S)
    assert match, f"the {name} markers must enclose exactly one ```bash block"
    return match.group(1)


def readme_block() -> str:
    return readme_bash_block("market-flow")



def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def anvil_node(chain_id: int = 1337, *extra: str):
    """A fresh anvil as `./dev node` starts it (chain id 1337, or `chain_id`; `extra` arguments) on a free port;
    yields its URI, stops it after."""
    import shutil
    import time

    assert shutil.which("anvil"), "anvil not on PATH: run the tests through ./dev test"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "RUST_LOG"}  # anvil logs every request when it is set
    node = subprocess.Popen(["anvil", "--port", str(port), "--chain-id", str(chain_id), "--silent", *extra], env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _port_open(port):
            assert node.poll() is None and time.monotonic() < deadline, "anvil did not start"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(node.pid, signal.SIGTERM)
        node.wait(timeout=30)


def run_block(script: str, tmp_path, timeout: float) -> tuple[int, str]:
    """Run a README block with bash in the repository root on a free node port, with its own deployments and
    state folders; whatever happens, stop its whole process group (the node included). Returns (port, output)
    after asserting the block succeeded."""
    port = free_port()
    env = {**os.environ, "APIARY_NODE_PORT": str(port), "APIARY_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
           "APIARY_STATE_DIR": str(tmp_path / "build")}
    process = subprocess.Popen(["bash", "-c", "set -euo pipefail\n" + script], cwd=PROJECT_ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"the README block ran longer than {timeout} s:\n{output[-4000:]}")
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # the node, if the block left it running
        except ProcessLookupError:
            pass
    assert process.returncode == 0, output[-6000:]
    return port, output


def test_readme_block__has_no_placeholders():
    block = readme_block()
    assert "…" not in block and "0x…" not in block and "<" not in block.replace("<<", "")
    assert "ape run gov vote" in block and "prove-and-submit" in block and 'kill "$NODE"' in block


@pytest.mark.anvil
def test_readme_market_flow__runs_verbatim__winner_paid(tmp_path):
    port, output = run_block(readme_block(), tmp_path, TIMEOUT)
    paid = re.search(rf"withdrew (\S+) APY to {MODEL_OWNER}: balance (\S+) APY → (\S+) APY", output)
    assert paid, output[-3000:]
    amount, before, after = (Decimal(x) for x in paid.groups())
    assert amount == 990 and after == before + amount and after > before
    assert "sealed, won, phase closed" in output and "winning model #1 with 16" in output
    assert (tmp_path / "deployments" / "ethereum-local-node.json").is_file()
    assert not _port_open(port), "the block must stop its node"
