"""Model market from the command line: `ape run market <command> --network … --account …`.

    ape run market deploy-verifier --circuit digits-mlp16-n64              # then register it by governance:
    ape run market propose-circuit --circuit digits-mlp16-n64 --verifier 0x…
    ape run market register-model --circuit digits-mlp16-n64 --model model.json --uri ipfs://…
    ape run market create --circuit digits-mlp16-n64 --token 0x… --reward 1000 --threshold 100 --chunks 2 [--sealed]
    ape run market commit --bounty 0 --model-id 1
    ape run market reveal --bounty 0
    ape run market prove-and-submit --bounty 0 --model-id 1 --model model.json
    ape run market finalize --bounty 0 ; ape run market withdraw --token 0x…
    ape run market show --bounty 0

On a local chain, keep one node running across commands: `./dev node` (anvil, chain id 1337) and
`--network ethereum:local:node` (ape-foundry's `ethereum:local:foundry` starts a fresh anvil per command).
Addresses come from the deployment manifest that `ape run deploy` wrote for the network. A sealed bounty's
secret (chunk commitments and salt) is kept in build/bounties/<network>-<id>.json until `reveal`.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import click
from ape import chain, project
from ape.cli import ConnectedProviderCommand, account_option

from apiary.chain.manifest import read_manifest
from apiary.chain.market import describe, leaderboard, register_model
from apiary.paths import DEPLOYMENTS_DIR, PROJECT_ROOT

SECRETS = PROJECT_ROOT / "build" / "bounties"


def _contracts(ecosystem, network) -> dict:
    manifest = read_manifest(DEPLOYMENTS_DIR / f"{ecosystem.name}-{network.name}.json")
    c = manifest["contracts"]
    missing = {"ModelBounties", "ModelRegistry", "VerifierRegistry"} - set(c)
    if missing:
        raise click.ClickException(f"the deployment has no {', '.join(sorted(missing))}: redeploy with `ape run deploy`")
    return {name: getattr(project, name).at(address) for name, address in c.items()}


def _circuit(name: str):
    from apiary.zk import pipeline

    return pipeline.open_circuit(name)


@click.group()
def cli():
    """Model market flows: verifiers, models, bounties."""


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--circuit", required=True, help="Circuit id under verifiers/.")
def deploy_verifier(ecosystem, network, account, circuit):
    """Deploy a circuit's verifier (compiled with the pinned solc) and print what to register."""
    from apiary.zk import evm

    c = _circuit(circuit)
    c.check_files()
    verifier = evm.deploy_with_ape(c, account)
    click.echo(json.dumps({"circuit": circuit, "verifier": verifier.address, "samples": c.spec.samples,
                           "manifest_sha256": c.manifest_sha256.hex()}, indent=2))


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--circuit", required=True)
@click.option("--verifier", required=True, help="Address printed by deploy-verifier.")
def propose_circuit(ecosystem, network, account, circuit, verifier):
    """Open a governance proposal that registers the circuit in the VerifierRegistry (vote and execute after)."""
    from apiary.chain.governance import LocalProposalRunner, Proposal, call

    manifest = read_manifest(DEPLOYMENTS_DIR / f"{ecosystem.name}-{network.name}.json")["contracts"]
    governor = project.ApiaryGovernor.at(manifest["ApiaryGovernor"])
    registry = project.VerifierRegistry.at(manifest["VerifierRegistry"])
    c = _circuit(circuit)
    from apiary.chain.market import METRIC

    proposal = Proposal([call(registry, "register", circuit, verifier, c.manifest_sha256,
                              c.spec.samples, METRIC[c.spec.metric])],
                        f"Register circuit {circuit} (verifier {verifier})")
    proposal_id = LocalProposalRunner(governor, None, log=click.echo).propose(account, proposal)
    click.echo(f"proposal {proposal_id}: vote with castVote({proposal_id}, 1), then queue and execute")


