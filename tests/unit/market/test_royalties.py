"""Provenance royalties: a model cites the datasets it was trained on (owned or licensed), and a share of every
bounty it wins goes to those datasets' owners through the settlement base."""

from __future__ import annotations

import os

import ape
import pytest
from eth_hash.auto import keccak

from apiary.data import exchange, merkle, rows

from .conftest import DAY, SEAL_WINDOW
from .test_bounties import submit

ZERO = "0x0000000000000000000000000000000000000000"
ROYALTY_BPS, CAP_BPS = 1_000, 2_000
REWARD = 1_000_000


@pytest.fixture
def data(project, deployer, gov, vault, usd):
    devices = project.DeviceRegistry.deploy(gov, sender=deployer)
    datasets = project.DatasetRegistry.deploy(gov, vault, usd, devices, SEAL_WINDOW, 10, 10**24, DAY, 1, sender=deployer)
    market = project.DataMarket.deploy(gov, vault, datasets, usd, 10, 10**24, sender=deployer)
    return datasets, market


@pytest.fixture
def provenance(project, deployer, gov, models, data):
    datasets, market = data
    return project.Provenance.deploy(gov, models, datasets, market, CAP_BPS, ROYALTY_BPS, sender=deployer)


@pytest.fixture
def bounties(project, deployer, verifiers, models, vault, provenance):
    return project.ModelBounties.deploy(verifiers, models, vault, provenance, sender=deployer)


def register_dataset(datasets, usd, who, values, chain):
    usd.mint(who, 10**20, sender=who)
    usd.approve(datasets, 2**256 - 1, sender=who)
    c = merkle.commit_rows(iter([rows.row_bytes([v]) for v in values]), rows.Schema(["v"], "t"))
    salt = os.urandom(32)
    datasets.commit(datasets.seal(who, c.root, salt), sender=who)
    datasets.register((c.root, c.rows, c.schema_hash, "u", usd.address, 1000), salt, sender=who)
    return datasets.datasetIdOf(c.root), c


def licence(tmp_path, datasets, market, usd, seller, buyer, dataset_id, values, chain):
    csv = tmp_path / f"d{dataset_id}.csv"
    csv.write_text("v\n" + "".join(f"{v}\n" for v in values))
    pkg, key = exchange.build_package(csv, tmp_path / f"d{dataset_id}.apkg")
    chain.mine(SEAL_WINDOW + 1)
    for who in (seller, buyer):
        usd.mint(who, 10**20, sender=who)
        usd.approve(market, 2**256 - 1, sender=who)
    listing = market.list(dataset_id, pkg.cipher_root, keccak(key), 3600, 3600, "u", sender=seller).events[-1].listingId
    buyer_key = exchange.OneTimeKey.new()
    sale_id = market.buy(listing, market.listing(listing).cipherRoot, usd, 1000, *buyer_key.public, buyer_key.sign(market.buyerKeyDigest(buyer, listing, market.listing(listing).cipherRoot)), sender=buyer).events[-1].saleId
    ephemeral, enc = exchange.deliver_key(key, buyer_key.public, exchange.key_info(chain.chain_id, market.address, sale_id))
    market.deliver(sale_id, exchange.key_id(buyer_key.public), *ephemeral, enc, sender=seller)
    chain.pending_timestamp += 3601
    past_challenges(chain, datasets, dataset_id)  # a sale settles once the dataset cannot be proven a copy
    market.settle(sale_id, sender=buyer)
    assert market.isLicensed(dataset_id, buyer)


def past_challenges(chain, datasets, dataset_id):
    chain.pending_timestamp = max(int(chain.pending_timestamp), int(datasets.releasableAt(dataset_id)))


