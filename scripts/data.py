"""Data market from the command line: `ape run data <command> --network … --account …`.

    ape run data register --data rows.csv --price 10 --token ApiaryToken [--device-key cam.pem]   # seal, stake
    ape run data propose-device --device-key cam.pem          # governance registers a camera (then ape run gov …)
    ape run data attest --dataset 1 --device-key cam.pem      # the camera's signature over the commitment
    ape run data challenge --dataset 2 --data copy.csv --earlier 1 --earlier-data rows.csv   # slash a duplicate
    ape run data claim --dataset 2                            # after the claim period: the challenger's reward
    ape run data release-stake --dataset 1 ; ape run data withdraw --token ApiaryToken
    ape run data list --dataset 1 --data rows.csv --package rows.apkg     # encrypt, post the bond, list
    ape run data deliver-agent                                # the seller's agent: delivers keys, settles
    ape run data buy --listing 1 --package rows.apkg --max-price 10       # checks the package, then pays
    ape run data fetch --sale 1 --package rows.apkg --out rows.csv --wait 60   # decrypt + check, or dispute
    ape run data settle --sale 1 ; ape run data refund --sale 1
    ape run data cite --model-id 1 --datasets 1,2             # provenance: royalties to the cited datasets
    ape run data show --dataset 1 | --listing 1 | --sale 1

Secrets (seal salts, package keys, one-time buyer keys) are kept under build/data/<deployment key>/ (mode
0600), written before the transaction that needs them is sent. Paths are relative to where you stand.
"""

from __future__ import annotations

import click
from ape.cli import account_option

from apiary import paths
from apiary.sdk import data as sdk
from apiary.sdk.cli import CallerPathType, ConnectedCommand
from apiary.sdk.errors import ApiaryCliError
from apiary.sdk.manifest import load_manifest

quiet_option = click.option("--quiet", is_flag=True, help="Print only the resulting id (for scripts).")


def _ctx(ecosystem, network, provider):
    manifest = load_manifest(ecosystem.name, network.name, provider.name, provider.chain_id,
                             directory=paths.DEPLOYMENTS_DIR)
    return manifest, sdk.DataClient.from_manifest(manifest), manifest.state_dir("data", root=paths.STATE_DIR)


def _say(quiet: bool):
    return (lambda _m: None) if quiet else (lambda m: click.echo(f"  {m}"))


def _device_key(path):
    from apiary.data import attest

    return attest.load_device_key(path)


@click.group()
def cli():
    """Data market: datasets, duplicate challenges, camera attestations, licences, royalties."""


# ---------------------------------------------------------------- datasets


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--data", "data_file", type=CallerPathType(), required=True,
              help="CSV, .npy, .npz, Parquet or JSON-lines file.")
@click.option("--uri", default="", help="Metadata URI of the dataset.")
@click.option("--price", default=None, help="Licence price in whole tokens (exact decimals); omit: not for sale.")
@click.option("--token", default=None, help="Token buyers pay in: address or a contract name (ApiaryToken).")
@click.option("--device-key", type=CallerPathType(), default=None, help="A registered device's key: attest too.")
@quiet_option
def register(ecosystem, network, provider, account, data_file, uri, price, token, device_key, quiet):
    """Register a dataset: commit its rows, seal, stake, reveal (resumable)."""
    _, client, state = _ctx(ecosystem, network, provider)
    dataset_id, fresh = sdk.register_dataset(client, account, data_file, state, uri=uri, price=price, token=token,
                                             log=_say(quiet))
    if device_key:
        sdk.attest_dataset(client, account, dataset_id, _device_key(device_key))
    if quiet:
        click.echo(dataset_id)
        return
    from apiary.sdk.amounts import Token, format_time

    d = client.datasets.dataset(dataset_id)
    stake = Token.at(str(client.datasets.stakeToken()))
    click.echo(f"dataset #{dataset_id} {'registered' if fresh else 'was registered already'} to {account.address} "
               f"(stake {stake.format(int(d.stake))}, can be proven a duplicate until "
               f"{format_time(int(d.challengeEnds))}){'; attested' if device_key else ''}")


