"""DataMarket: licences as a fair exchange, with real encryption, key delivery and one-step disputes.

Each dispute test checks the named outcome and the money: who is owed what, what the vault gets, what stays
locked (SECURITY.md: the buyer gets exactly what was registered or the money back).
"""

from __future__ import annotations

import json
import os

import ape
import pytest
from eth_hash.auto import keccak

from apiary.data import exchange, merkle

from .conftest import DAY, SEAL_WINDOW, STAKE

PRICE = 50 * 10**18
BOND = 200 * 10**18
HOUR = 3600


@pytest.fixture
def market(project, deployer, gov, vault, registry, usd, funded, alice, bob, carol, attacker):
    m = project.DataMarket.deploy(gov, vault, registry, usd, BOND, 10**24, sender=deployer)
    for who in (alice, bob, carol, attacker):
        usd.approve(m, 2**256 - 1, sender=who)
    return m


@pytest.fixture
def offer(tmp_path, register, registry, market, chain, alice, usd):
    """alice registers a 40-row CSV priced at PRICE, packages it, and lists it."""
    csv = tmp_path / "sales.csv"
    csv.write_text("day,region,units\n" + "".join(f"{d},r{d % 4},{d * 7 % 31}\n" for d in range(40)))
    c = merkle.commit_file(csv)
    dataset_id = register(alice, c, price_token=usd.address, price=PRICE)
    chain.mine(SEAL_WINDOW + 1)
    pkg, key = exchange.build_package(csv, tmp_path / "sales.apkg")
    listing_id = 1
    market.list(dataset_id, pkg.cipher_root, keccak(key), HOUR, DAY, "file://sales.apkg", sender=alice)
    return {"csv": csv, "commitment": c, "package": pkg, "key": key, "dataset": dataset_id, "listing": listing_id}


def past_challenges(chain, registry, dataset_id):
    """Move time past the dataset's duplicate challenges (and its reveal period): its sales may settle."""
    chain.pending_timestamp = max(int(chain.pending_timestamp), int(registry.releasableAt(dataset_id)))


def buy(market, offer, who, *, max_price=PRICE):
    buyer_key = exchange.OneTimeKey.new()
    tx = market.buy(offer["listing"], market.listing(offer["listing"]).cipherRoot, market.bondToken(), max_price, *buyer_key.public, buyer_key.sign(market.buyerKeyDigest(who, offer["listing"], market.listing(offer["listing"]).cipherRoot)), sender=who)
    return buyer_key, next(iter(tx.events.filter(market.Purchased))).saleId


def deliver(market, chain, sale_id, buyer_public, key, seller, *, tamper=False):
    info = exchange.key_info(chain.chain_id, market.address, sale_id)
    ephemeral, enc = exchange.deliver_key(key, buyer_public, info)
    if tamper:
        enc = bytes([enc[0] ^ 1]) + enc[1:]
    market.deliver(sale_id, exchange.key_id(buyer_public), *ephemeral, enc, sender=seller)
    return ephemeral


