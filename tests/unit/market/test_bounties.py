"""ModelBounties with a mock verifier: open and sealed flows, payouts, refunds and every attack on them."""

import ape
import pytest

from apiary.chain.market import register_model

DAY = 24 * 3600


def submit(bounties, bounty_id, model_id, chunk, p, sender):
    return bounties.submitChunk(bounty_id, model_id, chunk, p.proof, p.instances, sender=sender)


def ledger_ok(bounties, token):
    assert bounties.escrowed(token) == token.balanceOf(bounties)


# ---------------------------------------------------------------- creation


def test_create_open__escrows_reward(bounties, open_bounty, reward_token, sponsor):
    bounty_id = open_bounty()
    b = bounties.bounty(bounty_id)
    assert b.sponsor == sponsor.address and b.reward == 1_000_000 and b.numChunks == 2 and b.samples == 8
    assert bounties.escrowed(reward_token) == 1_000_000
    ledger_ok(bounties, reward_token)


@pytest.mark.parametrize("bad", ["zero_amount", "zero_token", "no_chunks", "dup_chunk", "zero_chunk", "threshold_0",
                                 "threshold_unreachable", "deadline_past", "deadline_absurd", "unknown_circuit"])
def test_create_open__bad_parameters__revert(bounties, verifiers, reward_token, sponsor, circuit, chunks, chain, bad):
    now = chain.pending_timestamp
    p = dict(token=reward_token.address, amount=100, circuit=circuit, chunks=chunks, threshold=10, direction=0, deadline=now + DAY)
    errors = {
        "zero_amount": (dict(amount=0), bounties.BountyZeroAmount, {}),
        "zero_token": (dict(token="0x" + "00" * 20), bounties.BountyZeroAddress, {}),
        "no_chunks": (dict(chunks=[]), bounties.BountyBadChunkCount, {}),
        "dup_chunk": (dict(chunks=[chunks[0], chunks[0]]), bounties.BountyDuplicateChunk, {"index": 1, "earlierIndex": 0}),
        "zero_chunk": (dict(chunks=[chunks[0], b"\0" * 32]), bounties.BountyBadChunk, {"index": 1}),
        "threshold_0": (dict(threshold=0), bounties.BountyUnreachableThreshold, {"threshold": 0, "maxScore": 16}),
        "threshold_unreachable": (dict(threshold=17), bounties.BountyUnreachableThreshold, {"threshold": 17, "maxScore": 16}),
        "deadline_past": (dict(deadline=now - 1), bounties.BountyBadDeadlines, {}),
        "deadline_absurd": (dict(deadline=now + 366 * DAY), bounties.BountyBadDeadlines, {}),
        "unknown_circuit": (dict(circuit=b"\x99" * 32), verifiers.VerifierRegistryUnknownCircuit, {}),
    }
    change, error, fields = errors[bad]
    p.update(change)
    with ape.reverts(error, **fields):
        bounties.createOpen(tuple(p.values()), sender=sponsor)
    assert bounties.bountyCount() == 0
    assert bounties.escrowed(reward_token) == 0


def test_create__fee_on_transfer_token__credits_received(project, bounties, sponsor, circuit, chunks, chain):
    fot = project.FeeOnTransferToken.deploy(500, sender=sponsor)
    fot.mint(sponsor, 10_000, sender=sponsor)
    fot.approve(bounties, 10_000, sender=sponsor)
    bounties.createOpen((fot, 10_000, circuit, chunks, 10, 0, chain.pending_timestamp + DAY), sender=sponsor)
    assert bounties.bounty(0).reward == 9_500 == bounties.escrowed(fot) == fot.balanceOf(bounties)


def test_create__retired_circuit__reverts_but_existing_bounty_keeps_verifier(bounties, verifiers, gov, circuit, open_bounty,
                                                                             proofs, alice_model, alice, reward_token, sponsor, chunks, chain):
    bounty_id = open_bounty()
    verifiers.retire(circuit, sender=gov)
    with ape.reverts(verifiers.VerifierRegistryRetired, id=circuit):
        bounties.createOpen((reward_token, 5, circuit, chunks, 10, 0, chain.pending_timestamp + DAY), sender=sponsor)
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 7), alice)
    assert bounties.entry(bounty_id, alice_model).score == 7


# ---------------------------------------------------------------- open flow


