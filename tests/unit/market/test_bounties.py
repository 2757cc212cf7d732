"""ModelBounties with a mock verifier: open and sealed flows, payouts, refunds and every attack on them."""

import ape
import pytest
from eth_utils import keccak

from apiary.sdk.market import Phase, Status, register_model

from .conftest import DAY, TEST_DATA

HOUR = 3600


def submit(bounties, bounty_id, model_id, chunk, p, sender):
    return bounties.submitChunk(bounty_id, model_id, chunk, p.proof, p.instances, sender=sender)


def ledger_ok(bounties, token, open_rewards=0):
    """The settlement invariant: locked == open rewards; escrowed == locked + owed + fees + burned == what the
    market holds."""
    assert bounties.locked(token) == open_rewards
    assert bounties.escrowed(token) == (bounties.locked(token) + bounties.totalOwed(token) + bounties.feesPending(token)
                                        + bounties.burned(token))
    assert bounties.escrowed(token) == token.balanceOf(bounties)


def to_phase(chain, when):
    chain.mine(1, timestamp=when + 1)


def reveal(bounties, bounty_id, chunks, sealed_bounty, sponsor):
    return bounties.reveal(bounty_id, chunks, sealed_bounty.salt, sealed_bounty.data, sender=sponsor)


# ---------------------------------------------------------------- creation


def test_create_open__escrows_reward_fixes_fee_and_publishes_data(bounties, open_bounty, reward_token, sponsor, vault, chunks):
    bounty_id = open_bounty()
    b = bounties.bounty(bounty_id)
    assert b.sponsor == sponsor.address and b.reward == 1_000_000 and b.numChunks == 2 and b.samples == 8
    assert b.feeBps == vault.feeBps() == 100
    assert b.testDataHash == keccak(TEST_DATA)
    assert b.testSetCommitment == bounties.testSetCommitment(chunks, keccak(TEST_DATA), b"\0" * 32)
    logs = list(bounties.TestSetRevealed.range(0, ape.chain.blocks.height + 1))
    assert logs[-1].testData == TEST_DATA and [bytes(c) for c in logs[-1].chunks] == chunks
    assert bounties.phase(bounty_id) == Phase.PROVE
    ledger_ok(bounties, reward_token, 1_000_000)


@pytest.mark.parametrize("bad", ["zero_amount", "zero_token", "no_chunks", "dup_chunk", "zero_chunk", "threshold_0",
                                 "threshold_unreachable", "deadline_past", "deadline_now", "deadline_one_second",
                                 "window_below_minimum", "deadline_absurd", "unknown_circuit", "no_data", "oversized_data"])
def test_create_open__bad_parameters__revert(bounties, verifiers, reward_token, sponsor, circuit, chunks, chain, bad):
    now = chain.pending_timestamp
    p = dict(token=reward_token.address, amount=100, circuit=circuit, chunks=chunks, data=TEST_DATA, threshold=10,
             direction=0, deadline=now + DAY)
    errors = {
        "zero_amount": (dict(amount=0), bounties.BountyZeroAmount, {}),
        "zero_token": (dict(token="0x" + "00" * 20), bounties.BountyZeroAddress, {}),
        "no_chunks": (dict(chunks=[]), bounties.BountyBadChunkCount, {}),
        "dup_chunk": (dict(chunks=[chunks[0], chunks[0]]), bounties.BountyDuplicateChunk, {"index": 1, "earlierIndex": 0}),
        "zero_chunk": (dict(chunks=[chunks[0], b"\0" * 32]), bounties.BountyBadChunk, {"index": 1}),
        "threshold_0": (dict(threshold=0), bounties.BountyUnreachableThreshold, {"threshold": 0, "maxScore": 16}),
        "threshold_unreachable": (dict(threshold=17), bounties.BountyUnreachableThreshold, {"threshold": 17, "maxScore": 16}),
        "deadline_past": (dict(deadline=now - 1), bounties.BountyBadWindow, {"window": 2, "length": 0, "min": DAY}),
        "deadline_now": (dict(deadline=now), bounties.BountyBadWindow, {"window": 2, "length": 0, "min": DAY}),
        "deadline_one_second": (dict(deadline=now + 1), bounties.BountyBadWindow, {"window": 2, "length": 1, "min": DAY}),
        "window_below_minimum": (dict(deadline=now + DAY - 1), bounties.BountyBadWindow, {"window": 2, "length": DAY - 1}),
        "deadline_absurd": (dict(deadline=now + 366 * DAY), bounties.BountyBadWindow, {"window": 2, "length": 366 * DAY}),
        "unknown_circuit": (dict(circuit=b"\x99" * 32), verifiers.VerifierRegistryUnknownCircuit, {}),
        "no_data": (dict(data=b""), bounties.BountyBadTestData, {"length": 0}),
        "oversized_data": (dict(data=b"\x01" * (96 * 1024 + 1)), bounties.BountyBadTestData, {"length": 96 * 1024 + 1}),
    }
    change, error, fields = errors[bad]
    p.update(change)
    with ape.reverts(error, **fields):
        bounties.createOpen(tuple(p.values()), sender=sponsor, gas=10_000_000)
    assert bounties.bountyCount() == 0
    assert bounties.escrowed(reward_token) == 0


def test_create__fee_on_transfer_token__credits_received(sponsor_token, bounties, sponsor, circuit, chunks, chain):
    fot = sponsor_token("FeeOnTransferToken", 10_000, 500)
    bounties.createOpen((fot, 10_000, circuit, chunks, TEST_DATA, 10, 0, chain.pending_timestamp + 2 * DAY), sender=sponsor)
    assert bounties.bounty(0).reward == 9_500 == bounties.escrowed(fot) == fot.balanceOf(bounties) == bounties.locked(fot)