@cli.command("register-model", cls=ConnectedProviderCommand)
@account_option()
@click.option("--circuit", required=True)
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--uri", default="", help="Metadata URI of the model.")
def register_model_cmd(ecosystem, network, account, circuit, model_path, uri):
    """Register a trained model (commit, then reveal a block later: front-running safe)."""
    from apiary.zk import models as zk_models
    from apiary.zk import pipeline

    c = _circuit(circuit)
    commitment = pipeline.model_commitment(c, zk_models.QuantisedModel.load(model_path))
    contracts = _contracts(ecosystem, network)
    model_id = register_model(contracts["ModelRegistry"], account, contracts["VerifierRegistry"].circuitId(circuit), commitment, uri)
    click.echo(f"model #{model_id} registered: commitment 0x{commitment.hex()}")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--circuit", required=True)
@click.option("--token", required=True, help="Reward token address.")
@click.option("--reward", type=float, required=True, help="Reward in whole tokens (18 decimals).")
@click.option("--threshold", type=int, required=True,
              help="Total over all chunks: correct predictions needed (classification) or the largest squared error (regression).")
@click.option("--chunks", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--sealed", is_flag=True, help="Commit to the test set now, reveal after commitments close.")
@click.option("--days", type=click.IntRange(1, 365), default=7, show_default=True, help="Proving window (sealed: each phase).")
def create(ecosystem, network, account, circuit, token, reward, threshold, chunks, sealed, days):
    """Create a bounty over the circuit's held-out test set."""
    from apiary.zk import models as zk_models
    from apiary.zk import pipeline

    c = _circuit(circuit)
    ds = zk_models.load_dataset(c.spec.dataset)
    commitments = [pipeline.chunk_commitment(c, x, y) for x, y in zk_models.test_chunks(ds, c.spec.samples, chunks)]
    contracts = _contracts(ecosystem, network)
    bounties, cid = contracts["ModelBounties"], contracts["VerifierRegistry"].circuitId(circuit)
    amount = int(reward * 10**18)
    direction = 1 if c.spec.is_regression else 0  # squared error: at most the threshold
    token_contract = project.MockERC20.at(token)  # any ERC20: only approve is used
    token_contract.approve(bounties, amount, sender=account)
    now = chain.pending_timestamp
    if sealed:
        salt = secrets.token_bytes(32)
        commitment = bounties.testSetCommitment(commitments, salt)
        bounties.createSealed((token, amount, cid, commitment, chunks, threshold, direction, now + days * 86400,
                               now + 2 * days * 86400, now + 3 * days * 86400), sender=account)
    else:
        bounties.createOpen((token, amount, cid, commitments, threshold, direction, now + days * 86400), sender=account)
    bounty_id = bounties.bountyCount() - 1
    if sealed:
        SECRETS.mkdir(parents=True, exist_ok=True)
        path = SECRETS / f"{ecosystem.name}-{network.name}-{bounty_id}.json"
        path.write_text(json.dumps({"chunks": ["0x" + h.hex() for h in commitments], "salt": "0x" + salt.hex()}))
        os.chmod(path, 0o600)
        click.echo(f"sealed: the salt to reveal with is in {path} (keep it; without it you cannot reveal)")
    click.echo(describe(bounties, bounty_id))


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--bounty", "bounty_id", type=int, required=True)
@click.option("--model-id", type=int, required=True)
def commit(ecosystem, network, account, bounty_id, model_id):
    """Commit your registered model to a sealed bounty (before its commit deadline)."""
    _contracts(ecosystem, network)["ModelBounties"].commitModel(bounty_id, model_id, sender=account)
    click.echo(f"model #{model_id} committed to bounty #{bounty_id}")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--bounty", "bounty_id", type=int, required=True)
@click.option("--data-uri", default="", help="Where provers find the test data.")
def reveal(ecosystem, network, account, bounty_id, data_uri):
    """Reveal a sealed bounty's test set (sponsor; after commitments close)."""
    path = SECRETS / f"{ecosystem.name}-{network.name}-{bounty_id}.json"
    if not path.is_file():
        raise click.ClickException(f"no secret for bounty #{bounty_id} at {path}")
    secret = json.loads(path.read_text())
    chunks = [bytes.fromhex(h[2:]) for h in secret["chunks"]]
    _contracts(ecosystem, network)["ModelBounties"].reveal(bounty_id, chunks, bytes.fromhex(secret["salt"][2:]), data_uri, sender=account)
    click.echo(f"bounty #{bounty_id} revealed ({len(chunks)} chunks)")


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--bounty", "bounty_id", type=int, required=True)
@click.option("--model-id", type=int, required=True)
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True)
@click.option("--circuit", required=True)
def prove_and_submit(ecosystem, network, account, bounty_id, model_id, model_path, circuit):
    """Prove the model on every chunk not yet proven and submit each proof (resumable: proven chunks are skipped)."""
    from apiary.zk import models as zk_models
    from apiary.zk import pipeline

    c = _circuit(circuit)
    model = zk_models.QuantisedModel.load(model_path)
    bounties = _contracts(ecosystem, network)["ModelBounties"]
    b = bounties.bounty(bounty_id)
    ds = zk_models.load_dataset(c.spec.dataset)
    chunks = zk_models.test_chunks(ds, c.spec.samples, b.numChunks)
    on_chain = list(bounties.chunksOf(bounty_id))
    out = PROJECT_ROOT / "build" / "proofs"
    for index, (x, y) in enumerate(chunks):
        if bounties.chunkProven(bounty_id, model_id, index):
            click.echo(f"chunk {index}: already proven on chain, skipped")
            continue
        if pipeline.chunk_commitment(c, x, y) != bytes(on_chain[index]):
            raise click.ClickException(f"chunk {index} of the local test set does not match the bounty's commitment")
        bundle = pipeline.prove(c, model, x, y, out / f"{bounty_id}-{model_id}-{index}.json", progress=lambda m: click.echo(f"  {m}"))
        bounties.submitChunk(bounty_id, model_id, index, bundle.proof, bundle.instances, sender=account)
        click.echo(f"chunk {index}: score {bundle.score} verified on chain")
    click.echo(describe(bounties, bounty_id))


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--bounty", "bounty_id", type=int, required=True)
def finalize(ecosystem, network, account, bounty_id):
    """Settle an expired bounty (pay the best, refund, or forfeit to committers)."""
    bounties = _contracts(ecosystem, network)["ModelBounties"]
    bounties.finalize(bounty_id, sender=account)
    click.echo(describe(bounties, bounty_id))


