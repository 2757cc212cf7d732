"""`apiary zk check-deployed`: a deployed verifier (and its registry entry) checked against a circuit folder.

Deployed on ape's embedded chain and read through its web3, exactly as the command reads any network's RPC.
"""

from __future__ import annotations

import ape
import pytest

from apiary.zk import deployed, evm, pipeline


@pytest.fixture(scope="module")
def iris():
    return pipeline.open_circuit("iris-logreg-n8")


@pytest.fixture(scope="module")
def digits():
    return pipeline.open_circuit("digits-logreg-n64")


def _check(circuit, address, **kw):
    return deployed.check(circuit, str(address), "unused", w3=ape.chain.provider.web3, **kw)


def _registry(project, deployer, name, verifier, manifest_hash):
    registry = project.VerifierRegistry.deploy(deployer, sender=deployer)  # the deployer stands in for the timelock
    registry.register(name, verifier, manifest_hash, 8, 0, sender=deployer)
    return registry


def test_check_deployed__the_committed_verifier_matches(iris, deployer, project):
    verifier = evm.deploy_with_ape(iris, deployer)
    registry = _registry(project, deployer, iris.circuit_id, verifier, iris.manifest_sha256)
    report = _check(iris, verifier.address, registry=str(registry.address))
    assert report.ok, report.lines
    assert len(report.lines) == 8
    assert report.lines[2].startswith("WARN the verifying key's SRS has the development secret")  # committed: dev SRS


def test_check_deployed__a_dev_srs_key_fails_off_test_chains(iris, deployer):
    """SECURITY: on a chain that is not a known local node or testnet the development secret is a failure."""
    verifier = evm.deploy_with_ape(iris, deployer)
    web3 = ape.chain.provider.web3

    class OnBase:  # the same node, claiming Base mainnet's chain id
        def __init__(self):
            self.eth = self

        def __getattr__(self, name):
            return getattr(web3.eth, name)

        chain_id = 8453

    report = deployed.check(iris, str(verifier.address), "unused", w3=OnBase())
    assert not report.ok
    assert any(line.startswith("FAIL the verifying key's SRS has the development secret") and "chain 8453" in line
               for line in report.lines), report.lines


def test_check_deployed__another_circuits_verifier_fails(iris, digits, deployer):
    other = evm.deploy_with_ape(digits, deployer)
    report = _check(iris, other.address)
    assert not report.ok
    assert report.lines[0].startswith("FAIL verifier runtime code")
    assert report.lines[1].startswith("FAIL verifying-key data contract")


def test_check_deployed__registry_with_another_manifest_or_verifier_fails(iris, digits, deployer, project):
    verifier = evm.deploy_with_ape(iris, deployer)
    other = evm.deploy_with_ape(digits, deployer)
    wrong_hash = _registry(project, deployer, iris.circuit_id, verifier, digits.manifest_sha256)
    report = _check(iris, verifier.address, registry=str(wrong_hash.address))
    assert not report.ok and any(line.startswith("FAIL registry manifest hash") for line in report.lines)
    wrong_verifier = _registry(project, deployer, iris.circuit_id, other, iris.manifest_sha256)
    report = _check(iris, verifier.address, registry=str(wrong_verifier.address))
    assert not report.ok and any(line.startswith("FAIL registry verifier") for line in report.lines)


def test_check_deployed__no_code_or_no_vk_contract(iris, deployer, project):
    report = _check(iris, deployer.address)
    assert not report.ok and "no contract" in report.lines[0]
    token = project.MockERC20.deploy("T", "T", sender=deployer)  # code, but not a verifier: no vkData()
    report = _check(iris, token.address)
    assert not report.ok and report.lines[1].startswith("FAIL verifying-key data contract")


def test_check_deployed__unreachable_rpc_is_one_line(iris):
    from apiary.zk.errors import ArtefactError

    with pytest.raises(ArtefactError, match="cannot reach a node at http://127.0.0.1:9"):
        deployed.check(iris, "0x" + "11" * 20, "http://127.0.0.1:9")
