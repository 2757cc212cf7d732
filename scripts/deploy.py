"""Deploy the Apiary protocol (token, timelock, governor, fee vault, verifier/model registries, bounties).

    ape run deploy --network ethereum:sepolia:node --account my-keyfile-alias --profile testnet
    ape run deploy --network ethereum:local:foundry --account TEST::0 --profile local --yes

Uses an ape account (keyfile alias; never a key on the command line), shows what it will deploy and asks
before broadcasting, checks that no EOA keeps an admin role, and writes deployments/<ecosystem>-<network>.json.
"""

from __future__ import annotations

import click
from ape import networks, project
from ape.cli import ConnectedProviderCommand, account_option

from apiary.deploy.config import PROFILES, DeployConfig
from apiary.deploy.deploy import deploy_core
from apiary.deploy.market import deploy_market
from apiary.sdk.manifest import write_manifest
from apiary.paths import DEPLOYMENTS_DIR


def parse_holder(value: str) -> tuple[str, int]:
    address, _, weight = value.partition(":")
    if not address.startswith("0x") or len(address) != 42:
        raise click.BadParameter(f"'{value}': expected ADDRESS or ADDRESS:WEIGHT")
    try:
        return address, int(weight or 1)
    except ValueError:
        raise click.BadParameter(f"'{value}': weight must be an integer") from None


@click.command(cls=ConnectedProviderCommand, short_help="Deploy the governance core")
@account_option()
@click.option("--profile", type=click.Choice(sorted(PROFILES)), default="testnet", show_default=True,
              help="Governance timing and fee parameters.")
@click.option("--holder", "holders", multiple=True, metavar="ADDRESS[:WEIGHT]",
              help="Receives part of the non-treasury genesis supply (repeatable). Default: the deployer.")
@click.option("--treasury-share", type=click.IntRange(0, 10_000), default=6_000, show_default=True,
              help="Basis points of the genesis supply kept by the timelock treasury.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation before broadcasting.")
def cli(ecosystem, network, account, profile, holders, treasury_share, yes):
    base = PROFILES[profile]
    parsed = tuple(parse_holder(h) for h in holders) or ((account.address, 1),)
    config = DeployConfig(governance=base.governance, fees=base.fees, treasury_share_bps=treasury_share, holders=parsed)

    target = f"{ecosystem.name}:{network.name}"
    click.echo(f"Deploying the Apiary governance core to {target} from {account.address} ({profile} profile)")
    click.echo(f"  governance: {config.governance}")
    click.echo(f"  fees:       {config.fees}")
    click.echo(f"  treasury keeps {treasury_share / 100:.2f}% of the supply; the rest goes to {len(parsed)} holder(s)")
    if not yes and not click.confirm("Broadcast these transactions?", default=False):
        raise click.Abort()

    core = deploy_core(project, account, config, log=lambda msg: click.echo(f"  {msg}"))
    market = deploy_market(project, account, core, log=lambda msg: click.echo(f"  {msg}"))
    path = DEPLOYMENTS_DIR / f"{ecosystem.name}-{network.name}.json"
    write_manifest(path, target, networks.provider.chain_id, {**core.addresses(), **market.addresses()},
                   {"profile": profile, **config.as_dict()})
    click.secho(f"deployed; no EOA holds an admin role; manifest written to {path}", fg="green")
