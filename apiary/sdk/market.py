"""Model market client: enums mirroring the contracts, typed bounty views, model registration, summaries.

Everything here takes ape contract instances (`project.ModelBounties.at(address)`); the CLI in
scripts/market.py and the demo are thin layers on top.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils import keccak

from .devnode import wait_for_block
from .tx import commit_seal, send


# ---------------------------------------------------------------- enums (mirror the Solidity enums, in order)


class Mode(IntEnum):
    OPEN = 0
    SEALED = 1


class Direction(IntEnum):
    AT_LEAST = 0  # correct counts: higher is better
    AT_MOST = 1  # error sums: lower is better


class Status(IntEnum):
    ACTIVE = 0
    WON = 1
    REFUNDED = 2
    FORFEITED = 3


class Phase(IntEnum):
    COMMIT = 0
    REVEAL = 1
    PROVE = 2
    SETTLE = 3
    CLOSED = 4


class Metric(IntEnum):
    CORRECT_COUNT = 0
    SQUARED_ERROR = 1
    INFERENCE = 2


METRIC = {"correct": Metric.CORRECT_COUNT, "sse": Metric.SQUARED_ERROR}  # circuit spec name → registry enum


def label(value: IntEnum) -> str:
    return value.name.lower().replace("_", "-")


def circuit_id(name: str) -> bytes:
    return keccak(text=name)


# ---------------------------------------------------------------- typed views


@dataclass(frozen=True)
class BountyView:
    id: int
    sponsor: str
    mode: Mode
    direction: Direction
    status: Status
    phase: Phase
    revealed: bool
    fee_bps: int
    num_chunks: int
    samples: int
    committed: int
    token: str
    reward: int
    threshold: int
    commit_deadline: int
    reveal_deadline: int
    deadline: int
    best: int
    best_score: int
    circuit_id: bytes
    test_data_hash: bytes

    @classmethod
    def read(cls, bounties: Any, bounty_id: int) -> BountyView:
        b = bounties.bounty(bounty_id)
        return cls(bounty_id, str(b.sponsor), Mode(b.mode), Direction(b.direction), Status(b.status),
                   Phase(bounties.phase(bounty_id)), bool(b.revealed), int(b.feeBps), int(b.numChunks), int(b.samples),
                   int(b.committed), str(b.token), int(b.reward), int(b.threshold), int(b.commitDeadline),
                   int(b.revealDeadline), int(b.deadline), int(b.best), int(b.bestScore), bytes(b.circuitId),
                   bytes(b.testDataHash))

    def payout_if_won(self) -> tuple[int, int]:
        """(net, fee) the winner gets: the fee rate was fixed when the reward was escrowed (rounded up)."""
        fee = -(-self.reward * self.fee_bps // 10_000)
        return self.reward - fee, fee


# ---------------------------------------------------------------- registration


def register_model(models: Any, owner: Any, circuit: bytes, commitment: bytes, uri: str = "",
                   salt: bytes | None = None, *, wait_final: bool = True, log: Callable[[str], None] = lambda _m: None,
                   **tx: Any) -> int:
    """Commit, then reveal a model registration (the reveal at least MIN_SEAL_AGE blocks later). With
    `wait_final`, also let the seal window pass, after which no earlier seal can take the model over and bounties
    accept it. Returns the model id."""
    salt = salt or os.urandom(32)
    seal = models.seal(owner.address, circuit, commitment, salt)
    landed = commit_seal(models, seal, sender=owner, **tx)
    # The reveal must land MIN_SEAL_AGE blocks after the seal: mined at once on a dev chain, awaited elsewhere.
    wait_for_block(landed + int(models.MIN_SEAL_AGE()) - 1, log=log)
    send(models.register, circuit, commitment, salt, uri, sender=owner, **tx)
    model_id = int(models.modelIdOf(circuit, commitment))
    if wait_final:
        wait_until_final(models, model_id, log)
    return model_id


def wait_until_final(models: Any, model_id: int, log: Callable[[str], None] = lambda _m: None) -> None:
    """Until a transaction sent now sees `isFinal(model_id)`: it lands in the block after the head, which must be
    past `contestableUntil`."""
    wait_for_block(int(models.contestableUntil(model_id)), log=log)


# ---------------------------------------------------------------- summaries


def leaderboard(bounties: Any, models: Any, bounty_id: int, model_ids: Sequence[int]) -> list[dict]:
    """Rows for a readable summary: model, owner, chunks proven, total score, sorted best first."""
    b = BountyView.read(bounties, bounty_id)
    rows = []
    for model_id in model_ids:
        e = bounties.entry(bounty_id, model_id)
        rows.append({"model": model_id, "owner": models.ownerOf(model_id), "chunks": f"{e.chunksProven}/{b.num_chunks}",
                     "score": int(e.score), "committed": int(e.commitIndex)})
    higher = b.direction == Direction.AT_LEAST
    return sorted(rows, key=lambda r: (-(r["score"]) if higher else r["score"], r["committed"] or 10**9))


def describe(bounties: Any, bounty_id: int, *, amount: Callable[[int], str] = str,
             when: Callable[[int], str] = str) -> str:
    """A bounty in a few lines; `amount` formats token amounts (by decimals), `when` formats timestamps."""
    b = BountyView.read(bounties, bounty_id)
    op = "≥" if b.direction == Direction.AT_LEAST else "≤"
    what = "correct" if b.direction == Direction.AT_LEAST else "squared error"
    net, fee = b.payout_if_won()
    lines = [
        f"bounty #{bounty_id}: {label(b.mode)}, {label(b.status)}, phase {label(b.phase)}; reward {amount(b.reward)} "
        f"(winner gets {amount(net)} after the {b.fee_bps / 100:g}% fee fixed at creation)",
        f"  test: total {what} {op} {b.threshold} over {b.num_chunks} chunk(s) of {b.samples} samples",
    ]
    if b.mode == Mode.SEALED:
        lines.append(f"  commit until {when(b.commit_deadline)}; reveal until {when(b.reveal_deadline)}; "
                     f"{b.committed} model(s) committed")
    lines.append(f"  proofs until {when(b.deadline)}")
    if b.best:
        lines.append(f"  {'winning' if b.status == Status.WON else 'leading'} model #{b.best} with {b.best_score}")
    return "\n".join(lines)
