"""A digits-8×8 model bounty, end to end with real proofs: the demo's second act and the integration tests' core.

Two submitters train different MLPs; the sponsor registers the circuit's verifier through governance, creates a
bounty over a test set of two 64-sample chunks, and the submitters register, commit, prove and submit. Proofs
are cached under build/demo/<circuit>/ by (model commitment, chunk commitment), like the CLI's: they depend only
on the model and the data, not on the chain, so a rerun (or the other chain in the tests) reuses them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..deploy.deploy import CoreDeployment
from ..deploy.market import MarketDeployment, register_circuit_by_governance
from ..sdk.bounties import cached_or_new_proof
from ..sdk.market import circuit_id, leaderboard, register_model
from ..zk import evm, models, pipeline, testdata

CIRCUIT = "digits-mlp16-n64"
CHUNKS = 2
DAY = 24 * 3600
CACHE = pipeline.BUILD_DIR / "demo"


@dataclass
class Contestant:
    name: str
    account: Any
    model: models.QuantisedModel
    commitment: bytes = b""
    model_id: int = 0
    proofs: list[pipeline.ProofBundle] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(p.score for p in self.proofs)


@dataclass
class Scenario:
    circuit: pipeline.Circuit
    chunks: list[tuple]
    chunk_commitments: list[bytes]
    contestants: list[Contestant]
    test_data: bytes = b""  # the encoded chunks a bounty publishes on chain (apiary/zk/testdata.py)


def prepare(accounts: Sequence[Any], log: Callable[[str], None] = print) -> Scenario:
    """Train both models, compute commitments and prove every (model, chunk) — cached across runs."""
    circuit = pipeline.open_circuit(CIRCUIT)
    digits = models.load_dataset("digits")
    chunks = models.test_chunks(digits, circuit.spec.samples, CHUNKS)
    held_out = len(digits.labels) - circuit.spec.samples * CHUNKS
    contestants = [
        Contestant("alice", accounts[0], models.train(digits, "mlp", held_out, hidden=16, seed=1)),
        # Bob trains on 150 samples only: a real model, measurably worse.
        Contestant("bob", accounts[1], models.train(digits, "mlp", 150, hidden=16, seed=2)),
    ]
    chunk_commitments = [pipeline.chunk_commitment(circuit, *chunk) for chunk in chunks]
    for c in contestants:
        c.commitment = pipeline.model_commitment(circuit, c.model)
        for index, (chunk, chunk_commitment) in enumerate(zip(chunks, chunk_commitments)):
            log(f"   {c.name}: chunk {index} ({circuit.spec.samples} samples; ~30 s on 2 cores unless cached)")
            bundle, cached = cached_or_new_proof(circuit, c.model, *chunk, c.commitment, chunk_commitment, CACHE,
                                                 log=lambda m: log(f"      {m}"))
            if cached:
                log("      proof cached")
            c.proofs.append(bundle)
        log(f"   {c.name}: model {c.commitment.hex()[:12]}…, scores {[p.score for p in c.proofs]} (total {c.total}/{circuit.spec.samples * CHUNKS})")
    return Scenario(circuit, chunks, chunk_commitments, contestants, testdata.encode(chunks))


def sealed_round(project: Any, core: CoreDeployment, market: MarketDeployment, scenario: Scenario, sponsor: Any,
                 voters: Sequence[Any], reward_token: Any, reward: int, threshold: int,
                 log: Callable[[str], None] = print) -> int:
    """Register the circuit by governance, then run a sealed bounty to the winner's withdrawal."""
    from ape import chain

    circuit = scenario.circuit
    log("   deploying the verifier and registering it through a governance proposal")
    verifier = evm.deploy_with_ape(circuit, sponsor)
    cid = circuit_id(CIRCUIT)
    if market.verifiers.circuitId(CIRCUIT) != cid:
        raise RuntimeError("circuit id mismatch between Python and the registry")
    if not market.verifiers.isRegistered(cid):
        register_circuit_by_governance(core, market, CIRCUIT, verifier.address, circuit.manifest_sha256,
                                       circuit.spec.samples, voters[0], voters, log=lambda m: log(f"   {m}"))

    for c in scenario.contestants:
        c.model_id = register_model(market.models, c.account, cid, c.commitment, f"apiary://{c.name}")
        log(f"   {c.name} registered model #{c.model_id} (commit, then reveal a block later)")

    salt = bytes(range(32))
    data_hash = testdata.data_hash(scenario.test_data)
    commitment = pipeline.test_set_commitment(scenario.chunk_commitments, data_hash, salt)
    now = chain.pending_timestamp
    reward_token.approve(market.bounties, reward, sender=sponsor)
    market.bounties.createSealed((reward_token.address, reward, cid, commitment, CHUNKS, threshold, 0,
                                  now + DAY, now + 2 * DAY, now + 3 * DAY), sender=sponsor)
    bounty_id = market.bounties.bountyCount() - 1
    log(f"   sponsor created sealed bounty #{bounty_id}: ≥ {threshold}/{circuit.spec.samples * CHUNKS} correct, reward {reward / 1e18:,.0f}, "
        f"fee fixed at {market.bounties.bounty(bounty_id).feeBps} bps")
    log("   the seal binds the chunk commitments, the test data's hash and a secret salt")
    for c in scenario.contestants:
        market.bounties.commitModel(bounty_id, c.model_id, sender=c.account)
    log("   both submitters committed their models before seeing the test set")
    chain.mine(1, timestamp=market.bounties.bounty(bounty_id).commitDeadline + 1)
    market.bounties.reveal(bounty_id, scenario.chunk_commitments, salt, scenario.test_data, sender=sponsor)
    published = testdata.decode(scenario.test_data)
    if testdata.check_against_commitments(circuit, published, scenario.chunk_commitments):
        raise RuntimeError("the published test data does not match the chunk commitments")
    log(f"   sponsor revealed the test set and published its {len(scenario.test_data):,} bytes of data on chain; "
        "provers checked it against the chunk commitments")
    for c in scenario.contestants:
        for index, bundle in enumerate(c.proofs):
            receipt = market.bounties.submitChunk(bounty_id, c.model_id, index, bundle.proof, bundle.instances, sender=c.account)
            log(f"   {c.name}: chunk {index} verified on chain, score {bundle.score} (gas {receipt.gas_used:,})")
    rows = leaderboard(market.bounties, market.models, bounty_id, [c.model_id for c in scenario.contestants])
    for rank, row in enumerate(rows, 1):
        log(f"   #{rank} model {row['model']} ({row['owner'][:10]}…) {row['chunks']} chunks, score {row['score']}")
    chain.mine(1, timestamp=market.bounties.bounty(bounty_id).deadline + 1)
    market.bounties.finalize(bounty_id, sender=sponsor)
    return bounty_id

