"""Model market deployment: the registries and the bounty contract, and a local governance round trip that
registers a circuit's verifier."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..sdk.market import METRIC, circuit_id
from .deploy import CoreDeployment, transactor
from .governance import LocalProposalRunner, Proposal, call


@dataclass
class MarketDeployment:
    verifiers: Any
    models: Any
    bounties: Any

    def contracts(self) -> dict[str, Any]:
        return {"VerifierRegistry": self.verifiers, "ModelRegistry": self.models, "ModelBounties": self.bounties}

    def addresses(self) -> dict[str, str]:
        return {name: c.address for name, c in self.contracts().items()}


def deploy_market(project: Any, deployer: Any, core: CoreDeployment, log: Callable[[str], None] = lambda _m: None,
                  seal_window: int = 4, simulate: bool = False, **tx: Any) -> MarketDeployment:
    """VerifierRegistry (owned by the timelock), ModelRegistry and ModelBounties (no admin at all). `seal_window`:
    blocks a model registration stays contestable by an earlier seal (the profile's `market.seal_window`);
    `simulate` checks each deployment with an eth_call first (the CLI does)."""
    deploy, _send = transactor(simulate, **tx)
    verifiers = deploy(project.VerifierRegistry, core.timelock.address, sender=deployer)
    models = deploy(project.ModelRegistry, verifiers.address, seal_window, sender=deployer)
    bounties = deploy(project.ModelBounties, verifiers.address, models.address, core.vault.address, sender=deployer)
    log(f"VerifierRegistry {verifiers.address}  (owner: timelock)")
    log(f"ModelRegistry    {models.address}  (no admin)")
    log(f"ModelBounties    {bounties.address}  (no admin; fees to {core.vault.address})")
    return MarketDeployment(verifiers, models, bounties)


def register_circuit_by_governance(core: CoreDeployment, market: MarketDeployment, name: str, verifier: str,
                                   manifest_hash: bytes, samples: int, proposer: Any, voters: Sequence[Any],
                                   log: Callable[[str], None] = lambda _m: None, metric: str = "correct") -> bytes:
    """Local chains only: a full proposal round trip that registers a circuit's verifier."""
    runner = LocalProposalRunner(core.governor, core.timelock, log=log)
    proposal = Proposal([call(market.verifiers, "register", name, verifier, manifest_hash, samples, METRIC[metric])],
                        f"Register circuit {name} (verifier {verifier})")
    runner.run(proposer, voters, proposal)
    return circuit_id(name)
