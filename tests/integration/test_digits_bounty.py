"""The digits-8×8 model bounty with real ezkl proofs, on the embedded chain and on anvil.

Proofs come from `bounty_demo.prepare` (cached under build/demo/, shared with the demo): Alice's MLP scores
~120/128 on the two-chunk test set, Bob's (trained on 150 samples) ~94.
"""

import shutil

import ape
import pytest
from ape import networks

from apiary.demo import bounty_demo
from apiary.demo.demo import governance_round_trip, model_market_round_trip
from apiary.deploy.market import deploy_market, register_circuit_by_governance
from apiary.sdk.market import register_model
from apiary.zk import evm

ONE = 10**18
DAY = 24 * 3600


@pytest.fixture(scope="module")
def scenario(accounts):
    return bounty_demo.prepare([accounts[7], accounts[9]], log=lambda _m: None)


@pytest.fixture
def market(project, deployer, core):
    return deploy_market(project, deployer, core)


@pytest.fixture
def registered(project, core, market, scenario, deployer, alice, whale):
    verifier = evm.deploy_with_ape(scenario.circuit, deployer)
    cid = register_circuit_by_governance(core, market, bounty_demo.CIRCUIT, verifier.address,
                                         scenario.circuit.manifest_sha256, 64, alice, [alice, whale])
    for c in scenario.contestants:
        c.model_id = register_model(market.models, c.account, cid, c.commitment)
    return cid


@pytest.fixture
def reward(project, sponsor_account):
    token = project.MockERC20.deploy("Bounty USD", "bUSD", sender=sponsor_account)
    token.mint(sponsor_account, 100_000 * ONE, sender=sponsor_account)
    return token


@pytest.fixture
def sponsor_account(accounts):
    return accounts[8]


def test_scenario__weaker_model_scores_lower_and_scores_are_exact(scenario):
    alice, bob = scenario.contestants
    assert bob.total < alice.total
    for c in scenario.contestants:
        assert [p.score for p in c.proofs] == [c.model.score(*chunk) for chunk in scenario.chunks]


def test_open__weaker_fails_threshold_stronger_is_paid(core, market, registered, scenario, reward, sponsor_account, chain, attacker):
    alice, bob = scenario.contestants
    reward.approve(market.bounties, 10_000 * ONE, sender=sponsor_account)
    threshold = (alice.total + bob.total) // 2 + 1
    market.bounties.createOpen((reward, 10_000 * ONE, registered, scenario.chunk_commitments, scenario.test_data,
                                threshold, 0, chain.pending_timestamp + 7 * DAY), sender=sponsor_account)
    for index, bundle in enumerate(bob.proofs):
        market.bounties.submitChunk(0, bob.model_id, index, bundle.proof, bundle.instances, sender=bob.account)
    assert market.bounties.bounty(0).status == 0  # complete but below threshold
    # Alice's proofs, copied from the mempool and sent by the attacker, pay Alice.
    for index, bundle in enumerate(alice.proofs):
        market.bounties.submitChunk(0, alice.model_id, index, bundle.proof, bundle.instances, sender=attacker)
    fee = core.vault.feeOn(10_000 * ONE)
    assert market.bounties.owed(alice.account, reward) == 10_000 * ONE - fee
    assert market.bounties.owed(attacker, reward) == 0
    market.bounties.flushFees(reward, sender=attacker)
    assert core.vault.unallocated(reward) == fee
    with ape.reverts(market.bounties.BountyWrongPhase, bountyId=0, current=4, required=2):
        market.bounties.submitChunk(0, alice.model_id, 0, alice.proofs[0].proof, alice.proofs[0].instances, sender=attacker)


def test_open__real_proof_for_other_test_set_and_wrong_model__rejected(market, registered, scenario, reward, sponsor_account, chain):
    alice, bob = scenario.contestants
    reward.approve(market.bounties, ONE, sender=sponsor_account)
    reversed_chunks = list(reversed(scenario.chunk_commitments))
    market.bounties.createOpen((reward, ONE, registered, reversed_chunks, scenario.test_data, 1, 0,
                                chain.pending_timestamp + 2 * DAY), sender=sponsor_account)
    with ape.reverts(market.bounties.EvaluationProofWrongChunk, expected=reversed_chunks[0], actual=scenario.chunk_commitments[0]):
        market.bounties.submitChunk(0, alice.model_id, 0, alice.proofs[0].proof, alice.proofs[0].instances, sender=alice.account)
    with ape.reverts(market.bounties.EvaluationProofWrongModel):
        market.bounties.submitChunk(0, bob.model_id, 1, alice.proofs[0].proof, alice.proofs[0].instances, sender=bob.account)
    tampered = list(alice.proofs[1].instances)
    tampered[0] += 1
    with ape.reverts(market.bounties.EvaluationProofInvalid):
        market.bounties.submitChunk(0, alice.model_id, 0, alice.proofs[1].proof, tampered, sender=alice.account)


def test_sealed__stronger_wins_sponsor_cannot_take_back(project, core, market, scenario, reward, sponsor_account, alice, whale):
    lines = []
    bounty_id = bounty_demo.sealed_round(project, core, market, scenario, sponsor_account, [alice, whale], reward,
                                         10_000 * ONE, threshold=90, log=lines.append)
    winner, loser = scenario.contestants
    b = market.bounties.bounty(bounty_id)
    assert b.status == 1 and b.best == winner.model_id and b.bestScore == winner.total
    assert market.bounties.owed(loser.account, reward) == 0
    assert market.bounties.owed(sponsor_account, reward) == 0
    with ape.reverts(market.bounties.BountyWrongPhase, bountyId=bounty_id, current=4, required=3):
        market.bounties.finalize(bounty_id, sender=sponsor_account)
    market.bounties.withdraw(reward, sender=winner.account)
    with ape.reverts(market.bounties.SettlementNothingToWithdraw):
        market.bounties.withdraw(reward, sender=sponsor_account)
    market.bounties.flushFees(reward, sender=sponsor_account)
    assert market.bounties.escrowed(reward) == reward.balanceOf(market.bounties) == 0


@pytest.mark.anvil
def test_demo__model_market_on_anvil(project, accounts):
    assert shutil.which("anvil"), "anvil not on PATH: run the tests through ./dev test"
    with networks.parse_network_choice("ethereum:local:foundry"):
        lines: list[str] = []
        core = governance_round_trip(project, accounts, log=lines.append)
        result = model_market_round_trip(project, accounts, core, log=lines.append)
        assert result["winner"].name == "alice"
        assert result["fee"] == core.vault.feeOn(10_000 * ONE)
        assert result["payout"] == 10_000 * ONE - result["fee"]
        assert any("verified on chain" in line for line in lines)
