"""`ape run verify` (issue 21): per deployed contract, the standard-JSON input solc was given, the compiler version
and the constructor arguments read back from the deployment transaction — what a block explorer or Sourcify asks."""

from __future__ import annotations

import importlib.util
import json

from click.testing import CliRunner
from eth_abi import decode

from apiary import paths
from apiary.deploy import verify


def _script():
    spec = importlib.util.spec_from_file_location("verify_script", paths.PROJECT_ROOT / "scripts" / "verify.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_verify__standard_json_and_constructor_arguments_of_each_contract(cli_stack, tmp_path):
    core, market = cli_stack
    result = CliRunner(mix_stderr=False).invoke(_script().cli, ["--network", "ethereum:local:test", "--contract",
                                                                "ComputeMarket", "--contract", "FeeVault"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    out = result.stdout
    assert "contracts/compute/ComputeMarket.sol:ComputeMarket" in out and "compiler v0.8.28+commit." in out
    assert "Standard-Json-Input" in out and "Sourcify" in out
    folder = next((tmp_path / "build" / "verify").iterdir())
    standard = json.loads((folder / "ComputeMarket.standard-input.json").read_text())
    assert standard["language"] == "Solidity"
    assert standard["settings"]["viaIR"] is True and standard["settings"]["optimizer"]["enabled"] is True
    assert "contracts/compute/ComputeMarket.sol" in standard["sources"]
    assert any("ReentrancyGuard" in source for source in standard["sources"])  # OpenZeppelin's, as imported
    # FeeVault(owner, shares token, …): the arguments decode to the deployment's own addresses
    line = next(x for x in out.splitlines() if x.startswith("FeeVault"))
    args = bytes.fromhex(line.rsplit("constructor arguments 0x", 1)[1])
    owner, share = decode(["address", "address"], args[:64])
    assert share.lower() == core.token.address.lower()


def test_verify__unknown_contract__one_line(cli_stack):
    result = CliRunner(mix_stderr=False).invoke(_script().cli, ["--network", "ethereum:local:test", "--contract",
                                                                "Nope"])
    assert result.exit_code != 0 and "not in the deployment: Nope" in result.stderr + result.stdout


def test_compiler_version__read_from_the_launcher():
    assert verify.compiler_version().startswith("0.8.28+commit.")
