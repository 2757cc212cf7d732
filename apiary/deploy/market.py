"""Market deployment: the model market (registries, bounties), the data market (device and dataset registries,
licences, provenance), and a local governance round trip that registers a circuit's verifier."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..sdk.market import METRIC, circuit_id
from .config import PROFILES, MarketParams
from .deploy import CoreDeployment, HandoverError, transactor
from .governance import LocalProposalRunner, Proposal, call


@dataclass
class MarketDeployment:
    verifiers: Any
    models: Any
    bounties: Any
    devices: Any = None
    datasets: Any = None
    data_market: Any = None
    provenance: Any = None
    compute: Any = None

    def contracts(self) -> dict[str, Any]:
        found = {"VerifierRegistry": self.verifiers, "ModelRegistry": self.models, "ModelBounties": self.bounties,
                 "DeviceRegistry": self.devices, "DatasetRegistry": self.datasets, "DataMarket": self.data_market,
                 "Provenance": self.provenance, "ComputeMarket": self.compute}
        return {name: c for name, c in found.items() if c is not None}

    def addresses(self) -> dict[str, str]:
        return {name: c.address for name, c in self.contracts().items()}


def deploy_market(project: Any, deployer: Any, core: CoreDeployment, log: Callable[[str], None] = lambda _m: None,
                  seal_window: int | None = None, simulate: bool = False, params: MarketParams | None = None,
                  **tx: Any) -> MarketDeployment:
    """VerifierRegistry, DeviceRegistry, DatasetRegistry, DataMarket and Provenance (each owned by the timelock),
    ModelRegistry and ModelBounties (no admin at all). `params`: the profile's market settings (seal window,
    stakes, windows, royalty); `seal_window` overrides its seal window. `simulate` checks each deployment with an
    eth_call first (the CLI does)."""
    p = params or PROFILES["local"].market
    window = seal_window if seal_window is not None else p.seal_window
    deploy, _send = transactor(simulate, **tx)
    timelock, vault, token = core.timelock.address, core.vault.address, core.token.address
    verifiers = deploy(project.VerifierRegistry, timelock, sender=deployer)
    models = deploy(project.ModelRegistry, verifiers.address, window, sender=deployer)
    devices = deploy(project.DeviceRegistry, timelock, sender=deployer)
    datasets = deploy(project.DatasetRegistry, timelock, vault, token, devices.address, window, p.dataset_stake,
                      p.max_dataset_stake, p.challenge_window, p.min_duplicate_rows, sender=deployer)
    data_market = deploy(project.DataMarket, timelock, vault, datasets.address, token, p.listing_bond, p.max_listing_bond,
                         sender=deployer)
    provenance = deploy(project.Provenance, timelock, models.address, datasets.address, data_market.address,
                        p.max_royalty_bps, p.royalty_bps, sender=deployer)
    bounties = deploy(project.ModelBounties, verifiers.address, models.address, vault, provenance.address, sender=deployer)
    compute = deploy(project.ComputeMarket, timelock, vault, verifiers.address, models.address, token, p.compute_max_amount,
                     p.compute_params(), sender=deployer)
    log(f"VerifierRegistry {verifiers.address}  (owner: timelock)")
    log(f"ModelRegistry    {models.address}  (no admin)")
    log(f"DeviceRegistry   {devices.address}  (owner: timelock)")
    log(f"DatasetRegistry  {datasets.address}  (owner: timelock; stake {p.dataset_stake / 1e18:,.0f} APY)")
    log(f"DataMarket       {data_market.address}  (owner: timelock; bond {p.listing_bond / 1e18:,.0f} APY)")
    log(f"Provenance       {provenance.address}  (owner: timelock; royalty {p.royalty_bps} bps, cap {p.max_royalty_bps})")
    log(f"ModelBounties    {bounties.address}  (no admin; fees to {vault})")
    log(f"ComputeMarket    {compute.address}  (owner: timelock; min stake {p.compute_min_stake / 1e18:,.0f} APY)")
    market = MarketDeployment(verifiers, models, bounties, devices, datasets, data_market, provenance, compute)
    check_market_handover(core, market)
    return market


# Contracts with an owner (every admin function behind it) and those that hold money (the settlement base, wired to
# the one fee vault). ModelRegistry and ModelBounties have no admin at all.
OWNED = ("VerifierRegistry", "DeviceRegistry", "DatasetRegistry", "DataMarket", "Provenance", "ComputeMarket")
SETTLING = ("ModelBounties", "DatasetRegistry", "DataMarket", "ComputeMarket")
# Contract → {immutable getter: the contract (or "token": the governance token) it must name}
WIRING = {
    "ModelRegistry": {"verifiers": "VerifierRegistry"},
    "ModelBounties": {"verifiers": "VerifierRegistry", "models": "ModelRegistry", "provenance": "Provenance"},
    "DatasetRegistry": {"stakeToken": "token", "devices": "DeviceRegistry"},
    "DataMarket": {"registry": "DatasetRegistry", "bondToken": "token"},
    "Provenance": {"models": "ModelRegistry", "datasets": "DatasetRegistry", "market": "DataMarket"},
    "ComputeMarket": {"verifiers": "VerifierRegistry", "models": "ModelRegistry", "stakeToken": "token"},
}


def check_market_handover(core: CoreDeployment, market: MarketDeployment) -> None:
    """Raise HandoverError unless every market contract with an owner is owned by the timelock, every contract
    that holds money pays its fees to the deployment's vault, and every contract names the deployment's own
    contracts (a rogue Provenance behind ModelBounties could take a whole reward as "royalties")."""
    timelock, problems = core.timelock.address, []
    contracts = market.contracts()
    addresses = {name: c.address for name, c in contracts.items()} | {"token": core.token.address}
    for name in OWNED:
        contract = contracts.get(name)
        if contract is not None and (owner := str(contract.owner())) != timelock:
            problems.append(f"{name} owner is {owner}, not the timelock")
    for name in SETTLING:
        contract = contracts.get(name)
        if contract is not None and (vault := str(contract.vault())) != core.vault.address:
            problems.append(f"{name} pays fees to {vault}, not the deployment's FeeVault")
    for name, wires in WIRING.items():
        contract = contracts.get(name)
        for getter, target in wires.items() if contract is not None else ():
            if target in addresses and (named := str(getattr(contract, getter)())) != addresses[target]:
                problems.append(f"{name}.{getter} is {named}, not the deployment's {target}")
    if problems:
        raise HandoverError("market handover incomplete: " + "; ".join(problems))


def register_circuit_by_governance(core: CoreDeployment, market: MarketDeployment, name: str, verifier: str,
                                   manifest_hash: bytes, samples: int, proposer: Any, voters: Sequence[Any],
                                   log: Callable[[str], None] = lambda _m: None, metric: str = "correct") -> bytes:
    """Local chains only: a full proposal round trip that registers a circuit's verifier."""
    runner = LocalProposalRunner(core.governor, core.timelock, log=log)
    proposal = Proposal([call(market.verifiers, "register", name, verifier, manifest_hash, samples, METRIC[metric])],
                        f"Register circuit {name} (verifier {verifier})")
    runner.run(proposer, voters, proposal)
    return circuit_id(name)


