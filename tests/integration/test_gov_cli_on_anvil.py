"""The governance commands as a user runs them: `ape run deploy` and `ape run gov …` as subprocesses against an
anvil node the test starts (its own port and deployments folder, so a developer's node and manifests are safe)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request

import pytest

from apiary.paths import PROJECT_ROOT
from tests.ports import free_port

ACCOUNT = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # TEST::0, anvil's first account



def _rpc(url: str, method: str, params: list):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["result"]


@pytest.fixture
def node(tmp_path, request):
    anvil = shutil.which("anvil")
    assert anvil, "anvil not on PATH: run the tests through ./dev test (npm ci installs it)"
    port = free_port()
    chain_id = getattr(request, "param", 1337)
    process = subprocess.Popen([anvil, "--port", str(port), "--chain-id", str(chain_id), "--silent"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            _rpc(url, "eth_chainId", [])
            break
        except OSError:
            time.sleep(0.1)
    yield process, url
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def _ape(url: str, tmp_path, *args: str, account: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "APIARY_DEPLOYMENTS_DIR": str(tmp_path / "deployments"), "APIARY_STATE_DIR": str(tmp_path / "build")}
    command = ["ape", "run", *args, "--network", f"ethereum:local:{url}"] + (["--account", "TEST::0"] if account else [])
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)


def _ok(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in result.stderr + result.stdout, result.stderr
    return errors[0]


@pytest.mark.anvil
def test_gov_cli__fee_proposal_round_trip__failures_send_nothing(node, tmp_path):
    process, url = node
    refused = _one_line_error(_ape(url, tmp_path, "deploy", "--profile", "mainnet", "--test-chain", "--yes"))
    assert "holds value; it is not a test chain" in refused  # nothing deployed, no manifest
    assert not (tmp_path / "deployments" / "ethereum-local-node.json").exists()
    _ok(_ape(url, tmp_path, "deploy", "--profile", "local", "--test-chain", "--yes"))
    manifest = json.loads((tmp_path / "deployments" / "ethereum-local-node.json").read_text())
    assert manifest["chain_id"] == 1337 and manifest["contracts"]["FeeVault"]["abi"]
    assert manifest["params"]["test_chain"] is True

    redeploy = _one_line_error(_ape(url, tmp_path, "deploy", "--profile", "local", "--yes"))
    assert "pass --force" in redeploy

    out = _ok(_ape(url, tmp_path, "gov", "propose-fee", "--bps", "250"))
    proposal_id = re.search(r"proposal (0x[0-9a-f]{10}):", out).group(1)  # the short id: every command takes it
    assert (tmp_path / "build" / "proposals").is_dir()

    nonce = _rpc(url, "eth_getTransactionCount", [ACCOUNT, "latest"])
    line = _one_line_error(_ape(url, tmp_path, "gov", "vote", "--proposal", proposal_id, "--support", "for"))
    assert "castVote would revert, nothing was sent" in line and "current=Pending" in line
    assert _rpc(url, "eth_getTransactionCount", [ACCOUNT, "latest"]) == nonce

    _ok(_ape(url, tmp_path, "gov", "advance", "--blocks", "2", account=False))
    _ok(_ape(url, tmp_path, "gov", "vote", "--proposal", proposal_id, "--support", "for", "--reason", "test"))
    _ok(_ape(url, tmp_path, "gov", "advance", "--blocks", "21", account=False))
    assert "next: ape run gov queue" in _ok(_ape(url, tmp_path, "gov", "show", "--proposal", proposal_id, account=False))
    _ok(_ape(url, tmp_path, "gov", "queue", "--proposal", proposal_id))
    early = _one_line_error(_ape(url, tmp_path, "gov", "execute", "--proposal", proposal_id))
    assert "TimelockUnexpectedOperationState" in early
    _ok(_ape(url, tmp_path, "gov", "advance", "--seconds", "61", account=False))
    assert "setFeeBps(250)" in _ok(_ape(url, tmp_path, "gov", "execute", "--proposal", proposal_id))
    shown = _ok(_ape(url, tmp_path, "gov", "show", "--proposal", proposal_id, account=False))
    full = re.search(rf"proposal {proposal_id}: Executed \(id (\d+)\)", shown).group(1)
    assert f"0x{int(full):064x}".startswith(proposal_id)
    assert f"proposal {proposal_id}: Executed" in _ok(_ape(url, tmp_path, "gov", "show", "--proposal", full, account=False))

    process.terminate()
    process.wait(timeout=10)
    down = _one_line_error(_ape(url, tmp_path, "gov", "show", "--proposal", proposal_id, account=False))
    assert "./dev node" in down and "geth" not in down.lower()


@pytest.mark.anvil
@pytest.mark.parametrize("node", [1], indirect=True)
def test_deploy__a_test_profile_on_a_mainnet_chain_id__refused_unless_told_twice(node, tmp_path):
    """Two machines (issue 21): `deploy` with the testnet profile (the default) on chain id 1 went ahead without a
    word. It now needs the profile named again and the chain id typed; otherwise one line, nothing sent."""
    _process, url = node
    mismatch = _one_line_error(_ape(url, tmp_path, "deploy", "--yes"))  # ethereum:local expects chain 1337
    assert "is chain 1, but ethereum:local" in mismatch and "nothing sent" in mismatch
    refused = _one_line_error(_ape_mainnet(url, tmp_path, "deploy", "--yes"))
    assert "chain 1 is a mainnet that holds value and the testnet profile" in refused
    assert "--profile-on-mainnet testnet" in refused and "nothing sent" in refused
    unconfirmed = _one_line_error(_ape_mainnet(url, tmp_path, "deploy", "--yes", "--profile-on-mainnet", "testnet"))
    assert "the chain id was not confirmed" in unconfirmed
    assert int(_rpc(url, "eth_getTransactionCount", [ACCOUNT, "latest"]), 16) == 0
    assert not (tmp_path / "deployments").exists() or not any((tmp_path / "deployments").iterdir())


def _ape_mainnet(url: str, tmp_path, *args: str) -> subprocess.CompletedProcess:
    """`ape run` on ethereum:mainnet:node, its RPC given the way the README says: an environment variable named in
    the user's own ape config (a data folder of its own here, so a developer's config is safe)."""
    data = tmp_path / "ape-data"
    data.mkdir(exist_ok=True)
    (data / "ape-config.yaml").write_text("node:\n  ethereum:\n    mainnet:\n      uri: $APIARY_TEST_MAINNET_RPC\n")
    env = {**os.environ, "APIARY_DEPLOYMENTS_DIR": str(tmp_path / "deployments"),
           "APIARY_STATE_DIR": str(tmp_path / "build"), "APE_DATA_FOLDER": str(data), "APIARY_TEST_MAINNET_RPC": url}
    command = ["ape", "run", *args, "--network", "ethereum:mainnet:node", "--account", "TEST::0"]
    return subprocess.run(command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
