"""Model market from the command line: `ape run market <command> --network … --account …`.

    ape run market deploy-verifier --circuit iris-logreg-n8               # recorded in the manifest
    ape run market propose-circuit --circuit iris-logreg-n8 [--quiet]     # then ape run gov vote/queue/execute
    ape run market register-model --circuit iris-logreg-n8 --model model.onnx [--uri …] [--quiet]
    ape run market create --circuit iris-logreg-n8 --token ApiaryToken --reward 1000 --threshold 12 --chunks 2 --sealed
    ape run market create --circuit my-circuit/ --data test.csv --chunks 4 …     # your own circuit and test set
    ape run market commit --bounty 0 --model-id 1
    ape run market advance --bounty 0 --past commit                       # dev node only
    ape run market reveal --bounty 0
    ape run market prove-and-submit --bounty 0 --model-id 1 --model model.onnx --circuit iris-logreg-n8
    ape run market finalize --bounty 0 ; ape run market withdraw --token ApiaryToken
    ape run market show --bounty 0 ; ape run market list ; ape run market flush-fees --token ApiaryToken

Addresses come from the deployment manifest of the network (deployments/<ecosystem>-<network>-<provider>.json,
checked against the node). Every transaction is simulated first: a command that would revert sends nothing
and prints one line (`--verbose` for the traceback). Amounts are exact decimals scaled by the token's
decimals(); `--token` takes an address or a contract name of the deployment. Local state is kept per
deployment under build/<kind>/<deployment key>/: sealed-bounty secrets (written before the bounty is created,
read by `reveal`), pending model seals; proofs are cached under build/proofs/ for every deployment.

`--circuit` is a built-in circuit id or a circuit folder made by `apiary zk import`; `--circuit`, `--model` and
`--data` paths are relative to the directory the command was started from (`./dev exec` passes it along).
"""

from __future__ import annotations

from pathlib import Path

import click
from ape.cli import account_option

from apiary import paths
from apiary.sdk import bounties as sdk
from apiary.sdk.cli import (ADDRESS, CallerPathType, ConnectedCommand, bounty_option, circuit_option, echo_warning,
                            model_file_option, model_option)
from apiary.sdk.errors import ApiaryCliError
from apiary.sdk.manifest import Manifest, load_manifest

quiet_option = click.option("--quiet", is_flag=True, help="Print only the resulting id (for scripts).")
token_option = click.option("--token", "token_text", required=True,
                            help="Token address, or a contract name of the deployment (e.g. ApiaryToken).")


def _manifest(ecosystem, network, provider) -> Manifest:
    return load_manifest(ecosystem.name, network.name, provider.name, provider.chain_id,
                         directory=paths.DEPLOYMENTS_DIR)


def _market(manifest: Manifest) -> sdk.Market:
    return sdk.Market.from_manifest(manifest)


def _state(manifest: Manifest, kind: str) -> Path:
    return manifest.state_dir(kind, root=paths.STATE_DIR)


def _open_circuit(name: str):
    from apiary.zk import pipeline

    return pipeline.open_circuit(name)


def _load_model(circuit, path: Path):
    """The model file quantised for the circuit (ONNX; the JSON of an older `apiary zk train` also works)."""
    from apiary.zk import tasks

    return tasks.load_model(circuit.spec, path).integer


def _say(quiet: bool):
    return (lambda _m: None) if quiet else (lambda m: click.echo(f"  {m}"))


@click.group()
def cli():
    """Model market: verifiers, models, bounties (sealed and open), proofs, settlement."""


# ---------------------------------------------------------------- circuits


