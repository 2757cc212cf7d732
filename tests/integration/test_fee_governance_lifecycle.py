"""A full proposal lifecycle: fees arrive, holders vote, the timelock changes the fee and pays out."""

import ape

from apiary.deploy.config import ONE_TOKEN
from apiary.deploy.governance import LocalProposalRunner, Proposal, call, proposal_state

DAY = 24 * 3600


def test_lifecycle__vote_changes_fee_routes_and_spends(core, usd, alice, bob, carol, whale, attacker, chain):
    vault, governor = core.vault, core.governor
    # A market pays 1,000 mUSD of fees.
    usd.mint(attacker, 1_000 * ONE_TOKEN, sender=attacker)
    usd.approve(vault, 1_000 * ONE_TOKEN, sender=attacker)
    vault.depositFee(usd, 1_000 * ONE_TOKEN, sender=attacker)

    runner = LocalProposalRunner(governor, core.timelock)
    record = chain.blocks.height + 40  # announced in the proposal, still ahead when it executes
    proposal = Proposal(
        [
            call(vault, "setFeeBps", 250),
            call(vault, "distribute", usd.address, 400 * ONE_TOKEN, 7 * DAY, record),
            call(vault, "spend", usd.address, carol.address, 100 * ONE_TOKEN),
        ],
        "Raise the fee to 2.5%, route 400 mUSD to holders, grant 100 mUSD to carol",
    )
    runner.propose(alice, proposal)
    assert proposal_state(governor, proposal.proposal_id) == "Pending"
    runner.vote(proposal, [alice, whale, bob])
    runner.queue(proposal, alice)
    assert proposal_state(governor, proposal.proposal_id) == "Queued"
    runner.execute(proposal, bob)
    assert proposal_state(governor, proposal.proposal_id) == "Executed"

    assert vault.feeBps() == 250
    assert usd.balanceOf(carol) == 100 * ONE_TOKEN
    assert vault.unallocated(usd) == 500 * ONE_TOKEN
    assert vault.reserved(usd) == 400 * ONE_TOKEN
    chain.mine(record - chain.blocks.height)  # claims open after the record block
    # Whale held 20% of supply at the record block: 80 mUSD.
    vault.claim(0, sender=whale)
    assert usd.balanceOf(whale) == 80 * ONE_TOKEN
    with ape.reverts(vault.FeeVaultAlreadyClaimed, id=0, account=whale.address):
        vault.claim(0, sender=whale)
    # Replaying the executed proposal is impossible.
    with ape.reverts(governor.GovernorUnexpectedProposalState):
        governor.execute(*proposal.args(), sender=bob)
    assert vault.unallocated(usd) + vault.reserved(usd) == usd.balanceOf(vault)


def test_lifecycle__fee_above_cap_fails_at_execution(core, alice, whale):
    runner = LocalProposalRunner(core.governor, core.timelock)
    proposal = Proposal([call(core.vault, "setFeeBps", 1_001)], "Fee above the cap")
    runner.propose(alice, proposal)
    runner.vote(proposal, [alice, whale])
    runner.queue(proposal, alice)
    # The vault's own error surfaces through Governor and Timelock: the cap binds governance too.
    with ape.reverts(core.vault.FeeVaultFeeAboveCap, feeBps=1_001, maxFeeBps=1_000):
        runner.execute(proposal, alice)
    assert core.vault.feeBps() == 100
    assert proposal_state(core.governor, proposal.proposal_id) == "Queued"


def test_lifecycle__governance_changes_its_own_settings(core, alice, whale):
    runner = LocalProposalRunner(core.governor, core.timelock)
    proposal = Proposal(
        [call(core.governor, "setVotingPeriod", 40), call(core.governor, "updateQuorumNumerator", 10)],
        "Longer votes, higher quorum",
    )
    runner.run(alice, [alice, whale], proposal)
    assert core.governor.votingPeriod() == 40
    assert core.governor.quorumNumerator() == 10
