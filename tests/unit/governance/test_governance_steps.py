"""Governance step by step, as the CLI runs it: stored proposals, simulation before every step, readable report."""

import json

import pytest

from apiary.deploy import governance as gov
from apiary.sdk.devnode import advance
from apiary.sdk.errors import ApiaryCliError


@pytest.fixture
def fee_proposal(core):
    return gov.Proposal([gov.call(core.vault, "setFeeBps", 250)], "Set the protocol fee to 250 bps")


def test_propose__stored_record_round_trips(core, alice, fee_proposal, tmp_path):
    proposal_id = gov.propose(core.governor, fee_proposal, alice, tmp_path)
    record = json.loads((tmp_path / f"{proposal_id}.json").read_text())
    assert record["proposer"] == alice.address and record["summaries"] == ["setFeeBps(250)"]
    loaded = gov.load_proposal(core.governor, proposal_id, tmp_path)
    assert loaded.args() == fee_proposal.args()


def test_load__without_record__rebuilt_from_the_event(core, alice, fee_proposal, tmp_path):
    proposal_id = gov.propose(core.governor, fee_proposal, alice)
    loaded = gov.load_proposal(core.governor, proposal_id, tmp_path / "empty", from_block=core.start_block)
    assert loaded.args() == fee_proposal.args() and loaded.description == fee_proposal.description


def test_load__edited_record__the_chain_decides(core, alice, fee_proposal, tmp_path):
    proposal_id = gov.propose(core.governor, fee_proposal, alice, tmp_path)
    path = tmp_path / f"{proposal_id}.json"
    path.write_text(path.read_text().replace("250 bps", "999 bps"))
    assert gov.load_proposal(core.governor, proposal_id, tmp_path, core.start_block).description == fee_proposal.description


def test_load__unknown_id__refused(core):
    with pytest.raises(ApiaryCliError, match="no proposal 123 on this Governor"):
        gov.load_proposal(core.governor, 123)


def test_steps__full_round_trip_with_report(core, alice, bob, whale, fee_proposal, tmp_path):
    governor = core.governor
    proposal_id = gov.propose(governor, fee_proposal, alice, tmp_path)
    report = gov.proposal_report(governor, proposal_id, fee_proposal)
    assert report.startswith(f"proposal {gov.short_id(proposal_id)}: Pending (id {proposal_id})")
    assert "ape run gov advance --blocks" in report
    assert gov.resolve_proposal(governor, gov.short_id(proposal_id), tmp_path) == proposal_id  # taken back
    assert gov.resolve_proposal(governor, proposal_id) == proposal_id
    with pytest.raises(ApiaryCliError, match="no proposal whose id starts with 0xffffffffff"):
        gov.resolve_proposal(governor, "0xffffffffff", tmp_path)

    advance(blocks=2)
    gov.vote(governor, proposal_id, "for", whale, reason="cheaper is not better")
    gov.vote(governor, proposal_id, "against", bob)
    report = gov.proposal_report(governor, proposal_id, fee_proposal)
    assert "votes: for 2000000 APY, against 666666.666666666666666666 APY, abstain 0 APY; quorum 400000 APY" in report

    deadline = governor.proposalDeadline(proposal_id)
    advance(blocks=deadline - governor.clock() + 1)
    assert "next: ape run gov queue" in gov.proposal_report(governor, proposal_id, fee_proposal)
    loaded = gov.load_proposal(governor, proposal_id, tmp_path)
    gov.queue(governor, loaded, alice)
    report = gov.proposal_report(governor, proposal_id, fee_proposal)
    assert "eta: " in report and "(in 1 min)" in report

    with pytest.raises(ApiaryCliError, match="execute would revert, nothing was sent: .*TimelockUnexpectedOperationState"):
        gov.execute(governor, loaded, bob)
    advance(seconds=61)
    gov.execute(governor, loaded, bob)
    assert core.vault.feeBps() == 250
    assert "next: nothing" in gov.proposal_report(governor, proposal_id, fee_proposal)


def test_vote__before_voting_opens__nothing_sent(core, alice, fee_proposal):
    proposal_id = gov.propose(core.governor, fee_proposal, alice)
    nonce = alice.nonce
    with pytest.raises(ApiaryCliError, match=r"castVote would revert.*GovernorUnexpectedProposalState\(proposalId="
                                             rf"{proposal_id}, current=Pending, expectedStates=Active\)"):
        gov.vote(core.governor, proposal_id, "for", alice)
    assert alice.nonce == nonce


def test_propose__same_proposal_twice__second_not_sent(core, alice, fee_proposal):
    gov.propose(core.governor, fee_proposal, alice)
    nonce = alice.nonce
    with pytest.raises(ApiaryCliError, match="propose would revert"):
        gov.propose(core.governor, fee_proposal, alice)
    assert alice.nonce == nonce