@cli.command("propose-device", cls=ConnectedCommand)
@account_option()
@click.option("--device-key", type=CallerPathType(), required=True, help="The device's key file (its public key is used).")
@quiet_option
def propose_device(ecosystem, network, provider, account, device_key, quiet):
    """Propose registering a capture device's public key; vote, queue, execute with `ape run gov`."""
    from apiary.deploy import governance as gov

    manifest, client, _ = _ctx(ecosystem, network, provider)
    key = _device_key(device_key)
    if client.devices.device(key.device_id).keyType != 0:
        raise ApiaryCliError(f"device 0x{key.device_id.hex()} is registered already")
    proposal = gov.Proposal([gov.call(client.devices, "register", int(key.key_type), *key.public)],
                            f"Register device 0x{key.device_id.hex()} ({key.key_type.name})")
    proposal_id = gov.propose(manifest.contract("ApiaryGovernor"), proposal, account,
                              manifest.state_dir("proposals", root=paths.STATE_DIR))
    click.echo(proposal_id if quiet else f"proposal {gov.short_id(proposal_id)}: {proposal.description}")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--dataset", "dataset_id", type=int, required=True)
@click.option("--device-key", type=CallerPathType(), required=True)
def attest(ecosystem, network, provider, account, dataset_id, device_key):
    """Submit a registered device's signature over a dataset's commitment."""
    _, client, _ = _ctx(ecosystem, network, provider)
    device = sdk.attest_dataset(client, account, dataset_id, _device_key(device_key))
    click.echo(f"dataset #{dataset_id} attested by device 0x{device.hex()}")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--dataset", "later_id", type=int, required=True, help="The later dataset: the copy.")
@click.option("--data", "later_file", type=CallerPathType(), required=True, help="Its file.")
@click.option("--earlier", "earlier_id", type=int, required=True, help="The dataset sealed earlier.")
@click.option("--earlier-data", "earlier_file", type=CallerPathType(), required=True, help="Its file.")
def challenge(ecosystem, network, provider, account, later_id, later_file, earlier_id, earlier_file):
    """Prove that a dataset repeats rows of an earlier one: its stake is slashed (half to you)."""
    _, client, state = _ctx(ecosystem, network, provider)
    from apiary.sdk.amounts import format_time

    n = sdk.challenge_duplicate(client, account, later_id, later_file, earlier_id, earlier_file, state,
                                log=_say(False))
    claim = client.datasets.challengeClaim(later_id)
    click.echo(f"dataset #{later_id} slashed: {n} rows shown in dataset #{earlier_id}; half its stake is yours after "
               f"{format_time(int(claim.endsAt))} (a quarter, shared with a challenge committed earlier if one is "
               f"revealed by then): ape run data claim --dataset {later_id}")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--dataset", "later_id", type=int, required=True, help="The dataset proven a duplicate.")
def claim(ecosystem, network, provider, account, later_id):
    """After a duplicate's claim period: pay the challenge reward to the earliest-committed challenger."""
    _, client, _ = _ctx(ecosystem, network, provider)
    from apiary.sdk.amounts import Token

    paid = sdk.claim_challenge_reward(client, account, later_id)
    t = Token.at(str(client.datasets.stakeToken()))
    click.echo(f"challenge reward of dataset #{later_id} paid: "
               + ", ".join(f"{t.format(reward)} to {who}" for who, reward in paid) + " (ape run data withdraw)")


