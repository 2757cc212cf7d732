"""ComputeMarket: staking with unbonding, jobs in proof and optimistic mode, challenges answered by a one-step
proof, sampled audits, timeouts against whoever failed to act — and the attacks of the compute-market issue."""

from __future__ import annotations

import ape
import pytest
from eth_utils import keccak

from .conftest import (COLLATERAL, DAY, EVAL, FIELD, HOUR, INFER, MAX_AMOUNT, ONE, OUTPUTS, PARAMS, PRICE, FakeProof,
                       challenge, commitment, input_commitment, weights_point)

PROOF, OPTIMISTIC = 0, 1
OPEN, ACCEPTED, SUBMITTED, PAID, SLASHED, REFUNDED = 1, 2, 3, 4, 5, 6
OUT = [7, 1, 2**200]
ZERO = "0x0000000000000000000000000000000000000000"


def fee(amount, bps=100):
    return -(-amount * bps // 10_000)


def later(chain, seconds):
    chain.mine(1, deltatime=seconds)


# ---------------------------------------------------------------- governance and parameters


@pytest.mark.parametrize("index, value, name", [
    (0, 0, "minStake"), (1, MAX_AMOUNT + 1, "minCollateral"), (2, 0, "challengeBond"), (3, 60, "unbondingPeriod"),
    (4, 1, "challengeWindow"), (5, 10, "responseWindow"), (6, 5_001, "auditBps"), (7, 9_001, "challengerBps"),
    (8, 4_001, "requesterBps"),
])
def test_params__outside_code_bounds__refused(project, deployer, gov, vault, verifiers, models, apy, compute, index, value,
                                               name):
    bad = list(PARAMS)
    bad[index] = value
    with ape.reverts(compute.ComputeMarketBadParam):
        compute.setParams(bad, sender=gov)
    with pytest.raises(Exception) as failed:
        project.ComputeMarket.deploy(gov, vault, verifiers, models, apy, MAX_AMOUNT, bad, sender=deployer)
    assert type(failed.value).__name__ == "ComputeMarketBadParam" and failed.value.inputs["name"] == name


def test_params__governance_only__and_jobs_keep_their_terms(compute, gov, attacker, post, providers, chain):
    with ape.reverts(compute.OwnableUnauthorizedAccount):
        compute.setParams(PARAMS, sender=attacker)
    with ape.reverts(compute.OwnableUnauthorizedAccount):
        compute.setInferenceCircuit(b"\x01" * 32, b"\x00" * 32, sender=attacker)
    job_id = post(OPTIMISTIC)
    changed = list(PARAMS)
    changed[4], changed[7], changed[8] = 7 * DAY, 0, 0
    compute.setParams(changed, sender=gov)
    terms = compute.job(job_id).terms
    assert terms.challengeWindow == HOUR and terms.challengerBps == 5_000 and terms.requesterBps == 3_000


def test_inference_circuit__must_be_an_inference_circuit(compute, verifiers, gov):
    with ape.reverts(compute.ComputeMarketNoInferenceCircuit):
        compute.setInferenceCircuit(verifiers.circuitId(EVAL), verifiers.circuitId(EVAL), sender=gov)


def test_bounties__refuse_an_inference_circuit(project, deployer, verifiers, models, vault, usd, alice, chain):
    bounties = project.ModelBounties.deploy(verifiers, models, vault, "0x0000000000000000000000000000000000000000",
                                            sender=deployer)
    usd.mint(alice, ONE, sender=alice)
    usd.approve(bounties, ONE, sender=alice)
    with ape.reverts(bounties.BountyNotEvaluationCircuit):
        bounties.createOpen((usd, ONE, verifiers.circuitId(INFER), [b"\x01" * 32], b"data", 1, 0, chain.pending_timestamp + 2 * DAY), sender=alice)


# ---------------------------------------------------------------- posting


def test_post__bad_jobs_refused_nothing_moves(compute, post, chain, requester, usd, models):
    before = usd.balanceOf(requester)
    with ape.reverts(compute.ComputeMarketZeroAmount):
        post(price=0)
    with ape.reverts(compute.ComputeMarketBadParam):
        post(collateral=PARAMS[1] - 1)
    with ape.reverts(compute.ComputeMarketBadParam):
        post(deadline=chain.pending_timestamp + 10)  # shorter than MIN_JOB_TIME
    with ape.reverts(compute.ComputeMarketBadParam):
        post(deadline=chain.pending_timestamp + 31 * DAY)
    with ape.reverts(compute.ComputeMarketRequesterIsProvider, account=requester):
        post(provider=requester)
    with ape.reverts(models.ModelRegistryUnknownModel):
        post(model=99)
    assert usd.balanceOf(requester) == before and compute.totalJobs() == 0


def test_post__model_not_final_or_without_inference_circuit__refused(compute, post, models, verifiers, alice, gov):
    from apiary.sdk.market import register_model

    fresh = register_model(models, alice, verifiers.circuitId(EVAL), keccak(weights_point(b"new")), wait_final=False)
    with ape.reverts(compute.ComputeMarketModelNotFinal):
        post(model=fresh)
    compute.setInferenceCircuit(verifiers.circuitId(EVAL), b"\x00" * 32, sender=gov)
    with ape.reverts(compute.ComputeMarketNoInferenceCircuit):
        post()


def test_cancel__requester_only_before_acceptance(compute, post, requester, providers, attacker, usd):
    job_id = post()
    with ape.reverts(compute.ComputeMarketNotRequester):
        compute.cancel(job_id, sender=attacker)
    compute.cancel(job_id, sender=requester)
    assert compute.owed(requester, usd) == PRICE and compute.job(job_id).status == REFUNDED
    with ape.reverts(compute.ComputeMarketWrongStatus):
        compute.cancel(job_id, sender=requester)
    other = post()
    compute.accept(other, sender=providers[0])
    with ape.reverts(compute.ComputeMarketWrongStatus):
        compute.cancel(other, sender=requester)


# ---------------------------------------------------------------- staking


def test_accept__needs_free_stake_and_the_named_provider(compute, post, providers, attacker, requester, apy):
    job_id = post(provider=providers[1])
    with ape.reverts(compute.ComputeMarketNotProvider):
        compute.accept(job_id, sender=providers[0])
    open_job = post()
    with ape.reverts(compute.ComputeMarketInsufficientStake):
        compute.accept(open_job, sender=attacker)  # no stake
    compute.stake(PARAMS[0], sender=attacker)
    big = post(collateral=PARAMS[0] + 1)
    with ape.reverts(compute.ComputeMarketInsufficientStake):
        compute.accept(big, sender=attacker)
    compute.accept(open_job, sender=attacker)
    assert compute.providerOf(attacker).locked == COLLATERAL
    with ape.reverts(compute.ComputeMarketWrongStatus):
        compute.accept(open_job, sender=providers[0])


def test_unstake__cannot_take_locked_collateral__waits_the_unbonding_period(compute, post, providers, apy, chain):
    p = providers[0]
    job_id = post()
    compute.accept(job_id, sender=p)
    free = compute.freeStake(p)
    assert free == 500 * ONE - COLLATERAL
    with ape.reverts(compute.ComputeMarketInsufficientStake):
        compute.requestUnstake(free + 1, sender=p)  # a pending job's collateral cannot leave
    compute.requestUnstake(free, sender=p)
    with ape.reverts(compute.ComputeMarketInsufficientStake):
        compute.accept(post(seed=b"2"), sender=p)  # unbonding stake backs no new job
    with ape.reverts(compute.ComputeMarketStillUnbonding):
        compute.completeUnstake(sender=p)
    later(chain, DAY + 1)
    compute.completeUnstake(sender=p)
    assert compute.owed(p, apy) == free and compute.providerOf(p).stake == COLLATERAL
    with ape.reverts(compute.ComputeMarketNothingUnbonding):
        compute.completeUnstake(sender=p)


def test_unstake__during_a_pending_dispute__slash_still_lands(compute, post, providers, requester, carol, apy, chain):
    p = providers[0]
    job_id = post(OPTIMISTIC)
    compute.accept(job_id, sender=p)
    compute.submitResult(job_id, OUT, sender=p)
    challenge(compute, job_id, carol)
    compute.requestUnstake(compute.freeStake(p), sender=p)  # everything it can
    later(chain, DAY + 1)
    compute.completeUnstake(sender=p)
    compute.slashUnproven(job_id, sender=carol)
    assert compute.providerOf(p).stake == 0 and compute.providerOf(p).locked == 0
    assert compute.owed(carol, apy) == PARAMS[2] + COLLATERAL // 2


# ---------------------------------------------------------------- proof mode


def test_proof_mode__valid_proof_pays_at_once(compute, post, providers, usd, requester, infer_verifier):
    p = providers[0]
    job_id = post(PROOF)
    compute.accept(job_id, sender=p)
    receipt = compute.submitProof(job_id, FakeProof(b"in", b"m").proof, OUT, sender=p)
    assert compute.job(job_id).status == PAID and infer_verifier.calls() == 1
    assert compute.owed(p, usd) == PRICE - fee(PRICE) and compute.feesPending(usd) == fee(PRICE)
    assert compute.providerOf(p).locked == 0
    assert [list(e.outputs) for e in receipt.events.filter(compute.ResultPosted)] == [OUT]
    with ape.reverts(compute.ComputeMarketWrongStatus):  # replay
        compute.submitProof(job_id, FakeProof(b"in", b"m").proof, OUT, sender=p)


@pytest.mark.parametrize("case", ["other input", "other model", "mempool copy", "invalid", "outputs", "field",
                                  "short", "late", "wrong mode"])
def test_proof_mode__attacks__rejected_nothing_moves(compute, post, providers, attacker, usd, infer_verifier, chain, case):
    p = providers[0]
    job_id = post(OPTIMISTIC if case == "wrong mode" else PROOF)
    compute.accept(job_id, sender=p)
    proof, outputs, sender = FakeProof(b"in", b"m").proof, OUT, p
    error = {"other input": compute.InferenceProofWrongInput, "other model": compute.InferenceProofWrongModel,
             "mempool copy": compute.ComputeMarketNotProvider, "invalid": compute.InferenceProofInvalid,
             "outputs": compute.InferenceProofOutputCount, "field": compute.InferenceProofOutputOutOfField,
             "short": compute.InferenceProofTooShort, "late": compute.ComputeMarketDeadlinePassed,
             "wrong mode": compute.ComputeMarketWrongMode}[case]
    if case == "other input":
        proof = FakeProof(b"another input", b"m").proof
    elif case == "other model":
        proof = FakeProof(b"in", b"another model").proof
    elif case == "mempool copy":
        sender = attacker
    elif case == "invalid":
        infer_verifier.setAccept(False, sender=attacker)
    elif case == "outputs":
        outputs = OUT[:2]
    elif case == "field":
        outputs = [1, 2, FIELD]
    elif case == "short":
        proof = proof[:127]
    elif case == "late":
        later(chain, DAY + 1)
    with ape.reverts(error):
        compute.submitProof(job_id, proof, outputs, sender=sender)
    assert compute.job(job_id).status == ACCEPTED and compute.totalOwed(usd) == 0


# ---------------------------------------------------------------- optimistic mode


def _submitted(compute, post, provider, seed=b"in", outputs=OUT):
    job_id = post(OPTIMISTIC, seed=seed)
    compute.accept(job_id, sender=provider)
    compute.submitResult(job_id, outputs, sender=provider)
    return job_id


def test_optimistic__honest_result_settles_after_the_window(compute, post, providers, usd, chain):
    p = providers[0]
    job_id = _submitted(compute, post, p)
    with ape.reverts(compute.ComputeMarketTooEarly):
        compute.finalize(job_id, sender=p)
    later(chain, HOUR + 1)
    compute.finalize(job_id, sender=p)
    assert compute.job(job_id).status == PAID and compute.owed(p, usd) == PRICE - fee(PRICE)
    with ape.reverts(compute.ComputeMarketWrongStatus):
        compute.finalize(job_id, sender=p)


def test_optimistic__challenge_answered_by_a_proof__provider_takes_the_bond(compute, post, providers, carol, usd, apy):
    p = providers[0]
    job_id = _submitted(compute, post, p)
    challenge(compute, job_id, carol)
    with ape.reverts(compute.InferenceProofWrongOutputs):  # the proof must be of the outputs posted
        compute.proveResult(job_id, FakeProof(b"in", b"m").proof, [1, 2, 3], sender=p)
    compute.proveResult(job_id, FakeProof(b"in", b"m").proof, OUT, sender=carol)  # anyone may send it
    assert compute.owed(p, usd) == PRICE - fee(PRICE) and compute.owed(p, apy) == PARAMS[2]
    assert compute.owed(carol, apy) == 0 and compute.job(job_id).status == PAID


def test_optimistic__unanswered_challenge__slashed_once_split_as_promised(compute, post, providers, carol, requester, usd,
                                                                       apy, chain, vault):
    p = providers[0]
    job_id = _submitted(compute, post, p)
    challenge(compute, job_id, carol)
    with ape.reverts(compute.ComputeMarketTooEarly):
        compute.slashUnproven(job_id, sender=carol)
    later(chain, HOUR + 1)
    with ape.reverts(compute.ComputeMarketWindowClosed):  # too late to answer
        compute.proveResult(job_id, FakeProof(b"in", b"m").proof, OUT, sender=p)
    compute.slashUnproven(job_id, sender=requester)
    to_challenger, to_requester = COLLATERAL * 5_000 // 10_000, COLLATERAL * 3_000 // 10_000
    assert compute.owed(carol, apy) == PARAMS[2] + to_challenger
    assert compute.owed(requester, apy) == to_requester and compute.owed(requester, usd) == PRICE
    assert compute.feesPending(apy) == COLLATERAL - to_challenger - to_requester
    assert compute.providerOf(p).stake == 500 * ONE - COLLATERAL and compute.job(job_id).status == SLASHED
    with ape.reverts(compute.ComputeMarketWrongStatus):  # one dispute, one slash
        compute.slashUnproven(job_id, sender=carol)
    with ape.reverts(compute.ComputeMarketWrongStatus):
        compute.finalize(job_id, sender=carol)


def test_challenge__after_window__twice__by_the_provider__refused(compute, post, providers, carol, attacker, chain, apy):
    p = providers[0]
    job_id = _submitted(compute, post, p)
    with ape.reverts(compute.ComputeMarketSelfChallenge):
        challenge(compute, job_id, p)
    challenge(compute, job_id, carol)
    # a second challenger is too late: its bond comes back, the first keeps the job
    receipt = challenge(compute, job_id, attacker)
    assert compute.job(job_id).challenger == carol and compute.owed(attacker, apy) == PARAMS[2]
    assert [e.jobId for e in receipt.events if e.event_name == "ChallengeCommitRefunded"] == [job_id]
    late = _submitted(compute, post, p, seed=b"late")
    salt = b"\x07" * 32
    compute.commitChallenge(commitment(late, carol, salt), PARAMS[2], sender=carol)
    later(chain, HOUR + 1)
    with ape.reverts(compute.ComputeMarketWindowClosed):
        compute.challenge(late, salt, sender=carol)
    with ape.reverts(compute.ComputeMarketProofRequired):
        compute.finalize(job_id, sender=carol)


def test_challenge__needs_the_callers_own_earlier_commitment(compute, post, providers, carol, attacker, apy):
    p = providers[0]
    job_id = _submitted(compute, post, p)
    salt = b"\x01" * 32
    with ape.reverts(compute.ComputeMarketNoCommitment):  # nothing committed
        compute.challenge(job_id, salt, sender=carol)
    compute.commitChallenge(commitment(job_id, carol, salt), PARAMS[2], sender=carol)
    with ape.reverts(compute.ComputeMarketCommitmentTaken):  # one bond per commitment and committer
        compute.commitChallenge(commitment(job_id, carol, salt), PARAMS[2], sender=carol)
    with ape.reverts(compute.ComputeMarketNoCommitment):  # carol's commitment names carol
        compute.challenge(job_id, salt, sender=attacker)
    with ape.reverts(compute.ComputeMarketNoCommitment):  # and its job
        compute.challenge(_submitted(compute, post, p, seed=b"other"), salt, sender=carol)
    compute.challenge(job_id, salt, sender=carol)
    assert compute.job(job_id).challenger == carol and compute.job(job_id).bond == PARAMS[2]
    assert compute.challengeCommit(commitment(job_id, carol, salt), carol).atBlock == 0  # spent


def test_copied_challenge_from_the_mempool__the_copier_gains_nothing(compute, post, providers, carol, attacker, apy,
                                                                     chain):
    """SECURITY: a public transaction copied from the mempool and landed first. The copier of a reveal has no
    commitment of its own (above); a copy of a commitment is kept under the copier's key, so the watchdog's own
    commitment still lands and holds the job, and the copier can never reveal the hash: its bond goes to the
    vault once the commitment expires. (Kept under the hash alone, a 1-wei copy voided the watchdog's challenge:
    outside review 2.)"""
    p = providers[0]
    job_id = _submitted(compute, post, p)
    salt = b"\x02" * 32
    c = commitment(job_id, carol, salt)
    before = apy.balanceOf(attacker)
    compute.commitChallenge(c, 1, sender=attacker)  # the copy, landed first (with a dust bond)
    compute.commitChallenge(c, PARAMS[2], sender=carol)
    with ape.reverts(compute.ComputeMarketNoCommitment):
        compute.challenge(job_id, salt, sender=attacker)
    compute.challenge(job_id, salt, sender=carol)
    assert compute.job(job_id).challenger == carol and compute.job(job_id).bond == PARAMS[2]
    later(chain, HOUR + 1)
    compute.slashUnproven(job_id, sender=carol)
    assert compute.owed(carol, apy) == PARAMS[2] + COLLATERAL * 5_000 // 10_000
    later(chain, 7 * DAY)
    compute.forfeitChallengeCommit(c, attacker, sender=carol)
    assert compute.owed(attacker, apy) == 0 and apy.balanceOf(attacker) == before - 1


def test_challenge__bond_below_the_jobs__returned_not_counted(compute, post, providers, carol, apy):
    job_id = _submitted(compute, post, providers[0])
    challenge(compute, job_id, carol, bond=PARAMS[2] - 1)
    assert compute.job(job_id).challenger == ZERO and compute.owed(carol, apy) == PARAMS[2] - 1


def test_unrevealed_commitment__forfeited_to_the_vault_after_its_lifetime(compute, post, providers, carol, apy, chain,
                                                                          attacker):
    c = commitment(1, carol, b"\x03" * 32)
    compute.commitChallenge(c, PARAMS[2], sender=carol)
    fees = compute.feesPending(apy)
    with ape.reverts(compute.ComputeMarketCommitmentLive):
        compute.forfeitChallengeCommit(c, carol, sender=attacker)
    later(chain, 7 * DAY + 1)
    with ape.reverts(compute.ComputeMarketNoCommitment):  # nobody else's commitment of that hash
        compute.forfeitChallengeCommit(c, attacker, sender=attacker)
    compute.forfeitChallengeCommit(c, carol, sender=attacker)
    assert compute.feesPending(apy) == fees + PARAMS[2] and compute.owed(attacker, apy) == 0
    with ape.reverts(compute.ComputeMarketNoCommitment):
        compute.forfeitChallengeCommit(c, carol, sender=attacker)
    assert compute.escrowed(apy) == apy.balanceOf(compute)


def test_self_challenge__a_provider_and_friend_never_profit(compute, post, providers, attacker, apy, usd):
    """The provider lies and its friend challenges to collect the challenger's share: together they lose the
    vault's share of the collateral at least (MAX_PAID_SHARE_BPS < 100%), and the requester is made whole."""
    p, friend = providers[0], attacker
    before = apy.balanceOf(p) + apy.balanceOf(friend) + compute.providerOf(p).stake
    job_id = _submitted(compute, post, p)
    challenge(compute, job_id, friend)
    ape.chain.mine(1, deltatime=HOUR + 1)
    compute.slashUnproven(job_id, sender=friend)
    after = apy.balanceOf(p) + apy.balanceOf(friend) + compute.providerOf(p).stake + compute.owed(friend, apy)
    assert before - after >= COLLATERAL * (10_000 - 9_000) // 10_000
    assert compute.owed(compute.job(job_id).requester, usd) == PRICE


def test_requester_who_challenges_every_job__pays_a_bond_each_time(compute, post, providers, requester, apy):
    p = providers[0]
    start = apy.balanceOf(requester)
    for i in range(3):
        job_id = _submitted(compute, post, p, seed=bytes([i]))
        challenge(compute, job_id, requester)
        compute.proveResult(job_id, FakeProof(bytes([i]), b"m").proof, OUT, sender=p)
    assert start - apy.balanceOf(requester) == 3 * PARAMS[2] and compute.owed(p, apy) == 3 * PARAMS[2]


# ---------------------------------------------------------------- audits


def _audit_all(compute, gov, providers):
    compute.stake(10_000 * ONE, sender=providers[0])
    params = list(PARAMS)
    params[6] = 5_000
    compute.setParams(params, sender=gov)


def _seed(i: int) -> bytes:
    return keccak(b"audit seed" + i.to_bytes(4, "big"))


def _draw(seed: bytes, job) -> bool:
    """The draw ComputeMarket.revealAudit makes: keccak256(abi.encode(seed, resultRandao, jobId)) at 50%."""
    from eth_abi import encode

    return int.from_bytes(keccak(encode(["bytes32", "uint64", "uint256"], [seed, job[0], job[1]])), "big") % 10_000 < 5_000


def _audited_submitted(compute, post, provider, i: int):
    job_id = post(OPTIMISTIC, seed=i.to_bytes(2, "big"), audit_seed=_seed(i))
    compute.accept(job_id, sender=provider)
    compute.submitResult(job_id, OUT, sender=provider)
    return job_id


def test_audit__requesters_seed_revealed_after_the_window__draw_as_promised(compute, post, providers, gov, chain,
                                                                            requester, carol):
    _audit_all(compute, gov, providers)
    p = providers[0]
    outcomes = []
    for i in range(24):
        job_id = _audited_submitted(compute, post, p, i)
        with ape.reverts(compute.ComputeMarketTooEarly):  # nobody who can still challenge may learn the draw
            compute.revealAudit(job_id, _seed(i), sender=requester)
        later(chain, HOUR + 1)
        with ape.reverts(compute.ComputeMarketBadSeed):
            compute.revealAudit(job_id, _seed(i + 1), sender=requester)
        compute.revealAudit(job_id, _seed(i), sender=carol)  # whoever holds the seed
        j = compute.job(job_id)
        expected = _draw(_seed(i), (j.resultRandao, job_id))
        assert j.drawn and j.audited == expected and (j.proofDue > 0) == expected
        outcomes.append(expected)
    assert 0 < sum(outcomes) < len(outcomes)  # 50%: both outcomes occur


def test_audit__no_block_hash_in_the_draw__a_producer_cannot_reroll_it(compute, post, providers, gov, chain, requester):
    """SECURITY: a block producer re-rolls a draw that depends on its block. The draw reads no block hash: the
    same seed, job and prevrandao give the same outcome whatever blocks were produced in between (their number,
    their timestamps, their contents); prevrandao is fixed by the beacon chain, not by re-sealing a block."""
    _audit_all(compute, gov, providers)
    p = providers[0]
    for i, blocks in enumerate((1, 5, 300)):
        job_id = _audited_submitted(compute, post, p, 100 + i)
        j = compute.job(job_id)
        chain.mine(blocks, deltatime=HOUR + 1)
        compute.revealAudit(job_id, _seed(100 + i), sender=requester)
        assert compute.job(job_id).audited == _draw(_seed(100 + i), (j.resultRandao, job_id))


def test_audit__unrevealed_seed__the_provider_is_paid_after_the_response_window(compute, post, providers, gov, chain,
                                                                                requester, usd):
    _audit_all(compute, gov, providers)
    p = providers[0]
    job_id = _audited_submitted(compute, post, p, 7)
    later(chain, HOUR + 1)
    with ape.reverts(compute.ComputeMarketTooEarly):  # the requester may still reveal
        compute.finalize(job_id, sender=p)
    later(chain, HOUR)
    with ape.reverts(compute.ComputeMarketWindowClosed):  # too late: no audit
        compute.revealAudit(job_id, _seed(7), sender=requester)
    compute.finalize(job_id, sender=p)
    assert compute.job(job_id).status == PAID and compute.owed(p, usd) == PRICE - fee(PRICE)


def test_audit__no_seed__never_audited_paid_after_the_window(compute, post, providers, gov, chain, requester, usd):
    _audit_all(compute, gov, providers)
    p = providers[0]
    job_id = _submitted(compute, post, p)
    later(chain, HOUR + 1)
    with ape.reverts(compute.ComputeMarketBadSeed):
        compute.revealAudit(job_id, bytes(32), sender=requester)
    compute.finalize(job_id, sender=p)
    assert compute.job(job_id).status == PAID


def test_audit__audited_liar_without_watchdog__is_slashed(compute, post, providers, gov, chain, requester, usd):
    _audit_all(compute, gov, providers)
    p = providers[0]
    for i in range(40):
        job_id = _audited_submitted(compute, post, p, 200 + i)
        later(chain, HOUR + 1)
        compute.revealAudit(job_id, _seed(200 + i), sender=requester)
        if compute.job(job_id).audited:
            break
        compute.finalize(job_id, sender=p)  # not audited: paid at once
        assert compute.job(job_id).status == PAID
    else:
        pytest.fail("no audit in 40 draws at 50%")
    with ape.reverts(compute.ComputeMarketProofRequired):
        compute.finalize(job_id, sender=p)
    later(chain, HOUR + 1)
    compute.slashUnproven(job_id, sender=requester)
    assert compute.job(job_id).status == SLASHED and compute.owed(requester, usd) == PRICE


# ---------------------------------------------------------------- deadlines


def test_expire__accepted_never_delivered__slashed_requester_refunded(compute, post, providers, requester, usd, apy, chain):
    p = providers[0]
    job_id = post(PROOF)
    compute.accept(job_id, sender=p)
    with ape.reverts(compute.ComputeMarketTooEarly):
        compute.expire(job_id, sender=requester)
    later(chain, DAY + 1)
    with ape.reverts(compute.ComputeMarketDeadlinePassed):
        compute.submitProof(job_id, FakeProof(b"in", b"m").proof, OUT, sender=p)
    compute.expire(job_id, sender=requester)
    # no challenger: the challenger's share goes to the requester too
    assert compute.owed(requester, usd) == PRICE and compute.owed(requester, apy) == COLLATERAL * 8_000 // 10_000
    assert compute.feesPending(apy) == COLLATERAL - COLLATERAL * 8_000 // 10_000
    with ape.reverts(compute.ComputeMarketWrongStatus):  # no double refund
        compute.expire(job_id, sender=requester)


def test_expire__never_accepted__refund_only(compute, post, requester, usd, chain, apy):
    job_id = post()
    later(chain, DAY + 1)
    with ape.reverts(compute.ComputeMarketDeadlinePassed):
        compute.accept(job_id, sender=requester)
    compute.expire(job_id, sender=requester)
    assert compute.owed(requester, usd) == PRICE and compute.feesPending(apy) == 0


def test_fee__fixed_at_posting(compute, post, providers, usd, vault, gov):
    job_id = post(PROOF)
    vault.setFeeBps(500, sender=gov)
    compute.accept(job_id, sender=providers[0])
    compute.submitProof(job_id, FakeProof(b"in", b"m").proof, OUT, sender=providers[0])
    assert compute.owed(providers[0], usd) == PRICE - fee(PRICE, 100)


def test_ledger__escrow_equals_stakes_bonds_and_payments(compute, post, providers, carol, apy, usd):
    p = providers[0]
    _submitted(compute, post, p)
    job_id = _submitted(compute, post, p, seed=b"b")
    challenge(compute, job_id, carol)
    stakes = sum(compute.providerOf(x).stake for x in providers)
    assert compute.locked(apy) == stakes + PARAMS[2] and compute.locked(usd) == 2 * PRICE
    assert compute.escrowed(apy) == apy.balanceOf(compute) and compute.escrowed(usd) == usd.balanceOf(compute)
    assert OUTPUTS == 3


def test_named_provider__takes_its_job_with_the_result__others_and_open_jobs_must_accept(compute, post, providers,
                                                                                        requester, attacker):
    p = providers[0]
    named = post(OPTIMISTIC, provider=providers[1])
    with ape.reverts(compute.ComputeMarketWrongStatus):  # not the named provider: nothing to take
        compute.submitResult(named, OUT, sender=p)
    open_job = post(OPTIMISTIC, seed=b"o")
    with ape.reverts(compute.ComputeMarketWrongStatus):
        # a result for a job open to all would sit in the mempool, copyable by anyone staked: accept first
        compute.submitResult(open_job, OUT, sender=p)
    mine = post(OPTIMISTIC, seed=b"m1", provider=p)
    compute.submitResult(mine, OUT, sender=p)
    j = compute.job(mine)
    assert j.status == SUBMITTED and j.provider == p and compute.providerOf(p).locked == COLLATERAL
    proof_job = post(PROOF, seed=b"p", provider=p)
    compute.submitProof(proof_job, FakeProof(b"p", b"m").proof, OUT, sender=p)
    assert compute.job(proof_job).status == PAID and compute.providerOf(p).locked == COLLATERAL


def test_named_job__cannot_be_cancelled_in_front_of_its_result__only_expires(compute, post, providers, requester, chain,
                                                                            usd):
    job_id = post(OPTIMISTIC, provider=providers[0])
    with ape.reverts(compute.ComputeMarketNamedJob, jobId=job_id, provider=providers[0]):
        compute.cancel(job_id, sender=requester)
    later(chain, DAY + 1)
    compute.expire(job_id, sender=requester)
    assert compute.job(job_id).status == REFUNDED and compute.owed(requester, usd) == PRICE


def test_a_providers_friend_challenges_exactly_the_audited_results__it_cannot_know_them(compute, post, providers,
                                                                                         gov, chain, attacker,
                                                                                         requester, usd):
    """Attack (issue 20, 5): the draw became public a block before anyone recorded it, and the provider's friend
    challenged only the results it audits, taking half the collateral the requester would have received. Now the
    draw needs the requester's secret seed, which can be revealed only once the challenge window has closed:
    while a challenge is possible nothing on chain tells audited results apart, and once the draw is known no
    challenge is. The audited liar's collateral goes to the requester and the vault as the audit promised."""
    _audit_all(compute, gov, providers)
    p = providers[0]
    for i in range(40):
        job_id = _audited_submitted(compute, post, p, 300 + i)
        if _draw(_seed(300 + i), (compute.job(job_id).resultRandao, job_id)):
            break  # (the test knows the seed; the friend does not)
    else:
        pytest.fail("no audit in 40 draws at 50%")
    with ape.reverts(compute.ComputeMarketTooEarly):  # the seed cannot come out while challenges are open
        compute.revealAudit(job_id, _seed(300 + i), sender=requester)
    salt = b"\x09" * 32
    compute.commitChallenge(commitment(job_id, attacker, salt), PARAMS[2], sender=attacker)
    later(chain, HOUR + 1)
    compute.revealAudit(job_id, _seed(300 + i), sender=requester)
    assert compute.job(job_id).audited
    with ape.reverts(compute.ComputeMarketWindowClosed):  # the draw is known: challenges are over
        compute.challenge(job_id, salt, sender=attacker)
    later(chain, HOUR + 1)
    compute.slashUnproven(job_id, sender=requester)
    assert compute.owed(attacker, usd) == 0 and compute.owed(requester, usd) == PRICE
    assert compute.job(job_id).challenger == ZERO


def test_post__input_uri_bounded(compute, funded, usd, model_id, chain, requester):
    req = (model_id, input_commitment(b"in"), "u" * 513, usd, PRICE, COLLATERAL, chain.pending_timestamp + DAY, 0,
           "0x0000000000000000000000000000000000000000", bytes(32))
    with ape.reverts(compute.ComputeMarketBadInput, uriBytes=513):
        compute.postJob(req, sender=requester)


# ---------------------------------------------------------------- batch proofs (one proof, several jobs)

SLOTS = 3


def batch_proof(input_seeds, model_seed=b"m", slots=SLOTS):
    """Bytes shaped like a batch proof: one input point per slot (zero points for unused slots), the weights."""
    from .conftest import input_point

    points = [input_point(s) for s in input_seeds] + [b"\0" * 64] * (slots - len(input_seeds))
    return b"".join(points) + weights_point(model_seed) + b"\x01" * 256


@pytest.fixture
def batched(compute, verifiers, gov, project, deployer, chain):
    verifier = project.MockHalo2Verifier.deploy(sender=deployer)
    verifiers.register("mock-infer-x3", verifier, b"\x33" * 32, OUTPUTS * SLOTS, 2, sender=gov)
    compute.setBatchCircuit(verifiers.circuitId(EVAL), verifiers.circuitId("mock-infer-x3"), sender=gov)
    chain.mine(1, deltatime=5)  # jobs posted from now on may be settled in batches
    return verifier


def test_batch_circuit__governance_only__must_fit_the_single_circuit(compute, verifiers, gov, attacker, project, deployer):
    eval_id = verifiers.circuitId(EVAL)
    for name, samples, metric in (("x-odd", OUTPUTS * 2 + 1, 2), ("x-one", OUTPUTS, 2), ("x-eval", OUTPUTS * 2, 0)):
        verifiers.register(name, project.MockHalo2Verifier.deploy(sender=deployer), b"\x44" * 32, samples, metric, sender=gov)
        with ape.reverts(compute.ComputeMarketNoInferenceCircuit):
            compute.setBatchCircuit(eval_id, verifiers.circuitId(name), sender=gov)
    verifiers.register("x-two", project.MockHalo2Verifier.deploy(sender=deployer), b"\x44" * 32, OUTPUTS * 2, 2, sender=gov)
    with ape.reverts():
        compute.setBatchCircuit(eval_id, verifiers.circuitId("x-two"), sender=attacker)
    with ape.reverts(compute.ComputeMarketNoInferenceCircuit):  # no single twin for this evaluation circuit
        compute.setBatchCircuit(verifiers.circuitId("x-two"), verifiers.circuitId("x-two"), sender=gov)
    compute.setBatchCircuit(eval_id, verifiers.circuitId("x-two"), sender=gov)
    assert bytes(compute.batchCircuitOf(eval_id)) == bytes(verifiers.circuitId("x-two"))


def test_batch__one_proof_pays_each_job_once(compute, post, providers, usd, batched):
    p = providers[0]
    jobs = [post(PROOF, seed=s, provider=p.address) for s in (b"a", b"b")]  # taken with the proof, by name
    outs = OUT + [4, 5, 6] + [0, 0, 0]
    receipt = compute.submitProofBatch(jobs, batch_proof([b"a", b"b"]), outs, sender=p)
    assert [compute.job(j).status for j in jobs] == [PAID, PAID] and batched.calls() == 1
    assert compute.owed(p, usd) == 2 * (PRICE - fee(PRICE)) and compute.providerOf(p).locked == 0
    assert [list(e.outputs) for e in receipt.events.filter(compute.ResultPosted)] == [OUT, [4, 5, 6]]
    assert compute.job(jobs[1]).outputHash == keccak(b"".join(v.to_bytes(32, "big") for v in (4, 5, 6)))
    with ape.reverts(compute.ComputeMarketWrongStatus):
        compute.submitProofBatch(jobs, batch_proof([b"a", b"b"]), outs, sender=p)


@pytest.mark.parametrize("case", ["duplicate", "unordered", "other model", "too many", "other input", "other weights",
                                  "instances", "short", "invalid", "stranger", "optimistic", "no batch circuit", "empty"])
def test_batch__attacks__rejected_nothing_moves(compute, post, providers, attacker, usd, batched, model_id, models,
                                                verifiers, alice, gov, case):
    from apiary.sdk.market import register_model

    p = providers[0]
    jobs = [post(PROOF, seed=s) for s in (b"a", b"b", b"c")]
    for j in jobs:
        compute.accept(j, sender=p)
    ids, seeds, outs, sender, proof = jobs[:2], [b"a", b"b"], [1] * (OUTPUTS * SLOTS), p, None
    error = compute.ComputeMarketBadBatch
    if case == "duplicate":
        ids, seeds = [jobs[0], jobs[0]], [b"a", b"a"]
    elif case == "unordered":
        ids, seeds = [jobs[1], jobs[0]], [b"b", b"a"]
    elif case == "other model":
        other = register_model(models, alice, verifiers.circuitId(EVAL), keccak(weights_point(b"other")))
        job = post(PROOF, seed=b"d", model=other)
        compute.accept(job, sender=p)
        ids, seeds = [jobs[0], job], [b"a", b"d"]
    elif case == "too many":
        fourth = post(PROOF, seed=b"d")
        compute.accept(fourth, sender=p)
        ids, seeds, error = [*jobs, fourth], [b"a", b"b", b"c", b"d"], compute.InferenceProofOutputCount
        proof = batch_proof(seeds, slots=4)
    elif case == "other input":
        seeds, error = [b"b", b"a"], compute.InferenceProofWrongInput  # slots swapped
    elif case == "other weights":
        proof, error = batch_proof(seeds, b"other"), compute.InferenceProofWrongModel
    elif case == "instances":
        outs, error = outs[:-1], compute.InferenceProofOutputCount
    elif case == "short":
        proof, error = batch_proof(seeds)[: 64 * SLOTS + 63], compute.InferenceProofTooShort
    elif case == "invalid":
        batched.setAccept(False, sender=attacker)
        error = compute.InferenceProofInvalid
    elif case == "stranger":
        sender, error = attacker, compute.ComputeMarketNotProvider
    elif case == "optimistic":
        job = post(OPTIMISTIC, seed=b"d")
        compute.accept(job, sender=p)
        ids, seeds, error = [jobs[0], job], [b"a", b"d"], compute.ComputeMarketWrongMode
    elif case == "no batch circuit":
        compute.setBatchCircuit(verifiers.circuitId(EVAL), b"\0" * 32, sender=gov)
        error = compute.ComputeMarketNoInferenceCircuit
    elif case == "empty":
        ids = []
    with ape.reverts(error):
        compute.submitProofBatch(ids, proof or batch_proof(seeds), outs, sender=sender)
    assert all(compute.job(j).status == ACCEPTED for j in jobs) and compute.totalOwed(usd) == 0


def test_batch__jobs_posted_before_the_batch_circuit__only_by_their_own_verifier(compute, post, providers, usd,
                                                                                 verifiers, gov, project, deployer,
                                                                                 infer_verifier, chain):
    """Second review M-3: governance cannot change how an escrowed job is verified. A batch circuit enabled after a
    job was posted does not settle it; its own (single) verifier still does. L-1: the instances are exactly the
    registered slots' outputs."""
    p = providers[0]
    early = post(PROOF, seed=b"a", provider=p.address)
    verifier = project.MockHalo2Verifier.deploy(sender=deployer)
    verifiers.register("mock-infer-x3", verifier, b"\x33" * 32, OUTPUTS * SLOTS, 2, sender=gov)
    compute.setBatchCircuit(verifiers.circuitId(EVAL), verifiers.circuitId("mock-infer-x3"), sender=gov)
    chain.mine(1, deltatime=5)
    late = post(PROOF, seed=b"b", provider=p.address)
    with ape.reverts(compute.ComputeMarketBadBatch):
        compute.submitProofBatch([early, late], batch_proof([b"a", b"b"]), [1] * (OUTPUTS * SLOTS), sender=p)
    with ape.reverts(compute.InferenceProofOutputCount):  # a slot more than registered
        compute.submitProofBatch([late], batch_proof([b"b"]), [1] * (OUTPUTS * (SLOTS + 1)), sender=p)
    compute.submitProofBatch([late], batch_proof([b"b"]), [1] * (OUTPUTS * SLOTS), sender=p)
    compute.submitProof(early, FakeProof(b"a", b"m").proof, OUT, sender=p)
    assert compute.job(early).status == PAID == compute.job(late).status
