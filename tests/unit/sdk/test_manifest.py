"""The deployment manifest: per provider, with ABIs, transactions and block; checked against the node on use."""

import json

import pytest

from apiary.sdk.manifest import ManifestError, load_manifest, manifest_path, write_manifest

NAMES = ("ethereum", "local", "test")


@pytest.fixture
def written(tmp_path, core, deployer, chain):
    def write(force=False):
        return write_manifest(*NAMES, chain.chain_id, deployer.address, core.start_block, core.contracts(),
                              {"profile": "local"}, force=force, directory=tmp_path)

    return write


def test_write_then_load__addresses_txs_block_and_abi(tmp_path, written, core, chain, deployer):
    written()
    manifest = load_manifest(*NAMES, chain.chain_id, directory=tmp_path)
    assert manifest.path == tmp_path / "ethereum-local-test.json"
    assert manifest.addresses["FeeVault"] == core.vault.address and manifest.deployer == deployer.address
    assert manifest.block == core.start_block and manifest.chain_id == chain.chain_id
    receipt = chain.get_receipt(manifest.contracts["FeeVault"]["tx"])
    assert receipt.contract_address == core.vault.address
    assert manifest.contract("FeeVault").feeBps() == 100
    assert manifest.params == {"profile": "local"} and manifest.circuits == {}


def test_abi__builds_a_web3_contract(tmp_path, written, chain):
    from ape import networks

    manifest = written()
    vault = networks.provider.web3.eth.contract(address=manifest.address("FeeVault"), abi=manifest.abi("FeeVault"))
    assert vault.functions.maxFeeBps().call() == 1_000


def test_load__missing_file__refused_with_deploy_hint(tmp_path, chain):
    with pytest.raises(ManifestError, match=r"no deployment for ethereum:local:test: ethereum-local-test.json is missing; "
                                            r"deploy first with ./dev deploy --network ethereum:local:test"):
        load_manifest(*NAMES, chain.chain_id, directory=tmp_path)


def test_load__other_chain_id__refused(tmp_path, written, chain):
    written()
    with pytest.raises(ManifestError, match=f"is for chain id {chain.chain_id} but the node is chain id 1: wrong --network"):
        load_manifest(*NAMES, 1, directory=tmp_path)


def test_load__node_without_code__says_it_was_restarted(tmp_path, written, chain, core):
    written()
    with pytest.raises(ManifestError, match=r"the node has no code at 0x[0-9a-fA-F]{40} \(ApiaryGovernor and 3 more\): "
                                            r"it was restarted; redeploy with ./dev deploy .* --force"):
        load_manifest(*NAMES, chain.chain_id, get_code=lambda _a: b"", directory=tmp_path)


def test_write__live_deployment__refused_without_force_kept_with_force(tmp_path, written):
    first = written()
    with pytest.raises(ManifestError, match="live on this node .* pass --force"):
        written()
    second = written(force=True)
    backups = [p for p in tmp_path.iterdir() if p.name.startswith("ethereum-local-test.") and p != second.path]
    assert len(backups) == 1 and json.loads(backups[0].read_text())["deployed_at"] == first.data["deployed_at"]
    assert second.path.is_file()


def test_write__gone_deployment__replaced_without_force(tmp_path, written, chain, deployer):
    written()
    write_manifest(*NAMES, chain.chain_id, deployer.address, 1, {}, {}, get_code=lambda _a: b"", directory=tmp_path)
    assert json.loads(manifest_path(*NAMES, tmp_path).read_text())["contracts"] == {}


def test_deployment_key_and_state_dir(tmp_path, written, core, chain):
    manifest = written()
    key = f"{chain.chain_id}-{core.governor.address.lower()[2:14]}"  # no ModelBounties in the core alone
    assert manifest.deployment_key == key
    assert manifest.state_dir("bounties", root=tmp_path) == tmp_path / "bounties" / key


def test_add_circuit__appends_and_persists(tmp_path, written, chain):
    manifest = written()
    manifest.add_circuit("digits-mlp16-n64", "0x" + "12" * 20, "ab" * 32, proposal_id=7)
    manifest.add_circuit("iris-logreg-n8", "0x" + "34" * 20, "cd" * 32)
    circuits = load_manifest(*NAMES, chain.chain_id, directory=tmp_path).circuits
    assert circuits["digits-mlp16-n64"]["proposal_id"] == 7 and set(circuits) == {"digits-mlp16-n64", "iris-logreg-n8"}