@cli.command("release-stake", cls=ConnectedCommand)
@account_option()
@click.option("--dataset", "dataset_id", type=int, required=True)
def release_stake(ecosystem, network, provider, account, dataset_id):
    """After the challenge window: credit your stake back (then `withdraw`)."""
    from apiary.sdk.tx import send

    from apiary.sdk.amounts import chain_time, format_time

    _, client, _ = _ctx(ecosystem, network, provider)
    d = client.datasets.dataset(dataset_id)
    at = int(client.datasets.releasableAt(dataset_id))
    if not d.stakeReleased and chain_time() < at:
        raise ApiaryCliError(f"dataset #{dataset_id}'s stake is locked until {format_time(at)}: its challenge window "
                             "and the reveal period after it must pass first")
    send(client.datasets.releaseStake, dataset_id, sender=account)
    click.echo(f"stake of dataset #{dataset_id} released; withdraw it with: ape run data withdraw")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--token", default="ApiaryToken")
@click.option("--from", "source", type=click.Choice(["registry", "market", "both"]), default="both", show_default=True)
def withdraw(ecosystem, network, provider, account, token, source):
    """Withdraw what the dataset registry (stakes, rewards) and the data market (sales, refunds) owe you."""
    from apiary.sdk.tx import send

    _, client, _ = _ctx(ecosystem, network, provider)
    t = client.token(token)
    total = 0
    for name, contract in (("registry", client.datasets), ("market", client.market)):
        if source in (name, "both") and int(contract.owed(account.address, t.address)):
            owed = int(contract.owed(account.address, t.address))
            send(contract.withdraw, t.address, sender=account)
            total += owed
    if not total:
        raise ApiaryCliError(f"nothing to withdraw in {t.symbol} for {account.address}")
    click.echo(f"withdrew {t.format(total)} to {account.address}")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--to", "recipient", required=True, help="Address to send tokens to.")
@click.option("--amount", required=True, help="Whole tokens (exact decimals).")
@click.option("--token", default="ApiaryToken", show_default=True)
def transfer(ecosystem, network, provider, account, recipient, amount, token):
    """Send tokens to another account (e.g. APY for a registration stake or a listing bond)."""
    from apiary.sdk.bounties import erc20
    from apiary.sdk.tx import send

    _, client, _ = _ctx(ecosystem, network, provider)
    t = client.token(token)
    send(erc20(t.address).transfer, recipient, t.parse(amount), sender=account)
    click.echo(f"sent {t.format(t.parse(amount))} to {recipient}")


# ---------------------------------------------------------------- licences


@cli.command("list", cls=ConnectedCommand)
@account_option()
@click.option("--dataset", "dataset_id", type=int, required=True)
@click.option("--data", "data_file", type=CallerPathType(), required=True, help="The dataset's file.")
@click.option("--package", "package_out", type=CallerPathType(new=True), required=True,
              help="The encrypted package to write (an existing one of this dataset is reused).")
@click.option("--uri", default="", help="The package's URL buyers download it from (https://, http://, ipfs://), "
                                        "checked before listing; on a dev chain the default is its path.")
@click.option("--delivery-hours", type=click.FloatRange(min=0.17), default=1.0, show_default=True)
@click.option("--dispute-hours", type=click.FloatRange(min=1.0), default=24.0, show_default=True)
@quiet_option
def list_(ecosystem, network, provider, account, dataset_id, data_file, package_out, uri, delivery_hours,
          dispute_hours, quiet):
    """Encrypt a dataset into a package, post the listing bond and list it for sale."""
    _, client, state = _ctx(ecosystem, network, provider)
    listing_id = sdk.list_dataset(client, account, dataset_id, data_file, package_out, state, uri=uri,
                                  delivery_window=int(delivery_hours * 3600), dispute_window=int(dispute_hours * 3600),
                                  log=_say(quiet))
    click.echo(listing_id if quiet else f"listing #{listing_id} of dataset #{dataset_id}; run the delivery agent: "
                                        "ape run data deliver-agent")