def test_create__retired_circuit__reverts_but_existing_bounty_keeps_verifier(bounties, verifiers, gov, circuit, open_bounty,
                                                                             proofs, alice_model, alice, reward_token, sponsor, chunks, chain):
    bounty_id = open_bounty()
    verifiers.retire(circuit, sender=gov)
    with ape.reverts(verifiers.VerifierRegistryRetired, id=circuit):
        bounties.createOpen((reward_token, 5, circuit, chunks, TEST_DATA, 10, 0, chain.pending_timestamp + 2 * DAY), sender=sponsor)
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 7), alice)
    assert bounties.entry(bounty_id, alice_model).score == 7


# ---------------------------------------------------------------- open flow


def test_open__first_complete_qualifying_model_wins(bounties, open_bounty, proofs, alice_model, bob_model, alice, bob,
                                                    reward_token, vault, sponsor):
    bounty_id = open_bounty(threshold=12)
    submit(bounties, bounty_id, bob_model, 0, proofs(0, "bob", 5), bob)
    submit(bounties, bounty_id, bob_model, 1, proofs(1, "bob", 5), bob)  # 10 < 12: complete, does not qualify
    assert bounties.bounty(bounty_id).status == Status.ACTIVE
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 7), alice)
    receipt = submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 6), alice)
    fee = 10_000
    assert bounties.BountyWon(bountyId=bounty_id, modelId=alice_model, owner=alice.address, payout=1_000_000 - fee, fee=fee) in receipt.events
    assert bounties.owed(alice, reward_token) == 1_000_000 - fee
    assert bounties.feesPending(reward_token) == fee  # accrued, pushed to the vault separately
    ledger_ok(bounties, reward_token)
    bounties.flushFees(reward_token, sender=bob)
    assert vault.unallocated(reward_token) == fee and bounties.feesPending(reward_token) == 0
    bounties.withdraw(reward_token, sender=alice)
    assert reward_token.balanceOf(alice) == 990_000
    assert bounties.escrowed(reward_token) == 0
    ledger_ok(bounties, reward_token)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.CLOSED, required=Phase.SETTLE):
        bounties.finalize(bounty_id, sender=sponsor)


def test_open__mempool_copy_pays_the_model_owner_not_the_sender(bounties, open_bounty, proofs, alice_model, alice, attacker, reward_token):
    bounty_id = open_bounty(threshold=12)
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 7), attacker)
    submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 7), attacker)
    assert bounties.owed(attacker, reward_token) == 0
    assert bounties.owed(alice, reward_token) > 0
    with ape.reverts(bounties.SettlementNothingToWithdraw, account=attacker.address, token=reward_token.address):
        bounties.withdraw(reward_token, sender=attacker)


def test_open__copied_proof_under_attackers_model_id__rejected(bounties, open_bounty, proofs, alice_model, models, attacker, circuit):
    attacker_model = register_model(models, attacker, circuit, proofs(0, "attacker", 0).model)
    bounty_id = open_bounty()
    stolen = proofs(0, "alice", 7)
    with ape.reverts(bounties.EvaluationProofWrongModel, expected=proofs(0, "attacker", 0).model, actual=stolen.model):
        submit(bounties, bounty_id, attacker_model, 0, stolen, attacker)


def test_open__replayed_chunk__rejected(bounties, open_bounty, proofs, alice_model, alice, mock_verifier):
    bounty_id = open_bounty()
    p = proofs(0, "alice", 7)
    submit(bounties, bounty_id, alice_model, 0, p, alice)
    calls = mock_verifier.calls()
    with ape.reverts(bounties.BountyChunkAlreadyProven, bountyId=bounty_id, modelId=alice_model, chunkIndex=0):
        submit(bounties, bounty_id, alice_model, 0, p, alice)
    with ape.reverts(bounties.EvaluationProofWrongChunk):
        submit(bounties, bounty_id, alice_model, 1, p, alice)  # same proof presented as another chunk
    assert bounties.entry(bounty_id, alice_model).score == 7
    assert mock_verifier.calls() == calls


def test_open__proof_for_another_bounty_test_set__rejected(bounties, open_bounty, proofs, alice_model, alice):
    other_set = [proofs(10, "x", 0).chunk, proofs(11, "x", 0).chunk]
    bounty_id = open_bounty(chunk_list=other_set)
    p = proofs(0, "alice", 8)
    with ape.reverts(bounties.EvaluationProofWrongChunk, expected=other_set[0], actual=p.chunk):
        submit(bounties, bounty_id, alice_model, 0, p, alice)


def test_open__winning_proof_replayed_after_win__rejected(bounties, open_bounty, proofs, alice_model, alice):
    bounty_id = open_bounty(threshold=12)
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)
    submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 8), alice)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.CLOSED, required=Phase.PROVE):
        submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 8), alice)


def test_open__invalid_proof__rejected_and_nothing_recorded(bounties, open_bounty, proofs, alice_model, alice, mock_verifier):
    bounty_id = open_bounty()
    mock_verifier.setAccept(False, sender=alice)
    with ape.reverts(bounties.EvaluationProofInvalid, verifier=mock_verifier.address):
        submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)
    assert not bounties.chunkProven(bounty_id, alice_model, 0)


def test_open__proof_after_deadline__wrong_phase(bounties, open_bounty, proofs, alice_model, alice, chain):
    bounty_id = open_bounty()
    to_phase(chain, bounties.bounty(bounty_id).deadline)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.SETTLE, required=Phase.PROVE):
        submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)


