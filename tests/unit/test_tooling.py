"""Python tooling: genesis allocation arithmetic, manifests, the solc stand-in."""

import json
import os
import subprocess

import pytest

from apiary.deploy.config import GENESIS_SUPPLY, PROFILES, DeployConfig, genesis_allocation
from apiary.sdk.manifest import ManifestError, read_manifest_file, write_manifest
from apiary.paths import PROJECT_ROOT, SOLC_DIR, SOLC_VERSION

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


SOURCES = {
    "I.sol": "pragma solidity 0.8.28; interface I { function f() external view returns (uint256); }",
    "L.sol": "pragma solidity 0.8.28; library L { function twice(uint256 x) internal pure returns (uint256) "
             "{ return 2 * x; } }",
    "B.sol": 'pragma solidity 0.8.28; import "./I.sol"; abstract contract B is I { uint256 internal v = 3; }',
    "A.sol": 'pragma solidity 0.8.28; import "./B.sol"; import "./L.sol"; contract A is B { using L for uint256; '
             "function f() external view returns (uint256) { return v.twice(); } }",
    "C.sol": 'pragma solidity 0.8.28; import {A} from "./A.sol"; contract C { A public a = new A(); '
             "function g() external {} }",
    "D.sol": 'pragma solidity 0.8.28; import "./L.sol"; contract D { function h(uint256 x) external pure '
             "returns (uint256) { return L.twice(x); } } contract E is D {}",
}


def test_solc_stand_in__on_every_core__gives_what_one_compilation_gives(tmp_path):
    """The stand-in compiles a project's files on every core (one task per file with a deployable contract,
    each selecting only its outputs) and merges the answers: the merged answer is the single compilation's —
    every contract, bytecode, source map, AST and source id, and each warning once."""
    binary = SOLC_DIR / f"solc-v{SOLC_VERSION}"
    selection = ["abi", "evm.bytecode.object", "evm.bytecode.sourceMap", "evm.deployedBytecode.object"]
    source = {"language": "Solidity", "sources": {name: {"content": text} for name, text in SOURCES.items()},
              "settings": {"viaIR": True, "optimizer": {"enabled": True, "runs": 200},
                           "outputSelection": {"*": {"*": selection, "": ["ast"]}}}}

    def compile_with(jobs: str) -> dict:
        done = subprocess.run([binary, "--standard-json", "--base-path", str(tmp_path)], input=json.dumps(source),
                              capture_output=True, text=True, check=True, env={**os.environ, "APIARY_SOLC_JOBS": jobs})
        return json.loads(done.stdout)

    one, split = compile_with("1"), compile_with("3")
    assert sorted(one["contracts"]) == sorted(SOURCES) and one["contracts"]["D.sol"].keys() == {"D", "E"}
    messages = lambda out: sorted(e["formattedMessage"] for e in out.pop("errors", []))  # noqa: E731
    warnings = messages(one)
    assert messages(split) == warnings and len(warnings) == len(SOURCES)  # "no SPDX identifier", once per file
    assert split == one


def _dev_test(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(PROJECT_ROOT / "dev"), "test", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=600, env={**os.environ, "APIARY_TEST_REPORTS": str(tmp_path), **env})


def test_dev_test__durations__prints_and_writes_where_the_time_went(tmp_path):
    result = _dev_test(tmp_path, "--durations", "tests/unit/token/test_token.py", "-q")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    report = (tmp_path / "test-times.md").read_text()
    assert "## Time by folder" in report and "| `tests/unit/token` |" in report and "slowest tests" in report
    assert "## Time by folder" in result.stdout  # --durations prints it too
    assert "tests/unit/token/test_token.py" in json.loads((tmp_path / "test-durations.json").read_text())


def test_dev_test__deep__selects_the_protocol_machine_at_ten_thousand_steps(tmp_path):
    result = _dev_test(tmp_path, "--deep", "--collect-only", "-q")
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    collected = [line for line in result.stdout.splitlines() if "::" in line]
    assert collected and all(line.startswith("tests/invariants/test_protocol_stateful.py::") for line in collected)


def test_machine_depth__ci_by_default__at_least_the_steps_asked_for_when_deep(monkeypatch):
    from tests.invariants.depth import machine_settings

    monkeypatch.delenv("APIARY_DEEP", raising=False)
    ci = machine_settings(5, 35)
    assert (ci.max_examples, ci.stateful_step_count) == (5, 35)
    for asked, total in (("1", 10_000), ("10000", 10_000), ("250", 250)):
        monkeypatch.setenv("APIARY_DEEP", asked)
        deep = machine_settings(5, 35)
        assert deep.max_examples * (deep.stateful_step_count - 1) >= total  # one step a run is the initialize rule
    monkeypatch.setenv("APIARY_DEEP", "many")
    with pytest.raises(ValueError, match="whole number"):
        machine_settings(5, 35)