def test_open__first_complete_qualifying_model_wins(bounties, open_bounty, proofs, alice_model, bob_model, alice, bob,
                                                    reward_token, vault, sponsor):
    bounty_id = open_bounty(threshold=12)
    submit(bounties, bounty_id, bob_model, 0, proofs(0, "bob", 5), bob)
    submit(bounties, bounty_id, bob_model, 1, proofs(1, "bob", 5), bob)  # 10 < 12: complete, does not qualify
    assert bounties.bounty(bounty_id).status == 0
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 7), alice)
    receipt = submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 6), alice)
    fee = vault.feeOn(1_000_000)
    assert bounties.BountyWon(bountyId=bounty_id, modelId=alice_model, owner=alice.address, payout=1_000_000 - fee, fee=fee) in receipt.events
    assert bounties.owed(alice, reward_token) == 1_000_000 - fee
    assert vault.unallocated(reward_token) == fee == 10_000
    bounties.withdraw(reward_token, sender=alice)
    assert reward_token.balanceOf(alice) == 990_000
    assert bounties.escrowed(reward_token) == 0
    ledger_ok(bounties, reward_token)
    with ape.reverts(bounties.BountyNotActive, bountyId=bounty_id, status=1):
        bounties.finalize(bounty_id, sender=sponsor)


def test_open__mempool_copy_pays_the_model_owner_not_the_sender(bounties, open_bounty, proofs, alice_model, alice, attacker, reward_token):
    bounty_id = open_bounty(threshold=12)
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 7), attacker)
    submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 7), attacker)
    assert bounties.owed(attacker, reward_token) == 0
    assert bounties.owed(alice, reward_token) > 0
    with ape.reverts(bounties.BountyNothingToWithdraw, account=attacker.address, token=reward_token.address):
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
    with ape.reverts(bounties.BountyNotActive, bountyId=bounty_id, status=1):
        submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 8), alice)


def test_open__invalid_proof__rejected_and_nothing_recorded(bounties, open_bounty, proofs, alice_model, alice, mock_verifier):
    bounty_id = open_bounty()
    mock_verifier.setAccept(False, sender=alice)
    with ape.reverts(bounties.EvaluationProofInvalid, verifier=mock_verifier.address):
        submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)
    assert not bounties.chunkProven(bounty_id, alice_model, 0)


def test_open__claim_after_deadline__rejected(bounties, open_bounty, proofs, alice_model, alice, chain):
    bounty_id = open_bounty()
    deadline = bounties.bounty(bounty_id).deadline
    chain.mine(1, timestamp=deadline + 1)
    with ape.reverts(bounties.BountyProvingClosed, bountyId=bounty_id, deadline=deadline):
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
    with ape.reverts(bounties.BountyTooEarlyToFinalize):
        bounties.finalize(bounty_id, sender=attacker)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).deadline + 1)
    bounties.finalize(bounty_id, sender=attacker)  # anyone may trigger; the sponsor is credited
    with ape.reverts(bounties.BountyNotActive, bountyId=bounty_id, status=2):
        bounties.finalize(bounty_id, sender=sponsor)
    assert bounties.owed(sponsor, reward_token) == 1_000_000
    before = reward_token.balanceOf(sponsor)
    bounties.withdraw(reward_token, sender=sponsor)
    with ape.reverts(bounties.BountyNothingToWithdraw):
        bounties.withdraw(reward_token, sender=sponsor)
    assert reward_token.balanceOf(sponsor) - before == 1_000_000
    ledger_ok(bounties, reward_token)


def test_open__error_metric_circuit__at_most_threshold_and_no_sample_bound(project, bounties, verifiers, gov, deployer, models,
                                                                          reward_token, sponsor, chunks, chain, proofs, alice):
    sse = project.MockHalo2Verifier.deploy(sender=deployer)
    verifiers.register("mock-sse", sse, b"\x33" * 32, 8, 1, sender=gov)
    cid = verifiers.circuitId("mock-sse")
    model_id = register_model(models, alice, cid, proofs(0, "alice-sse", 0).model)
    deadline = chain.pending_timestamp + DAY
    with ape.reverts(bounties.BountyWrongDirection, given=0, required=1):
        bounties.createOpen((reward_token, 100, cid, chunks, 10**9, 0, deadline), sender=sponsor)
    bounties.createOpen((reward_token, 100, cid, chunks, 10**9, 1, deadline), sender=sponsor)
    # Scores far above the sample count are fine for error sums; the total must stay at or below the threshold.
    submit(bounties, 0, model_id, 0, proofs(0, "alice-sse", 4 * 10**8), alice)
    submit(bounties, 0, model_id, 1, proofs(1, "alice-sse", 6 * 10**8), alice)
    assert bounties.bounty(0).status == 1


