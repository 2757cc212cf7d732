"""Governor + Timelock as deployed by `deploy_core`: handover, access control, proposal rules."""

import ape
import pytest
from eth_abi import encode

from apiary.deploy.config import ONE_TOKEN
from apiary.deploy.deploy import HandoverError, check_handover, role_holders
from apiary.deploy.governance import AGAINST, FOR, LocalProposalRunner, Proposal, call, proposal_state, with_proposer

ZERO = "0x0000000000000000000000000000000000000000"


@pytest.fixture
def runner(core):
    return LocalProposalRunner(core.governor, core.timelock)


def fee_proposal(core, bps, description="set fee"):
    return Proposal([call(core.vault, "setFeeBps", bps)], f"{description} {bps}")


# ---------------------------------------------------------------- deployment handover


def test_deploy__no_eoa_holds_any_role(core, deployer, accounts):
    holders = role_holders(core.timelock, core.start_block)
    everyone = {h for hs in holders.values() for h in hs}
    assert everyone == {core.timelock.address, core.governor.address, ZERO}
    for account in accounts:
        for role in ("DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"):
            assert not core.timelock.hasRole(getattr(core.timelock, role)(), account)
    assert core.vault.owner() == core.timelock.address
    check_handover(core)


def test_deploy__treasury_holds_the_rest_of_genesis(core, whale, alice, bob, carol):
    supply = core.token.totalSupply()
    assert supply == 10_000_000 * ONE_TOKEN
    assert core.token.balanceOf(whale) == 2_000_000 * ONE_TOKEN
    assert core.token.balanceOf(alice) == 4_000_000 * ONE_TOKEN // 6
    # The weight split's rounding remainder stays with the treasury: the total is exact.
    others = sum(core.token.balanceOf(h) for h in (whale, alice, bob, carol))
    assert core.token.balanceOf(core.timelock) == supply - others == 6_000_000 * ONE_TOKEN + 2
    assert core.token.getVotes(alice) == core.token.balanceOf(alice)  # votes without delegating


def test_check_handover__detects_a_leftover_admin(project, deployer, local_config):
    from apiary.deploy import deploy as deploy_module

    timelock = project.ApiaryTimelock.deploy(60, [], [ZERO], deployer, sender=deployer)
    recipients, amounts = deploy_module.genesis_allocation(local_config, timelock.address)
    token = project.ApiaryToken.deploy(recipients, amounts, sender=deployer)
    governor = project.ApiaryGovernor.deploy(token, timelock, (1, 20, 0, 4, 5), sender=deployer)
    vault = project.FeeVault.deploy(timelock, token, 1_000, 100, sender=deployer)
    half_done = deploy_module.CoreDeployment(token, timelock, governor, vault, start_block=0)
    with pytest.raises(HandoverError, match=deployer.address):
        check_handover(half_done)


def test_check_handover__a_recorder_that_announced_during_the_deployment__detected(project, deployer, local_config,
                                                                                    chain):
    """Found by the token's review (issue 22): a deployer could name itself recorder, fill the token's pending
    record slots (blocking every distribution for up to MAX_RECORD_LEAD blocks), then hand over cleanly. The final
    roles look right; the events since the deployment's first block do not."""
    from apiary.deploy import deploy as deploy_module

    start = chain.blocks.height + 1
    timelock = project.ApiaryTimelock.deploy(60, [], [ZERO], deployer, sender=deployer)
    recipients, amounts = deploy_module.genesis_allocation(local_config, timelock.address)
    token = project.ApiaryToken.deploy(recipients, amounts, sender=deployer)
    governor = project.ApiaryGovernor.deploy(token, timelock, (1, 20, 0, 4, 5), sender=deployer)
    vault = project.FeeVault.deploy(timelock, token, 1_000, 100, sender=deployer)
    token.setRecorder(deployer, sender=deployer)
    token.announceRecordBlock(chain.blocks.height + 100, sender=deployer)
    token.setRecorder(vault, sender=deployer)
    token.transferOwnership(timelock, sender=deployer)
    timelock.grantRole(timelock.PROPOSER_ROLE(), governor, sender=deployer)
    timelock.grantRole(timelock.CANCELLER_ROLE(), governor, sender=deployer)
    timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), deployer, sender=deployer)
    with pytest.raises(HandoverError, match="announced during the deployment") as info:
        check_handover(deploy_module.CoreDeployment(token, timelock, governor, vault, start_block=start))
    assert f"recorder was set to ['{deployer.address}']" in str(info.value)