def test_open__model_of_another_circuit__rejected(project, bounties, verifiers, gov, deployer, open_bounty, models, alice, proofs):
    other = project.MockHalo2Verifier.deploy(sender=deployer)
    verifiers.register("other-n8", other, b"\x22" * 32, 8, 0, sender=gov)
    other_id = verifiers.circuitId("other-n8")
    model_id = register_model(models, alice, other_id, proofs(0, "alice", 0).model)
    bounty_id = open_bounty()
    with ape.reverts(bounties.BountyWrongCircuit, modelId=model_id):
        submit(bounties, bounty_id, model_id, 0, proofs(0, "alice", 8), alice)


def test_open__expired_without_winner__refunds_exactly_once(bounties, open_bounty, sponsor, reward_token, chain, attacker):
    bounty_id = open_bounty()
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.PROVE, required=Phase.SETTLE):
        bounties.finalize(bounty_id, sender=attacker)
    to_phase(chain, bounties.bounty(bounty_id).deadline)
    bounties.finalize(bounty_id, sender=attacker)  # anyone may trigger; the sponsor is credited
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.CLOSED, required=Phase.SETTLE):
        bounties.finalize(bounty_id, sender=sponsor)
    assert bounties.owed(sponsor, reward_token) == 1_000_000
    before = reward_token.balanceOf(sponsor)
    bounties.withdraw(reward_token, sender=sponsor)
    with ape.reverts(bounties.SettlementNothingToWithdraw):
        bounties.withdraw(reward_token, sender=sponsor)
    assert reward_token.balanceOf(sponsor) - before == 1_000_000
    ledger_ok(bounties, reward_token)


def test_open__error_metric_circuit__at_most_threshold_and_no_sample_bound(project, bounties, verifiers, gov, deployer, models,
                                                                          reward_token, sponsor, chunks, chain, proofs, alice):
    sse = project.MockHalo2Verifier.deploy(sender=deployer)
    verifiers.register("mock-sse", sse, b"\x33" * 32, 8, 1, sender=gov)
    cid = verifiers.circuitId("mock-sse")
    model_id = register_model(models, alice, cid, proofs(0, "alice-sse", 0).model)
    deadline = chain.pending_timestamp + 2 * DAY
    with ape.reverts(bounties.BountyWrongDirection, given=0, required=1):
        bounties.createOpen((reward_token, 100, cid, chunks, TEST_DATA, 10**9, 0, deadline), sender=sponsor)
    bounties.createOpen((reward_token, 100, cid, chunks, TEST_DATA, 10**9, 1, deadline), sender=sponsor)
    # Scores far above the sample count are fine for error sums; the total must stay at or below the threshold.
    submit(bounties, 0, model_id, 0, proofs(0, "alice-sse", 4 * 10**8), alice)
    submit(bounties, 0, model_id, 1, proofs(1, "alice-sse", 6 * 10**8), alice)
    assert bounties.bounty(0).status == Status.WON


def test_open__count_circuit_rejects_at_most_direction(bounties, reward_token, sponsor, circuit, chunks, chain):
    with ape.reverts(bounties.BountyWrongDirection, given=1, required=0):
        bounties.createOpen((reward_token, 100, circuit, chunks, TEST_DATA, 3, 1, chain.pending_timestamp + 2 * DAY), sender=sponsor)


# ---------------------------------------------------------------- money paths


def test_withdraw__reentrancy_through_reward_token__blocked(sponsor_token, bounties, sponsor, circuit, chunks, chain, proofs, alice_model, alice):
    evil = sponsor_token("ReentrantToken", 10**6)
    bounties.createOpen((evil, 10**6, circuit, chunks, TEST_DATA, 12, 0, chain.pending_timestamp + 2 * DAY), sender=sponsor)
    submit(bounties, 0, alice_model, 0, proofs(0, "alice", 8), alice)
    submit(bounties, 0, alice_model, 1, proofs(1, "alice", 8), alice)
    owed = bounties.owed(alice, evil)
    evil.arm(bounties, bounties.withdraw.encode_input(evil), sender=alice)
    bounties.withdraw(evil, sender=alice)
    assert evil.attempted() and not evil.reentered()
    assert evil.balanceOf(alice) == owed
    assert bounties.escrowed(evil) == evil.balanceOf(bounties) == bounties.feesPending(evil)


def test_settlement__reverting_token_blocks_nobody_from_settling(sponsor_token, bounties, sponsor, circuit, chunks, chain, proofs,
                                                                 alice_model, alice, bob_model, bob):
    rev = sponsor_token("RevertingToken", 2 * 10**6)
    for _ in range(2):
        bounties.createOpen((rev, 10**6, circuit, chunks, TEST_DATA, 12, 0, chain.pending_timestamp + 2 * DAY), sender=sponsor)
    for bounty_id, model_id, name, who in ((0, alice_model, "alice", alice), (1, bob_model, "bob", bob)):
        submit(bounties, bounty_id, model_id, 0, proofs(0, name, 8), who)
    rev.setReverting(True, sender=sponsor)  # every transfer out fails: settling needs none
    submit(bounties, 0, alice_model, 1, proofs(1, "alice", 8), alice)
    assert bounties.bounty(0).status == Status.WON and bounties.owed(alice, rev) == 990_000
    with ape.reverts(rev.RevertingTokenBlocked):
        bounties.withdraw(rev, sender=alice)
    rev.setReverting(False, sender=sponsor)
    bounties.withdraw(rev, sender=alice)
    assert rev.balanceOf(alice) == 990_000


