"""Governance from the command line: `ape run gov <command> --network … --account …`.

    ape run gov propose-fee --bps 250                      # setFeeBps on the FeeVault, through the timelock
    ape run gov show --proposal ID                         # state, votes, voting window, eta, next step
    ape run gov vote --proposal ID --support for [--reason "…"]
    ape run gov queue --proposal ID
    ape run gov execute --proposal ID
    ape run gov advance --blocks 21 --seconds 61           # dev node only (anvil, embedded chain)

Addresses come from the deployment manifest of the network (deployments/<ecosystem>-<network>-<provider>.json).
Every transaction is simulated first: a step that would revert sends nothing and prints one line. Proposals
opened here are recorded in build/proposals/<deployment key>/<id>.json for queue and execute (otherwise they
are rebuilt from the Governor's ProposalCreated event).
"""

from __future__ import annotations

import click
from ape.cli import account_option

from apiary import paths
from apiary.deploy import governance as gov
from apiary.sdk.cli import ConnectedCommand, proposal_option
from apiary.sdk.errors import ApiaryCliError
from apiary.sdk.manifest import Manifest, ManifestError, load_manifest


def _manifest(ecosystem, network, provider) -> Manifest:
    return load_manifest(ecosystem.name, network.name, provider.name, provider.chain_id, directory=paths.DEPLOYMENTS_DIR)


def _resolve(manifest: Manifest, governor, proposal_id) -> int:
    """A short id (as printed) or a full one: the full id."""
    return gov.resolve_proposal(governor, proposal_id, manifest.state_dir("proposals", root=paths.STATE_DIR),
                                manifest.block)


def _proposal(manifest: Manifest, governor, proposal_id: int) -> gov.Proposal:
    proposal = gov.load_proposal(governor, proposal_id, manifest.state_dir("proposals", root=paths.STATE_DIR), manifest.block)
    names = {address: name for name, address in manifest.addresses.items()}
    for action in proposal.actions:
        if not action.summary and action.target in names:
            try:
                method, args = manifest.contract(names[action.target]).decode_input(action.calldata)
                action.summary = f"{method.split('(')[0]}({', '.join(map(str, args.values()))})"
            except Exception:  # noqa: BLE001 - an undecodable action is shown by its selector
                pass
    return proposal


def _registration_notes(manifest: Manifest, proposal: gov.Proposal) -> list[tuple[str, bool]]:
    """For each action that registers a verifier: what `Manifest.check_verifiers_srs` says of its key (read on
    chain), and whether that is a refusal (a deployment that holds value) rather than a note."""
    registry = manifest.addresses.get("VerifierRegistry")
    found = []
    for action in proposal.actions:
        if registry is None or str(action.target).lower() != registry.lower():
            continue
        try:
            method, args = manifest.contract("VerifierRegistry").decode_input(action.calldata)
        except Exception:  # noqa: BLE001 - not a call the registry's ABI knows: nothing to check
            continue
        if method.split("(")[0] != "register":
            continue
        name, verifier = list(args.values())[:2]
        try:
            note, refused = manifest.check_verifiers_srs(str(name), [str(verifier)]), False
        except ManifestError as exc:
            note, refused = str(exc), True
        if note:
            found.append((f"it registers circuit {name} with verifier {verifier}: {note}", refused))
    return found


@click.group()
def cli():
    """Governor + timelock: propose, show, vote, queue, execute; advance a dev node."""


@cli.command(cls=ConnectedCommand)
@proposal_option()
def show(ecosystem, network, provider, proposal_id):
    """A proposal's state, votes, voting window and eta as readable times, and the next step."""
    manifest = _manifest(ecosystem, network, provider)
    governor = manifest.contract("ApiaryGovernor")
    proposal_id = _resolve(manifest, governor, proposal_id)
    proposal = _proposal(manifest, governor, proposal_id)
    names = {address: name for name, address in manifest.addresses.items()}
    click.echo(gov.proposal_report(governor, proposal_id, proposal, names))
    for line, _refused in _registration_notes(manifest, proposal):
        click.echo(f"WARNING: {line}", err=True)


