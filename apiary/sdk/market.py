"""Model market reads and user actions: circuit ids, model registration, bounty summaries and leaderboards."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from eth_utils import keccak

MODE = ("open", "sealed")
METRIC = {"correct": 0, "sse": 1}  # IVerifierRegistry.Metric
DIRECTION = ("at-least", "at-most")
STATUS = ("active", "won", "refunded", "forfeited")


def circuit_id(name: str) -> bytes:
    return keccak(text=name)


def register_model(models: Any, owner: Any, circuit: bytes, commitment: bytes, uri: str = "",
                   salt: bytes | None = None, **tx: Any) -> int:
    """Commit, then reveal a model registration (two transactions, the second at least a block later)."""
    from ape import chain

    salt = salt or os.urandom(32)
    seal = models.seal(owner.address, circuit, commitment, salt)
    receipt = models.commit(seal, sender=owner, **tx)
    while chain.blocks.height < receipt.block_number + int(models.MIN_SEAL_AGE()):
        chain.mine()  # only on local chains where blocks are not produced on their own
    models.register(circuit, commitment, salt, uri, sender=owner, **tx)
    return int(models.modelIdOf(circuit, commitment))


def leaderboard(bounties: Any, models: Any, bounty_id: int, model_ids: Sequence[int]) -> list[dict]:
    """Rows for a readable summary: model, owner, chunks proven, total score, sorted best first."""
    b = bounties.bounty(bounty_id)
    rows = []
    for model_id in model_ids:
        e = bounties.entry(bounty_id, model_id)
        rows.append({"model": model_id, "owner": models.ownerOf(model_id), "chunks": f"{e.chunksProven}/{b.numChunks}",
                     "score": int(e.score), "committed": int(e.commitIndex)})
    higher = b.direction == 0
    return sorted(rows, key=lambda r: (-(r["score"]) if higher else r["score"], r["committed"] or 10**9))


def describe(bounties: Any, bounty_id: int) -> str:
    b = bounties.bounty(bounty_id)
    op = "≥" if b.direction == 0 else "≤"
    what = "correct" if b.direction == 0 else "squared error"
    lines = [
        f"bounty #{bounty_id}: {MODE[b.mode]}, {STATUS[b.status]}; reward {b.reward} of {b.token}",
        f"  test: total {what} {op} {b.threshold} over {b.numChunks} chunk(s) of {b.samples} samples",
        f"  deadlines: commit {b.commitDeadline or '-'}, reveal {b.revealDeadline or '-'}, proofs {b.deadline}",
    ]
    if b.best:
        lines.append(f"  leading/winning model #{b.best} with {b.bestScore}")
    return "\n".join(lines)