def test_open__count_circuit_rejects_at_most_direction(bounties, reward_token, sponsor, circuit, chunks, chain):
    with ape.reverts(bounties.BountyWrongDirection, given=1, required=0):
        bounties.createOpen((reward_token, 100, circuit, chunks, 3, 1, chain.pending_timestamp + DAY), sender=sponsor)


def test_withdraw__reentrancy_through_reward_token__blocked(project, bounties, sponsor, circuit, chunks, chain, proofs, alice_model, alice):
    evil = project.ReentrantToken.deploy(sender=sponsor)
    evil.mint(sponsor, 10**6, sender=sponsor)
    evil.approve(bounties, 10**6, sender=sponsor)
    bounties.createOpen((evil, 10**6, circuit, chunks, 12, 0, chain.pending_timestamp + DAY), sender=sponsor)
    submit(bounties, 0, alice_model, 0, proofs(0, "alice", 8), alice)
    submit(bounties, 0, alice_model, 1, proofs(1, "alice", 8), alice)
    owed = bounties.owed(alice, evil)
    evil.arm(bounties, bounties.withdraw.encode_input(evil), sender=alice)
    bounties.withdraw(evil, sender=alice)
    assert evil.attempted() and not evil.reentered()
    assert evil.balanceOf(alice) == owed
    assert bounties.escrowed(evil) == evil.balanceOf(bounties) == 0


def test_withdraw__reverting_payee_token_blocks_only_that_payee(project, bounties, sponsor, circuit, chunks, chain, proofs,
                                                                alice_model, alice, bob_model, bob):
    rev = project.RevertingToken.deploy(sender=sponsor)
    rev.mint(sponsor, 2 * 10**6, sender=sponsor)
    rev.approve(bounties, 2 * 10**6, sender=sponsor)
    for _ in range(2):
        bounties.createOpen((rev, 10**6, circuit, chunks, 12, 0, chain.pending_timestamp + DAY), sender=sponsor)
    for bounty_id, model_id, name, who in ((0, alice_model, "alice", alice), (1, bob_model, "bob", bob)):
        submit(bounties, bounty_id, model_id, 0, proofs(0, name, 8), who)
    rev.setReverting(True, sender=sponsor)  # the vault's fee deposit now fails: settling waits, nothing is lost
    with ape.reverts(rev.RevertingTokenBlocked):
        submit(bounties, 0, alice_model, 1, proofs(1, "alice", 8), alice)
    rev.setReverting(False, sender=sponsor)
    submit(bounties, 0, alice_model, 1, proofs(1, "alice", 8), alice)
    assert bounties.bounty(0).status == 1 and bounties.bounty(1).status == 0


# ---------------------------------------------------------------- sealed flow


def test_sealed__full_flow_best_score_wins(bounties, sealed_bounty, proofs, alice_model, bob_model, alice, bob, sponsor, chunks,
                                           chain, reward_token, vault):
    bounty_id = sealed_bounty(threshold=10)
    bounties.commitModel(bounty_id, bob_model, sender=bob)
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).commitDeadline + 1)
    bounties.reveal(bounty_id, chunks, sealed_bounty.salt, "ipfs://testset", sender=sponsor)
    for chunk, (a, b) in enumerate(((7, 6), (7, 6))):
        submit(bounties, bounty_id, alice_model, chunk, proofs(chunk, "alice", a), alice)
        submit(bounties, bounty_id, bob_model, chunk, proofs(chunk, "bob", b), bob)
    assert bounties.bounty(bounty_id).best == alice_model
    with ape.reverts(bounties.BountyTooEarlyToFinalize):
        bounties.finalize(bounty_id, sender=bob)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).deadline + 1)
    bounties.finalize(bounty_id, sender=bob)
    assert bounties.owed(alice, reward_token) == 990_000
    assert bounties.owed(bob, reward_token) == 0
    assert vault.unallocated(reward_token) == 10_000
    ledger_ok(bounties, reward_token)