def test_finding5__token_refusing_the_vault_blocks_no_payee_or_refund(sponsor_token, bounties, sealed_bounty, vault, sponsor, circuit,
                                                                      chunks, chain, proofs, alice_model, alice, attacker):
    """Finding 5: a token that refuses transfers to the vault used to freeze a sealed bounty with a leader forever."""
    blk = sponsor_token("BlocklistToken", 3 * 10**6)
    blk.setBlocked(vault, True, sender=sponsor)
    now = chain.pending_timestamp
    salt = sealed_bounty.salt
    commitment = bounties.testSetCommitment(chunks, keccak(TEST_DATA), salt)
    bounties.createSealed((blk, 10**6, circuit, commitment, 2, 10, 0, now + DAY, now + 2 * DAY, now + 3 * DAY), sender=sponsor)
    bounties.createOpen((blk, 10**6, circuit, chunks, TEST_DATA, 16, 0, now + 3 * DAY), sender=sponsor)  # nobody will qualify
    bounties.commitModel(0, alice_model, sender=alice)
    to_phase(chain, bounties.bounty(0).commitDeadline)
    bounties.reveal(0, chunks, salt, TEST_DATA, sender=sponsor)
    for chunk in (0, 1):
        submit(bounties, 0, alice_model, chunk, proofs(chunk, "alice", 6), alice)
    to_phase(chain, bounties.bounty(0).deadline)
    bounties.finalize(0, sender=attacker)  # the leader is paid although the vault cannot receive
    bounties.finalize(1, sender=attacker)  # and the refund goes through too
    assert bounties.owed(alice, blk) == 990_000 and bounties.owed(sponsor, blk) == 10**6
    bounties.withdraw(blk, sender=alice)
    bounties.withdraw(blk, sender=sponsor)
    with ape.reverts(blk.BlocklistTokenBlocked, account=vault.address):
        bounties.flushFees(blk, sender=attacker)  # only the vault's own transfer fails; the fee stays pending
    assert bounties.feesPending(blk) == 10_000
    blk.setBlocked(vault, False, sender=sponsor)
    bounties.flushFees(blk, sender=attacker)
    assert vault.unallocated(blk) == 10_000
    ledger_ok(bounties, blk)


def test_finding5__blocklisted_payee_blocks_only_itself(sponsor_token, bounties, sponsor, circuit, chunks, chain, proofs,
                                                        alice_model, alice, bob_model, bob):
    blk = sponsor_token("BlocklistToken", 2 * 10**6)
    for _ in range(2):
        bounties.createOpen((blk, 10**6, circuit, chunks, TEST_DATA, 12, 0, chain.pending_timestamp + 2 * DAY), sender=sponsor)
    blk.setBlocked(alice, True, sender=sponsor)
    for bounty_id, model_id, name, who in ((0, alice_model, "alice", alice), (1, bob_model, "bob", bob)):
        for chunk in (0, 1):
            submit(bounties, bounty_id, model_id, chunk, proofs(chunk, name, 8), who)
    with ape.reverts(blk.BlocklistTokenBlocked, account=alice.address):
        bounties.withdraw(blk, sender=alice)
    bounties.withdraw(blk, sender=bob)
    assert blk.balanceOf(bob) == 990_000 and bounties.owed(alice, blk) == 990_000


def test_finding6__fee_raised_after_creation__winner_gets_the_promised_payout(bounties, open_bounty, vault, gov, proofs,
                                                                              alice_model, alice, reward_token):
    """Finding 6: the fee rate in force when the sponsor escrowed the reward is the one charged."""
    bounty_id = open_bounty(threshold=12)
    vault.setFeeBps(1_000, sender=gov)  # 1% → 10% after the reward was committed
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)
    receipt = submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 8), alice)
    assert bounties.BountyWon(bountyId=bounty_id, payout=990_000, fee=10_000) in receipt.events
    assert bounties.owed(alice, reward_token) == 990_000
    assert bounties.bounty(bounty_id).feeBps == 100
    # A bounty created now pays the new rate.
    assert bounties.bounty(open_bounty()).feeBps == 1_000


def test_fee__rounds_up_in_the_protocols_favour(bounties, open_bounty, proofs, alice_model, alice, reward_token):
    bounty_id = open_bounty(threshold=12, amount=101)  # 1% of 101 = 1.01 → 2
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)
    submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 8), alice)
    assert bounties.owed(alice, reward_token) == 99 and bounties.feesPending(reward_token) == 2


def test_flush_fees__nothing_pending__reverts(bounties, reward_token, attacker):
    with ape.reverts(bounties.SettlementNoFeesPending, token=reward_token.address):
        bounties.flushFees(reward_token, sender=attacker)


def test_direct_transfers__change_no_accounting(bounties, open_bounty, reward_token, sponsor, alice):
    open_bounty()
    reward_token.transfer(bounties, 777, sender=sponsor)
    assert bounties.escrowed(reward_token) == 1_000_000
    with ape.reverts():
        alice.transfer(bounties, 1)