def test_add_circuit__folder_relative_to_the_project_and_the_verifier_abi_kept(tmp_path, written, chain):
    """A manifest any client can use (issue 21): an imported circuit's folder is recorded relative to the project
    (no user's absolute layout), and the verifier's ABI beside its address."""
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    from apiary.paths import PROJECT_ROOT

    manifest = written()
    abi = [{"type": "function", "name": "verifyProof", "stateMutability": "view",
            "inputs": [{"name": "proof", "type": "bytes"}, {"name": "instances", "type": "uint256[]"}],
            "outputs": [{"name": "", "type": "bool"}]}]
    typed = ContractContainer(ContractType.model_validate({"contractName": "V", "abi": abi})).contract_type.abi
    manifest.add_circuit("mine", "0x" + "56" * 20, "ef" * 32, folder=str(PROJECT_ROOT / "build" / "mine"), abi=typed)
    entry = load_manifest(*NAMES, chain.chain_id, directory=tmp_path).circuits["mine"]
    assert entry["folder"] == "build/mine" and entry["abi"][0]["name"] == "verifyProof"
    assert entry["abi"][0]["inputs"][1]["type"] == "uint256[]"


def test_check_srs__development_srs_refused_where_value_is_held_noted_elsewhere(tmp_path):
    """SECURITY: the development SRS's secret is public, so its verifiers accept forged proofs. A deployment made
    with the mainnet profile, on a known mainnet, or (unless made with the local profile) on a chain that is not a
    known testnet refuses circuits built with it; test deployments print a note."""
    from apiary.sdk.manifest import Manifest, ManifestError
    from apiary.zk import pipeline

    dev = (pipeline.VERIFIERS_DIR / "iris-logreg-n8" / "vk.bin").read_bytes()

    from py_ecc.bn128 import G2, multiply

    from apiary.zk import srs

    point = multiply(G2, 12345)
    other = dev[:544] + b"".join(int(v).to_bytes(32, "big") for c in point for v in reversed(c.coeffs)) + dev[672:]
    assert srs.key_g2(other) is not None and not srs.made_with_dev_srs(other)

    def deployment(profile, chain_id, **extra):
        return Manifest(tmp_path / "m.json", {"chain_id": chain_id, "params": {"profile": profile, **extra}})

    for profile, chain_id in (("mainnet", 8453), ("local", 1), ("testnet", 1), ("testnet", 8453), ("testnet", 9_999),
                              ("local", 9_999), ("mainnet", 11155111)):
        with pytest.raises(ManifestError, match="development secret.*forge.*--srs.*--test-chain"):
            deployment(profile, chain_id).check_srs("iris-logreg-n8", dev)
        with pytest.raises(ManifestError, match="cannot be read"):  # fail closed: no key, no trust
            deployment(profile, chain_id).check_srs("mine", b"", where="verifier 0xabc")
        assert deployment(profile, chain_id).check_srs("mine", other) is None
    with pytest.raises(ManifestError, match="development secret"):
        deployment("testnet", 1, test_chain=True).check_srs("iris-logreg-n8", dev)  # a mainnet is never a test chain
    for profile, chain_id, extra in (("local", 1337, {}), ("testnet", 11155111, {}), ("testnet", 43113, {}),
                                     ("testnet", 9_999, {"test_chain": True})):
        assert "development SRS" in deployment(profile, chain_id, **extra).check_srs("iris-logreg-n8", dev)
        assert deployment(profile, chain_id, **extra).check_srs("mine", other) is None
        assert deployment(profile, chain_id, **extra).check_srs("mine", b"") is None
    assert Manifest(tmp_path / "m.json", {"chain_id": 1}).holds_value  # a manifest without a profile on mainnet


def test_manifest__enum_names_and_how_to_read_every_list(cli_stack, tmp_path):
    """A manifest any client can use (issue 21): enum member names (ABIs carry uint8) and, for every list a client
    shows, the count to read and the event each item is announced by — all present in the recorded ABIs."""
    body = json.loads((tmp_path / "deployments" / "ethereum-local-test.json").read_text())
    assert body["enums"]["IDataMarket.SaleState"] == ["None", "Paid", "Delivered", "Settleable", "Expired", "Settled",
                                                      "Refunded"]
    assert body["enums"]["IComputeMarket.Status"][4] == "Paid" and "IGovernor.ProposalState" in body["enums"]
    assert set(body["lists"]) == {"bounties", "models", "datasets", "listings", "sales", "jobs", "proposals"}
    for name, entry in body["lists"].items():
        for ref in filter(None, (entry["count"], entry["event"])):
            contract, member = ref.split(".")
            assert any(item.get("name") == member for item in body["contracts"][contract]["abi"]), (name, ref)