def test_check_market_handover__a_market_contract_not_owned_by_the_timelock__detected(project, deployer, core,
                                                                                     attacker):
    """Also found (issue 20): nothing checked that every market contract is owned by the timelock, pays the
    deployment's vault and names the deployment's own contracts. `deploy_market` now checks it; a contract owned by
    someone else, wired to another vault or to a rogue contract, is named."""
    from dataclasses import replace

    from apiary.deploy.market import check_market_handover, deploy_market

    market = deploy_market(project, deployer, core)
    check_market_handover(core, market)
    rogue_devices = project.DeviceRegistry.deploy(attacker, sender=deployer)
    other_vault = project.FeeVault.deploy(core.timelock, core.token, 1_000, 100, sender=deployer)
    rogue_provenance = project.RevertingProvenance.deploy(sender=deployer)
    rogue_bounties = project.ModelBounties.deploy(market.verifiers, market.models, other_vault, rogue_provenance,
                                                  sender=deployer)
    with pytest.raises(HandoverError, match=f"DeviceRegistry owner is {attacker.address}, not the timelock") as info:
        check_market_handover(core, replace(market, devices=rogue_devices, bounties=rogue_bounties))
    assert f"ModelBounties pays fees to {other_vault.address}" in str(info.value)
    assert f"ModelBounties.provenance is {rogue_provenance.address}, not the deployment's Provenance" in str(info.value)
    assert f"DatasetRegistry.devices is {market.devices.address}, not the deployment's DeviceRegistry" in str(info.value)


# ---------------------------------------------------------------- governance-only functions


def governance_only_calls(core, attacker):
    t, g, v = core.timelock, core.governor, core.vault
    return [
        (v, "setFeeBps", (0,), v.OwnableUnauthorizedAccount, {"account": attacker.address}),
        (v, "spend", (core.token, attacker, 1), v.OwnableUnauthorizedAccount, {"account": attacker.address}),
        (v, "distribute", (core.token, 1, 86_400, 1), v.OwnableUnauthorizedAccount, {"account": attacker.address}),
        (v, "sweepSurplus", (core.token, attacker), v.OwnableUnauthorizedAccount, {"account": attacker.address}),
        (v, "sweepMarketSurplus", (v, core.token, 1), v.OwnableUnauthorizedAccount, {"account": attacker.address}),
        (v, "transferOwnership", (attacker,), v.OwnableUnauthorizedAccount, {"account": attacker.address}),
        (g, "setVotingPeriod", (1,), g.GovernorOnlyExecutor, {"account": attacker.address}),
        (g, "setVotingDelay", (0,), g.GovernorOnlyExecutor, {"account": attacker.address}),
        (g, "setProposalThreshold", (0,), g.GovernorOnlyExecutor, {"account": attacker.address}),
        (g, "updateQuorumNumerator", (0,), g.GovernorOnlyExecutor, {"account": attacker.address}),
        (g, "setLateQuorumVoteExtension", (0,), g.GovernorOnlyExecutor, {"account": attacker.address}),
        (g, "updateTimelock", (attacker,), g.GovernorOnlyExecutor, {"account": attacker.address}),
        (g, "relay", (core.token, 0, b""), g.GovernorOnlyExecutor, {"account": attacker.address}),
        (t, "updateDelay", (0,), t.TimelockUnauthorizedCaller, {"caller": attacker.address}),
        (t, "grantRole", (t.PROPOSER_ROLE(), attacker), t.AccessControlUnauthorizedAccount, {"account": attacker.address}),
        (t, "schedule", (core.vault, 0, b"", b"\0" * 32, b"\0" * 32, 60), t.AccessControlUnauthorizedAccount, {"account": attacker.address}),
        (t, "cancel", (b"\0" * 32,), t.AccessControlUnauthorizedAccount, {"account": attacker.address}),
    ]


