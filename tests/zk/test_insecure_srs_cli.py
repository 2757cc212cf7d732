"""SECURITY: a verifier built with the development SRS accepts proofs forged with its public secret. On a deployment
made with the mainnet profile every command that would put value behind such a verifier (deploy it, propose it,
post a bounty on it, enable its inference twin) is refused with one line and sends nothing; on a test deployment it
goes on with a note on stderr."""

from __future__ import annotations

import json

import ape
import pytest
from click.testing import CliRunner

from apiary import paths
from apiary.sdk.manifest import manifest_path

from tests.conftest import load_script

MARKET, COMPUTE = load_script("market"), load_script("compute")


def _run(script, *args, account_index=0):
    argv = [*args, "--network", "ethereum:local:test", "--account", f"TEST::{account_index}"]
    return CliRunner(mix_stderr=False).invoke(script.cli, argv)


def _set_profile(profile: str) -> None:
    path = manifest_path("ethereum", "local", "test", directory=paths.DEPLOYMENTS_DIR)
    data = json.loads(path.read_text())
    data["params"]["profile"] = profile
    path.write_text(json.dumps(data))


COMMANDS = [
    (MARKET, ("deploy-verifier", "--circuit", "iris-logreg-n8")),
    (MARKET, ("propose-circuit", "--circuit", "iris-logreg-n8")),
    (MARKET, ("create", "--circuit", "iris-logreg-n8", "--token", "ApiaryToken", "--reward", "1", "--threshold", "1")),
    (COMPUTE, ("propose-inference", "--circuit", "iris-logreg-n8")),
]


@pytest.mark.parametrize("script, args", COMMANDS, ids=[c[1][0] for c in COMMANDS])
def test_mainnet_deployment__development_srs_circuit_refused_nothing_sent(cli_stack, accounts, script, args):
    _set_profile("mainnet")
    nonce = accounts[0].nonce
    result = _run(script, *args)
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert "development SRS" in result.stderr and "--srs" in result.stderr and "Traceback" not in result.stderr
    assert accounts[0].nonce == nonce


def test_test_deployment__development_srs_circuit_deployed_with_a_note(cli_stack, accounts):
    result = _run(MARKET, "deploy-verifier", "--circuit", "iris-logreg-n8")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "development SRS" in result.stderr and "deployed at" in result.stdout
    address = result.stdout.split("deployed at ")[1].split()[0]
    assert ape.chain.provider.get_code(address)
