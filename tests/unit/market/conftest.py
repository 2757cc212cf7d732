"""Market fixtures with a mock verifier: bounty logic without proving (real proofs: tests/integration)."""

from __future__ import annotations

import os

import pytest
from eth_utils import keccak

from apiary.sdk.market import register_model

SAMPLES = 8
CIRCUIT = "mock-n8"
DAY = 24 * 3600
SEAL_WINDOW = 4  # ModelRegistry.MIN_SEAL_WINDOW: registrations become final within a few mined blocks
TEST_DATA = b"APYT encoded test chunks (opaque to the contracts)"


class FakeProof:
    """Bytes shaped like an evaluation proof: three 64-byte points, then filler the mock verifier ignores."""

    def __init__(self, chunk_seed: bytes, model_seed: bytes, score: int):
        self.points = keccak(b"x" + chunk_seed) * 2 + keccak(b"y" + chunk_seed) * 2 + keccak(b"w" + model_seed) * 2
        self.proof = self.points + os.urandom(320)
        self.instances = [score]

    @property
    def chunk(self) -> bytes:
        return keccak(self.points[:128])

    @property
    def model(self) -> bytes:
        return keccak(self.points[128:192])


@pytest.fixture(scope="module")
def mock_verifier(project, deployer):
    return project.MockHalo2Verifier.deploy(sender=deployer)


@pytest.fixture(scope="module")
def verifiers(project, deployer, gov, mock_verifier):
    registry = project.VerifierRegistry.deploy(gov, sender=deployer)
    registry.register(CIRCUIT, mock_verifier, b"\x11" * 32, SAMPLES, 0, sender=gov)
    return registry


@pytest.fixture(scope="module")
def circuit(verifiers):
    return verifiers.circuitId(CIRCUIT)


@pytest.fixture(scope="module")
def models(project, deployer, verifiers):
    return project.ModelRegistry.deploy(verifiers, SEAL_WINDOW, sender=deployer)


@pytest.fixture(scope="module")
def bounties(project, deployer, verifiers, models, vault):
    return project.ModelBounties.deploy(verifiers, models, vault, "0x0000000000000000000000000000000000000000", sender=deployer)


@pytest.fixture(scope="module")
def sponsor(accounts):
    return accounts[7]


@pytest.fixture
def reward_token(usd, sponsor, bounties):
    usd.mint(sponsor, 10**24, sender=sponsor)
    usd.approve(bounties, 2**256 - 1, sender=sponsor)
    return usd


@pytest.fixture(scope="module")
def sponsor_token(project, sponsor, bounties):
    """A (possibly hostile) test token of `kind`, `amount` minted to the sponsor and approved to the bounties."""

    def create(kind: str, amount: int, *args):
        token = getattr(project, kind).deploy(*args, sender=sponsor)
        token.mint(sponsor, amount, sender=sponsor)
        token.approve(bounties, amount, sender=sponsor)
        return token

    return create


@pytest.fixture(scope="module")
def proofs():
    def make(chunk: int, model: str, score: int) -> FakeProof:
        return FakeProof(f"chunk{chunk}".encode(), model.encode(), score)

    return make


@pytest.fixture(scope="module")
def chunks(proofs):
    return [proofs(i, "any", 0).chunk for i in range(2)]


@pytest.fixture
def alice_model(models, alice, circuit, proofs):
    return register_model(models, alice, circuit, proofs(0, "alice", 0).model, "ipfs://alice")


@pytest.fixture
def bob_model(models, bob, circuit, proofs):
    return register_model(models, bob, circuit, proofs(0, "bob", 0).model, "ipfs://bob")


@pytest.fixture
def open_bounty(bounties, reward_token, sponsor, circuit, chunks, chain):
    def create(threshold=12, amount=1_000_000, deadline=None, direction=0, chunk_list=None, data=TEST_DATA):
        params = (reward_token.address, amount, circuit, chunk_list or chunks, data, threshold, direction,
                  deadline or chain.pending_timestamp + 7 * DAY)
        bounties.createOpen(params, sender=sponsor)
        return bounties.bountyCount() - 1

    return create


@pytest.fixture
def sealed_bounty(bounties, reward_token, sponsor, circuit, chunks, chain):
    salt = b"\x42" * 32

    def create(threshold=10, amount=1_000_000, direction=0, data=TEST_DATA):
        now = chain.pending_timestamp
        commitment = bounties.testSetCommitment(chunks, keccak(data), salt)
        params = (reward_token.address, amount, circuit, commitment, len(chunks), threshold, direction,
                  now + 1 * DAY, now + 2 * DAY, now + 3 * DAY)
        bounties.createSealed(params, sender=sponsor)
        return bounties.bountyCount() - 1

    create.salt = salt
    create.data = TEST_DATA
    return create