@cli.command("deliver-agent", cls=ConnectedCommand)
@account_option()
@click.option("--poll", type=click.FloatRange(min=0.1), default=2.0, show_default=True, help="Seconds between polls.")
@click.option("--max-ticks", type=int, default=None, help="Stop after this many polls (tests).")
@click.option("--status", "show_status", is_flag=True, help="Print what the agent has done and exit.")
def deliver_agent(ecosystem, network, provider, account, poll, max_ticks, show_status):
    """The seller's delivery agent: delivers keys to buyers and settles sales; resumes after a crash."""
    import json

    from apiary.agents.delivery import DeliveryAgent

    _, client, state = _ctx(ecosystem, network, provider)
    agent = DeliveryAgent(client, account, state, state / f"delivery-agent-{account.address}.json", poll_interval=poll,
                          log=lambda m: click.echo(m, err=False))
    if show_status:
        click.echo(json.dumps(agent.status()))
        return
    click.echo(f"delivery agent for {account.address}: polling every {poll} s (Ctrl-C stops)")
    agent.run(max_ticks=max_ticks)


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--listing", "listing_id", type=int, required=True)
@click.option("--package", "package_file", type=CallerPathType(), default=None,
              help="The listing's package file (default: downloaded from the listing's URL).")
@click.option("--max-price", required=True, help="The most you pay, in whole tokens.")
@click.option("--min-dispute-hours", type=click.FloatRange(min=0), default=24.0, show_default=True,
              help="Refuse a listing that leaves less time than this to check a delivery (its dispute window).")
@quiet_option
def buy(ecosystem, network, provider, account, listing_id, package_file, max_price, min_dispute_hours, quiet):
    """Check a listing's package against the registered dataset, then buy a licence."""
    _, client, state = _ctx(ecosystem, network, provider)
    sale_id = sdk.buy_licence(client, account, listing_id, package_file, max_price, state, log=_say(quiet),
                              min_dispute_hours=min_dispute_hours)
    click.echo(sale_id if quiet else f"sale #{sale_id}: wait for the key with ape run data fetch --sale {sale_id}")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--sale", "sale_id", type=int, required=True)
@click.option("--package", "package_file", type=CallerPathType(), default=None,
              help="The package (default: the one checked when buying, or downloaded from the listing's URL).")
@click.option("--out", type=CallerPathType(new=True), required=True, help="Where to write the decrypted original file.")
@click.option("--wait", type=click.FloatRange(min=0), default=0.0, help="Seconds to wait for the delivery.")
def fetch(ecosystem, network, provider, account, sale_id, package_file, out, wait):
    """Decrypt a delivered licence and check it row by row; a bad key or row is disputed on chain at once."""
    _, client, state = _ctx(ecosystem, network, provider)
    result = sdk.fetch_licence(client, account, sale_id, package_file, out, state, wait=wait, log=_say(False))
    if result.outcome == "ok":
        click.echo(f"sale #{sale_id}: {result.rows:,} rows checked against the registered dataset; wrote {out}")
    else:
        click.echo(f"sale #{sale_id}: {result.outcome}; you are refunded (ape run data withdraw)")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--sale", "sale_id", type=int, required=True)
def settle(ecosystem, network, provider, account, sale_id):
    """After the dispute window, once the dataset can no longer be proven a duplicate: pay the seller (anyone may)."""
    from ape import chain

    from apiary.sdk.amounts import format_time
    from apiary.sdk.tx import send

    _, client, _ = _ctx(ecosystem, network, provider)
    m = client.market
    state = sdk.SALE_STATES[int(m.saleState(sale_id))]
    if state == "settleable":
        dataset_id = sdk.sale_dataset(client, sale_id)
        payable_at = sdk.payable_at(client, dataset_id)
        if int(chain.pending_timestamp) < payable_at:
            raise ApiaryCliError(f"sale #{sale_id} settles from {format_time(payable_at)}: until then dataset "
                                 f"#{dataset_id} can still be proven a duplicate (and its buyers refunded)")
    send(m.settle, sale_id, sender=account)
    click.echo(f"sale #{sale_id} settled")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--sale", "sale_id", type=int, required=True)
