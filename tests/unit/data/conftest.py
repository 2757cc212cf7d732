"""Data-market fixtures: a device registry, a dataset registry staked in a mock USD, and committed datasets."""

from __future__ import annotations

import os

import pytest

from apiary.data import merkle, rows

DAY = 24 * 3600
SEAL_WINDOW = 4
STAKE = 100 * 10**18
MAX_STAKE = 10**24
MIN_DUPLICATE_ROWS = 3


def table(values: range | list, width: int = 3) -> merkle.Commitment:
    """A dataset whose rows are [v, v*2, 'r<v>'] for each v: rows of two tables overlap where their values do."""
    data = [rows.row_bytes([v, v * 2, f"r{v}"][:width]) for v in values]
    return merkle.commit_rows(iter(data), rows.Schema(["a", "b", "c"][:width], "test"))


@pytest.fixture(scope="module")
def devices(project, deployer, gov):
    return project.DeviceRegistry.deploy(gov, sender=deployer)


@pytest.fixture(scope="module")
def registry(project, deployer, gov, vault, usd, devices):
    return project.DatasetRegistry.deploy(gov, vault, usd, devices, SEAL_WINDOW, STAKE, MAX_STAKE, DAY,
                                          MIN_DUPLICATE_ROWS, sender=deployer)


@pytest.fixture(scope="module")
def funded(usd, registry, alice, bob, carol, attacker):
    for who in (alice, bob, carol, attacker):
        usd.mint(who, 10_000 * 10**18, sender=who)
        usd.approve(registry, 2**256 - 1, sender=who)
    return usd


@pytest.fixture(scope="module")
def register(registry, funded, chain):
    """commit → next block → register; returns the dataset id."""

    def do(who, c: merkle.Commitment, *, salt: bytes | None = None, uri: str = "ipfs://dataset", price_token=None,
           price: int = 0, reveal: bool = True):
        salt = salt or os.urandom(32)
        registry.commit(registry.seal(who, c.root, salt), sender=who)
        if not reveal:
            return salt
        return do_reveal(who, c, salt, uri=uri, price_token=price_token, price=price)

    def do_reveal(who, c, salt, *, uri="ipfs://dataset", price_token=None, price=0):
        token = price_token or "0x0000000000000000000000000000000000000000"
        registry.register((c.root, c.rows, c.schema_hash, uri, token, price), salt, sender=who)
        return registry.datasetIdOf(c.root)

    do.reveal = do_reveal
    return do


@pytest.fixture(scope="module")
def challenge(registry):
    """commit a duplicate challenge, then reveal it a block later with proofs from both commitments."""

    def do(who, later_id, earlier_id, later: merkle.Commitment, earlier: merkle.Commitment, hashes=None, *,
           salt=None, proofs_later=None, proofs_earlier=None, commit=True, reveal=True):
        hashes = hashes if hashes is not None else merkle.shared_rows(later, earlier, MIN_DUPLICATE_ROWS)
        salt = salt or os.urandom(32)
        if commit:
            registry.commitChallenge(registry.challengeCommitment(who, later_id, earlier_id, hashes, salt), sender=who)
        if not reveal:
            return None
        pl = proofs_later if proofs_later is not None else [later.proof(h) for h in hashes]
        pe = proofs_earlier if proofs_earlier is not None else [earlier.proof(h) for h in hashes]
        return registry.challengeDuplicate(later_id, earlier_id, hashes, pl, pe, salt, sender=who)

    return do
