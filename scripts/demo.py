"""End-to-end demo on a local chain: `./dev demo` (starts anvil through ape-foundry).

Deploys the governance core, pays fees, runs a governance round trip through Governor + Timelock and lets
holders claim. Uses ape's funded test accounts, so it refuses to run on a public network.
"""

from __future__ import annotations

import click
from ape import accounts, networks, project
from ape.cli import ConnectedProviderCommand

from apiary.demo.demo import governance_round_trip, model_market_round_trip


@click.command(cls=ConnectedProviderCommand, short_help="Run the end-to-end demo on a local chain")
def cli(ecosystem, network):
    if network.name not in ("local",):
        raise click.UsageError(f"the demo uses unlocked test accounts; run it on a local network, not {network.name}")
    click.secho(f"Apiary demo on {ecosystem.name}:{network.name} ({networks.provider.name}, chain id {networks.provider.chain_id})", bold=True)
    actors = accounts.test_accounts
    core = governance_round_trip(project, actors, log=click.echo)
    model_market_round_trip(project, actors, core, log=click.echo)
    click.secho("demo finished: every step above was a real transaction on the local node", fg="green")