def test_governance_only__every_function_called_directly__reverts(core, attacker, deployer):
    for caller in (attacker, deployer):
        for contract, method, args, error, fields in governance_only_calls(core, caller):
            fields = {k: caller.address for k in fields}
            with ape.reverts(error, **fields):
                getattr(contract, method)(*args, sender=caller)
    assert core.vault.feeBps() == 100
    assert core.governor.votingPeriod() == 20


# ---------------------------------------------------------------- proposal lifecycle rules


def test_propose__below_threshold__reverts(core, attacker):
    p = fee_proposal(core, 200)
    described = with_proposer(p.description, attacker.address)
    with ape.reverts(core.governor.GovernorInsufficientProposerVotes, proposer=attacker.address, votes=0, threshold=1_000 * ONE_TOKEN):
        core.governor.propose(p.targets, p.values, p.calldatas, described, sender=attacker)


def test_copied_proposal__cannot_be_taken_over_and_cancelled(core, runner, alice, attacker, chain):
    """Attack: copy a pending `propose` (or file the CLI's fixed description first), become its proposer and
    cancel it, killing its id. The description names its proposer; the copy sent by another account is refused
    and the author's proposal opens as written."""
    core.token.transfer(attacker, 1_000 * ONE_TOKEN, sender=alice)  # the proposal threshold, held (self-delegating)
    chain.mine()
    p = fee_proposal(core, 200)
    described = with_proposer(p.description, alice.address)
    for copy in (p.description, described):  # the fixed text filed in advance, or the pending call copied
        with ape.reverts(core.governor.GovernorRestrictedProposer, proposer=attacker.address):
            core.governor.propose(p.targets, p.values, p.calldatas, copy, sender=attacker)
    runner.propose(alice, p)
    assert p.description == described
    assert core.governor.proposalProposer(p.proposal_id) == alice.address
    with ape.reverts(core.governor.GovernorUnableToCancel):
        core.governor.cancel(*p.args(), sender=attacker)
    # the attacker's own copy is another proposal (its id differs): the author's stands
    runner.propose(attacker, Proposal(p.actions, "set fee 200"))
    assert proposal_state(core.governor, p.proposal_id) in ("Pending", "Active")


@pytest.mark.parametrize("suffix", ["", "#proposer=", "#proposer=0x" + "zz" * 20, "#proposer={other}",
                                    "#proposer={self} trailing"])
def test_propose__description_without_its_proposer_suffix__reverts(core, alice, bob, suffix):
    p = fee_proposal(core, 200)
    text = p.description + suffix.format(self=alice.address, other=bob.address)
    with ape.reverts(core.governor.GovernorRestrictedProposer, proposer=alice.address):
        core.governor.propose(p.targets, p.values, p.calldatas, text, sender=alice)


def test_propose__suffix_in_any_letter_case__accepted(core, alice):
    p = fee_proposal(core, 200)
    core.governor.propose(p.targets, p.values, p.calldatas, f"{p.description}#proposer={alice.address}", sender=alice)
    assert with_proposer("x#proposer=" + "0x" + "ab" * 20, alice.address) == f"x#proposer={alice.address.lower()}"


def test_execute__without_queue__reverts(core, runner, alice, whale):
    p = fee_proposal(core, 200)
    runner.propose(alice, p)
    runner.vote(p, [whale])
    from ape import chain

    chain.mine(core.governor.proposalDeadline(p.proposal_id) - chain.blocks.height + 1)
    assert proposal_state(core.governor, p.proposal_id) == "Succeeded"
    op_id = core.timelock.hashOperationBatch(p.targets, p.values, p.calldatas, b"\0" * 32, _salt(core, p))
    with ape.reverts(core.timelock.TimelockUnexpectedOperationState, operationId=op_id, expectedStates=_ready_state()):
        core.governor.execute(*p.args(), sender=alice)
    assert core.vault.feeBps() == 100