def test_sale__honest_delivery__buyer_decrypts_the_original_and_seller_is_paid(market, offer, registry, chain, vault,
                                                                                 alice, bob, usd):
    buyer_key, sale_id = buy(market, offer, bob)
    assert market.saleState(sale_id) == 1 and market.locked(usd) == PRICE + BOND
    ephemeral = deliver(market, chain, sale_id, buyer_key.public, offer["key"], alice)
    s = market.sale(sale_id)
    key = exchange.open_key(buyer_key, ephemeral, s.encKey, exchange.key_info(chain.chain_id, market.address, sale_id))
    opened = exchange.open_package(offer["package"], key)
    assert opened.bad_index is None and opened.original == offer["csv"].read_bytes()  # byte for byte
    with ape.reverts(market.DataMarketUnexpectedSaleState):
        market.settle(sale_id, sender=bob)  # dispute window still open
    chain.pending_timestamp += DAY + 1
    payable_at = registry.releasableAt(offer["dataset"])
    with ape.reverts(market.DataMarketDatasetContestable, datasetId=offer["dataset"], payableAt=payable_at):
        market.settle(sale_id, sender=bob)  # the dataset can still be proven a copy
    past_challenges(chain, registry, offer["dataset"])
    market.settle(sale_id, sender=bob)  # anyone settles
    fee = -(-PRICE * vault.feeBps() // 10_000)
    assert market.owed(alice, usd) == PRICE - fee and market.feesPending(usd) == fee
    assert market.saleState(sale_id) == 5
    with ape.reverts(market.DataMarketUnexpectedSaleState):
        market.settle(sale_id, sender=bob)


def test_dispute__wrong_key__refunded_and_bond_slashed(market, offer, chain, alice, bob, usd):
    buyer_key, sale_id = buy(market, offer, bob)
    ephemeral = deliver(market, chain, sale_id, buyer_key.public, offer["key"], alice, tamper=True)
    market.dispute(sale_id, exchange.evidence(offer["package"], buyer_key, ephemeral, None), sender=bob)
    assert market.owed(bob, usd) == PRICE + BOND // 2 and market.feesPending(usd) == BOND // 2
    listing = market.listing(offer["listing"])
    assert listing.closed and listing.fraud == 1 and listing.bondReleased and market.saleState(sale_id) == 6
    with ape.reverts(market.DataMarketUnexpectedSaleState):
        market.dispute(sale_id, exchange.evidence(offer["package"], buyer_key, ephemeral, None), sender=bob)
    with ape.reverts(market.DataMarketUnexpectedSaleState):
        market.refund(sale_id, sender=bob)
    assert market.owed(bob, usd) == PRICE + BOND // 2


def test_dispute__package_not_the_registered_rows__refunded_and_bond_slashed(tmp_path, market, register, registry,
                                                                             chain, alice, bob, carol, usd):
    """The seller registers one file and packages another (one row changed): piece i is not row i."""
    real = tmp_path / "real.csv"
    real.write_text("a,b\n" + "".join(f"{i},{i * i}\n" for i in range(20)))
    fake = tmp_path / "fake.csv"
    fake.write_text(real.read_text().replace("7,49", "7,48"))
    c = merkle.commit_file(real)
    dataset_id = register(alice, c, price_token=usd.address, price=PRICE)
    chain.mine(SEAL_WINDOW + 1)
    pkg, key = exchange.build_package(fake, tmp_path / "fake.apkg")
    # the seller publishes the real leaves so that the package passes the buyer's pre-purchase check of the tree
    assert not exchange.check_package(pkg, root=c.root, rows=c.rows, cipher_root=pkg.cipher_root, key_hash=keccak(key)).ok
    market.list(dataset_id, pkg.cipher_root, keccak(key), HOUR, DAY, "u", sender=alice)
    bob_key, carol_key = exchange.OneTimeKey.new(), exchange.OneTimeKey.new()
    market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *bob_key.public, bob_key.sign(market.buyerKeyDigest(bob, 1, market.listing(1).cipherRoot)), sender=bob)
    market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *carol_key.public, carol_key.sign(market.buyerKeyDigest(carol, 1, market.listing(1).cipherRoot)), sender=carol)
    ephemeral = deliver(market, chain, 1, bob_key.public, key, alice)
    opened = exchange.open_package(pkg, key)
    registered = exchange.Package(pkg.path, pkg.header, [bytes(x) for x in c.leaves], pkg.lengths, pkg.pieces_offset,
                                  pkg.original_offset)
    bad = next(i for i, m in enumerate(opened.rows) if merkle.leaf(keccak(m)) != registered.leaves[i])
    market.dispute(1, exchange.evidence(registered, bob_key, ephemeral, bad), sender=bob)
    assert market.listing(1).fraud == 2 and market.owed(bob, usd) == PRICE + BOND // 2
    # the package is bad for every buyer: carol, never delivered, is refunded at once; nothing settles
    market.refund(2, sender=carol)
    assert market.owed(carol, usd) == PRICE and market.locked(usd) == 0


