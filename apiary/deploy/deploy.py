"""Deploys the governance core (token, timelock, governor, fee vault) and hands every admin role to the timelock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import DeployConfig, genesis_allocation

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class HandoverError(RuntimeError):
    """After deployment some account other than the timelock/governor still holds a protocol role."""


@dataclass
class CoreDeployment:
    token: Any
    timelock: Any
    governor: Any
    vault: Any
    start_block: int

    def contracts(self) -> dict[str, Any]:
        return {"ApiaryToken": self.token, "ApiaryTimelock": self.timelock, "ApiaryGovernor": self.governor,
                "FeeVault": self.vault}

    def addresses(self) -> dict[str, str]:
        return {name: c.address for name, c in self.contracts().items()}


def transactor(simulate: bool, **tx_kwargs: Any) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """`(deploy, send)` for a multi-step deployment: with `simulate`, each step is an eth_call first and a
    would-be revert stops before it is broadcast (apiary.sdk.tx); without, plain ape calls (tests)."""
    if simulate:
        from ..sdk import tx

        return (lambda container, *args, sender: tx.deploy(container, *args, sender=sender, **tx_kwargs),
                lambda method, *args, sender: tx.send(method, *args, sender=sender, **tx_kwargs))
    return (lambda container, *args, sender: container.deploy(*args, sender=sender, **tx_kwargs),
            lambda method, *args, sender: method(*args, sender=sender, **tx_kwargs))


def deploy_core(
    project: Any,
    deployer: Any,
    config: DeployConfig,
    log: Callable[[str], None] = lambda _msg: None,
    simulate: bool = False,
    **tx_kwargs: Any,
) -> CoreDeployment:
    """Deploy token → timelock → governor → vault, wire roles, renounce the deployer's admin role, then check.

    `project` is ape's project manager (``from ape import project``); `tx_kwargs` go to every transaction;
    `simulate` checks each transaction with an eth_call before sending it (the CLI does).
    """
    from ape import chain

    start_block = chain.blocks.height + 1
    gov = config.governance
    deploy, send = transactor(simulate, **tx_kwargs)

    # The deployer is the timelock's admin only until the wiring below is done.
    timelock = deploy(project.ApiaryTimelock, gov.timelock_delay, [], [ZERO_ADDRESS], deployer.address, sender=deployer)
    log(f"ApiaryTimelock  {timelock.address}  (min delay {gov.timelock_delay}s)")

    recipients, amounts = genesis_allocation(config, timelock.address)
    token = deploy(project.ApiaryToken, recipients, amounts, sender=deployer)
    log(f"ApiaryToken     {token.address}  (supply {sum(amounts) / 1e18:,.0f} APY, treasury {amounts[0] / 1e18:,.0f})")

    governor = deploy(project.ApiaryGovernor, token.address, timelock.address, gov.as_governor_params(), sender=deployer)
    log(f"ApiaryGovernor  {governor.address}  (quorum {gov.quorum_percent}%, period {gov.voting_period} blocks)")

    vault = deploy(project.FeeVault, timelock.address, token.address, config.fees.max_fee_bps,
                   config.fees.initial_fee_bps, sender=deployer)
    log(f"FeeVault        {vault.address}  (fee {config.fees.initial_fee_bps} bps, cap {config.fees.max_fee_bps} bps)")

    # The vault announces its distributions' record blocks to the token; then the timelock owns the token (the
    # one power that ownership gives: naming the recorder, should the vault ever be replaced).
    send(token.setRecorder, vault.address, sender=deployer)
    send(token.transferOwnership, timelock.address, sender=deployer)
    send(timelock.grantRole, timelock.PROPOSER_ROLE(), governor.address, sender=deployer)
    send(timelock.grantRole, timelock.CANCELLER_ROLE(), governor.address, sender=deployer)
    send(timelock.renounceRole, timelock.DEFAULT_ADMIN_ROLE(), deployer.address, sender=deployer)
    log("roles handed over: Governor proposes/cancels, anyone executes, the timelock administers itself")

    deployment = CoreDeployment(token, timelock, governor, vault, start_block)
    check_handover(deployment)
    return deployment


def role_holders(timelock: Any, start_block: int) -> dict[str, set[str]]:
    """Current holders of every timelock role, rebuilt from RoleGranted events and checked with hasRole."""
    from ape import chain

    granted: dict[str, set[str]] = {}
    for log in timelock.RoleGranted.range(start_block, chain.blocks.height + 1):
        granted.setdefault(_role_hex(log.role), set()).add(str(log.account))
    return {
        role: {account for account in accounts if timelock.hasRole(role, account)}
        for role, accounts in granted.items()
    }


def check_handover(deployment: CoreDeployment) -> None:
    """Raise HandoverError unless only the protocol's own contracts (and the open executor) hold roles."""
    from ape import chain

    timelock, governor, vault, token = deployment.timelock, deployment.governor, deployment.vault, deployment.token
    allowed = {
        _role_hex(timelock.DEFAULT_ADMIN_ROLE()): {timelock.address},
        _role_hex(timelock.PROPOSER_ROLE()): {governor.address},
        _role_hex(timelock.CANCELLER_ROLE()): {governor.address},
        _role_hex(timelock.EXECUTOR_ROLE()): {ZERO_ADDRESS},
    }
    problems = []
    for role, holders in role_holders(timelock, deployment.start_block).items():
        unexpected = holders - allowed.get(role, set())
        if unexpected:
            problems.append(f"role {role} still held by {sorted(unexpected)}")
    if vault.owner() != timelock.address:
        problems.append(f"FeeVault owner is {vault.owner()}, not the timelock")
    if token.owner() != timelock.address:
        problems.append(f"ApiaryToken owner is {token.owner()}, not the timelock")
    if token.recorder() != vault.address:
        problems.append(f"ApiaryToken recorder is {token.recorder()}, not the FeeVault")
    head = chain.blocks.height + 1
    if others := {str(e.recorder) for e in token.RecorderSet.range(deployment.start_block, head)} - {vault.address}:
        problems.append(f"ApiaryToken recorder was set to {sorted(others)} during the deployment")
    if announced := [int(e.recordBlock) for e in token.RecordBlockAnnounced.range(deployment.start_block, head)]:
        problems.append(f"record blocks {announced} were announced during the deployment (they hold pending slots)")
    if governor.timelock() != timelock.address:
        problems.append(f"Governor executes through {governor.timelock()}, not the timelock")
    if problems:
        raise HandoverError("admin handover incomplete: " + "; ".join(problems))


def _role_hex(role: Any) -> str:
    return "0x" + bytes(role).hex()
