"""Drive a proposal through the Governor and Timelock: propose, vote, queue, wait, execute.

On a local chain (embedded EthTester or anvil) `LocalProposalRunner` also mines blocks and advances time so a
full round trip takes seconds; on a public network each step is its own command and waits for real time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

# Governor vote types (GovernorCountingSimple).
AGAINST, FOR, ABSTAIN = 0, 1, 2

# IGovernor.ProposalState
PROPOSAL_STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")


@dataclass
class Action:
    target: str
    value: int
    calldata: bytes
    summary: str


def call(contract: Any, method: str, *args: Any, value: int = 0) -> Action:
    """An action that calls `contract.method(*args)` from the timelock."""
    calldata = getattr(contract, method).encode_input(*args)
    return Action(contract.address, value, bytes(calldata), f"{method}({', '.join(map(str, args))})")


@dataclass
class Proposal:
    actions: Sequence[Action]
    description: str
    proposal_id: int | None = field(default=None)

    @property
    def targets(self) -> list[str]:
        return [a.target for a in self.actions]

    @property
    def values(self) -> list[int]:
        return [a.value for a in self.actions]

    @property
    def calldatas(self) -> list[bytes]:
        return [a.calldata for a in self.actions]

    @property
    def description_hash(self) -> bytes:
        return keccak(text=self.description)

    def args(self) -> tuple[list[str], list[int], list[bytes], bytes]:
        return self.targets, self.values, self.calldatas, self.description_hash


def proposal_state(governor: Any, proposal_id: int) -> str:
    return PROPOSAL_STATES[governor.state(proposal_id)]


class LocalProposalRunner:
    """Runs proposals end to end on a local chain, mining blocks and moving time as needed."""

    def __init__(self, governor: Any, timelock: Any, log: Callable[[str], None] = lambda _msg: None):
        self.governor = governor
        self.timelock = timelock
        self.log = log

    def propose(self, proposer: Any, proposal: Proposal) -> int:
        targets, values, calldatas, description_hash = proposal.args()
        self.governor.propose(targets, values, calldatas, proposal.description, sender=proposer)
        proposal.proposal_id = self.governor.hashProposal(targets, values, calldatas, description_hash)
        self.log(f"proposed #{hex(proposal.proposal_id)[:12]}…: {proposal.description}")
        return proposal.proposal_id

    def vote(self, proposal: Proposal, voters: Sequence[Any], support: int = FOR) -> None:
        from ape import chain

        snapshot = self.governor.proposalSnapshot(proposal.proposal_id)
        if chain.blocks.height <= snapshot:
            chain.mine(snapshot - chain.blocks.height + 1)
        for voter in voters:
            self.governor.castVote(proposal.proposal_id, support, sender=voter)
            weight = self.governor.getVotes(voter.address, snapshot)
            self.log(f"  {voter.address[:10]}… votes {('against', 'for', 'abstain')[support]} with {weight / 1e18:,.0f} APY")

    def queue(self, proposal: Proposal, sender: Any) -> None:
        from ape import chain

        deadline = self.governor.proposalDeadline(proposal.proposal_id)
        if chain.blocks.height <= deadline:
            chain.mine(deadline - chain.blocks.height + 1)
        self.governor.queue(*proposal.args(), sender=sender)
        self.log(f"  queued in the timelock (state {proposal_state(self.governor, proposal.proposal_id)})")

    def execute(self, proposal: Proposal, sender: Any) -> Any:
        from ape import chain

        eta = self.governor.proposalEta(proposal.proposal_id)
        if chain.pending_timestamp <= eta:
            chain.mine(1, timestamp=eta + 1)
        receipt = self.governor.execute(*proposal.args(), sender=sender)
        self.log(f"  executed after the timelock delay: {'; '.join(a.summary for a in proposal.actions)}")
        return receipt

    def run(self, proposer: Any, voters: Sequence[Any], proposal: Proposal) -> Any:
        """Propose, vote FOR with `voters`, queue and execute `proposal`; returns the execution receipt."""
        self.propose(proposer, proposal)
        self.vote(proposal, voters)
        self.queue(proposal, proposer)
        return self.execute(proposal, proposer)