def inference_proposal(market: MarketDeployment, ic: Any, verifier: str) -> Proposal:
    """One proposal, two calls: register the inference circuit's verifier (metric Inference, `samples` = its
    outputs) and map its evaluation circuit to it in the ComputeMarket (a batch circuit, `ic.slots` ≥ 2, with
    `setBatchCircuit`: the single circuit must be mapped first)."""
    from ..sdk.market import Metric

    batch = getattr(ic, "slots", 1) > 1
    what = f"batch inference verifier of {ic.slots} inputs" if batch else "inference verifier"
    return Proposal([call(market.verifiers, "register", ic.circuit_id, verifier, ic.manifest_sha256, ic.num_outputs,
                          int(Metric.INFERENCE)),
                     call(market.compute, "setBatchCircuit" if batch else "setInferenceCircuit",
                          circuit_id(ic.evaluation.circuit_id), circuit_id(ic.circuit_id))],
                    f"Serve {ic.evaluation.circuit_id} models in the compute market ({what} {verifier})")


def register_inference_by_governance(core: CoreDeployment, market: MarketDeployment, ic: Any, verifier: str,
                                     proposer: Any, voters: Sequence[Any],
                                     log: Callable[[str], None] = lambda _m: None) -> bytes:
    """Local chains only: a full proposal round trip for `inference_proposal`."""
    LocalProposalRunner(core.governor, core.timelock, log=log).run(proposer, voters, inference_proposal(market, ic, verifier))
    return circuit_id(ic.circuit_id)


def enable_inference_by_governance(core: CoreDeployment, market: MarketDeployment, deployer: Any, name: str,
                                   proposer: Any, voters: Sequence[Any], *, slots: int = 1,
                                   log: Callable[[str], None] = lambda _m: None) -> Any:
    """Local chains only: deploy a built-in or imported circuit's evaluation verifier and its inference twin's
    (with `slots` ≥ 2, its batch twin's too), register them through governance, map them in the ComputeMarket.
    Returns the (single) InferenceCircuit."""
    from ..zk import evm, inference

    ic = inference.open_inference(name)
    evaluation = evm.deploy_with_ape(ic.evaluation, deployer)
    register_circuit_by_governance(core, market, ic.evaluation.circuit_id, evaluation.address,
                                   ic.evaluation.manifest_sha256, ic.evaluation.spec.samples, proposer, voters,
                                   log=log, metric=ic.evaluation.spec.metric)
    for each in [ic] + ([inference.open_inference(name, slots)] if slots > 1 else []):
        verifier = evm.deploy_with_ape(each, deployer,
                                       name="Halo2Verifier_" + each.circuit_id.replace("-", "_").replace(".", "_"))
        register_inference_by_governance(core, market, each, verifier.address, proposer, voters, log=log)
    return ic