def refund(ecosystem, network, provider, account, sale_id):
    """Refund a sale that was not delivered in time, or whose package or dataset was proven bad (a duplicate)."""
    from apiary.sdk.tx import send

    _, client, _ = _ctx(ecosystem, network, provider)
    send(client.market.refund, sale_id, sender=account)
    click.echo(f"sale #{sale_id} refunded to its buyer")


@cli.command(cls=ConnectedCommand)
@account_option()
@click.option("--model-id", type=int, required=True)
@click.option("--datasets", required=True, help="Comma-separated dataset ids you own or hold a licence of.")
def cite(ecosystem, network, provider, account, model_id, datasets):
    """Cite the datasets a model was trained on: they share its bounty winnings (once per model)."""
    from apiary.sdk.tx import send

    _, client, _ = _ctx(ecosystem, network, provider)
    if client.provenance is None:
        raise ApiaryCliError("this deployment has no Provenance contract")
    ids = sorted({int(x) for x in datasets.split(",") if x.strip()})
    send(client.provenance.cite, model_id, ids, sender=account)
    click.echo(f"model #{model_id} cites datasets {ids} (royalty {int(client.provenance.royaltyBps())} bps)")


@cli.command(cls=ConnectedCommand)
@click.option("--dataset", "dataset_id", type=int, default=None)
@click.option("--listing", "listing_id", type=int, default=None)
@click.option("--sale", "sale_id", type=int, default=None)
def show(ecosystem, network, provider, dataset_id, listing_id, sale_id):
    """Show a dataset, a listing or a sale."""
    from apiary.sdk.amounts import Token, format_time

    _, client, _ = _ctx(ecosystem, network, provider)
    if dataset_id is not None:
        d = client.datasets.dataset(dataset_id)
        stake = Token.at(str(client.datasets.stakeToken()))
        price = f"{Token.at(str(d.priceToken)).format(int(d.price))}" if int(d.price) else "not for sale"
        click.echo(f"dataset #{dataset_id}: owner {client.datasets.ownerOf(dataset_id)}, {int(d.rows):,} rows, root "
                   f"0x{bytes(d.root).hex()}, stake {stake.format(int(d.stake))}"
                   f"{' (released)' if d.stakeReleased else ''}, {'DUPLICATE, ' if d.duplicate else ''}attested: "
                   f"{'yes' if client.datasets.isAttested(dataset_id) else 'no'}, price {price}, challenges close "
                   f"{format_time(int(client.datasets.releasableAt(dataset_id)))}")
    if listing_id is not None:
        listing = client.market.listing(listing_id)
        bond = Token.at(str(client.market.bondToken()))
        click.echo(f"listing #{listing_id}: dataset #{int(listing.datasetId)} by {listing.seller}, open sales "
                   f"{int(listing.openSales)}, {'closed' if listing.closed else 'open'}, bond "
                   f"{bond.format(int(listing.bond))}, fraud: {sdk.FRAUD[int(listing.fraud)]}, delivery within "
                   f"{int(listing.deliveryWindow) / 3600:g} h, disputes within {int(listing.disputeWindow) / 3600:g} h, "
                   f"package {listing.packageUri}")
    if sale_id is not None:
        s = client.market.sale(sale_id)
        state = sdk.SALE_STATES[int(client.market.saleState(sale_id))]
        due = {"paid": f", delivery due {format_time(int(s.deliveryDeadline))}",
               "delivered": f", dispute window closes {format_time(int(s.disputeEnds))}"}.get(state, "")
        click.echo(f"sale #{sale_id}: listing #{int(s.listingId)}, buyer {s.buyer}, paid "
                   f"{Token.at(str(s.token)).format(int(s.amount))}, {state}{due}")
    if dataset_id is None and listing_id is None and sale_id is None:
        raise ApiaryCliError("say what to show: --dataset ID, --listing ID or --sale ID")