def test_surplus__sent_directly_or_rebased__swept_to_the_vault_by_governance(bounties, open_bounty, reward_token,
                                                                           sponsor, attacker, gov, vault):
    """Also found (issue 20): tokens beyond the ledger (a donation, a positive rebase) had no way out of a market.
    Governance (the vault's owner, through `FeeVault.sweepMarketSurplus`) sweeps them into the market's fees for
    the vault, at most the amount it voted; nobody else can (a token's second entry point, or a rebase inflated
    for one transaction, would make escrow look like surplus); what is escrowed never moves."""
    open_bounty()
    with ape.reverts(bounties.SettlementNoSurplus, token=reward_token.address):
        vault.sweepMarketSurplus(bounties, reward_token, 2**256 - 1, sender=gov)
    reward_token.transfer(bounties, 777, sender=sponsor)
    with ape.reverts(bounties.SettlementNotVault, caller=attacker.address):
        bounties.sweepSurplus(reward_token, 2**256 - 1, sender=attacker)
    with ape.reverts(vault.OwnableUnauthorizedAccount, account=attacker.address):
        vault.sweepMarketSurplus(bounties, reward_token, 2**256 - 1, sender=attacker)
    receipt = vault.sweepMarketSurplus(bounties, reward_token, 700, sender=gov)  # capped at the amount voted
    assert bounties.SurplusSwept(token=reward_token.address, amount=700) in receipt.events
    vault.sweepMarketSurplus(bounties, reward_token, 2**256 - 1, sender=gov)
    assert bounties.feesPending(reward_token) == 777 and bounties.locked(reward_token) == 1_000_000
    assert bounties.escrowed(reward_token) == reward_token.balanceOf(bounties)
    before = vault.unallocated(reward_token)
    bounties.flushFees(reward_token, sender=attacker)
    assert vault.unallocated(reward_token) == before + 777 and bounties.owed(attacker, reward_token) == 0
    with ape.reverts(bounties.SettlementNoSurplus):
        vault.sweepMarketSurplus(bounties, reward_token, 1, sender=gov)


def test_create__token_returning_false__rejected(sponsor_token, bounties, sponsor, circuit, chunks, chain):
    bad = sponsor_token("FalseReturnToken", 100)
    with ape.reverts(bounties.SafeERC20FailedOperation, token=bad.address):
        bounties.createOpen((bad, 100, circuit, chunks, TEST_DATA, 10, 0, chain.pending_timestamp + 2 * DAY), sender=sponsor)
    assert bounties.bountyCount() == 0 and bounties.escrowed(bad) == 0


def test_create__token_without_return_value__works_end_to_end(sponsor_token, bounties, sponsor, circuit, chunks, chain, proofs,
                                                              alice_model, alice, vault):
    usdt = sponsor_token("NoReturnToken", 10_000)
    bounties.createOpen((usdt, 10_000, circuit, chunks, TEST_DATA, 12, 0, chain.pending_timestamp + 2 * DAY), sender=sponsor)
    submit(bounties, 0, alice_model, 0, proofs(0, "alice", 8), alice)
    submit(bounties, 0, alice_model, 1, proofs(1, "alice", 8), alice)
    bounties.withdraw(usdt, sender=alice)
    bounties.flushFees(usdt, sender=alice)
    assert usdt.balanceOf(alice) == 10_000 - 100
    assert usdt.balanceOf(vault) == 100
    assert bounties.escrowed(usdt) == usdt.balanceOf(bounties) == 0


# ---------------------------------------------------------------- sealed flow


def test_sealed__full_flow_best_score_wins(bounties, sealed_bounty, proofs, alice_model, bob_model, alice, bob, sponsor, chunks,
                                           chain, reward_token):
    bounty_id = sealed_bounty(threshold=10)
    assert bounties.phase(bounty_id) == Phase.COMMIT
    bounties.commitModel(bounty_id, bob_model, sender=bob)
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    to_phase(chain, bounties.bounty(bounty_id).commitDeadline)
    assert bounties.phase(bounty_id) == Phase.REVEAL
    receipt = reveal(bounties, bounty_id, chunks, sealed_bounty, sponsor)
    assert bounties.TestSetRevealed(bountyId=bounty_id, testData=TEST_DATA) in receipt.events
    assert bounties.phase(bounty_id) == Phase.PROVE
    for chunk, (a, b) in enumerate(((7, 6), (7, 6))):
        submit(bounties, bounty_id, alice_model, chunk, proofs(chunk, "alice", a), alice)
        submit(bounties, bounty_id, bob_model, chunk, proofs(chunk, "bob", b), bob)
    assert bounties.bounty(bounty_id).best == alice_model
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.PROVE, required=Phase.SETTLE):
        bounties.finalize(bounty_id, sender=bob)
    to_phase(chain, bounties.bounty(bounty_id).deadline)
    assert bounties.phase(bounty_id) == Phase.SETTLE
    bounties.finalize(bounty_id, sender=bob)
    assert bounties.phase(bounty_id) == Phase.CLOSED
    assert bounties.owed(alice, reward_token) == 990_000
    assert bounties.owed(bob, reward_token) == 0
    assert bounties.feesPending(reward_token) == 10_000
    ledger_ok(bounties, reward_token)


def test_sealed__tie_goes_to_earliest_commitment(bounties, sealed_bounty, proofs, alice_model, bob_model, alice, bob, sponsor, chunks, chain):
    bounty_id = sealed_bounty(threshold=10)
    bounties.commitModel(bounty_id, bob_model, sender=bob)  # bob first
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    to_phase(chain, bounties.bounty(bounty_id).commitDeadline)
    reveal(bounties, bounty_id, chunks, sealed_bounty, sponsor)
    for chunk in (0, 1):  # alice completes first, bob ties later
        submit(bounties, bounty_id, alice_model, chunk, proofs(chunk, "alice", 6), alice)
    for chunk in (0, 1):
        submit(bounties, bounty_id, bob_model, chunk, proofs(chunk, "bob", 6), bob)
    assert bounties.bounty(bounty_id).best == bob_model