def test_dispute__correct_delivery__buyer_loses_and_seller_is_paid(market, offer, registry, chain, alice, bob, usd):
    buyer_key, sale_id = buy(market, offer, bob)
    ephemeral = deliver(market, chain, sale_id, buyer_key.public, offer["key"], alice)
    for index in (0, 17, offer["package"].rows - 1):
        with ape.reverts(market.DataMarketDeliveryCorrect, saleId=sale_id):
            market.dispute(sale_id, exchange.evidence(offer["package"], buyer_key, ephemeral, index), sender=bob)
    with ape.reverts(market.DataMarketBadEvidence):  # a wrong-key claim about the right key: no piece, no case
        market.dispute(sale_id, exchange.evidence(offer["package"], buyer_key, ephemeral, None), sender=bob)
    chain.pending_timestamp += DAY + 1
    past_challenges(chain, registry, offer["dataset"])
    market.settle(sale_id, sender=alice)
    assert market.owed(bob, usd) == 0 and market.owed(alice, usd) > 0


def test_dispute__forged_evidence__rejected(market, offer, chain, alice, bob, attacker, usd):
    buyer_key, sale_id = buy(market, offer, bob)
    ephemeral = deliver(market, chain, sale_id, buyer_key.public, offer["key"], alice)
    good = list(exchange.evidence(offer["package"], buyer_key, ephemeral, 3))
    cases = []
    other = exchange.OneTimeKey.new()
    cases.append([other.secret] + good[1:])  # not the buyer's secret
    cases.append(good[:1] + [good[1] + 1] + good[2:])  # not secret·R
    piece = bytearray(good[4])
    piece[0] ^= 1
    cases.append(good[:4] + [bytes(piece)] + good[5:])  # a piece not in the package
    cases.append(good[:6] + [b"\x01" * 32] + good[7:])  # a leaf not in the registered tree
    cases.append(good[:3] + [4] + good[4:])  # index disagreeing with the proofs
    for case in cases:
        with ape.reverts(market.DataMarketBadEvidence):
            market.dispute(sale_id, tuple(case), sender=bob)
    with ape.reverts(market.DataMarketNotBuyer):
        market.dispute(sale_id, tuple(good), sender=attacker)
    assert market.owed(bob, usd) == 0 and market.listing(1).fraud == 0


def test_dispute__after_the_window__closed(market, offer, chain, alice, bob):
    buyer_key, sale_id = buy(market, offer, bob)
    ephemeral = deliver(market, chain, sale_id, buyer_key.public, offer["key"], alice, tamper=True)
    chain.pending_timestamp += DAY + 1
    with ape.reverts(market.DataMarketUnexpectedSaleState):
        market.dispute(sale_id, exchange.evidence(offer["package"], buyer_key, ephemeral, None), sender=bob)


def test_no_delivery__refund_after_deadline_once(market, offer, chain, alice, bob, usd):
    buyer_key, sale_id = buy(market, offer, bob)
    with ape.reverts(market.DataMarketUnexpectedSaleState):
        market.refund(sale_id, sender=bob)
    chain.pending_timestamp += HOUR + 1
    with ape.reverts(market.DataMarketUnexpectedSaleState):
        deliver(market, chain, sale_id, buyer_key.public, offer["key"], alice)
    market.refund(sale_id, sender=alice)  # anyone may trigger it; the buyer is credited
    assert market.owed(bob, usd) == PRICE
    with ape.reverts(market.DataMarketUnexpectedSaleState):
        market.refund(sale_id, sender=bob)
    assert market.owed(bob, usd) == PRICE


def test_delivery__by_a_non_seller__rejected(market, offer, chain, bob, attacker):
    buyer_key, sale_id = buy(market, offer, bob)
    with ape.reverts(market.DataMarketNotSeller):
        deliver(market, chain, sale_id, buyer_key.public, offer["key"], attacker)


def test_buy__price_or_token_changed_between_quote_and_purchase__rejected(market, offer, registry, project, deployer,
                                                                          alice, bob, usd):
    registry.setLicenceTerms(offer["dataset"], usd, PRICE + 1, sender=alice)
    key = exchange.OneTimeKey.new()
    with ape.reverts(market.DataMarketTermsChanged):
        market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *key.public, key.sign(market.buyerKeyDigest(bob, 1, market.listing(1).cipherRoot)), sender=bob)
    other = project.MockERC20.deploy("Other", "OTH", sender=deployer)
    registry.setLicenceTerms(offer["dataset"], other, PRICE, sender=alice)
    with ape.reverts(market.DataMarketTermsChanged):
        market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *key.public, key.sign(market.buyerKeyDigest(bob, 1, market.listing(1).cipherRoot)), sender=bob)
    assert market.locked(usd) == BOND


