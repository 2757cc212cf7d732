"""`ape run compute propose-inference` in process, for the single twin and the batch twin (`--slots`), through
real governance (`ape run gov vote/queue/execute`): the market then maps the circuit to both verifiers; a batch
twin is refused (nothing sent) before the single one is enabled, when its folder was not built, and twice."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from apiary.deploy.market import register_circuit_by_governance
from apiary.sdk.devnode import advance
from apiary.sdk.market import circuit_id
from apiary.zk import evm, inference

from tests.conftest import load_script


COMPUTE, GOV = load_script("compute"), load_script("gov")


@pytest.fixture
def stack(cli_stack, deployer, whale, alice):
    core, market = cli_stack
    ic = inference.open_inference("iris-logreg-n8")
    evaluation = evm.deploy_with_ape(ic.evaluation, deployer)
    register_circuit_by_governance(core, market, ic.evaluation.circuit_id, evaluation.address,
                                   ic.evaluation.manifest_sha256, 8, whale, [whale, alice])
    return core, market


def test_propose_inference__single_then_batch_twin_enabled_by_governance(stack, accounts, whale, alice):
    core, market = stack

    def run(script, *args, account=None):
        argv = [*args, "--network", "ethereum:local:test"]
        if account is not None:
            argv += ["--account", f"TEST::{[a.address for a in accounts].index(account.address)}"]
        return CliRunner(mix_stderr=False).invoke(script.cli, argv)

    def ok(result):
        assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result.stdout

    def enact(proposal):
        advance(blocks=2)
        for voter in (whale, alice):
            ok(run(GOV, "vote", "--proposal", proposal, "--support", "for", account=voter))
        advance(blocks=21)
        ok(run(GOV, "queue", "--proposal", proposal, account=whale))
        advance(seconds=61)
        ok(run(GOV, "execute", "--proposal", proposal, account=whale))

    eval_id = circuit_id("iris-logreg-n8")
    early = run(COMPUTE, "propose-inference", "--circuit", "iris-logreg-n8", "--slots", "4", account=whale)
    assert early.exit_code == 1 and "single twin first" in early.stderr, early.stderr
    single = ok(run(COMPUTE, "propose-inference", "--circuit", "iris-logreg-n8", "--quiet", account=whale))
    enact(single.strip().splitlines()[-1])
    assert bytes(market.compute.inferenceCircuitOf(eval_id)) == circuit_id("iris-logreg-n8.infer")
    missing = run(COMPUTE, "propose-inference", "--circuit", "iris-logreg-n8", "--slots", "3", account=whale)
    assert missing.exit_code == 1 and "build-inference" in missing.stderr and "--slots 3" in missing.stderr
    batch = ok(run(COMPUTE, "propose-inference", "--circuit", "iris-logreg-n8", "--slots", "4", "--quiet", account=whale))
    enact(batch.strip().splitlines()[-1])
    assert bytes(market.compute.batchCircuitOf(eval_id)) == circuit_id("iris-logreg-n8.infer.x4")
    again = run(COMPUTE, "propose-inference", "--circuit", "iris-logreg-n8", "--slots", "4", account=whale)
    assert again.exit_code == 1 and "registered already" in again.stderr


@pytest.mark.parametrize("spec, message", [("Nope=1", "'Nope' is neither an address nor a contract"),
                                           ("ApiaryToken=0.1.2", "--min-price 'ApiaryToken=0.1.2'"),
                                           ("=5", "write TOKEN=AMOUNT")])
def test_provider_agent__bad_min_price_is_one_line_before_anything_runs(cli_stack, spec, message):
    result = CliRunner(mix_stderr=False).invoke(COMPUTE.cli, ["provider-agent", "--model", "1=missing.onnx",
                                                              "--min-price", spec, "--network", "ethereum:local:test",
                                                              "--account", "TEST::7", "--max-ticks", "0"])
    assert result.exit_code == 1 and message in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_provider_agent__default_price_policy_is_the_apiary_token_paying_more_than_nothing(cli_stack):
    from apiary import paths
    from apiary.sdk import compute as sdk
    from apiary.sdk.errors import ApiaryCliError
    from apiary.sdk.manifest import load_manifest

    core, _market = cli_stack
    client = sdk.ComputeClient.from_manifest(load_manifest("ethereum", "local", "test", int(core.token.chain_manager.chain_id),
                                                           directory=paths.DEPLOYMENTS_DIR))
    prices, words = COMPUTE._price_policy(client, ())
    assert prices == {core.token.address: 1} and words.endswith("jobs paying more than nothing")
    prices, words = COMPUTE._price_policy(client, ("ApiaryToken=2.5",))
    assert prices == {core.token.address: 25 * 10**17} and words.endswith("jobs paying at least 2.5 APY")
    with pytest.raises(ApiaryCliError, match="has a minimum already"):
        COMPUTE._price_policy(client, (f"{core.token.address}=2.5", "ApiaryToken=3"))