def test_sealed__commit_rules(bounties, sealed_bounty, open_bounty, alice_model, alice, attacker, chain):
    bounty_id = sealed_bounty()
    with ape.reverts(bounties.BountyNotModelOwner, modelId=alice_model, caller=attacker.address, owner=alice.address):
        bounties.commitModel(bounty_id, alice_model, sender=attacker)
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    with ape.reverts(bounties.BountyAlreadyCommitted, bountyId=bounty_id, modelId=alice_model):
        bounties.commitModel(bounty_id, alice_model, sender=alice)
    open_id = open_bounty()
    with ape.reverts(bounties.BountyWrongPhase, bountyId=open_id, current=Phase.PROVE, required=Phase.COMMIT):
        bounties.commitModel(open_id, alice_model, sender=alice)
    to_phase(chain, bounties.bounty(bounty_id).commitDeadline)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.REVEAL, required=Phase.COMMIT):
        bounties.commitModel(bounty_id, alice_model, sender=alice)


def test_sealed__non_committer_cannot_prove(bounties, sealed_bounty, proofs, alice_model, bob_model, alice, bob, sponsor, chunks, chain):
    bounty_id = sealed_bounty()
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.COMMIT, required=Phase.PROVE):
        submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)
    to_phase(chain, bounties.bounty(bounty_id).commitDeadline)
    reveal(bounties, bounty_id, chunks, sealed_bounty, sponsor)
    with ape.reverts(bounties.BountyModelNotCommitted, bountyId=bounty_id, modelId=bob_model):
        submit(bounties, bounty_id, bob_model, 0, proofs(0, "bob", 8), bob)


def test_sealed__reveal_rules(bounties, sealed_bounty, sponsor, attacker, chunks, chain, proofs):
    bounty_id = sealed_bounty()
    salt, data = sealed_bounty.salt, sealed_bounty.data
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.COMMIT, required=Phase.REVEAL):
        bounties.reveal(bounty_id, chunks, salt, data, sender=sponsor)
    to_phase(chain, bounties.bounty(bounty_id).commitDeadline)
    with ape.reverts(bounties.BountyNotSponsor, bountyId=bounty_id, caller=attacker.address):
        bounties.reveal(bounty_id, chunks, salt, data, sender=attacker)
    other = [proofs(5, "x", 0).chunk, chunks[1]]
    expected = bounties.bounty(bounty_id).testSetCommitment
    actual = bounties.testSetCommitment(other, keccak(data), salt)
    with ape.reverts(bounties.BountyRevealMismatch, bountyId=bounty_id, expected=expected, actual=actual):
        bounties.reveal(bounty_id, other, salt, data, sender=sponsor)
    with ape.reverts(bounties.BountyRevealMismatch):
        bounties.reveal(bounty_id, chunks, b"\x00" * 32, data, sender=sponsor)
    reveal(bounties, bounty_id, chunks, sealed_bounty, sponsor)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.PROVE, required=Phase.REVEAL):
        reveal(bounties, bounty_id, chunks, sealed_bounty, sponsor)


def test_sealed__reveal_after_deadline__wrong_phase(bounties, sealed_bounty, sponsor, chunks, chain):
    bounty_id = sealed_bounty()
    to_phase(chain, bounties.bounty(bounty_id).revealDeadline)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.SETTLE, required=Phase.REVEAL):
        reveal(bounties, bounty_id, chunks, sealed_bounty, sponsor)


@pytest.mark.parametrize("bad", ["commit_one_second", "commit_now", "reveal_one_second", "prove_one_second", "absurd"])
def test_finding7__windows_below_their_floor__rejected(bounties, reward_token, sponsor, circuit, chunks, chain, bad):
    """Finding 7: one-second commit, reveal and proving windows used to be accepted."""
    now = chain.pending_timestamp
    c, r, d = now + DAY, now + 2 * DAY, now + 3 * DAY
    cases = {
        "commit_one_second": ((now + 1, r, d), 0, 1, HOUR),
        "commit_now": ((now, r, d), 0, 0, HOUR),
        "reveal_one_second": ((c, c + 1, d), 1, 1, HOUR),
        "prove_one_second": ((c, r, r + 1), 2, 1, DAY),
        "absurd": ((c, r, now + 366 * DAY), 2, now + 366 * DAY - r, DAY),
    }
    (c, r, d), window, length, minimum = cases[bad]
    commitment = bounties.testSetCommitment(chunks, keccak(TEST_DATA), b"\x42" * 32)
    with ape.reverts(bounties.BountyBadWindow, window=window, length=length, min=minimum):
        bounties.createSealed((reward_token, 100, circuit, commitment, 2, 10, 0, c, r, d), sender=sponsor)
    assert bounties.MIN_COMMIT_WINDOW() == HOUR and bounties.MIN_REVEAL_WINDOW() == HOUR and bounties.MIN_PROVE_WINDOW() == DAY


def test_sealed__minimum_windows__accepted(bounties, reward_token, sponsor, circuit, chunks, chain):
    now = chain.pending_timestamp
    commitment = bounties.testSetCommitment(chunks, keccak(TEST_DATA), b"\x42" * 32)
    bounties.createSealed((reward_token, 100, circuit, commitment, 2, 10, 0, now + HOUR, now + 2 * HOUR, now + 2 * HOUR + DAY),
                          sender=sponsor)
    assert bounties.bountyCount() == 1


# ---------------------------------------------------------------- findings 1–3: sealed bounties under attack


