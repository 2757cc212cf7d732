"""Data market actions shared by the CLI (scripts/data.py) and the delivery agent (apiary/agents/delivery.py).

Every transaction goes through `tx.send` (simulated first: nothing is sent on a would-be revert, one line
explains why). Secrets are written before the transaction that needs them later is sent, so a crash never
loses one:

* a registration seal's salt (`seal-<root>.json`) and a challenge's salt (`challenge-<commitment>.json`),
* a listing's package key (`listing-key-<cipher root>.json`, needed by the delivery agent for every sale),
* a purchase's one-time key (`buy-<listing>-<nonce>.json`, needed to decrypt and to dispute).

All of them live under the deployment's state folder (build/data/<deployment key>/), mode 0600.

    client = DataClient.from_manifest(manifest)
    dataset_id = register_dataset(client, owner, Path("rows.csv"), state_dir, price="10", token="ApiaryToken")
    listing_id = list_dataset(client, owner, dataset_id, Path("rows.csv"), Path("rows.apkg"), state_dir)
    sale_id = buy_licence(client, buyer, listing_id, Path("rows.apkg"), max_price="10", state_dir=state_dir)
    result = fetch_licence(client, buyer, sale_id, Path("rows.apkg"), Path("out.csv"), state_dir)
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_hash.auto import keccak

from ..data import attest, exchange, merkle
from ..paths import write_atomic
from . import fetch
from .amounts import Token, format_time
from .bounties import _hex, _quiet, _unhex, deployment_token
from .errors import ApiaryCliError
from .tx import commit_seal, seal_expired, send

Log = Callable[[str], None]
ZERO = "0x0000000000000000000000000000000000000000"
SALE_STATES = ["none", "paid", "delivered", "settleable", "expired", "settled", "refunded"]
FRAUD = ["none", "wrong key", "bad package"]


def _secret(path: Path, record: dict) -> None:
    write_atomic(path, json.dumps(record, indent=2) + "\n")
    os.chmod(path, 0o600)


@dataclass
class DataClient:
    datasets: Any
    market: Any
    devices: Any
    provenance: Any = None
    names: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_manifest(cls, manifest: Any) -> DataClient:
        for name in ("DatasetRegistry", "DataMarket", "DeviceRegistry"):
            if name not in manifest.contracts:
                raise ApiaryCliError(f"the deployment in {manifest.path.name} has no {name}: it predates the data "
                                     "market; deploy again with ./dev deploy")
        provenance = manifest.contract("Provenance") if "Provenance" in manifest.contracts else None
        return cls(manifest.contract("DatasetRegistry"), manifest.contract("DataMarket"),
                   manifest.contract("DeviceRegistry"), provenance, manifest.addresses)

    def token(self, text: str) -> Token:
        return deployment_token(self.names, text)


def _approve(token_address: str, owner: Any, spender: str, amount: int, log: Log) -> None:
    from .bounties import erc20

    token = erc20(token_address)
    if amount == 0 or int(token.allowance(owner.address, spender)) >= amount:
        return
    balance = int(token.balanceOf(owner.address))
    if balance < amount:
        t = Token.at(token_address)
        raise ApiaryCliError(f"{owner.address} holds {t.format(balance)}, {t.format(amount)} is needed: get more "
                             "first")
    send(token.approve, spender, amount, sender=owner)
    log(f"approved {amount} to {spender}")


# ---------------------------------------------------------------- registry


def register_dataset(client: DataClient, owner: Any, data_file: Path, state_dir: Path, *, uri: str = "",
                     price: str | None = None, token: str | None = None, log: Log = _quiet,
                     commitment: merkle.Commitment | None = None) -> tuple[int, bool]:
    """Commit a dataset file, seal, stake and register it (resumable). Returns (dataset id, newly registered?)."""
    from .devnode import wait_for_block

    reg = client.datasets
    c = commitment or merkle.commit_file(data_file)
    log(f"{data_file}: {c.rows:,} distinct rows ({c.rows_read:,} read), root {_hex(c.root)}")
    existing = int(reg.datasetIdOf(c.root))
    if existing and str(reg.ownerOf(existing)) == owner.address:
        return existing, False
    price_token, raw_price = ZERO, 0
    if price is not None:
        if token is None:
            raise ApiaryCliError("--price needs --token (the token buyers pay in)")
        t = client.token(token)
        price_token, raw_price = t.address, t.parse(price)
    state_dir.mkdir(parents=True, exist_ok=True)
    record_path = state_dir / f"seal-{c.root.hex()}.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else None
    if record and record.get("owner") != owner.address:
        record = None
    if existing and record is None:
        raise ApiaryCliError(f"these rows are dataset #{existing} already, owned by {reg.ownerOf(existing)}: "
                             "a commitment is registered once (an earlier seal of yours would take it over)")
    salt = _unhex(record["salt"]) if record else _secrets.token_bytes(32)
    seal = bytes(reg.seal(owner.address, c.root, salt))
    if record is None:
        _secret(record_path, {"owner": owner.address, "root": _hex(c.root), "salt": _hex(salt)})
    landed = record.get("block") if record else None
    if seal_expired(reg, landed, log):
        salt, landed = _secrets.token_bytes(32), None
        seal = bytes(reg.seal(owner.address, c.root, salt))
        _secret(record_path, {"owner": owner.address, "root": _hex(c.root), "salt": _hex(salt)})
    if landed is None:
        landed = commit_seal(reg, seal, sender=owner)
        record = {"owner": owner.address, "root": _hex(c.root), "salt": _hex(salt), "block": landed}
        _secret(record_path, record)
        log(f"seal committed in block {landed}")
    wait_for_block(landed + int(reg.MIN_SEAL_AGE()), log=log)
    _approve(reg.stakeToken(), owner, reg.address, int(reg.stakeAmount()), log)
    send(reg.register, (c.root, c.rows, c.schema_hash, uri, price_token, raw_price), salt, sender=owner)
    record_path.unlink(missing_ok=True)
    dataset_id = int(reg.datasetIdOf(c.root))
    return dataset_id, True


def attest_dataset(client: DataClient, sender: Any, dataset_id: int, device_key: attest.DeviceKey) -> bytes:
    """Sign the dataset's attestation digest with a device key file (a camera's key, here) and submit it."""
    from ape import chain

    d = client.datasets.dataset(dataset_id)
    digest = attest.attestation_digest(chain.chain_id, client.datasets.address, bytes(d.root), int(d.rows),
                                       bytes(d.schemaHash))
    if not client.devices.isActive(device_key.device_id):
        raise ApiaryCliError(f"device {_hex(device_key.device_id)} is not registered (or retired) in the "
                             "DeviceRegistry: governance registers devices (ape run data propose-device)")
    send(client.datasets.attest, dataset_id, device_key.device_id, device_key.sign(digest), sender=sender)
    return device_key.device_id


def _challengeable(reg: Any, later_id: int, earlier_id: int, resuming: bool = False) -> None:
    """Refuse, before the commit is sent, a challenge the reveal would reject: the stake is gone, the "earlier"
    dataset was not sealed earlier, or the window closed."""
    from ape import chain

    later, earlier = reg.dataset(later_id), reg.dataset(earlier_id)
    if later.duplicate and not resuming:
        raise ApiaryCliError(f"dataset #{later_id} was proven a duplicate already (by {reg.challengeClaim(later_id).challenger}, "
                             "committed before you could): nothing left to slash")
    if later.stakeReleased and not later.duplicate:
        raise ApiaryCliError(f"dataset #{later_id}'s stake was released after its challenge window: nothing to slash")
    if int(earlier.sealNumber) >= int(later.sealNumber):
        raise ApiaryCliError(f"dataset #{earlier_id} was not sealed before dataset #{later_id}: only the later of two "
                             f"datasets is a copy (try --dataset {earlier_id} --earlier {later_id})")
    ends = int(later.challengeEnds)
    if int(chain.pending_timestamp) > ends and not resuming:
        raise ApiaryCliError(f"dataset #{later_id}'s challenge window closed {format_time(ends)}")


def challenge_duplicate(client: DataClient, challenger: Any, later_id: int, later_file: Path, earlier_id: int,
                        earlier_file: Path, state_dir: Path, log: Log = _quiet) -> int:
    """Prove that dataset `later_id` repeats rows of `earlier_id` (commit, wait a block, reveal; resumable).
    Returns the number of rows shown."""
    from .devnode import wait_for_block

    reg = client.datasets
    later, earlier = merkle.commit_file(later_file), merkle.commit_file(earlier_file)
    for file, c, dataset_id in ((later_file, later, later_id), (earlier_file, earlier, earlier_id)):
        if bytes(reg.dataset(dataset_id).root) != c.root:
            raise ApiaryCliError(f"{file} is not dataset #{dataset_id} (its root differs from the registered one)")
    record_path = state_dir / f"challenge-{later_id}-{earlier_id}.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else None
    _challengeable(reg, later_id, earlier_id, resuming=bool(record and record.get("owner") == challenger.address
                                                            and record.get("block")))
    registered = reg.dataset(later_id)
    need = min(int(registered.duplicateRows), int(registered.rows))  # the threshold fixed when it registered
    common = merkle.shared_rows(later, earlier)
    if len(common) < need:
        raise ApiaryCliError(f"the datasets share {len(common)} row(s); a challenge needs {need}: no duplicate to prove")
    ours = record and record.get("owner") == challenger.address
    if ours and record.get("rows"):
        shared = [_unhex(h) for h in record["rows"]]  # resuming: the rows committed to
    else:
        # Exactly `need` rows drawn at random from the overlap: a copier's Sybil cannot pre-commit the evidence
        # this challenge will show (the registry credits evidence to its earliest commitment).
        shared = sorted(_secrets.SystemRandom().sample(common, need))
    state_dir.mkdir(parents=True, exist_ok=True)
    salt = _unhex(record["salt"]) if ours else _secrets.token_bytes(32)
    commitment = bytes(reg.challengeCommitment(challenger.address, later_id, earlier_id, shared, salt))
    if record and record.get("owner") == challenger.address and record.get("block"):
        landed = int(record["block"])
    else:
        rows = [_hex(h) for h in shared]
        _secret(record_path, {"owner": challenger.address, "salt": _hex(salt), "rows": rows})
        landed = commit_seal(reg, commitment, sender=challenger, commit=reg.commitChallenge)
        _secret(record_path, {"owner": challenger.address, "salt": _hex(salt), "rows": rows, "block": landed})
        log(f"challenge committed in block {landed}")
    wait_for_block(landed + 1, log=log)
    send(reg.challengeDuplicate, later_id, earlier_id, shared, [later.proof(h) for h in shared],
         [earlier.proof(h) for h in shared], salt, sender=challenger)
    record_path.unlink(missing_ok=True)
    return len(shared)


def claim_challenge_reward(client: DataClient, sender: Any, later_id: int) -> list[tuple[str, int]]:
    """After a proven duplicate's claim period: pay its stake (anyone may call). Returns [(payee, reward)]: the
    earliest-committed challenger, and the first prover when that is someone else (they split the reward)."""
    from ape import chain

    claim = client.datasets.challengeClaim(later_id)
    if int(claim.amount) == 0:
        raise ApiaryCliError(f"dataset #{later_id} has no challenge reward waiting (never proven a duplicate, or paid)")
    if int(chain.pending_timestamp) <= int(claim.endsAt):
        raise ApiaryCliError(f"the reward for dataset #{later_id} is paid after {format_time(int(claim.endsAt))} (an "
                             "earlier-committed challenge may still take it over until then)")
    receipt = send(client.datasets.claimChallengeReward, later_id, sender=sender)
    event = next(iter(receipt.events.filter(client.datasets.DuplicateSlashed)))
    paid = [(str(event.challenger), int(event.reward))]
    if int(event.proverReward):
        paid.append((str(event.prover), int(event.proverReward)))
    return paid


# ---------------------------------------------------------------- licences


def list_dataset(client: DataClient, seller: Any, dataset_id: int, data_file: Path, package_out: Path,
                 state_dir: Path, *, uri: str = "", delivery_window: int = 3600, dispute_window: int = 86_400,
                 log: Log = _quiet) -> int:
    """Package (encrypt) the dataset file, keep the package key, post the bond and list. Returns the listing id."""
    from ape import chain

    d = client.datasets.dataset(dataset_id)
    # Checked before anything is sent (the bond's approve included): the market would refuse the listing.
    if str(client.datasets.ownerOf(dataset_id)) != seller.address:
        raise ApiaryCliError(f"dataset #{dataset_id} belongs to {client.datasets.ownerOf(dataset_id)}, not "
                             f"{seller.address}: nothing sent")
    if d.duplicate:
        raise ApiaryCliError(f"dataset #{dataset_id} was proven a duplicate: it cannot be sold; nothing sent")
    until = int(client.datasets.contestableUntil(dataset_id))
    if int(chain.blocks.head.number) + 1 <= until:
        blocks = until + 1 - int(chain.blocks.head.number)
        raise ApiaryCliError(f"dataset #{dataset_id} becomes final at block {until + 1} ({blocks} block(s) from now; "
                             "until then an earlier seal of the same rows may still take it over): list it then; "
                             "nothing sent")
    if package_out.exists():
        package = exchange.read_package(package_out)
        key_record = state_dir / f"listing-key-{package.cipher_root.hex()}.json"
        if not key_record.is_file():
            raise ApiaryCliError(f"{package_out} exists but its key is not in {state_dir}: remove it to package again")
        key = _unhex(json.loads(key_record.read_text())["key"])
    else:
        package, key = exchange.build_package(data_file, package_out)
        state_dir.mkdir(parents=True, exist_ok=True)
        _secret(state_dir / f"listing-key-{package.cipher_root.hex()}.json",
                {"dataset": dataset_id, "key": _hex(key), "package": str(package_out)})
    check = exchange.check_package(package, root=bytes(d.root), rows=int(d.rows), cipher_root=package.cipher_root,
                                   key_hash=keccak(key))
    if not check.ok:
        raise ApiaryCliError(f"{data_file} is not dataset #{dataset_id}: {'; '.join(check.problems)}")
    log(f"package {package_out}: {package.rows:,} pieces, cipher root {_hex(package.cipher_root)}")
    uri = _published_package(package, package_out, uri, log)
    _approve(client.market.bondToken(), seller, client.market.address, int(client.market.bondAmount()), log)
    receipt = send(client.market.list, dataset_id, package.cipher_root, keccak(key), delivery_window, dispute_window,
                   uri, sender=seller)
    return int(next(iter(receipt.events.filter(client.market.Listed))).listingId)


MAX_PACKAGE_BYTES = int(os.environ.get("APIARY_MAX_PACKAGE_BYTES", 4 << 30))  # the most a buyer downloads


def _published_package(package: Any, package_out: Path, uri: str, log: Log) -> str:
    """The URI to list for the package, checked before anything is sent: buyers elsewhere download it, so off a dev
    chain it is a URL that serves this very package (downloaded here as a buyer would, its cipher root compared)."""
    import tempfile

    from ape import chain

    if not uri:
        if int(chain.chain_id) not in fetch.DEV_CHAIN_IDS:
            raise ApiaryCliError("buyers on other machines cannot read a local file: put the package where they can "
                                 f"download it and give its URL with --uri https://…/{Path(package_out).name} (serve a "
                                 "folder with `apiary serve --files DIR`); nothing sent")
        return str(package_out)
    policy = fetch.FetchPolicy.for_chain(chain.chain_id, Path(package_out).stat().st_size, timeout=3600)
    with tempfile.TemporaryDirectory() as tmp:
        served = bytes(exchange.read_package(fetch.fetch_to(uri, Path(tmp) / "package.apkg", policy)).cipher_root)
    if served != bytes(package.cipher_root):
        raise ApiaryCliError(f"{uri} serves another package than {package_out} (cipher root {_hex(served)}): "
                             "nothing sent")
    log(f"package checked at {uri}")
    return uri


def listing_package(client: DataClient, listing_id: int, state_dir: Path, package_file: Path | None = None,
                    log: Log = _quiet) -> Path:
    """The listing's package: `package_file` when given, else downloaded once from the listing's URL into
    `state_dir/packages/` (within `MAX_PACKAGE_BYTES`; the caller checks it against the chain before use)."""
    from ape import chain

    if package_file is not None:
        return Path(package_file)
    listing = client.market.listing(listing_id)
    uri = str(listing.packageUri)
    dest = state_dir / "packages" / f"listing-{listing_id}-{bytes(listing.cipherRoot).hex()[:16]}.apkg"
    if dest.is_file():
        return dest
    policy = fetch.FetchPolicy.for_chain(chain.chain_id, MAX_PACKAGE_BYTES, timeout=3600)
    log(f"downloading listing #{listing_id}'s package from {uri}")
    return fetch.fetch_to(uri, dest, policy, base=Path(os.environ.get("APIARY_CALLER_DIR", ".")))


def listing_key(state_dir: Path, cipher_root: bytes) -> bytes | None:
    path = state_dir / f"listing-key-{bytes(cipher_root).hex()}.json"
    return _unhex(json.loads(path.read_text())["key"]) if path.is_file() else None


MIN_DISPUTE_HOURS = 24.0  # buyers refuse listings that leave less time to check a delivery (unless told otherwise)


def buy_licence(client: DataClient, buyer: Any, listing_id: int, package_file: Path | None, max_price: str,
                state_dir: Path, log: Log = _quiet, *, min_dispute_hours: float = MIN_DISPUTE_HOURS) -> int:
    """Check the published package against the chain, then pay with a fresh one-time key. Returns the sale id.

    The listing's dispute window is the time a buyer has to check a delivery (`ape run data fetch`), counted from
    whenever the seller delivers: a listing whose window is shorter than `min_dispute_hours` is refused."""
    m, reg = client.market, client.datasets
    listing = m.listing(listing_id)
    dispute_h, delivery_h = int(listing.disputeWindow) / 3600, int(listing.deliveryWindow) / 3600
    if dispute_h < min_dispute_hours:
        raise ApiaryCliError(f"listing #{listing_id} gives buyers {dispute_h:g} h to check a delivery, which may come at any "
                             f"time in the {delivery_h:g} h after purchase; you asked for at least {min_dispute_hours:g} h "
                             "(--min-dispute-hours): nothing paid")
    log(f"the seller delivers within {delivery_h:g} h; from then you have {dispute_h:g} h to fetch and check it")
    d = reg.dataset(int(listing.datasetId))
    package_file = listing_package(client, listing_id, state_dir, package_file, log)
    package = exchange.read_package(package_file)
    check = exchange.check_package(package, root=bytes(d.root), rows=int(d.rows),
                                   cipher_root=bytes(listing.cipherRoot), key_hash=bytes(listing.keyHash))
    if not check.ok:
        raise ApiaryCliError(f"{package_file} does not match listing #{listing_id}, nothing paid: "
                             + "; ".join(check.problems))
    token = Token.at(str(d.priceToken)) if int(d.price) else None
    if token is None:
        raise ApiaryCliError(f"dataset #{int(listing.datasetId)} is not for sale (no price)")
    limit = token.parse(max_price)
    if int(d.price) > limit:
        raise ApiaryCliError(f"the price is {token.format(int(d.price))}, above your maximum {token.format(limit)}")
    one_time = exchange.OneTimeKey.new()
    state_dir.mkdir(parents=True, exist_ok=True)
    record_path = state_dir / f"buy-{listing_id}-{_secrets.token_hex(4)}.json"
    _secret(record_path, {"buyer": buyer.address, "listing": listing_id, "secret": hex(one_time.secret),
                          "package": str(package_file)})
    _approve(str(d.priceToken), buyer, m.address, int(d.price), log)
    # The package checked above, by its root: a reorg that re-numbers listings cannot sell another one.
    # Signed by the one-time key: a copy of it from the mempool cannot be used first to block this purchase.
    signature = one_time.sign(bytes(m.buyerKeyDigest(buyer.address, listing_id, package.cipher_root)))
    receipt = send(m.buy, listing_id, package.cipher_root, str(d.priceToken), limit, *one_time.public, signature,
                   sender=buyer)
    sale_id = int(next(iter(receipt.events.filter(m.Purchased))).saleId)
    record_path.replace(state_dir / f"sale-{sale_id}.json")
    log(f"paid {token.format(int(d.price))} for listing #{listing_id}: sale #{sale_id}")
    return sale_id


def sale_dataset(client: DataClient, sale_id: int) -> int:
    """The dataset a sale is a licence of."""
    m = client.market
    return int(m.listing(int(m.sale(sale_id).listingId)).datasetId)


def payable_at(client: DataClient, dataset_id: int) -> int:
    """When sales of the dataset may settle: once it can no longer be proven a duplicate (DataMarket refuses
    earlier with DataMarketDatasetContestable)."""
    return int(client.datasets.releasableAt(dataset_id))


def deliver_sale(client: DataClient, seller: Any, sale_id: int, key: bytes, sale: Any = None) -> None:
    """Encrypt the package key to the sale's one-time key and deliver it. `sale`: the snapshot the key was chosen
    from (its listing), so the buyer key named on chain is the same read: a reorg that re-numbers sales between two
    reads cannot deliver one listing's key to another listing's buyer (the contract checks the key id)."""
    from ape import chain

    s = sale if sale is not None else client.market.sale(sale_id)
    info = exchange.key_info(chain.chain_id, client.market.address, sale_id)
    ephemeral, enc = exchange.deliver_key(key, (int(s.buyerKeyX), int(s.buyerKeyY)), info)
    buyer = (int(s.buyerKeyX), int(s.buyerKeyY))
    send(client.market.deliver, sale_id, exchange.key_id(buyer), *ephemeral, enc, sender=seller)


@dataclass
class Fetched:
    sale_id: int
    outcome: str  # "ok", "disputed: wrong key", "disputed: bad package"
    original: Path | None
    rows: int


def fetch_licence(client: DataClient, buyer: Any, sale_id: int, package_file: Path | None, out: Path, state_dir: Path, *,
                  wait: float = 0.0, log: Log = _quiet) -> Fetched:
    """Decrypt a delivered licence: check the key and every row against the registered dataset, write the original
    file (byte for byte) to `out`; on a mismatch, dispute at once (refund) instead. `wait`: seconds to wait for
    the delivery."""
    import time

    from ape import chain

    m, reg = client.market, client.datasets
    record_path = state_dir / f"sale-{sale_id}.json"
    if not record_path.is_file():
        raise ApiaryCliError(f"no one-time key for sale #{sale_id} in {state_dir}: only the buyer's machine has it")
    record = json.loads(record_path.read_text())
    buyer_key = exchange.OneTimeKey(int(record["secret"], 16))
    if package_file is None:  # the package checked when buying
        package_file = Path(record["package"]) if record.get("package") else listing_package(
            client, int(m.sale(sale_id).listingId), state_dir, log=log)
    deadline = time.monotonic() + wait
    while True:
        state = SALE_STATES[int(m.saleState(sale_id))]
        if state != "paid" or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    if state == "paid":
        raise ApiaryCliError(f"sale #{sale_id} is not delivered yet (deadline {int(m.sale(sale_id).deliveryDeadline)}); "
                             "wait (--wait SECONDS) or refund after the deadline")
    if state == "expired":
        raise ApiaryCliError(f"sale #{sale_id} was not delivered in time: ape run data refund --sale {sale_id}")
    s = m.sale(sale_id)
    listing = m.listing(int(s.listingId))
    d = reg.dataset(int(listing.datasetId))
    if buyer_key.public != (int(s.buyerKeyX), int(s.buyerKeyY)):
        raise ApiaryCliError(f"{record_path} holds another key than sale #{sale_id} was bought with (a reset chain?)")
    package = exchange.read_package(package_file)
    # The listed package, checked again: a file swapped since the purchase (a re-download from the seller) would be
    # checked against its own leaves, say "ok" and let the dispute window pass.
    check = exchange.check_package(package, root=bytes(d.root), rows=int(d.rows), cipher_root=bytes(listing.cipherRoot),
                                   key_hash=bytes(listing.keyHash))
    if not check.ok:
        raise ApiaryCliError(f"{package_file} is not the package of listing #{int(s.listingId)} ("
                             + "; ".join(check.problems) + "): use the file you checked when buying; nothing sent")
    ephemeral = (int(s.ephemeralX), int(s.ephemeralY))
    key = exchange.open_key(buyer_key, ephemeral, bytes(s.encKey), exchange.key_info(chain.chain_id, m.address, sale_id))
    if keccak(key) != bytes(listing.keyHash):
        log("the delivered key is not the listed one: disputing")
        send(m.dispute, sale_id, exchange.evidence(package, buyer_key, ephemeral, None), sender=buyer)
        return Fetched(sale_id, "disputed: wrong key", None, 0)
    opened = exchange.open_package(package, key)
    if opened.bad_index is not None:
        log(f"row {opened.bad_index} of the package is not row {opened.bad_index} of the dataset: disputing")
        send(m.dispute, sale_id, exchange.evidence(package, buyer_key, ephemeral, opened.bad_index), sender=buyer)
        return Fetched(sale_id, "disputed: bad package", None, 0)
    if out.exists():
        raise ApiaryCliError(f"{out} exists: choose another --out (nothing is overwritten)")
    write_atomic(out, opened.original)
    try:
        same = merkle.commit_file(out).root == bytes(d.root)
    except Exception:  # noqa: BLE001 - an unreadable original is reported, the checked rows are still good
        same = False
    if not same:
        rows_path = out.with_name(out.name + ".rows.jsonl")
        write_atomic(rows_path, b"\n".join(opened.rows) + b"\n")
        log(f"warning: the original file in the package does not encode the registered rows; the {len(opened.rows)} "
            f"checked rows are in {rows_path}")
    return Fetched(sale_id, "ok", out, len(opened.rows))