def test_buy__names_the_package__another_listing_under_the_same_id_is_refused(market, offer, bob, usd):
    """A reorg that re-orders two listings gives this id to the other one: the buyer named the package it
    checked (its cipher root), so nothing is sold."""
    key = exchange.OneTimeKey.new()
    wrong = b"\x13" * 32
    with ape.reverts(market.DataMarketWrongListing, listingId=1, cipherRoot=market.listing(1).cipherRoot,
                     expectedCipherRoot=wrong):
        market.buy(1, wrong, usd, PRICE, *key.public, key.sign(market.buyerKeyDigest(bob, 1, wrong)), sender=bob)
    assert market.locked(usd) == BOND


def test_buy__bad_key_self_purchase_closed_listing__rejected(market, offer, alice, bob, usd):
    with ape.reverts(market.DataMarketBadKey):
        market.buy(1, market.listing(1).cipherRoot, usd, PRICE, 1, 2, b"", sender=bob)
    key = exchange.OneTimeKey.new()
    with ape.reverts(market.DataMarketNotBuyer):
        market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *key.public, key.sign(market.buyerKeyDigest(alice, 1, market.listing(1).cipherRoot)), sender=alice)
    market.closeListing(1, sender=alice)
    with ape.reverts(market.DataMarketListingClosed):
        market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *key.public, key.sign(market.buyerKeyDigest(bob, 1, market.listing(1).cipherRoot)), sender=bob)


def test_listing__only_final_owned_datasets_and_bond_released_after_sales(tmp_path, market, offer, register, chain,
                                                                         registry, alice, bob, usd):
    c = merkle.commit_rows(iter([b"[1]", b"[2]"]), offer["commitment"].schema)
    new_id = register(alice, c, price_token=usd.address, price=1)
    with ape.reverts(market.DataMarketDatasetNotSellable):  # still contestable by an earlier seal
        market.list(new_id, b"\x01" * 32, b"\x02" * 32, HOUR, DAY, "u", sender=alice)
    with ape.reverts(market.DataMarketNotSeller):
        market.list(offer["dataset"], b"\x01" * 32, b"\x02" * 32, HOUR, DAY, "u", sender=bob)
    with ape.reverts(market.DataMarketWindowOutOfBounds):
        market.list(offer["dataset"], b"\x01" * 32, b"\x02" * 32, 1, DAY, "u", sender=alice)
    buyer_key, sale_id = buy(market, offer, bob)
    market.closeListing(1, sender=alice)
    with ape.reverts(market.DataMarketBondLocked):
        market.releaseBond(1, sender=alice)  # a sale is open
    deliver(market, chain, sale_id, buyer_key.public, offer["key"], alice)
    chain.pending_timestamp += DAY + 1
    past_challenges(chain, registry, offer["dataset"])
    market.settle(sale_id, sender=bob)
    market.releaseBond(1, sender=alice)
    with ape.reverts(market.DataMarketBondLocked):
        market.releaseBond(1, sender=alice)
    assert market.locked(usd) == 0