def test_finding1__commitments_have_no_first_come_cap(project, deployer, verifiers, vault, circuit, attacker, sponsor,
                                                      sponsor_token, chunks, chain, alice):
    """Finding 1: 256 first-come slots let one party fill them and lock every rival out. There is no cap now.
    (A registry stand-in that owns every model id for the attacker keeps 257 registrations out of the test.)"""
    flood_models = project.MockModelRegistry.deploy(circuit, attacker, sender=deployer)
    market = project.ModelBounties.deploy(verifiers, flood_models, vault, "0x0000000000000000000000000000000000000000", sender=deployer)
    token = sponsor_token("MockERC20", 1_000, "USD", "USD")
    token.approve(market, 1_000, sender=sponsor)
    now = chain.pending_timestamp
    commitment = market.testSetCommitment(chunks, keccak(TEST_DATA), b"\x42" * 32)
    market.createSealed((token, 1_000, circuit, commitment, 2, 10, 0, now + DAY, now + 2 * DAY, now + 3 * DAY), sender=sponsor)
    count = 257  # one more than the old MAX_COMMITTERS
    for model_id in range(1, count + 1):
        market.commitModel(0, model_id, sender=attacker)
    market.commitModel(0, count + 1, sender=attacker)  # and the next comer still gets in
    assert market.bounty(0).committed == count + 1
    assert market.entry(0, count + 1).commitIndex == count + 1


def test_finding2__no_reveal__forfeit_is_burned_not_paid_to_sybils_or_the_sponsor(
    bounties, sealed_bounty, models, circuit, alice_model, alice, sponsor, chain, reward_token, attacker, accounts
):
    """Finding 2: a per-model split let Sybils take almost all of a forfeit and a sponsor with 9 own commitments
    recover 89%. Now the forfeit is burned: nobody who committed receives any of it, and nor does the vault (whose
    holders include the sponsor)."""
    bounty_id = sealed_bounty(amount=1_000_001)
    own = [register_model(models, sponsor, circuit, keccak(b"sponsor-own" + bytes([i])), wait_final=False) for i in range(9)]
    chain.mine(models.sealWindow() + 1)
    for model_id in own:
        bounties.commitModel(bounty_id, model_id, sender=sponsor)
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    to_phase(chain, bounties.bounty(bounty_id).revealDeadline)
    receipt = bounties.finalize(bounty_id, sender=attacker)
    assert bounties.BountyForfeited(bountyId=bounty_id, committed=10, amount=1_000_001) in receipt.events
    assert bounties.bounty(bounty_id).status == Status.FORFEITED
    assert bounties.owed(sponsor, reward_token) == 0 and bounties.owed(alice, reward_token) == 0
    assert bounties.burned(reward_token) == 1_000_001 and bounties.feesPending(reward_token) == 0
    ledger_ok(bounties, reward_token)


def test_finding3__reveal_must_publish_the_sealed_test_data(bounties, sealed_bounty, alice_model, alice, sponsor, chunks, chain):
    """Finding 3: revealing the chunk commitments while withholding the data is no longer possible: the data is
    bound into the sealed commitment and published on chain by the reveal itself."""
    bounty_id = sealed_bounty()
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    to_phase(chain, bounties.bounty(bounty_id).commitDeadline)
    salt = sealed_bounty.salt
    with ape.reverts(bounties.BountyBadTestData, length=0):
        bounties.reveal(bounty_id, chunks, salt, b"", sender=sponsor)
    falsified = b"other data than was sealed"
    actual = bounties.testSetCommitment(chunks, keccak(falsified), salt)
    with ape.reverts(bounties.BountyRevealMismatch, bountyId=bounty_id, actual=actual):
        bounties.reveal(bounty_id, chunks, salt, falsified, sender=sponsor)
    receipt = bounties.reveal(bounty_id, chunks, salt, TEST_DATA, sender=sponsor)
    assert bounties.TestSetRevealed(bountyId=bounty_id, testData=TEST_DATA) in receipt.events
    assert bounties.bounty(bounty_id).testDataHash == keccak(TEST_DATA)


@pytest.mark.parametrize("strategy", ["withhold", "unprovable_data", "honest_nobody_qualifies", "honest_winner"])
def test_finding3__withholding_or_falsifying_never_pays_the_sponsor_better_than_honesty(
    bounties, sealed_bounty, proofs, alice_model, alice, sponsor, chunks, chain, reward_token, strategy
):
    """Once a model is committed, the sponsor gets nothing back in every branch: the reward goes to the winner or is
    burned. Withholding (no reveal) and publishing data nobody can prove on (falsified) cost the same as an
    honest reveal — never less."""
    bounty_id = sealed_bounty(threshold=12)
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    to_phase(chain, bounties.bounty(bounty_id).commitDeadline)
    if strategy != "withhold":
        reveal(bounties, bounty_id, chunks, sealed_bounty, sponsor)
    if strategy == "honest_nobody_qualifies":
        for chunk in (0, 1):
            submit(bounties, bounty_id, alice_model, chunk, proofs(chunk, "alice", 5), alice)
    if strategy == "honest_winner":
        for chunk in (0, 1):
            submit(bounties, bounty_id, alice_model, chunk, proofs(chunk, "alice", 7), alice)
    to_phase(chain, bounties.bounty(bounty_id).deadline)
    bounties.finalize(bounty_id, sender=alice)
    assert bounties.owed(sponsor, reward_token) == 0  # the sponsor recovers nothing in any branch
    expected_status = Status.WON if strategy == "honest_winner" else Status.FORFEITED
    assert bounties.bounty(bounty_id).status == expected_status
    assert bounties.owed(alice, reward_token) == (990_000 if strategy == "honest_winner" else 0)
    ledger_ok(bounties, reward_token)


def test_sealed__nobody_committed__refund_after_reveal_deadline(bounties, sealed_bounty, sponsor, chain, reward_token):
    bounty_id = sealed_bounty()
    to_phase(chain, bounties.bounty(bounty_id).revealDeadline)
    bounties.finalize(bounty_id, sender=sponsor)
    assert bounties.bounty(bounty_id).status == Status.REFUNDED
    assert bounties.owed(sponsor, reward_token) == 1_000_000
    ledger_ok(bounties, reward_token)


