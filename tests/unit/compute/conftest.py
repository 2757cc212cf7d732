"""Compute-market fixtures: a verifier registry with an evaluation circuit and its inference twin (mock
verifiers), a registered final model, a stake token, a payment token and the market owned by `gov`."""

from __future__ import annotations

import os

import pytest
from eth_utils import keccak

from apiary.sdk.market import register_model

EVAL, INFER = "mock-n8", "mock-infer"
OUTPUTS = 3
SEAL_WINDOW = 4
ONE = 10**18
HOUR, DAY = 3_600, 86_400
MAX_AMOUNT = 10**30
# (minStake, minCollateral, challengeBond, unbonding, challengeWindow, responseWindow, auditBps, challengerBps,
#  requesterBps)
PARAMS = (100 * ONE, 50 * ONE, 20 * ONE, DAY, HOUR, HOUR, 0, 5_000, 3_000)
PRICE, COLLATERAL = 40 * ONE, 60 * ONE
FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617


def weights_point(seed: bytes) -> bytes:
    return keccak(b"w" + seed) * 2


def input_point(seed: bytes) -> bytes:
    return keccak(b"x" + seed) * 2


class FakeProof:
    """Bytes shaped like an inference proof: the input point, the weights point, then filler the mock ignores."""

    def __init__(self, input_seed: bytes, model_seed: bytes):
        self.proof = input_point(input_seed) + weights_point(model_seed) + os.urandom(256)


def input_commitment(seed: bytes) -> bytes:
    return keccak(input_point(seed))


def commitment(job_id: int, challenger, salt: bytes) -> bytes:
    """keccak256(abi.encode(jobId, challenger, salt)): a challenge bound to its author (ComputeMarket)."""
    from eth_abi import encode

    return keccak(encode(["uint256", "address", "bytes32"], [job_id, str(challenger), salt]))


def challenge(compute, job_id: int, who, *, salt: bytes = b"\x5a" * 32, bond: int | None = None):
    """Commit a challenge of `job_id` (one transaction: one block), then reveal it (the next block)."""
    compute.commitChallenge(commitment(job_id, who, salt), PARAMS[2] if bond is None else bond, sender=who)
    return compute.challenge(job_id, salt, sender=who)


@pytest.fixture(scope="module")
def infer_verifier(project, deployer):
    return project.MockHalo2Verifier.deploy(sender=deployer)


@pytest.fixture(scope="module")
def verifiers(project, deployer, gov, infer_verifier):
    registry = project.VerifierRegistry.deploy(gov, sender=deployer)
    registry.register(EVAL, project.MockHalo2Verifier.deploy(sender=deployer), b"\x11" * 32, 8, 0, sender=gov)
    registry.register(INFER, infer_verifier, b"\x22" * 32, OUTPUTS, 2, sender=gov)
    return registry


@pytest.fixture(scope="module")
def models(project, deployer, verifiers):
    return project.ModelRegistry.deploy(verifiers, SEAL_WINDOW, sender=deployer)


@pytest.fixture(scope="module")
def model_id(models, verifiers, alice):
    return register_model(models, alice, verifiers.circuitId(EVAL), keccak(weights_point(b"m")))


@pytest.fixture(scope="module")
def apy(project, deployer):
    return project.MockERC20.deploy("Stake", "APY", sender=deployer)


@pytest.fixture(scope="module")
def compute(project, deployer, gov, vault, verifiers, models, apy):
    market = project.ComputeMarket.deploy(gov, vault, verifiers, models, apy, MAX_AMOUNT, PARAMS, sender=deployer)
    market.setInferenceCircuit(verifiers.circuitId(EVAL), verifiers.circuitId(INFER), sender=gov)
    return market


@pytest.fixture(scope="module")
def requester(accounts):
    return accounts[7]


@pytest.fixture(scope="module")
def providers(accounts):
    return [accounts[8], accounts[9]]


@pytest.fixture(scope="module")
def funded(compute, apy, usd, requester, providers, carol, attacker, bob):
    """Everyone holds both tokens and has approved the market; each provider staked 500."""
    for who in (requester, *providers, carol, attacker, bob):
        for t in (apy, usd):
            t.mint(who, 10**24, sender=who)
            t.approve(compute, 2**256 - 1, sender=who)
    for p in providers:
        compute.stake(500 * ONE, sender=p)
    return compute


@pytest.fixture(scope="module")
def post(funded, usd, model_id, chain, requester):
    def do(mode=0, *, seed=b"in", price=PRICE, collateral=COLLATERAL, deadline=None, provider=None, sender=None,
           model=None, audit_seed=None):
        deadline = deadline or chain.pending_timestamp + DAY
        req = (model if model is not None else model_id, input_commitment(seed), "ipfs://input", usd, price, collateral,
               deadline, mode, provider or "0x0000000000000000000000000000000000000000",
               keccak(audit_seed) if audit_seed is not None else bytes(32))
        funded.postJob(req, sender=sender or requester)
        return int(funded.totalJobs())

    return do