@cli.command("deploy-verifier", cls=ConnectedCommand, deploys=True)
@account_option()
@circuit_option()
@click.option("--force", is_flag=True, help="Deploy again even if the manifest records a live verifier.")
def deploy_verifier(ecosystem, network, provider, account, circuit, force):
    """Deploy a circuit's verifier and record it in the manifest's circuits section."""
    import ape

    from apiary.sdk.tx import deploy
    from apiary.zk import evm

    manifest = _manifest(ecosystem, network, provider)
    c = _open_circuit(circuit)
    c.check_files()
    folder, circuit = circuit, c.circuit_id
    echo_warning(manifest.check_srs(circuit, c.path("vk.bin").read_bytes()))
    sha = c.manifest_sha256.hex()
    known = manifest.circuits.get(circuit, {})
    if not force and known.get("manifest_sha256") == sha and known.get("verifier") and \
            ape.networks.provider.get_code(known["verifier"]):
        click.echo(f"verifier of {circuit} already deployed at {known['verifier']} (recorded in {manifest.path.name})")
        return
    compiled = evm.compile_verifier(c.path("Verifier.sol"), c.build)
    container = ape.contracts.ContractContainer(compiled.contract_type("Halo2Verifier_" + circuit.replace("-", "_")))
    verifier = deploy(container, c.path("vk.bin").read_bytes(), sender=account)
    tx = verifier.txn_hash
    manifest.add_circuit(circuit, str(verifier.address), sha, samples=c.spec.samples, metric=c.spec.metric,
                         folder=None if c.committed else str(c.root), abi=container.contract_type.abi,
                         tx=(tx if isinstance(tx, str) else "0x" + bytes(tx).hex()) if tx else None)
    click.echo(f"verifier of {circuit} deployed at {verifier.address} ({compiled.runtime_size:,} bytes); "
               f"recorded in {manifest.path.name}")
    click.echo(f"next: ape run market propose-circuit --circuit {folder}")


@cli.command("propose-circuit", cls=ConnectedCommand)
@account_option()
@circuit_option()
@click.option("--verifier", type=ADDRESS, default=None, help="Default: the verifier deploy-verifier recorded.")
@quiet_option
def propose_circuit(ecosystem, network, provider, account, circuit, verifier, quiet):
    """Propose registering the circuit in the VerifierRegistry; vote, queue and execute with `ape run gov`."""
    import ape

    from apiary.deploy import governance as gov
    from apiary.sdk.market import METRIC, circuit_id

    manifest = _manifest(ecosystem, network, provider)
    c = _open_circuit(circuit)
    c.check_files()
    circuit = c.circuit_id
    verifier = verifier or manifest.circuits.get(circuit, {}).get("verifier")
    if not verifier:
        raise ApiaryCliError(f"no verifier of {circuit} recorded in {manifest.path.name}: run "
                             f"ape run market deploy-verifier --circuit {circuit} first, or pass --verifier")
    if not ape.networks.provider.get_code(verifier):
        raise ApiaryCliError(f"no contract at {verifier}: deploy the verifier first (ape run market deploy-verifier)")
    echo_warning(manifest.check_verifiers_srs(circuit, [verifier], c.path("vk.bin").read_bytes()), quiet)
    registry, governor = manifest.contract("VerifierRegistry"), manifest.contract("ApiaryGovernor")
    if registry.isRegistered(circuit_id(circuit)):
        raise ApiaryCliError(f"circuit {circuit} is registered already (verifier "
                             f"{registry.circuit(circuit_id(circuit)).verifier}): nothing to propose")
    action = gov.call(registry, "register", circuit, verifier, "0x" + c.manifest_sha256.hex(), c.spec.samples,
                      int(METRIC[c.spec.metric]))
    proposal = gov.Proposal([action],
                            f"Register circuit {circuit} (verifier {verifier})")
    proposal_id = gov.propose(governor, proposal, account, _state(manifest, "proposals"))
    manifest.add_circuit(circuit, verifier, c.manifest_sha256.hex(), proposal=str(proposal_id))
    if quiet:
        click.echo(proposal_id)
        return
    click.echo(f"proposal {gov.short_id(proposal_id)}: {proposal.description}")
    click.echo(f"next: ape run gov show --proposal {gov.short_id(proposal_id)} (then vote, queue, execute)")


# ---------------------------------------------------------------- models


@cli.command("register-model", cls=ConnectedCommand)
@account_option()
@circuit_option()
@model_file_option()
@click.option("--uri", default="", help="Metadata URI of the model.")
@quiet_option
def register_model(ecosystem, network, provider, account, circuit, model_path, uri, quiet):
    """Register a trained model: seal, reveal after the seal age, wait until final (resumable)."""
    from apiary.zk import pipeline

    manifest = _manifest(ecosystem, network, provider)
    c = _open_circuit(circuit)
    market = _market(manifest)
    market.check_circuit_folder(c)
    commitment = pipeline.model_commitment(c, _load_model(c, model_path))
    model_id, fresh = sdk.register_model(market, account, c.circuit_id, commitment, uri,
                                         _state(manifest, "models"), log=_say(quiet))
    if quiet:
        click.echo(model_id)
    elif fresh:
        click.echo(f"model #{model_id} registered to {account.address}: commitment 0x{commitment.hex()}; final")
    else:
        click.echo(f"model #{model_id} is registered to {account.address} already (commitment 0x{commitment.hex()})")