# ---------------------------------------------------------------- finding 4 seen from a bounty


def test_finding4__open_bounty__model_not_final_cannot_prove(bounties, open_bounty, models, circuit, alice, proofs, chain):
    """An open bounty pays the first qualifying proof at once, so only a registration that no earlier seal can
    take over any more may prove."""
    bounty_id = open_bounty()
    model_id = register_model(models, alice, circuit, proofs(0, "alice", 0).model, wait_final=False)
    until = models.contestableUntil(model_id)
    with ape.reverts(bounties.BountyModelNotFinal, modelId=model_id, contestableUntil=until):
        submit(bounties, bounty_id, model_id, 0, proofs(0, "alice", 8), alice)
    chain.mine(until - chain.blocks.height)
    submit(bounties, bounty_id, model_id, 0, proofs(0, "alice", 8), alice)  # lands in block until + 1
    assert bounties.chunkProven(bounty_id, model_id, 0)


def test_finding4__sealed_bounty__commit_before_final_paid_only_once_final(
    project, deployer, verifiers, vault, circuit, sponsor_token, sponsor, chunks, chain, alice, proofs
):
    """A sealed commit window may be shorter than the seal window (1 h against a day of blocks on mainnet), so a
    model registered when the bounty is announced can still be committed and proven; only the payout waits until
    no earlier seal can take the model over (the entry follows the token if one does)."""
    models = project.ModelRegistry.deploy(verifiers, 200, sender=deployer)
    market = project.ModelBounties.deploy(verifiers, models, vault, "0x0000000000000000000000000000000000000000", sender=deployer)
    token = sponsor_token("MockERC20", 10**6, "USD", "USD")
    token.approve(market, 10**6, sender=sponsor)
    now = chain.pending_timestamp
    commitment = market.testSetCommitment(chunks, keccak(TEST_DATA), b"\x42" * 32)
    market.createSealed((token, 10**6, circuit, commitment, 2, 10, 0, now + DAY, now + 2 * DAY, now + 3 * DAY), sender=sponsor)
    model_id = register_model(models, alice, circuit, proofs(0, "alice", 0).model, wait_final=False)
    market.commitModel(0, model_id, sender=alice)  # not final yet: accepted
    to_phase(chain, market.bounty(0).commitDeadline)
    market.reveal(0, chunks, b"\x42" * 32, TEST_DATA, sender=sponsor)
    for chunk in (0, 1):
        submit(market, 0, model_id, chunk, proofs(chunk, "alice", 6), alice)
    to_phase(chain, market.bounty(0).deadline)
    until = models.contestableUntil(model_id)
    assert chain.blocks.height < until
    with ape.reverts(market.BountyModelNotFinal, modelId=model_id, contestableUntil=until):
        market.finalize(0, sender=alice)
    chain.mine(until - chain.blocks.height)
    market.finalize(0, sender=alice)
    assert market.owed(alice, token) == 990_000


def test_views__unknown_bounty__reverts(bounties):
    with ape.reverts(bounties.BountyUnknown, bountyId=5):
        bounties.phase(5)
    with ape.reverts(bounties.BountyUnknown, bountyId=5):
        bounties.bounty(5)


def test_test_set_commitment__python_equals_contract(bounties, chunks):
    from apiary.zk import pipeline  # module import: the function's name would look like a test to pytest

    salt = b"\x42" * 32
    h = keccak(TEST_DATA)
    assert pipeline.test_set_commitment(chunks, h, salt) == bounties.testSetCommitment(chunks, h, salt)
    assert pipeline.test_set_commitment(chunks, h) == bounties.testSetCommitment(chunks, h, b"\0" * 32)


def test_flush_fees__reentrancy_through_token__blocked(sponsor_token, bounties, sponsor, circuit, chunks, chain, proofs,
                                                       alice_model, alice, vault):
    evil = sponsor_token("ReentrantToken", 10**6)
    bounties.createOpen((evil, 10**6, circuit, chunks, TEST_DATA, 12, 0, chain.pending_timestamp + 2 * DAY), sender=sponsor)
    submit(bounties, 0, alice_model, 0, proofs(0, "alice", 8), alice)
    submit(bounties, 0, alice_model, 1, proofs(1, "alice", 8), alice)
    # While the vault pulls the fee, the token calls back into flushFees: the guard stops it, nothing is paid twice.
    evil.arm(bounties, bounties.flushFees.encode_input(evil), sender=alice)
    bounties.flushFees(evil, sender=alice)
    assert evil.attempted() and not evil.reentered()
    assert vault.unallocated(evil) == 10_000 and bounties.feesPending(evil) == 0
    assert bounties.escrowed(evil) == evil.balanceOf(bounties) == 990_000


def test_sealed__sponsor_committing_its_own_models__recovers_nothing_without_a_reveal(
    bounties, sealed_bounty, models, circuit, sponsor, chain, reward_token
):
    """SECURITY: a sponsor entering its own competition to claw funds back (sibling of finding 2)."""
    bounty_id = sealed_bounty()
    own = register_model(models, sponsor, circuit, keccak(b"sponsor's own"))
    bounties.commitModel(bounty_id, own, sender=sponsor)
    to_phase(chain, bounties.bounty(bounty_id).revealDeadline)
    bounties.finalize(bounty_id, sender=sponsor)
    assert bounties.bounty(bounty_id).status == Status.FORFEITED
    assert bounties.owed(sponsor, reward_token) == 0