@cli.command(cls=ConnectedProviderCommand)
@account_option()
@click.option("--token", required=True)
def withdraw(ecosystem, network, account, token):
    """Withdraw everything the bounty contract owes you in `token`."""
    amount = _contracts(ecosystem, network)["ModelBounties"].withdraw(token, sender=account).return_value
    click.echo(f"withdrew {amount} of {token}")


@cli.command(cls=ConnectedProviderCommand)
@click.option("--bounty", "bounty_id", type=int, required=True)
def show(ecosystem, network, bounty_id):
    """A bounty's terms, state and leaderboard."""
    contracts = _contracts(ecosystem, network)
    bounties, models = contracts["ModelBounties"], contracts["ModelRegistry"]
    if bounty_id >= bounties.bountyCount():
        raise click.ClickException(f"no bounty #{bounty_id} (there are {bounties.bountyCount()})")
    click.echo(describe(bounties, bounty_id))
    model_ids = range(1, int(models.totalModels()) + 1)
    rows = [r for r in leaderboard(bounties, models, bounty_id, model_ids) if r["chunks"][0] != "0" or r["committed"]]
    for rank, row in enumerate(rows, 1):
        click.echo(f"  #{rank} model {row['model']} owner {row['owner']} chunks {row['chunks']} score {row['score']}")