def test_execute__before_delay__reverts(core, runner, alice, whale):
    p = fee_proposal(core, 200)
    runner.propose(alice, p)
    runner.vote(p, [whale])
    runner.queue(p, alice)
    op_id = core.timelock.hashOperationBatch(p.targets, p.values, p.calldatas, b"\0" * 32, _salt(core, p))
    with ape.reverts(core.timelock.TimelockUnexpectedOperationState, operationId=op_id, expectedStates=_ready_state()):
        core.governor.execute(*p.args(), sender=alice)
    assert core.vault.feeBps() == 100


def test_queue__without_quorum__reverts(core, runner, alice, attacker, chain):
    core.token.transfer(attacker, 300_000 * ONE_TOKEN, sender=alice)  # 3% of supply, quorum is 4%
    chain.mine()
    p = fee_proposal(core, 200)
    runner.propose(attacker, p)
    runner.vote(p, [attacker])
    chain.mine(core.governor.proposalDeadline(p.proposal_id) - chain.blocks.height + 1)
    assert proposal_state(core.governor, p.proposal_id) == "Defeated"
    with ape.reverts(core.governor.GovernorUnexpectedProposalState):
        core.governor.queue(*p.args(), sender=attacker)
    assert core.vault.feeBps() == 100


def test_vote__defeated_by_against__cannot_queue(core, runner, alice, whale, chain):
    p = fee_proposal(core, 200)
    runner.propose(alice, p)
    runner.vote(p, [alice])
    runner.vote(p, [whale], support=AGAINST)
    chain.mine(core.governor.proposalDeadline(p.proposal_id) - chain.blocks.height + 1)
    assert proposal_state(core.governor, p.proposal_id) == "Defeated"


def test_vote__flash_loaned_tokens_have_no_weight(project, core, runner, alice, whale, attacker, chain):
    lender = project.FlashLender.deploy(sender=attacker)
    p = fee_proposal(core, 200)
    runner.propose(alice, p)
    chain.mine(core.governor.proposalSnapshot(p.proposal_id) - chain.blocks.height + 1)
    core.token.transfer(lender, core.token.balanceOf(whale), sender=whale)  # liquidity arrives after the snapshot
    borrower = project.FlashBorrower.deploy(lender, sender=attacker)
    data = encode(["address", "bytes"], [core.governor.address, bytes(core.governor.castVote.encode_input(p.proposal_id, FOR))])
    lender.flashLoan(core.token, core.token.balanceOf(lender), borrower, data, sender=attacker)
    _against, for_votes, _abstain = core.governor.proposalVotes(p.proposal_id)
    assert for_votes == 0
    assert core.token.getVotes(borrower) == 0


def test_vote__late_quorum_extends_deadline(core, runner, alice, chain):
    p = fee_proposal(core, 200)
    runner.propose(alice, p)
    deadline = core.governor.proposalDeadline(p.proposal_id)
    chain.mine(deadline - chain.blocks.height - 1)  # the vote lands in the deadline block
    core.governor.castVote(p.proposal_id, FOR, sender=alice)
    new_deadline = core.governor.proposalDeadline(p.proposal_id)
    assert new_deadline == chain.blocks.height + core.governor.lateQuorumVoteExtension()
    assert new_deadline > deadline


def test_double_vote__reverts(core, runner, alice):
    p = fee_proposal(core, 200)
    runner.propose(alice, p)
    runner.vote(p, [alice])
    with ape.reverts(core.governor.GovernorAlreadyCastVote, voter=alice.address):
        core.governor.castVote(p.proposal_id, FOR, sender=alice)


def _salt(core, proposal):
    # GovernorTimelockControl salts operations with the governor address xor the description hash.
    gov = int(core.governor.address, 16)
    return (gov ^ int.from_bytes(proposal.description_hash, "big")).to_bytes(32, "big")


def _ready_state():
    # TimelockController encodes the expected state as a bitmap: 1 << OperationState.Ready (2).
    return (1 << 2).to_bytes(32, "big")