@cli.command(cls=ConnectedCommand)
@account_option()
@proposal_option()
@click.option("--support", type=click.Choice(sorted(gov.SUPPORT)), required=True)
@click.option("--reason", default="", help="Recorded on chain with the vote.")
def vote(ecosystem, network, provider, account, proposal_id, support, reason):
    """Vote on an active proposal with the account's votes at the proposal snapshot."""
    manifest = _manifest(ecosystem, network, provider)
    governor = manifest.contract("ApiaryGovernor")
    proposal_id = _resolve(manifest, governor, proposal_id)
    notes = _registration_notes(manifest, _proposal(manifest, governor, proposal_id)) if support == "for" else []
    for line, refused in notes:
        if refused:
            raise ApiaryCliError(f"not voting for proposal {gov.short_id(proposal_id)}: {line} (vote --support against)")
    for line, _refused in notes:
        click.echo(line, err=True)
    gov.vote(governor, proposal_id, support, account, reason)
    from apiary.sdk.amounts import Token

    weight = governor.getVotes(account.address, governor.proposalSnapshot(proposal_id))
    click.echo(f"voted {support} on {gov.short_id(proposal_id)} with {Token.at(governor.token()).format(weight)}")


@cli.command(cls=ConnectedCommand)
@account_option()
@proposal_option()
def queue(ecosystem, network, provider, account, proposal_id):
    """Queue a succeeded proposal in the timelock."""
    manifest = _manifest(ecosystem, network, provider)
    governor = manifest.contract("ApiaryGovernor")
    proposal_id = _resolve(manifest, governor, proposal_id)
    gov.queue(governor, _proposal(manifest, governor, proposal_id), account)
    from apiary.sdk.amounts import format_time

    click.echo(f"queued {gov.short_id(proposal_id)}: executable from {format_time(governor.proposalEta(proposal_id))}")


@cli.command(cls=ConnectedCommand)
@account_option()
@proposal_option()
def execute(ecosystem, network, provider, account, proposal_id):
    """Execute a queued proposal once its timelock delay has passed (anyone may)."""
    manifest = _manifest(ecosystem, network, provider)
    governor = manifest.contract("ApiaryGovernor")
    proposal_id = _resolve(manifest, governor, proposal_id)
    proposal = _proposal(manifest, governor, proposal_id)
    gov.execute(governor, proposal, account)
    click.echo(f"executed {gov.short_id(proposal_id)}: {'; '.join(a.summary or a.target for a in proposal.actions)}")


@cli.command("propose-fee", cls=ConnectedCommand)
@account_option()
@click.option("--bps", type=click.IntRange(0, 10_000), required=True, help="New protocol fee in basis points.")
@click.option("--description", default=None, help="Default: 'Set the protocol fee to N bps'.")
def propose_fee(ecosystem, network, provider, account, bps, description):
    """Propose setFeeBps(N) on the FeeVault (at most its immutable cap)."""
    manifest = _manifest(ecosystem, network, provider)
    governor, vault = manifest.contract("ApiaryGovernor"), manifest.contract("FeeVault")
    cap = int(vault.maxFeeBps())
    if bps > cap:
        raise click.BadParameter(f"{bps} bps is above the vault's immutable cap of {cap} bps", param_hint="--bps")
    proposal = gov.Proposal([gov.call(vault, "setFeeBps", bps)], description or f"Set the protocol fee to {bps} bps")
    proposal_id = gov.propose(governor, proposal, account, manifest.state_dir("proposals", root=paths.STATE_DIR))
    click.echo(f"proposal {gov.short_id(proposal_id)}: {proposal.description}")
    click.echo(f"next: ape run gov show --proposal {gov.short_id(proposal_id)}")


@cli.command(cls=ConnectedCommand)
@click.option("--blocks", type=click.IntRange(min=0), default=0, show_default=True, help="Blocks to mine.")
@click.option("--seconds", type=click.IntRange(min=0), default=0, show_default=True, help="Seconds to move the clock.")
def advance(ecosystem, network, provider, blocks, seconds):
    """Dev node only: move time forward and mine blocks (refused on public networks)."""
    from apiary.sdk.amounts import format_time
    from apiary.sdk.devnode import advance as advance_chain

    number, timestamp = advance_chain(blocks, seconds)
    click.echo(f"head: block {number} at {format_time(timestamp, timestamp).split(' ')[0]}")
