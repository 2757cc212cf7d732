"""The end-to-end demo on a local chain, as a library so the script stays thin and tests can drive it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..deploy.config import PROFILES, DeployConfig
from ..deploy.deploy import CoreDeployment, deploy_core
from ..deploy.governance import LocalProposalRunner, Proposal, call, proposal_state
from ..sdk.devnode import wait_for_block

DAY = 24 * 3600
ONE = 10**18


def governance_round_trip(project: Any, actors: Sequence[Any], log: Callable[[str], None] = print) -> CoreDeployment:
    """Deploy the core, let a market pay fees, and run one proposal that changes the fee, routes fees to
    holders and pays a grant; then holders claim. Returns the deployment for further inspection."""
    deployer, alice, bob, carol, market = actors[:5]
    base = PROFILES["local"]
    config = DeployConfig(
        governance=base.governance,
        fees=base.fees,
        holders=((alice.address, 2), (bob.address, 1), (carol.address, 1)),
    )

    log("1. Deploy the governance core and hand every admin role to the timelock")
    core = deploy_core(project, deployer, config, log=lambda m: log(f"   {m}"))
    token, vault = core.token, core.vault
    for name, who in (("alice", alice), ("bob", bob), ("carol", carol)):
        log(f"   {name:5} holds {token.balanceOf(who) / ONE:>12,.0f} APY and already has {token.getVotes(who) / ONE:>12,.0f} votes (no delegate() call)")

    log("2. A market pays protocol fees into the vault")
    usd = project.MockERC20.deploy("Demo USD", "dUSD", sender=deployer)
    gross = 50_000 * ONE
    fee, net = vault.split(gross)
    usd.mint(market, fee, sender=market)
    usd.approve(vault, fee, sender=market)
    vault.depositFee(usd, fee, sender=market)
    log(f"   payment of {gross / ONE:,.0f} dUSD at {vault.feeBps()} bps: fee {fee / ONE:,.2f} to the vault, {net / ONE:,.2f} to the payee")

    log("3. Governance proposal: fee 1% -> 2.5%, route 300 dUSD to holders, grant 100 dUSD to carol")
    from ape import chain

    # The record block is announced in the proposal, ahead of its execution: whoever executes cannot move it.
    record = chain.blocks.height + 40
    runner = LocalProposalRunner(core.governor, core.timelock, log=lambda m: log(f"   {m}"))
    proposal = Proposal(
        [
            call(vault, "setFeeBps", 250),
            call(vault, "distribute", usd.address, 300 * ONE, 7 * DAY, record),
            call(vault, "spend", usd.address, carol.address, 100 * ONE),
        ],
        "Fee to 2.5%; 300 dUSD to holders; 100 dUSD grant to carol",
    )
    runner.run(alice, [alice, bob], proposal)
    log(f"   proposal state: {proposal_state(core.governor, proposal.proposal_id)}; fee now {vault.feeBps()} bps (cap {vault.maxFeeBps()})")

    wait_for_block(record, log=lambda m: log(f"   {m}"))
    log(f"4. Holders claim their pro-rata share of the routed fees (balances at record block {record})")
    for name, who in (("alice", alice), ("bob", bob)):
        vault.claim(0, sender=who)
        log(f"   {name:5} claimed {usd.balanceOf(who) / ONE:,.4f} dUSD")
    log(f"   carol's grant: {usd.balanceOf(carol) / ONE:,.2f} dUSD; treasury share stays claimable by governance")
    log(f"   vault ledger: unallocated {vault.unallocated(usd) / ONE:,.4f}, reserved {vault.reserved(usd) / ONE:,.4f}, held {usd.balanceOf(vault) / ONE:,.4f} dUSD")
    return core


def model_market_round_trip(project: Any, actors: Sequence[Any], core: CoreDeployment,
                            log: Callable[[str], None] = print) -> dict:
    """A sealed digits-8×8 bounty with real ZK proofs, paid through the fee vault."""
    from . import bounty_demo
    from ..deploy.market import deploy_market

    deployer, alice, bob, carol, market_actor = actors[:5]
    sponsor, submitter_a, submitter_b = actors[5], actors[6], actors[7]
    log("5. Model market: deploy the registries and the bounty contract")
    market = deploy_market(project, deployer, core, log=lambda m: log(f"   {m}"))
    log("6. Two submitters train digits-8x8 MLPs and prove their scores on each test chunk")
    scenario = bounty_demo.prepare([submitter_a, submitter_b], log=log)
    log("7. Sealed bounty: commit, reveal, prove, finalize")
    reward_token = project.MockERC20.deploy("Bounty USD", "bUSD", sender=sponsor)
    reward = 10_000 * ONE
    reward_token.mint(sponsor, reward, sender=sponsor)
    fees_before = core.vault.unallocated(reward_token)
    bounty_id = bounty_demo.sealed_round(project, core, market, scenario, sponsor, [alice, bob], reward_token, reward,
                                         threshold=100, log=log)
    b = market.bounties.bounty(bounty_id)
    winner = next(c for c in scenario.contestants if c.model_id == b.best)
    owed = market.bounties.owed(winner.account, reward_token)
    market.bounties.withdraw(reward_token, sender=winner.account)
    market.bounties.flushFees(reward_token, sender=winner.account)  # anyone may push accrued fees to the vault
    fee = core.vault.unallocated(reward_token) - fees_before
    log(f"   winner: {winner.name} (model #{winner.model_id}, {b.bestScore} correct) withdrew {owed / ONE:,.2f} bUSD")
    log(f"   fee vault received {fee / ONE:,.2f} bUSD ({core.vault.feeBps()} bps); the bounty is settled for good")
    return {"market": market, "bounty_id": bounty_id, "winner": winner, "scenario": scenario, "fee": fee,
            "payout": owed, "reward_token": reward_token}