def test_package__checks_a_buyer_makes_before_paying(offer, tmp_path):
    pkg, c, key = offer["package"], offer["commitment"], offer["key"]
    assert exchange.check_package(pkg, root=c.root, rows=c.rows, cipher_root=pkg.cipher_root, key_hash=keccak(key)).ok
    wrong = exchange.check_package(pkg, root=b"\x00" * 32, rows=c.rows + 1, cipher_root=b"\x01" * 32, key_hash=b"\x02" * 32)
    assert not wrong.ok and len(wrong.problems) == 4
    with pytest.raises(exchange.DataError, match="never overwritten"):
        exchange.build_package(offer["csv"], pkg.path)
    (tmp_path / "junk.apkg").write_bytes(b"APKG0001\x00\x00\x00\x05{bad")
    with pytest.raises(exchange.DataError, match="not a readable Apiary package"):
        exchange.read_package(tmp_path / "junk.apkg")
    # second review I-1: headers of the wrong shape are one clear error, never a traceback
    for header, message in (([1, 2], "integer row count"), ({"rows": 1.5, "key_hash": "0x" + "00" * 32}, "integer row"),
                            ({"rows": True, "key_hash": "0x" + "00" * 32}, "integer row"),
                            ({"rows": 2, "key_hash": 7}, "no key hash"), ({"rows": 2, "key_hash": "0xzz"}, "no key hash"),
                            ({"rows": 2, "key_hash": "0x" + "g" * 64}, "no key hash")):
        body = json.dumps(header).encode()
        (tmp_path / "odd.apkg").write_bytes(b"APKG0001" + len(body).to_bytes(4, "big") + body)
        with pytest.raises(exchange.DataError, match=message):
            exchange.read_package(tmp_path / "odd.apkg")


def test_buy__dataset_sold_on__the_old_listing_sells_nothing(market, offer, registry, chain, alice, bob, carol, usd):
    key = exchange.OneTimeKey.new()
    chain.mine(SEAL_WINDOW + 1)
    registry.transferFrom(alice, carol, offer["dataset"], sender=alice)  # the lister no longer owns the dataset
    with ape.reverts(market.DataMarketListingClosed):
        market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *key.public, key.sign(market.buyerKeyDigest(bob, 1, market.listing(1).cipherRoot)), sender=bob)
    assert market.locked(usd) == BOND


def test_dispute__package_missing_a_piece__refunded(tmp_path, market, register, registry, chain, alice, bob, usd):
    """A package one piece short (its cipher tree has an empty leaf where the dataset has a row)."""
    csv = tmp_path / "s.csv"
    csv.write_text("a\n" + "".join(f"{i}\n" for i in range(7)))
    c = merkle.commit_file(csv)
    dataset_id = register(alice, c, price_token=usd.address, price=PRICE)
    chain.mine(SEAL_WINDOW + 1)
    pkg, key = exchange.build_package(csv, tmp_path / "s.apkg")
    short = pkg.cipher_leaves()[:-1] + [merkle.EMPTY]
    market.list(dataset_id, merkle.root_of(short), keccak(key), HOUR, DAY, "u", sender=alice)
    buyer_key = exchange.OneTimeKey.new()
    market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *buyer_key.public, buyer_key.sign(market.buyerKeyDigest(bob, 1, market.listing(1).cipherRoot)), sender=bob)
    ephemeral = deliver(market, chain, 1, buyer_key.public, key, alice)
    shared = buyer_key.shared(ephemeral)
    last = c.rows - 1
    evidence = (buyer_key.secret, shared[0], shared[1], last, b"", (last, merkle.proof_at(short, last)),
                bytes(c.leaves[last]), (last, c.proof_at(last)))
    market.dispute(1, evidence, sender=bob)
    assert market.listing(1).fraud == 2 and market.owed(bob, usd) == PRICE + BOND // 2


def test_list__dataset_flagged_duplicate__not_sellable(tmp_path, market, offer, register, challenge, chain, bob, carol):
    lines = offer["csv"].read_text().splitlines()
    copy_csv = tmp_path / "copy.csv"
    copy_csv.write_text("\n".join(lines[:6]) + "\n")  # the header and five of alice's rows
    c = merkle.commit_file(copy_csv)
    copy_id = register(bob, c)
    challenge(carol, copy_id, offer["dataset"], c, offer["commitment"])
    chain.mine(SEAL_WINDOW + 1)
    with ape.reverts(market.DataMarketDatasetNotSellable, datasetId=copy_id):
        market.list(copy_id, b"\x01" * 32, b"\x02" * 32, HOUR, DAY, "u", sender=bob)


