"""Drive a proposal through the Governor and Timelock: propose, vote, queue, wait, execute.

On a local chain (embedded EthTester or anvil) `LocalProposalRunner` also mines blocks and advances time so a
full round trip takes seconds; on a public network each step is its own command and waits for real time.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_utils import keccak

from ..paths import write_atomic

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
    return Action(contract.address, value, bytes(calldata), f"{method}({', '.join(map(_arg_text, args))})")


def _arg_text(value: Any) -> str:
    """An argument as a person reads it: bytes in hex (never Python's b'…'), lists item by item."""
    if isinstance(value, (bytes, bytearray)):
        return "0x" + bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(_arg_text, value)) + "]"
    return str(getattr(value, "address", value))


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


PROPOSER_MARKER = "#proposer="


def with_proposer(description: str, proposer: str) -> str:
    """`description` ending in `#proposer=<proposer>`, the suffix the Governor requires (a copy of a pending
    proposal sent by anyone else is refused, so nobody can take it over and cancel it). A suffix naming another
    account (say, a proposal drafted by someone else) is replaced."""
    head = description
    if len(head) >= 52 and head[-52:-42] == PROPOSER_MARKER:
        head = head[:-52]
    return f"{head}{PROPOSER_MARKER}{proposer.lower()}"


SHORT_ID_DIGITS = 10  # hex digits of a proposal id people type (0x + 10): every command resolves it back


def short_id(proposal_id: int) -> str:
    """A proposal id as people type it: its first 10 hex digits (`0x1a2b3c4d5e`), accepted back by every
    command (resolve_proposal); the full id is what `--quiet` prints for scripts."""
    return f"0x{int(proposal_id):064x}"[: 2 + SHORT_ID_DIGITS]


def resolve_proposal(governor: Any, ref: Any, store_dir: Path | None = None, from_block: int = 0) -> int:
    """The full id of `ref`: an int is one already; a 0x prefix (a short id) is matched against this Governor's
    proposals (local records and ProposalCreated events) and must name exactly one."""
    from ape import chain

    from ..sdk.errors import ApiaryCliError

    if isinstance(ref, int):
        return ref
    prefix = str(ref).lower().removeprefix("0x")
    known: set[int] = set()
    if store_dir is not None and Path(store_dir).is_dir():
        known |= {int(p.stem) for p in Path(store_dir).glob("*.json") if p.stem.isdigit()}
    for log in governor.ProposalCreated.range(int(from_block), int(chain.blocks.head.number) + 1):
        known.add(int(log.proposalId))
    matches = sorted(pid for pid in known if f"{pid:064x}".startswith(prefix))
    if not matches:
        raise ApiaryCliError(f"no proposal whose id starts with 0x{prefix} on this Governor ({governor.address})")
    if len(matches) > 1:
        raise ApiaryCliError(f"0x{prefix} names {len(matches)} proposals ({', '.join(map(str, matches))}): give more "
                             "digits")
    return matches[0]


def proposal_state(governor: Any, proposal_id: int) -> str:
    return PROPOSAL_STATES[governor.state(proposal_id)]


class LocalProposalRunner:
    """Runs proposals end to end on a local chain, mining blocks and moving time as needed."""

    def __init__(self, governor: Any, timelock: Any, log: Callable[[str], None] = lambda _msg: None):
        self.governor = governor
        self.timelock = timelock
        self.log = log

    def propose(self, proposer: Any, proposal: Proposal) -> int:
        proposal.description = with_proposer(proposal.description, proposer.address)
        targets, values, calldatas, description_hash = proposal.args()
        self.governor.propose(targets, values, calldatas, proposal.description, sender=proposer)
        proposal.proposal_id = self.governor.hashProposal(targets, values, calldatas, description_hash)
        self.log(f"proposed #{hex(proposal.proposal_id)[:12]}…: {proposal.description}")
        return proposal.proposal_id

    def vote(self, proposal: Proposal, voters: Sequence[Any], support: int = FOR) -> None:
        from ape import chain

        from ..sdk.devnode import advance

        snapshot = self.governor.proposalSnapshot(proposal.proposal_id)
        if chain.blocks.height <= snapshot:
            advance(blocks=snapshot - chain.blocks.height + 1)
        for voter in voters:
            self.governor.castVote(proposal.proposal_id, support, sender=voter)
            weight = self.governor.getVotes(voter.address, snapshot)
            self.log(f"  {voter.address[:10]}… votes {('against', 'for', 'abstain')[support]} with {weight / 1e18:,.0f} APY")

    def queue(self, proposal: Proposal, sender: Any) -> None:
        from ape import chain

        from ..sdk.devnode import advance

        deadline = self.governor.proposalDeadline(proposal.proposal_id)
        if chain.blocks.height <= deadline:
            advance(blocks=deadline - chain.blocks.height + 1)
        self.governor.queue(*proposal.args(), sender=sender)
        self.log(f"  queued in the timelock (state {proposal_state(self.governor, proposal.proposal_id)})")

    def execute(self, proposal: Proposal, sender: Any) -> Any:
        from ape import chain

        from ..sdk.devnode import advance

        eta = self.governor.proposalEta(proposal.proposal_id)
        if chain.pending_timestamp <= eta:
            # devnode.advance works on every dev provider (ape's test chain, ape-foundry, a plain node on anvil)
            advance(blocks=1, seconds=max(eta + 1 - int(chain.blocks.head.timestamp), 1))
        receipt = self.governor.execute(*proposal.args(), sender=sender)
        self.log(f"  executed after the timelock delay: {'; '.join(a.summary for a in proposal.actions)}")
        return receipt

    def run(self, proposer: Any, voters: Sequence[Any], proposal: Proposal) -> Any:
        """Propose, vote FOR with `voters`, queue and execute `proposal`; returns the execution receipt."""
        self.propose(proposer, proposal)
        self.vote(proposal, voters)
        self.queue(proposal, proposer)
        return self.execute(proposal, proposer)


