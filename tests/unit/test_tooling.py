"""Python tooling: genesis allocation arithmetic, manifests, the solc stand-in."""

import json
import subprocess

import pytest

from apiary.deploy.config import GENESIS_SUPPLY, PROFILES, DeployConfig, genesis_allocation
from apiary.sdk.manifest import ManifestError, read_manifest_file, write_manifest
from apiary.paths import SOLC_DIR, SOLC_VERSION

TREASURY = "0x" + "11" * 20


def config(**overrides):
    base = PROFILES["local"]
    return DeployConfig(governance=base.governance, fees=base.fees, **overrides)


def test_genesis__sums_exactly_to_supply():
    recipients, amounts = genesis_allocation(config(holders=(("0x" + "22" * 20, 1), ("0x" + "33" * 20, 2))), TREASURY)
    assert recipients[0] == TREASURY
    assert sum(amounts) == GENESIS_SUPPLY


def test_genesis__no_holders_with_community_share__is_refused():
    with pytest.raises(ValueError, match="holders must be given"):
        genesis_allocation(config(), TREASURY)


def test_genesis__non_positive_weight__is_refused():
    with pytest.raises(ValueError, match="positive"):
        genesis_allocation(config(holders=(("0x" + "22" * 20, 0),)), TREASURY)


def test_manifest__round_trip_and_atomic(tmp_path):
    contracts = {"FeeVault": {"address": "0x" + "ab" * 20, "tx": None, "abi": []}}
    write_manifest("ethereum", "local", "node", 1337, "0x" + "01" * 20, 5, contracts, {"x": 1}, directory=tmp_path)
    manifest = read_manifest_file(tmp_path / "ethereum-local-node.json")
    assert manifest.addresses == {"FeeVault": "0x" + "ab" * 20} and manifest.block == 5
    assert [p.name for p in tmp_path.iterdir()] == ["ethereum-local-node.json"]  # no temporary file left behind


def test_manifest__missing__says_what_to_do(tmp_path):
    with pytest.raises(ManifestError, match="./dev deploy"):
        read_manifest_file(tmp_path / "missing.json")


def test_solc_stand_in__answers_version_and_standard_json():
    binary = SOLC_DIR / f"solc-v{SOLC_VERSION}"
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    assert f"Version: {SOLC_VERSION}+commit." in out
    source = {"language": "Solidity", "sources": {"A.sol": {"content": "pragma solidity 0.8.28; contract A {}"}},
              "settings": {"outputSelection": {"*": {"*": ["evm.bytecode.object"]}}}}
    result = subprocess.run([binary, "--standard-json"], input=json.dumps(source), capture_output=True, text=True, check=True)
    assert json.loads(result.stdout)["contracts"]["A.sol"]["A"]["evm"]["bytecode"]["object"]


def test_solc_stand_in__missing_import__reports_not_found(tmp_path):
    binary = SOLC_DIR / f"solc-v{SOLC_VERSION}"
    source = {"language": "Solidity", "sources": {"A.sol": {"content": 'import "./Nope.sol"; contract A {}'}},
              "settings": {"outputSelection": {}}}
    result = subprocess.run([binary, "--standard-json", "--base-path", str(tmp_path)], input=json.dumps(source),
                            capture_output=True, text=True, check=True)
    errors = json.loads(result.stdout)["errors"]
    assert any("Nope.sol" in e["message"] for e in errors)
