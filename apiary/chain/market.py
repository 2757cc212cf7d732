"""Model market on chain: deploy the registries and bounties, register models and circuits, run bounties."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak

from .deploy import CoreDeployment
from .governance import LocalProposalRunner, Proposal, call

MODE = ("open", "sealed")
METRIC = {"correct": 0, "sse": 1}  # IVerifierRegistry.Metric
DIRECTION = ("at-least", "at-most")
STATUS = ("active", "won", "refunded", "forfeited")


@dataclass
class MarketDeployment:
    verifiers: Any
    models: Any
    bounties: Any

    def addresses(self) -> dict[str, str]:
        return {"VerifierRegistry": self.verifiers.address, "ModelRegistry": self.models.address,
                "ModelBounties": self.bounties.address}


def deploy_market(project: Any, deployer: Any, core: CoreDeployment, log: Callable[[str], None] = lambda _m: None,
                  **tx: Any) -> MarketDeployment:
    """VerifierRegistry (owned by the timelock), ModelRegistry and ModelBounties (no admin at all)."""
    send = {"sender": deployer, **tx}
    verifiers = project.VerifierRegistry.deploy(core.timelock.address, **send)
    models = project.ModelRegistry.deploy(verifiers.address, **send)
    bounties = project.ModelBounties.deploy(verifiers.address, models.address, core.vault.address, **send)
    log(f"VerifierRegistry {verifiers.address}  (owner: timelock)")
    log(f"ModelRegistry    {models.address}  (no admin)")
    log(f"ModelBounties    {bounties.address}  (no admin; fees to {core.vault.address})")
    return MarketDeployment(verifiers, models, bounties)


def circuit_id(name: str) -> bytes:
    return keccak(text=name)


def register_circuit_by_governance(core: CoreDeployment, market: MarketDeployment, name: str, verifier: str,
                                   manifest_hash: bytes, samples: int, proposer: Any, voters: Sequence[Any],
                                   log: Callable[[str], None] = lambda _m: None, metric: str = "correct") -> bytes:
    """Local chains only: a full proposal round trip that registers a circuit's verifier."""
    runner = LocalProposalRunner(core.governor, core.timelock, log=log)
    proposal = Proposal([call(market.verifiers, "register", name, verifier, manifest_hash, samples, METRIC[metric])],
                        f"Register circuit {name} (verifier {verifier})")
    runner.run(proposer, voters, proposal)
    return circuit_id(name)


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
