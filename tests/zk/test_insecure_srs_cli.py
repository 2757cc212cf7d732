"""SECURITY: a verifier whose SRS has the development secret accepts proofs forged with that public secret. On a
deployment that holds value every command that would put value behind such a verifier (deploy it, propose it, post a
bounty or a job it settles, enable an inference twin) is refused with one line and sends nothing; the key checked is
the one on chain where a verifier is deployed, so a registry entry naming a clean folder's manifest hash next to a
development-SRS verifier is refused too. On a test deployment the commands go on with a note on stderr."""

from __future__ import annotations

import json

import ape
import pytest
from click.testing import CliRunner

from apiary import paths
from apiary.deploy.market import enable_inference_by_governance, register_circuit_by_governance
from apiary.sdk.manifest import manifest_path
from apiary.sdk.market import circuit_id, register_model
from apiary.zk import evm, pipeline
from apiary.zk import models as zk_models

from tests.conftest import load_script
from tests.zk.test_byo_task import apiary

MARKET, COMPUTE = load_script("market"), load_script("compute")


def _run(script, *args, account_index=0):
    argv = [*args, "--network", "ethereum:local:test", "--account", f"TEST::{account_index}"]
    return CliRunner(mix_stderr=False).invoke(script.cli, argv)


def _set_profile(profile: str) -> None:
    path = manifest_path("ethereum", "local", "test", directory=paths.DEPLOYMENTS_DIR)
    data = json.loads(path.read_text())
    data["params"]["profile"] = profile
    path.write_text(json.dumps(data))


def _refused(script, *args, accounts, why="development secret"):
    nonce = accounts[0].nonce
    result = _run(script, *args)
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert why in result.stderr and "--srs" in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert accounts[0].nonce == nonce  # nothing sent
    return result


@pytest.fixture
def enabled(cli_stack, deployer, whale, alice, tmp_path):
    """iris (development SRS) registered, its inference twin enabled, a model of it registered."""
    core, market = cli_stack
    ic = enable_inference_by_governance(core, market, deployer, "iris-logreg-n8", whale, [whale, alice])
    net = zk_models.train(zk_models.load_dataset("iris"), "logreg", 120).to_network()
    model_id = register_model(market.models, alice, circuit_id(ic.evaluation.circuit_id),
                              pipeline.model_commitment(ic.evaluation, net))
    (tmp_path / "x.csv").write_text("5.1,3.5,1.4,0.2\n")
    _set_profile("mainnet")
    return ic, model_id, tmp_path / "x.csv"


def test_mainnet__every_command_that_puts_value_behind_a_dev_srs_verifier_is_refused(enabled, accounts, deployer):
    ic, model_id, x = enabled
    _refused(MARKET, "deploy-verifier", "--circuit", "iris-logreg-n8", accounts=accounts)
    dev_verifier = evm.deploy_with_ape(ic.evaluation, deployer)
    _refused(MARKET, "propose-circuit", "--circuit", "iris-logreg-n8", "--verifier", dev_verifier.address,
             accounts=accounts)
    _refused(MARKET, "create", "--circuit", "iris-logreg-n8", "--token", "ApiaryToken", "--reward", "1",
             "--threshold", "1", accounts=accounts)
    _refused(COMPUTE, "propose-inference", "--circuit", "iris-logreg-n8", "--slots", "4", accounts=accounts)
    # fail closed: a verifier address whose key cannot be read (here: no code yet, as a CREATE2 address before its
    # deployment) is not trusted where value is held
    _refused(COMPUTE, "propose-inference", "--circuit", "iris-logreg-n8", "--slots", "4", "--verifier",
             accounts[5].address, accounts=accounts, why="cannot be read")
    _refused(COMPUTE, "post", "--model-id", str(model_id), "--input", str(x), "--price", "1", "--collateral", "20",
             accounts=accounts)


def test_mainnet__a_clean_folder_registered_next_to_a_dev_srs_verifier_is_refused(cli_stack, deployer, whale, alice,
                                                                                   tmp_path, accounts):
    """The attack: governance registers the manifest hash of a folder built with another SRS, but a verifier made
    with the development SRS. The folder passes every local check; the key on chain does not."""
    import ezkl

    core, market = cli_stack
    ezkl.gen_srs(str(tmp_path / "other.srs"), 11)
    apiary("zk", "build", "--dataset", "iris", "--arch", "logreg", "--samples", "8", "--srs", tmp_path / "other.srs",
           "--out-dir", tmp_path / "clean", cwd=tmp_path)
    clean = pipeline.open_circuit(tmp_path / "clean" / "iris-logreg-n8")
    dev_verifier = evm.deploy_with_ape(pipeline.open_circuit("iris-logreg-n8"), deployer)
    register_circuit_by_governance(core, market, clean.circuit_id, dev_verifier.address, clean.manifest_sha256, 8,
                                   whale, [whale, alice])
    _set_profile("mainnet")
    _refused(MARKET, "create", "--circuit", str(clean.root), "--token", "ApiaryToken", "--reward", "1",
             "--threshold", "1", accounts=accounts)


def test_test_deployment__development_srs_circuit_deployed_with_a_note(cli_stack, accounts):
    result = _run(MARKET, "deploy-verifier", "--circuit", "iris-logreg-n8")
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    assert "development SRS" in result.stderr and "deployed at" in result.stdout
    address = result.stdout.split("deployed at ")[1].split()[0]
    assert ape.chain.provider.get_code(address)


def test_governance__a_registration_of_a_dev_srs_verifier_is_flagged_and_not_voted_for_where_value_is_held(
        cli_stack, accounts, whale):
    from apiary.sdk.devnode import advance

    gov_script = load_script("gov")
    deployed = _run(MARKET, "deploy-verifier", "--circuit", "iris-logreg-n8")
    assert deployed.exit_code == 0, deployed.stderr
    voter = [a.address for a in accounts].index(whale.address)
    proposed = _run(MARKET, "propose-circuit", "--circuit", "iris-logreg-n8", "--quiet", account_index=voter)
    assert proposed.exit_code == 0, (proposed.stdout, proposed.stderr)
    proposal = proposed.stdout.strip().splitlines()[-1]
    advance(blocks=2)
    _set_profile("mainnet")  # as if the proposal had been made on a deployment that holds value
    shown = CliRunner(mix_stderr=False).invoke(gov_script.cli, ["show", "--proposal", proposal,
                                                                "--network", "ethereum:local:test"])
    assert shown.exit_code == 0 and "WARNING: it registers circuit iris-logreg-n8" in shown.stderr, shown.stderr
    nonce = whale.nonce
    refused = _run(gov_script, "vote", "--proposal", proposal, "--support", "for", account_index=voter)
    assert refused.exit_code == 1 and "not voting for proposal" in refused.stderr and whale.nonce == nonce
    against = _run(gov_script, "vote", "--proposal", proposal, "--support", "against", account_index=voter)
    assert against.exit_code == 0, against.stderr