def test_sealed__tie_goes_to_earliest_commitment(bounties, sealed_bounty, proofs, alice_model, bob_model, alice, bob, sponsor, chunks, chain):
    bounty_id = sealed_bounty(threshold=10)
    bounties.commitModel(bounty_id, bob_model, sender=bob)  # bob first
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).commitDeadline + 1)
    bounties.reveal(bounty_id, chunks, sealed_bounty.salt, "", sender=sponsor)
    for chunk in (0, 1):  # alice completes first, bob ties later
        submit(bounties, bounty_id, alice_model, chunk, proofs(chunk, "alice", 6), alice)
    for chunk in (0, 1):
        submit(bounties, bounty_id, bob_model, chunk, proofs(chunk, "bob", 6), bob)
    assert bounties.bounty(bounty_id).best == bob_model


def test_sealed__commit_rules(bounties, sealed_bounty, alice_model, alice, attacker, chain):
    bounty_id = sealed_bounty()
    with ape.reverts(bounties.BountyNotModelOwner, modelId=alice_model, caller=attacker.address, owner=alice.address):
        bounties.commitModel(bounty_id, alice_model, sender=attacker)
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    with ape.reverts(bounties.BountyAlreadyCommitted, bountyId=bounty_id, modelId=alice_model):
        bounties.commitModel(bounty_id, alice_model, sender=alice)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).commitDeadline + 1)
    with ape.reverts(bounties.BountyCommitClosed):
        bounties.commitModel(bounty_id, alice_model, sender=alice)


def test_sealed__non_committer_cannot_prove(bounties, sealed_bounty, proofs, alice_model, bob_model, alice, bob, sponsor, chunks, chain):
    bounty_id = sealed_bounty()
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    with ape.reverts(bounties.BountyNotRevealed, bountyId=bounty_id):
        submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).commitDeadline + 1)
    bounties.reveal(bounty_id, chunks, sealed_bounty.salt, "", sender=sponsor)
    with ape.reverts(bounties.BountyModelNotCommitted, bountyId=bounty_id, modelId=bob_model):
        submit(bounties, bounty_id, bob_model, 0, proofs(0, "bob", 8), bob)


def test_sealed__reveal_rules(bounties, sealed_bounty, sponsor, attacker, chunks, chain, proofs):
    bounty_id = sealed_bounty()
    with ape.reverts(bounties.BountyRevealTooEarly):
        bounties.reveal(bounty_id, chunks, sealed_bounty.salt, "", sender=sponsor)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).commitDeadline + 1)
    with ape.reverts(bounties.BountyNotSponsor, bountyId=bounty_id, caller=attacker.address):
        bounties.reveal(bounty_id, chunks, sealed_bounty.salt, "", sender=attacker)
    other = [proofs(5, "x", 0).chunk, chunks[1]]
    expected = bounties.bounty(bounty_id).testSetCommitment
    with ape.reverts(bounties.BountyRevealMismatch, bountyId=bounty_id, expected=expected, actual=bounties.testSetCommitment(other, sealed_bounty.salt)):
        bounties.reveal(bounty_id, other, sealed_bounty.salt, "", sender=sponsor)
    with ape.reverts(bounties.BountyRevealMismatch):
        bounties.reveal(bounty_id, chunks, b"\x00" * 32, "", sender=sponsor)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).revealDeadline + 1)
    with ape.reverts(bounties.BountyRevealClosed):
        bounties.reveal(bounty_id, chunks, sealed_bounty.salt, "", sender=sponsor)


def test_sealed__sponsor_who_does_not_reveal_forfeits_to_committers(bounties, sealed_bounty, alice_model, bob_model, alice, bob,
                                                                    sponsor, chain, reward_token, vault, attacker):
    bounty_id = sealed_bounty(amount=1_000_001)
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    bounties.commitModel(bounty_id, bob_model, sender=bob)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).revealDeadline + 1)
    bounties.finalize(bounty_id, sender=attacker)
    b = bounties.bounty(bounty_id)
    assert b.status == 3
    fee = vault.feeOn(1_000_001)
    share = (1_000_001 - fee) // 2
    assert b.forfeitShare == share
    assert vault.unallocated(reward_token) == 1_000_001 - 2 * share  # fee plus rounding dust
    for model_id in (alice_model, bob_model):
        bounties.claimCompensation(bounty_id, model_id, sender=attacker)  # credited to the owners
    with ape.reverts(bounties.BountyAlreadyCompensated, bountyId=bounty_id, modelId=alice_model):
        bounties.claimCompensation(bounty_id, alice_model, sender=alice)
    assert bounties.owed(alice, reward_token) == bounties.owed(bob, reward_token) == share
    assert bounties.owed(sponsor, reward_token) == 0
    ledger_ok(bounties, reward_token)