def test_sale__dataset_proven_duplicate_after_the_purchase__refunded_never_paid(tmp_path, market, offer, register,
                                                                                 registry, challenge, chain, alice,
                                                                                 bob, carol, attacker, usd):
    """SECURITY.md: an item proven bad after it was sold (a duplicate dataset) is never paid for sales not yet
    settled. Found by the whole-protocol state machine (tests/invariants/test_protocol_stateful.py): a copier's
    sale settled and paid the copier after its dataset was proven a duplicate, and the buyer could not refund."""
    lines = offer["csv"].read_text().splitlines()
    copy_csv = tmp_path / "copy.csv"
    copy_csv.write_text("\n".join(lines[:8]) + "\n")  # the header and seven of alice's rows, priced by bob
    copied = merkle.commit_file(copy_csv)
    copy_id = register(bob, copied, price_token=usd.address, price=PRICE)
    chain.mine(SEAL_WINDOW + 1)
    pkg, key = exchange.build_package(copy_csv, tmp_path / "copy.apkg")
    market.list(copy_id, pkg.cipher_root, keccak(key), HOUR, DAY, "u", sender=bob)
    copy_offer = {"listing": 2}
    delivered_key, delivered = buy(market, copy_offer, carol)
    deliver(market, chain, delivered, delivered_key.public, key, bob)
    waiting_key, waiting = buy(market, copy_offer, alice)
    challenge(attacker, copy_id, offer["dataset"], copied, offer["commitment"])
    assert registry.isDuplicate(copy_id)

    with ape.reverts(market.DataMarketDatasetNotSellable, datasetId=copy_id):
        deliver(market, chain, waiting, waiting_key.public, key, bob)
    chain.pending_timestamp += DAY + 1  # both windows over: the delivered sale would be settleable
    with ape.reverts(market.DataMarketDatasetNotSellable, datasetId=copy_id):
        market.settle(delivered, sender=bob)
    market.refund(delivered, sender=attacker)  # anyone may: the buyers are credited
    market.refund(waiting, sender=attacker)
    assert market.owed(carol, usd) == PRICE and market.owed(alice, usd) == PRICE
    assert market.owed(bob, usd) == 0 and market.feesPending(usd) == 0
    assert market.saleState(delivered) == market.saleState(waiting) == 6
    assert not market.isLicensed(copy_id, carol)
    assert market.locked(usd) == 2 * BOND  # the two listings' bonds, nothing of the sales
    with ape.reverts(market.DataMarketUnexpectedSaleState, saleId=delivered, current=6):
        market.refund(delivered, sender=carol)


def test_copy_sold_during_its_challenge_window__keeps_no_money(tmp_path, market, offer, register, registry, challenge,
                                                               chain, alice, bob, carol, attacker, usd):
    """Attack (issue 20, 4): a copier lists its copy once final and sells three licences, delivers them, and waits
    out the dispute windows before anyone proves the copy (before: 148.5 paid, the 100 stake lost, the 200 bond
    back, net +48.5). No sale settles while the dataset can still be proven a duplicate, so every buyer is
    refunded once it is: the copier's net is minus its stake, the listing bond back, in whatever order."""
    lines = offer["csv"].read_text().splitlines()
    copy_csv = tmp_path / "copy.csv"
    copy_csv.write_text("\n".join(lines[:8]) + "\n")  # seven of alice's rows
    copied = merkle.commit_file(copy_csv)
    before = usd.balanceOf(bob)
    copy_id = register(bob, copied, price_token=usd.address, price=PRICE)
    chain.mine(SEAL_WINDOW + 1)
    pkg, key = exchange.build_package(copy_csv, tmp_path / "copy.apkg")
    market.list(copy_id, pkg.cipher_root, keccak(key), HOUR, DAY, "u", sender=bob)
    sales = []
    for buyer in (carol, alice, attacker):
        buyer_key, sale_id = buy(market, {"listing": 2}, buyer)
        deliver(market, chain, sale_id, buyer_key.public, key, bob)
        sales.append((buyer, sale_id))
    salt = os.urandom(32)
    challenge(carol, copy_id, offer["dataset"], copied, offer["commitment"], salt=salt, reveal=False)  # in the window
    chain.pending_timestamp += DAY + 1  # every dispute window is over; the challenge's reveal period is not
    for _, sale_id in sales:
        assert market.saleState(sale_id) == 3
        with ape.reverts(market.DataMarketDatasetContestable, datasetId=copy_id,
                         payableAt=registry.releasableAt(copy_id)):
            market.settle(sale_id, sender=bob)
    challenge(carol, copy_id, offer["dataset"], copied, offer["commitment"], salt=salt, commit=False)  # proven late
    for buyer, sale_id in sales:
        market.refund(sale_id, sender=buyer)
        assert market.owed(buyer, usd) == PRICE
    market.closeListing(2, sender=bob)
    market.releaseBond(2, sender=bob)
    market.withdraw(usd, sender=bob)
    assert market.owed(bob, usd) == 0 and not any(market.isLicensed(copy_id, b) for b, _ in sales)
    assert usd.balanceOf(bob) == before - STAKE  # the listing bond came back; the stake did not


