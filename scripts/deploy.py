"""Deploy the Apiary protocol (token, timelock, governor, fee vault, verifier/model registries, bounties).

    ape run deploy --network ethereum:sepolia:node --account my-keyfile-alias --profile testnet
    ape run deploy --network ethereum:local:node --account TEST::0 --profile local --yes [--force]

Uses an ape account (keyfile alias; never a key on the command line), shows what it will deploy and asks
before broadcasting, simulates every transaction before sending it, checks that no EOA keeps an admin role, and
writes deployments/<ecosystem>-<network>-<provider>.json (addresses, transactions, ABIs, block, chain id).
A live deployment's manifest is never replaced without --force (the old file is then kept beside it).
"""

from __future__ import annotations

import click
from ape import chain, networks, project
from ape.cli import account_option

from apiary.deploy.config import PROFILES, DeployConfig
from apiary.deploy.deploy import deploy_core
from apiary.deploy.market import deploy_market
from apiary.sdk.cli import ConnectedCommand
from apiary.sdk.errors import ApiaryCliError
from apiary.sdk.manifest import check_can_write, write_manifest
from apiary.zk.srs import VALUE_CHAIN_IDS


def target_uri(provider) -> str:
    return str(getattr(provider, "uri", None) or getattr(provider, "http_uri", None) or provider.name)


def parse_holder(value: str) -> tuple[str, int]:
    address, _, weight = value.partition(":")
    if not address.startswith("0x") or len(address) != 42:
        raise click.BadParameter(f"'{value}': expected ADDRESS or ADDRESS:WEIGHT")
    try:
        return address, int(weight or 1)
    except ValueError:
        raise click.BadParameter(f"'{value}': weight must be an integer") from None


@click.command(cls=ConnectedCommand, deploys=True, short_help="Deploy the protocol and write the manifest")
@account_option()
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default="testnet", show_default=True,
              help="Governance timing and fee parameters.")
@click.option("--holder", "holders", multiple=True, metavar="ADDRESS[:WEIGHT]",
              help="Receives part of the non-treasury genesis supply (repeatable). Default: the deployer.")
@click.option("--treasury-share", type=click.IntRange(0, 10_000), default=6_000, show_default=True,
              help="Basis points of the genesis supply kept by the timelock treasury.")
@click.option("--test-chain", is_flag=True,
              help="Declare that this chain's tokens are worth nothing (a private or unlisted testnet): circuits built "
                   "with the development SRS may then be used. Never on a chain that holds value.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before broadcasting.")
@click.option("--force", is_flag=True, help="Replace the manifest of a deployment that is still live on the node.")
@click.option("--profile-on-mainnet", "profile_on_mainnet", default=None, metavar="PROFILE",
              help="Deploy a non-mainnet profile on a known mainnet (its short votes and timelock there): name the "
                   "profile again here, and confirm the chain id when asked.")
def cli(ecosystem, network, provider, account, profile, holders, treasury_share, test_chain, yes, force,
        profile_on_mainnet):
    base = PROFILES[profile]
    parsed = tuple(parse_holder(h) for h in holders) or ((account.address, 1),)
    config = DeployConfig(governance=base.governance, fees=base.fees, market=base.market,
                          treasury_share_bps=treasury_share, holders=parsed)
    names = (ecosystem.name, network.name, provider.name)
    chain_id = networks.provider.chain_id
    node_chain_id = int(networks.provider.web3.eth.chain_id)  # the node's own word, not the network's config
    if node_chain_id != chain_id:
        raise ApiaryCliError(f"the node at {target_uri(networks.provider)} is chain {node_chain_id}, but "
                             f"{':'.join(names)} expects chain {chain_id}: choose the network that matches the node "
                             "(a testnet or mainnet by name, with its RPC in ape-config.yaml); nothing sent")
    check_can_write(*names, chain_id, force=force)  # refuse before spending gas, not after

    if chain_id in VALUE_CHAIN_IDS and profile != "mainnet":
        # Told twice: the profile named again, then the chain id typed (no --yes for this one).
        if profile_on_mainnet != profile:
            raise ApiaryCliError(f"chain {chain_id} is a mainnet that holds value and the {profile} profile has "
                                 f"{PROFILES[profile].governance.voting_period}-block votes and a "
                                 f"{PROFILES[profile].governance.timelock_delay} s timelock: use --profile mainnet, or "
                                 f"say --profile-on-mainnet {profile} too; nothing sent")
        try:
            typed = click.prompt(f"Deploying the {profile} profile on mainnet chain {chain_id}: type the chain id to "
                                 "go on", default="", show_default=False)
        except click.Abort:  # no terminal (or Ctrl-C): not confirmed
            typed = ""
        if typed.strip() != str(chain_id):
            raise ApiaryCliError(f"the chain id was not confirmed ({typed.strip() or 'nothing'} typed): nothing sent")
    if test_chain and (profile == "mainnet" or chain_id in VALUE_CHAIN_IDS):
        raise ApiaryCliError(f"--test-chain: chain {chain_id} with the {profile} profile holds value; it is not a "
                             "test chain")
    target = ":".join(names)
    click.echo(f"Deploying Apiary to {target} (chain id {chain_id}) from {account.address} ({profile} profile)")
    click.echo(f"  governance: {config.governance}")
    click.echo(f"  fees:       {config.fees}")
    click.echo(f"  market:     {config.market}")
    click.echo(f"  treasury keeps {treasury_share / 100:.2f}% of the supply; the rest goes to {len(parsed)} holder(s)")
    if not yes and not click.confirm("Broadcast these transactions?", default=False):
        raise click.Abort()

    first_block = chain.blocks.height + 1
    core = deploy_core(project, account, config, log=lambda msg: click.echo(f"  {msg}"), simulate=True)
    market = deploy_market(project, account, core, log=lambda msg: click.echo(f"  {msg}"),
                           params=config.market, simulate=True)
    contracts = {**core.contracts(), **market.contracts()}
    blocks = [chain.get_receipt(c.txn_hash).block_number for c in contracts.values() if c.txn_hash]
    manifest = write_manifest(*names, chain_id, account.address, min(blocks, default=first_block), contracts,
                              {"profile": profile, **config.as_dict(), **({"test_chain": True} if test_chain else {})},
                              force=force)
    click.secho(f"deployed; no EOA holds an admin role; manifest written to {manifest.path} "
                f"(deployment {manifest.deployment_key})", fg="green")