def test_sealed__no_reveal_no_committers__refund(bounties, sealed_bounty, sponsor, chain, reward_token):
    bounty_id = sealed_bounty()
    chain.mine(1, timestamp=bounties.bounty(bounty_id).revealDeadline + 1)
    bounties.finalize(bounty_id, sender=sponsor)
    assert bounties.owed(sponsor, reward_token) == 1_000_000


def test_sealed__revealed_but_nobody_qualifies__refund(bounties, sealed_bounty, alice_model, alice, sponsor, chunks, chain, proofs, reward_token):
    bounty_id = sealed_bounty(threshold=15)
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).commitDeadline + 1)
    bounties.reveal(bounty_id, chunks, sealed_bounty.salt, "", sender=sponsor)
    for chunk in (0, 1):
        submit(bounties, bounty_id, alice_model, chunk, proofs(chunk, "alice", 7), alice)
    chain.mine(1, timestamp=bounties.bounty(bounty_id).deadline + 1)
    bounties.finalize(bounty_id, sender=sponsor)
    assert bounties.bounty(bounty_id).status == 2
    assert bounties.owed(sponsor, reward_token) == 1_000_000
    with ape.reverts(bounties.BountyNotForfeited, bountyId=bounty_id):
        bounties.claimCompensation(bounty_id, alice_model, sender=alice)


def test_direct_transfers__change_no_accounting(bounties, open_bounty, reward_token, sponsor, alice):
    open_bounty()
    reward_token.transfer(bounties, 777, sender=sponsor)
    assert bounties.escrowed(reward_token) == 1_000_000
    with ape.reverts():
        alice.transfer(bounties, 1)


def test_create__token_returning_false__rejected(project, bounties, sponsor, circuit, chunks, chain):
    bad = project.FalseReturnToken.deploy(sender=sponsor)
    bad.mint(sponsor, 100, sender=sponsor)
    bad.approve(bounties, 100, sender=sponsor)
    with ape.reverts(bounties.SafeERC20FailedOperation, token=bad.address):
        bounties.createOpen((bad, 100, circuit, chunks, 10, 0, chain.pending_timestamp + DAY), sender=sponsor)
    assert bounties.bountyCount() == 0 and bounties.escrowed(bad) == 0


def test_create__token_without_return_value__works_end_to_end(project, bounties, sponsor, circuit, chunks, chain, proofs,
                                                              alice_model, alice, vault):
    usdt = project.NoReturnToken.deploy(sender=sponsor)
    usdt.mint(sponsor, 10_000, sender=sponsor)
    usdt.approve(bounties, 10_000, sender=sponsor)
    bounties.createOpen((usdt, 10_000, circuit, chunks, 12, 0, chain.pending_timestamp + DAY), sender=sponsor)
    submit(bounties, 0, alice_model, 0, proofs(0, "alice", 8), alice)
    submit(bounties, 0, alice_model, 1, proofs(1, "alice", 8), alice)
    bounties.withdraw(usdt, sender=alice)
    assert usdt.balanceOf(alice) == 10_000 - vault.feeOn(10_000)
    assert usdt.balanceOf(vault) == vault.feeOn(10_000)
    assert bounties.escrowed(usdt) == usdt.balanceOf(bounties) == 0


def test_test_set_commitment__python_equals_contract(bounties, chunks):
    from apiary.zk import pipeline  # module import: the function's name would look like a test to pytest

    salt = b"\x42" * 32
    assert pipeline.test_set_commitment(chunks, salt) == bounties.testSetCommitment(chunks, salt)
    assert pipeline.test_set_commitment(chunks) == bounties.testSetCommitment(chunks, b"\0" * 32)