# x = N is on secp256k1 (about 2^128 points have N ≤ x < P): ecrecover cannot take such a key, so a delivery
# with one could never be disputed (outside review, C-1). Both the market and the tooling refuse them.
HIGH_X = exchange.N
HIGH_Y = 0x98F66641CB0AE1776B463EBDEE3D77FE2658F021DB48E2C8AC7AB4C92F83621E


def test_delivery__ephemeral_key_beyond_ecrecover_range__rejected_so_every_delivery_stays_disputable(
        market, offer, chain, alice, bob, usd):
    assert exchange.on_curve(HIGH_X, HIGH_Y) and not exchange.usable_key(HIGH_X, HIGH_Y)
    buyer_key, sale_id = buy(market, offer, bob)
    with ape.reverts(market.DataMarketBadKey):
        market.deliver(sale_id, exchange.key_id(buyer_key.public), HIGH_X, HIGH_Y, b"\x13" * 32, sender=alice)
    with ape.reverts(market.DataMarketBadKey):  # nor as the buyer's key
        market.buy(1, market.listing(1).cipherRoot, usd, PRICE, HIGH_X, HIGH_Y, b"", sender=bob)
    assert market.saleState(sale_id) == 1 and market.locked(usd) == BOND + PRICE
    info = exchange.key_info(chain.chain_id, market.address, sale_id)
    with pytest.raises(exchange.DataError, match="0 < x < N"):
        exchange.open_key(buyer_key, (HIGH_X, HIGH_Y), b"\x13" * 32, info)
    with pytest.raises(exchange.DataError, match="0 < x < N"):
        exchange.deliver_key(offer["key"], (HIGH_X, HIGH_Y), info)


def test_buy__one_time_key_used_again__rejected(market, offer, bob, carol, usd):
    key = exchange.OneTimeKey.new()
    market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *key.public, key.sign(market.buyerKeyDigest(bob, 1, market.listing(1).cipherRoot)), sender=bob)
    for buyer in (bob, carol):
        with ape.reverts(market.DataMarketKeyReused):
            market.buy(1, market.listing(1).cipherRoot, usd, PRICE, *key.public, key.sign(market.buyerKeyDigest(buyer, 1, market.listing(1).cipherRoot)), sender=buyer)


def test_delivery__for_another_buyer_key__rejected(market, offer, chain, alice, bob, carol):
    """Outside review M-2: a reorg that re-orders two purchases of one listing swaps their sale ids; a delivery
    re-included unchanged names the key it was made for and reverts, instead of handing the buyer a key it can
    "prove" wrong (slashing an honest seller)."""
    key_b, sale_b = buy(market, offer, bob)
    key_c, sale_c = buy(market, offer, carol)
    info = exchange.key_info(chain.chain_id, market.address, sale_b)
    ephemeral, enc = exchange.deliver_key(offer["key"], key_c.public, info)  # made for carol's key
    with ape.reverts(market.DataMarketWrongBuyerKey):
        market.deliver(sale_b, exchange.key_id(key_c.public), *ephemeral, enc, sender=alice)
    assert market.saleState(sale_b) == 1


# ---------------------------------------------------------------- second outside review


