"""What to submit to verify a deployment's contracts on a block explorer or Sourcify:

    ape run verify --network ethereum:sepolia:node                 # every contract of the deployment
    ape run verify --network … --contract ComputeMarket            # one (repeatable)

Writes each contract's solc standard-JSON input under build/verify/<deployment>/ and prints, per contract, the
file, the contract as source:name, the compiler version and the constructor arguments (read from the deployment
transaction). Sends nothing.
"""

from __future__ import annotations

import click

from apiary import paths
from apiary.deploy import verify
from apiary.sdk.cli import ConnectedCommand
from apiary.sdk.errors import ApiaryCliError
from apiary.sdk.manifest import load_manifest


@click.command(cls=ConnectedCommand, short_help="Standard-JSON inputs to verify the deployment's contracts")
@click.option("--contract", "names", multiple=True, help="Only this contract of the manifest (repeatable).")
def cli(ecosystem, network, provider, names):
    """Write what a block explorer or Sourcify needs to verify each deployed contract, and print it."""
    from ape import project

    manifest = load_manifest(ecosystem.name, network.name, provider.name, provider.chain_id,
                             directory=paths.DEPLOYMENTS_DIR)
    unknown = [n for n in names if n not in manifest.contracts]
    if unknown:
        raise ApiaryCliError(f"not in the deployment: {', '.join(unknown)} (it has {', '.join(manifest.contracts)})")
    out = manifest.state_dir("verify", root=paths.STATE_DIR)
    items = verify.write_inputs(manifest, project, out, list(names) or None)
    for item in items:
        click.echo(item.line())
    click.echo(verify.HOW)
    if any(item.problem and item.input_file for item in items):
        raise ApiaryCliError("some contracts differ from this checkout's build: see above")