# ---------------------------------------------------------------- bounties


@cli.command(cls=ConnectedCommand)
@account_option()
@circuit_option()
@token_option
@click.option("--reward", required=True, help="Reward in whole tokens: exact decimals (1000, 1000.5, 1e9).")
@click.option("--threshold", type=click.IntRange(min=0), required=True,
              help="Total over all chunks: correct predictions needed, or the largest squared error.")
@click.option("--chunks", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Chunks K of the test set: chunk i is rows [i*S, (i+1)*S) of --data (S samples a chunk).")
@click.option("--data", "data_path", type=CallerPathType(), default=None,
              help="Your test set (CSV with a header, .npy, .npz). Default: a built-in circuit's held-out test set.")
@click.option("--label", default=None, help="The CSV column holding the label (default: the last column).")
@click.option("--sealed", is_flag=True, help="Commit to the test set now; reveal it after commitments close.")
@click.option("--commit-hours", type=click.IntRange(min=0), default=24, show_default=True,
              help="Sealed: commit window.")
@click.option("--reveal-hours", type=click.IntRange(min=0), default=24, show_default=True,
              help="Sealed: reveal window.")
@click.option("--prove-days", type=click.IntRange(min=0), default=7, show_default=True, help="Proving window.")
@quiet_option
def create(ecosystem, network, provider, account, circuit, token_text, reward, threshold, chunks, data_path, label,
           sealed, commit_hours, reveal_hours, prove_days, quiet):
    """Create a bounty over a test set (published on chain; sealed: at reveal)."""
    from apiary.sdk.amounts import AmountError

    manifest = _manifest(ecosystem, network, provider)
    market = _market(manifest)
    token = market.token(token_text)
    try:
        amount = token.parse(reward)
    except AmountError as exc:
        raise click.BadParameter(str(exc), param_hint="--reward") from None
    c = _open_circuit(circuit)
    record = market.check_circuit_folder(c)  # before computing commitments: the cheap check first
    # the key the bounty's proofs will meet: the registered verifier's, read on chain
    echo_warning(manifest.check_verifiers_srs(c.circuit_id, [str(record.verifier)], c.path("vk.bin").read_bytes()), quiet)
    commitments, data = sdk.test_set_of(c, chunks, data_path, label)
    terms = sdk.CreateTerms(c.circuit_id, token, amount, threshold, commitments, data, sealed,
                            commit_hours * sdk.HOUR, reveal_hours * sdk.HOUR, prove_days * sdk.DAY)
    bounty_id = sdk.create_bounty(market, account, terms, _state(manifest, "bounties"), log=_say(quiet))
    if quiet:
        click.echo(bounty_id)
        return
    click.echo(sdk.report(market, bounty_id))


@cli.command(cls=ConnectedCommand)
@account_option()
@bounty_option()
@model_option()
def commit(ecosystem, network, provider, account, bounty_id, model_id):
    """Commit your registered model to a sealed bounty (phase commit; it is paid once its registration is final)."""
    market = _market(_manifest(ecosystem, network, provider))
    sdk.commit_model(market, account, bounty_id, model_id)
    click.echo(f"model #{model_id} committed to bounty #{bounty_id}")


@cli.command(cls=ConnectedCommand)
@account_option()
@bounty_option()
def reveal(ecosystem, network, provider, account, bounty_id):
    """Reveal a sealed bounty's chunks, salt and test data (sponsor; phase reveal), from the kept secret."""
    manifest = _manifest(ecosystem, network, provider)
    secret = sdk.reveal_bounty(_market(manifest), account, bounty_id, _state(manifest, "bounties"))
    click.echo(f"bounty #{bounty_id} revealed: {len(secret.chunks)} chunk(s), {len(secret.test_data):,} bytes of "
               "test data published on chain")


@cli.command("prove-and-submit", cls=ConnectedCommand)
@account_option()
@bounty_option()
@model_option()
@model_file_option()
@circuit_option(required=False)
def prove_and_submit(ecosystem, network, provider, account, bounty_id, model_id, model_path, circuit):
    """Prove the model on every chunk not proven yet and submit each proof (resumable; proofs cached)."""
    manifest = _manifest(ecosystem, network, provider)
    market = _market(manifest)
    circuit = circuit or market.circuit_name(market.view(bounty_id).circuit_id, manifest)
    if circuit.startswith("0x"):
        raise ApiaryCliError(f"bounty #{bounty_id}'s circuit {circuit} is neither built in nor recorded in the manifest: "
                             "pass its folder with --circuit DIR")
    c = _open_circuit(circuit)
    market.check_circuit_folder(c, retired_ok=True)  # a bounty keeps its verifier when the circuit is retired
    results = sdk.prove_and_submit(market, account, bounty_id, model_id, c, _load_model(c, model_path),
                                   log=lambda m: click.echo(f"  {m}"))
    sent = sum(r.status == "proven" for r in results)
    click.echo(f"{sent} proof(s) submitted, {len(results) - sent} chunk(s) proven before")
    click.echo(sdk.report(market, bounty_id))


@cli.command(cls=ConnectedCommand)
@account_option()
@bounty_option()
def finalize(ecosystem, network, provider, account, bounty_id):
    """Settle a bounty in phase settle: pay the best model, refund, or burn the reward (sealed, committed, nobody qualified)."""
    market = _market(_manifest(ecosystem, network, provider))
    sdk.finalize(market, account, bounty_id)
    click.echo(sdk.report(market, bounty_id))


@cli.command(cls=ConnectedCommand)
@account_option()
@token_option
def withdraw(ecosystem, network, provider, account, token_text):
    """Withdraw everything ModelBounties owes you in a token."""
    market = _market(_manifest(ecosystem, network, provider))
    token = market.token(token_text)
    before = int(sdk.erc20(token.address).balanceOf(account.address))
    amount = sdk.withdraw(market, account, token)
    after = int(sdk.erc20(token.address).balanceOf(account.address))
    click.echo(f"withdrew {token.format(amount)} to {account.address}: balance {token.format(before)} → "
               f"{token.format(after)}")


@cli.command("flush-fees", cls=ConnectedCommand)
@account_option()
@token_option
def flush_fees(ecosystem, network, provider, account, token_text):
    """Push the pending protocol fees in a token to the fee vault (anyone may)."""
    market = _market(_manifest(ecosystem, network, provider))
    token = market.token(token_text)
    amount = sdk.flush_fees(market, account, token)
    click.echo(f"flushed {token.format(amount)} of fees to the FeeVault")


@cli.command(cls=ConnectedCommand)
@bounty_option()
def show(ecosystem, network, provider, bounty_id):
    """A bounty's terms, phase, times, amounts, leaderboard and next step."""
    click.echo(sdk.report(_market(_manifest(ecosystem, network, provider)), bounty_id))


@cli.command("list", cls=ConnectedCommand)
def list_bounties(ecosystem, network, provider):
    """Every bounty, one line each."""
    market = _market(_manifest(ecosystem, network, provider))
    views = sdk.all_bounties(market)
    if not views:
        click.echo("no bounties yet")
    tokens: dict = {}
    for view in views:
        click.echo(sdk.summary_line(market, view, tokens))


@cli.command(cls=ConnectedCommand)
@bounty_option()
@click.option("--past", type=click.Choice(["commit", "reveal", "deadline"]), required=True,
              help="Which of the bounty's deadlines to move the clock past.")
def advance(ecosystem, network, provider, bounty_id, past):
    """Dev node only: move the clock just past one of a bounty's deadlines."""
    from apiary.sdk.amounts import chain_time, format_time
    from apiary.sdk.devnode import advance as advance_chain

    view = _market(_manifest(ecosystem, network, provider)).view(bounty_id)
    target = {"commit": view.commit_deadline, "reveal": view.reveal_deadline, "deadline": view.deadline}[past]
    if not target:
        raise ApiaryCliError(f"bounty #{bounty_id} is open: it has no {past} deadline")
    number, timestamp = advance_chain(blocks=1, seconds=max(0, target + 1 - chain_time()))
    click.echo(f"head: block {number} at {format_time(timestamp, timestamp).split(' ')[0]}, past the "
               f"{'proving deadline' if past == 'deadline' else past + ' deadline'} of bounty #{bounty_id}")