def test_review2_m3__a_buyer_key_copied_from_the_mempool__cannot_be_used_first(market, offer, bob, attacker, usd):
    """The attacker copies bob's pending (x, y) and its signature: without bob's secret it cannot sign for itself,
    and bob's signature names bob. Bob's purchase goes through."""
    key = exchange.OneTimeKey.new()
    root = market.listing(1).cipherRoot
    bobs = key.sign(market.buyerKeyDigest(bob, 1, root))
    with ape.reverts(market.DataMarketBadKeySignature):
        market.buy(1, root, usd, PRICE, *key.public, bobs, sender=attacker)  # bob's signature names bob
    own = exchange.OneTimeKey.new()
    with ape.reverts(market.DataMarketBadKeySignature):  # signed by another key
        market.buy(1, root, usd, PRICE, *key.public, own.sign(market.buyerKeyDigest(attacker, 1, root)), sender=attacker)
    with ape.reverts(market.DataMarketBadKeySignature):  # for another listing's package
        market.buy(1, root, usd, PRICE, *key.public, key.sign(market.buyerKeyDigest(bob, 1, b"\x01" * 32)), sender=bob)
    with ape.reverts(market.DataMarketBadKeySignature):  # malformed
        market.buy(1, root, usd, PRICE, *key.public, bobs[:64], sender=bob)
    market.buy(1, root, usd, PRICE, *key.public, bobs, sender=bob)
    assert market.sale(1).buyer == bob.address


def test_review2_l5__package_uri_bounded(market, offer, register, chain, alice, usd):
    c = merkle.commit_rows(iter([b"[7]", b"[8]"]), offer["commitment"].schema)
    dataset_id = register(alice, c, price_token=usd.address, price=1)
    chain.mine(SEAL_WINDOW + 1)
    with ape.reverts(market.DataMarketUriTooLong):
        market.list(dataset_id, b"\x01" * 32, b"\x02" * 32, HOUR, DAY, "x" * 513, sender=alice)
    market.list(dataset_id, b"\x01" * 32, b"\x02" * 32, HOUR, DAY, "x" * 512, sender=alice)


def test_review2_l1__fetch_with_a_swapped_package__refused_nothing_sent_the_dispute_stays_open(
        market, offer, registry, chain, tmp_path, alice, bob):
    """After the purchase the seller serves another package under the same key (its leaves match its own garbage
    rows): `fetch` checks it against the listing again and refuses instead of saying "ok"."""
    from apiary.sdk import data as sdk

    client = sdk.DataClient(registry, market, None)
    sale_id = sdk.buy_licence(client, bob, 1, offer["package"].path, "100", tmp_path / "bob")
    deliver(market, chain, sale_id, (int(market.sale(sale_id).buyerKeyX), int(market.sale(sale_id).buyerKeyY)),
            offer["key"], alice)
    junk = tmp_path / "junk.csv"
    junk.write_text("day,region,units\n" + "".join(f"{d},zz,{d}\n" for d in range(40)))
    swapped, _ = exchange.build_package(junk, tmp_path / "swapped.apkg", key=offer["key"])
    nonce = bob.nonce
    with pytest.raises(sdk.ApiaryCliError, match="is not the package of listing #1"):
        sdk.fetch_licence(client, bob, sale_id, swapped.path, tmp_path / "out.csv", tmp_path / "bob")
    assert bob.nonce == nonce and sdk.SALE_STATES[int(market.saleState(sale_id))] == "delivered"
    good = sdk.fetch_licence(client, bob, sale_id, offer["package"].path, tmp_path / "out.csv", tmp_path / "bob")
    assert good.outcome == "ok"


def test_review2_m4__buyer_refuses_a_dispute_window_shorter_than_asked(market, offer, registry, tmp_path, bob):
    from apiary.sdk import data as sdk

    client = sdk.DataClient(registry, market, None)
    nonce = bob.nonce
    with pytest.raises(sdk.ApiaryCliError, match="gives buyers 24 h to check a delivery.*at least 48 h"):
        sdk.buy_licence(client, bob, 1, offer["package"].path, "100", tmp_path / "bob", min_dispute_hours=48)
    assert bob.nonce == nonce
    assert sdk.buy_licence(client, bob, 1, offer["package"].path, "100", tmp_path / "bob") == 1  # 24 h is the default