# ---------------------------------------------------------------- step by step (CLI): propose, vote, queue, execute
#
# Each step simulates its transaction first (apiary.sdk.tx.send): a step that would revert sends nothing.
# Queue and execute need the proposal's targets, values, calldatas and description: `propose` stores them in
# build/proposals/<deployment key>/<id>.json, and `load_proposal` falls back to the ProposalCreated event.

SUPPORT = {"against": AGAINST, "for": FOR, "abstain": ABSTAIN}


def save_proposal(store_dir: Path, proposal: Proposal, **extra: Any) -> Path:
    """Write `<store_dir>/<id>.json` atomically (ids are decimal: they are 256-bit hashes)."""
    body = {
        "id": str(proposal.proposal_id),
        "targets": proposal.targets,
        "values": [str(v) for v in proposal.values],
        "calldatas": ["0x" + bytes(c).hex() for c in proposal.calldatas],
        "summaries": [a.summary for a in proposal.actions],
        "description": proposal.description,
        **extra,
    }
    return write_atomic(Path(store_dir) / f"{proposal.proposal_id}.json", json.dumps(body, indent=2) + "\n")


def _from_record(body: dict) -> Proposal:
    summaries = body.get("summaries") or [""] * len(body["targets"])
    actions = [Action(t, int(v), bytes.fromhex(c[2:] if c.startswith("0x") else c), s)
               for t, v, c, s in zip(body["targets"], body["values"], body["calldatas"], summaries)]
    return Proposal(actions, body["description"], int(body["id"]))


def propose(governor: Any, proposal: Proposal, sender: Any, store_dir: Path | None = None,
            log: Callable[[str], None] = lambda _m: None) -> int:
    """Simulate, then open `proposal` on the Governor; record it under `store_dir` (if given) for queue/execute.

    Returns the proposal id. An identical proposal that already exists is refused by the Governor
    (GovernorUnexpectedProposalState) in the simulation, so nothing is sent twice.
    """
    from ..sdk.tx import send

    proposal.description = with_proposer(proposal.description, sender.address)
    targets, values, calldatas, description_hash = proposal.args()
    proposal_id = int(governor.hashProposal(targets, values, calldatas, description_hash))
    receipt = send(governor.propose, targets, values, calldatas, proposal.description, sender=sender)
    proposal.proposal_id = proposal_id
    if store_dir is not None:
        save_proposal(store_dir, proposal, proposer=str(sender.address), tx=_hex(receipt.txn_hash),
                      block=int(receipt.block_number))
    log(f"proposed {proposal_id}: {proposal.description}")
    return proposal_id