def test_royalty__winning_model_pays_cited_dataset_owners(tmp_path, bounties, provenance, data, usd, open_bounty, proofs,
                                                        alice_model, alice, carol, whale, reward_token, vault, chain, gov):
    datasets, market = data
    own_id, _ = register_dataset(datasets, usd, alice, [1, 2, 3], chain)  # alice's own data
    bought_id, _ = register_dataset(datasets, usd, carol, [4, 5, 6], chain)  # carol's, licensed to alice
    with ape.reverts(provenance.ProvenanceNotLicensed, datasetId=bought_id, caller=alice):
        provenance.cite(alice_model, [own_id, bought_id], sender=alice)
    licence(tmp_path, datasets, market, usd, carol, alice, bought_id, [4, 5, 6], chain)
    provenance.cite(alice_model, [own_id, bought_id], sender=alice)
    provenance.setRoyaltyBps(CAP_BPS, sender=gov)  # later changes do not touch a citation's share
    with ape.reverts(provenance.ProvenanceAlreadyCited):
        provenance.cite(alice_model, [own_id], sender=alice)
    datasets.transferFrom(carol, whale, bought_id, sender=carol)  # royalties follow the dataset's owner

    bounty_id = open_bounty(threshold=12, amount=REWARD)
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 7), alice)
    receipt = submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 6), alice)
    part = REWARD * ROYALTY_BPS // 10_000 // 2
    fee_bps = vault.feeBps()
    net = part - (-(-part * fee_bps // 10_000))
    assert bounties.RoyaltyPaid(bountyId=bounty_id, datasetOwner=whale.address, net=net) in receipt.events
    winner_gross = REWARD - 2 * part
    assert bounties.owed(whale, reward_token) == net
    assert bounties.owed(alice, reward_token) == net + winner_gross - (-(-winner_gross * fee_bps // 10_000))
    assert bounties.locked(reward_token) == 0
    assert bounties.escrowed(reward_token) == bounties.totalOwed(reward_token) + bounties.feesPending(reward_token)


def test_royalty__duplicate_dataset_earns_nothing_its_part_stays_with_the_winner(bounties, provenance, data, usd, alice_model, alice, carol, chain):
    datasets, _ = data
    first_id, first = register_dataset(datasets, usd, alice, [1, 2, 3], chain)
    copy_id, copy = register_dataset(datasets, usd, alice, [3, 4], chain)  # shares row [3] with the first
    provenance.cite(alice_model, [first_id, copy_id], sender=alice)
    # neither can be paid while it can still be proven a copy: a copy cited early is never paid
    assert provenance.royaltiesOf(alice_model) == (0, [])
    shared = merkle.shared_rows(copy, first)
    salt = os.urandom(32)
    datasets.commitChallenge(datasets.challengeCommitment(carol, copy_id, first_id, shared, salt), sender=carol)
    datasets.challengeDuplicate(copy_id, first_id, shared, [copy.proof(h) for h in shared],
                                [first.proof(h) for h in shared], salt, sender=carol)
    past_challenges(chain, datasets, copy_id)
    # the duplicate's part stays with the winner: the share is halved, the other dataset's part unchanged
    assert provenance.royaltiesOf(alice_model) == (ROYALTY_BPS // 2, [alice.address])


def test_cite__only_the_model_owner_sorted_bounded(provenance, data, usd, alice_model, alice, attacker, chain, gov):
    datasets, _ = data
    a, _ = register_dataset(datasets, usd, alice, [1], chain)
    b, _ = register_dataset(datasets, usd, alice, [2], chain)
    with ape.reverts(provenance.ProvenanceNotModelOwner):
        provenance.cite(alice_model, [a], sender=attacker)
    for bad in ([], [b, a], [a, a], list(range(1, 10))):
        with ape.reverts():
            provenance.cite(alice_model, bad, sender=alice)
    with ape.reverts(provenance.ProvenanceRoyaltyAboveCap):
        provenance.setRoyaltyBps(CAP_BPS + 1, sender=gov)
    with ape.reverts(provenance.OwnableUnauthorizedAccount):
        provenance.setRoyaltyBps(1, sender=attacker)


def test_royalty__no_citation_pays_the_winner_in_full(bounties, open_bounty, proofs, alice_model, alice, reward_token):
    bounty_id = open_bounty(threshold=12, amount=REWARD)
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 7), alice)
    receipt = submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 6), alice)
    assert not list(receipt.events.filter(bounties.RoyaltyPaid))
    assert bounties.owed(alice, reward_token) == REWARD - 10_000


def test_cite__model_not_final__refused_so_a_copier_cannot_divert_the_real_owners_winnings(
        provenance, data, usd, models, circuit, proofs, attacker, chain):
    """Outside review H-1: a copier registers a commitment and cites its own datasets before the earlier seal
    reclaims the model; the citation would outlive the takeover. Citing waits until the model is final."""
    from apiary.sdk.market import register_model

    datasets, _market = data
    own_id, _ = register_dataset(datasets, usd, attacker, [7, 8, 9], chain)
    copy = register_model(models, attacker, circuit, proofs(0, "copied", 0).model, "ipfs://copy", wait_final=False)
    with ape.reverts(provenance.ProvenanceModelNotFinal, modelId=copy):
        provenance.cite(copy, [own_id], sender=attacker)
    chain.mine(SEAL_WINDOW + 1)
    provenance.cite(copy, [own_id], sender=attacker)  # final: nobody can take it over any more
    assert list(provenance.citation(copy).datasetIds) == [own_id]


def _bounty_with(project, deployer, verifiers, models, vault, provenance_address, reward_token, sponsor, circuit, chunks,
                 chain):
    from .conftest import TEST_DATA

    b = project.ModelBounties.deploy(verifiers, models, vault, provenance_address, sender=deployer)
    reward_token.approve(b, 2**256 - 1, sender=sponsor)
    b.createOpen((reward_token.address, REWARD, circuit, chunks, TEST_DATA, 12, 0, chain.pending_timestamp + 7 * DAY),
                 sender=sponsor)
    return b, b.bountyCount() - 1


def test_royalty__failing_provenance__winner_paid_in_full(project, deployer, verifiers, models, vault, reward_token,
                                                         sponsor, circuit, chunks, chain, proofs, alice_model, alice):
    down = project.RevertingProvenance.deploy(sender=deployer)
    b, bounty_id = _bounty_with(project, deployer, verifiers, models, vault, down, reward_token, sponsor, circuit, chunks,
                                chain)
    submit(b, bounty_id, alice_model, 0, proofs(0, "alice", 7), alice)
    submit(b, bounty_id, alice_model, 1, proofs(1, "alice", 6), alice)
    assert b.owed(alice, reward_token) == REWARD - 10_000


def test_royalty__lookup_starved_of_gas__reverts_instead_of_skipping(project, deployer, verifiers, models, vault,
                                                                    reward_token, sponsor, circuit, chunks, chain, proofs,
                                                                    alice_model, alice, attacker):
    """Outside review L-2: a caller who sends just enough gas for everything but the royalty lookup (the catch runs
    on the 1/64 left) must not skip the datasets' royalties."""
    burner = project.GasBurningProvenance.deploy(sender=deployer)
    b, bounty_id = _bounty_with(project, deployer, verifiers, models, vault, burner, reward_token, sponsor, circuit,
                                chunks, chain)
    submit(b, bounty_id, alice_model, 0, proofs(0, "alice", 7), alice)
    with ape.reverts(b.BountyRoyaltyOutOfGas):
        submit(b, bounty_id, alice_model, 1, proofs(1, "alice", 6), attacker)
    assert b.owed(alice, reward_token) == 0


def test_register__metadata_uri_is_bounded(data, usd, alice, chain):
    datasets, _ = data
    c = merkle.commit_rows(iter([rows.row_bytes([v]) for v in (1, 2)]), rows.Schema(["v"], "t"))
    salt = os.urandom(32)
    usd.mint(alice, 10**20, sender=alice)
    usd.approve(datasets, 2**256 - 1, sender=alice)
    datasets.commit(datasets.seal(alice, c.root, salt), sender=alice)
    with ape.reverts(datasets.DatasetRegistryUriTooLong, length=513, max=512):
        datasets.register((c.root, c.rows, c.schema_hash, "u" * 513, usd.address, 1000), salt, sender=alice)
    datasets.register((c.root, c.rows, c.schema_hash, "u" * 512, usd.address, 1000), salt, sender=alice)