def load_proposal(governor: Any, proposal_id: int, store_dir: Path | None = None, from_block: int = 0) -> Proposal:
    """The proposal's actions and description: from the local record, else from its ProposalCreated event."""
    from ape import chain

    from ..sdk.errors import ApiaryCliError

    if store_dir is not None and (path := Path(store_dir) / f"{proposal_id}.json").is_file():
        proposal = _from_record(json.loads(path.read_text()))
        if int(governor.hashProposal(*proposal.args())) == proposal_id:
            return proposal  # an edited record would not hash to the id: then the chain decides
    if int(governor.proposalSnapshot(proposal_id)) == 0:
        raise ApiaryCliError(f"no proposal {proposal_id} on this Governor ({governor.address}): check the id")
    for event in governor.ProposalCreated.range(from_block, chain.blocks.height + 1):
        args = event.event_arguments
        if int(args["proposalId"]) == proposal_id:
            proposal = Proposal([Action(str(t), int(v), bytes(c), "")
                                 for t, v, c in zip(args["targets"], args["values"], args["calldatas"])],
                                args["description"], proposal_id)
            if store_dir is not None:
                save_proposal(store_dir, proposal, proposer=str(args["proposer"]), block=int(event.block_number))
            return proposal
    raise ApiaryCliError(f"proposal {proposal_id} exists but its ProposalCreated event was not found after block "
                         f"{from_block}: is the node pruned? pass the proposal record file instead")


def vote(governor: Any, proposal_id: int, support: str, sender: Any, reason: str = "") -> Any:
    from ..sdk.tx import send

    if reason:
        return send(governor.castVoteWithReason, proposal_id, SUPPORT[support], reason, sender=sender)
    return send(governor.castVote, proposal_id, SUPPORT[support], sender=sender)


def queue(governor: Any, proposal: Proposal, sender: Any) -> Any:
    from ..sdk.tx import send

    return send(governor.queue, *proposal.args(), sender=sender)


def execute(governor: Any, proposal: Proposal, sender: Any) -> Any:
    from ..sdk.tx import send

    return send(governor.execute, *proposal.args(), sender=sender, value=sum(proposal.values))


def proposal_report(governor: Any, proposal_id: int, proposal: Proposal | None = None,
                    names: dict[str, str] | None = None) -> str:
    """State, votes, voting window and eta as readable times, the actions and the next step."""
    from ape import chain

    from ..sdk.amounts import Token, format_duration, format_time
    from ..sdk.devnode import is_dev_chain

    state = proposal_state(governor, proposal_id)
    token = Token.at(governor.token())
    against, for_, abstain = (int(v) for v in governor.proposalVotes(proposal_id))
    snapshot, deadline = int(governor.proposalSnapshot(proposal_id)), int(governor.proposalDeadline(proposal_id))
    head = chain.blocks.head
    now, height = int(head.timestamp), int(head.number)
    timestamps = "timestamp" in str(governor.CLOCK_MODE())

    def when(point: int) -> str:
        if timestamps:
            return format_time(point, now)
        if point <= height:
            return f"block {point} ({format_time(chain.blocks[point].timestamp, now)})"
        ahead = point - height
        estimate = "" if is_dev_chain() else f", ≈ {format_duration(ahead * 12)} at 12 s/block"
        return f"block {point} (in {ahead} block{'s' if ahead != 1 else ''}{estimate})"

    quorum = int(governor.quorum(snapshot)) if snapshot < (now if timestamps else height) else None
    lines = [f"proposal {short_id(proposal_id)}: {state} (id {proposal_id})"]
    if proposal is not None:
        lines.append(f"  description: {proposal.description}")
        for action in proposal.actions:
            target = (names or {}).get(action.target, action.target)
            lines.append(f"  action: {target}: {action.summary or '0x' + action.calldata[:4].hex()}"
                         + (f" with {action.value} wei" if action.value else ""))
    fmt = token.format
    lines.append(f"  votes: for {fmt(for_)}, against {fmt(against)}, abstain {fmt(abstain)}"
                 + (f"; quorum {fmt(quorum)}" if quorum is not None else ""))
    lines.append(f"  voting: opens after {when(snapshot)}, closes at {when(deadline)}")
    eta = int(governor.proposalEta(proposal_id))
    if eta:
        lines.append(f"  eta: {format_time(eta, now)}")
    lines.append(f"  next: {_next_step(state, short_id(proposal_id), snapshot, deadline, eta, height, now)}")
    return "\n".join(lines)


def _next_step(state: str, pid: str, snapshot: int, deadline: int, eta: int, height: int, now: int) -> str:
    if state == "Pending":
        return f"voting opens after block {snapshot} (dev node: ape run gov advance --blocks {snapshot - height + 1})"
    if state == "Active":
        return f"ape run gov vote --proposal {pid} --support for|against|abstain (until block {deadline})"
    if state == "Succeeded":
        return f"ape run gov queue --proposal {pid}"
    if state == "Queued":
        if eta >= now:
            return (f"execute after the eta (dev node: ape run gov advance --seconds {eta - now + 1}), then "
                    f"ape run gov execute --proposal {pid}")
        return f"ape run gov execute --proposal {pid}"
    return "nothing: the proposal is final"


def _hex(value: Any) -> str:
    return value if isinstance(value, str) else "0x" + bytes(value).hex()
