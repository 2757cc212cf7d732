"""Verifiers on the embedded chain (default EIP-170 limit) and the statement checks in EvaluationProofs."""

import ape
import pytest

from apiary.zk import pipeline
from apiary.zk.srs import R



EIP170 = 24_576


@pytest.fixture(scope="module")
def iris_verifier(iris_circuit, deploy_verifier, accounts):
    return deploy_verifier(iris_circuit, accounts[0])


def test_verifier__deploys_under_eip170_and_accepts_valid_proof(iris_verifier, chain, prove_iris, strong_model, iris_chunks, accounts):
    assert len(chain.provider.get_code(iris_verifier.address)) <= EIP170
    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    receipt = accounts[1].call(_tx(iris_verifier, bundle.calldata()))
    assert not receipt.failed


def test_verifier__wrong_vk_at_construction__reverts(iris_circuit, deployer):
    from apiary.zk import evm

    compiled = evm.compile_verifier(iris_circuit.path("Verifier.sol"), iris_circuit.build)
    container = ape.contracts.ContractContainer(compiled.contract_type("IrisVerifierBadVk"))
    vk = bytearray(iris_circuit.path("vk.bin").read_bytes())
    vk[40] ^= 1
    with ape.reverts(container.Halo2VerifierKeyMismatch):
        container.deploy(bytes(vk), sender=deployer)


def test_statement__valid_proof_returns_score(harness, iris_verifier, prove_iris, strong_model, iris_chunks, deployer):
    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    harness.verify(iris_verifier, bundle.proof, bundle.instances, bundle.chunk_commitment, bundle.model_commitment, 8, sender=deployer)
    assert harness.lastScore() == strong_model.score(*iris_chunks[0])


def test_statement__mutated_proof__rejected(harness, iris_verifier, prove_iris, strong_model, iris_chunks, deployer):
    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    for position in (300, len(bundle.proof) // 2, len(bundle.proof) - 1):
        proof = bytearray(bundle.proof)
        proof[position] ^= 0x01
        with ape.reverts(harness.EvaluationProofInvalid, verifier=iris_verifier.address):
            harness.verify(iris_verifier, bytes(proof), bundle.instances, bundle.chunk_commitment, bundle.model_commitment, 8, sender=deployer)
    assert harness.lastScore() == 0


def test_statement__wrong_score_instance__rejected(harness, iris_verifier, prove_iris, weak_model, iris_chunks, deployer):
    bundle, _ = prove_iris(weak_model, iris_chunks[0], "weak0")
    with ape.reverts(harness.EvaluationProofInvalid):
        harness.verify(iris_verifier, bundle.proof, [bundle.score + 1], bundle.chunk_commitment, bundle.model_commitment, 8, sender=deployer)


def test_statement__proof_for_another_test_batch__rejected(harness, iris_verifier, iris_circuit, prove_iris, strong_model, iris_chunks, deployer):
    other, _ = prove_iris(strong_model, iris_chunks[1], "strong1")
    expected = pipeline.chunk_commitment(iris_circuit, *iris_chunks[0])
    with ape.reverts(harness.EvaluationProofWrongChunk, expected=expected, actual=other.chunk_commitment):
        harness.verify(iris_verifier, other.proof, other.instances, expected, other.model_commitment, 8, sender=deployer)


def test_statement__proof_of_another_model__rejected(harness, iris_verifier, prove_iris, weak_model, strong_model, iris_chunks, deployer):
    weak, _ = prove_iris(weak_model, iris_chunks[0], "weak0")
    strong, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    with ape.reverts(harness.EvaluationProofWrongModel, expected=strong.model_commitment, actual=weak.model_commitment):
        harness.verify(iris_verifier, weak.proof, weak.instances, weak.chunk_commitment, strong.model_commitment, 8, sender=deployer)


def test_statement__instance_at_or_above_field_modulus__rejected(harness, iris_verifier, prove_iris, strong_model, iris_chunks, deployer):
    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    for value in (R, R + bundle.score, 2**256 - 1):
        with ape.reverts(harness.EvaluationProofInstanceOutOfField, index=0, value=value):
            harness.verify(iris_verifier, bundle.proof, [value], bundle.chunk_commitment, bundle.model_commitment, 8, sender=deployer)


def test_statement__wrong_instance_count__rejected(harness, iris_verifier, prove_iris, strong_model, iris_chunks, deployer):
    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    for instances in ([], [bundle.score, 0]):
        with ape.reverts(harness.EvaluationProofInstanceCount, count=len(instances), expected=1):
            harness.verify(iris_verifier, bundle.proof, instances, bundle.chunk_commitment, bundle.model_commitment, 8, sender=deployer)


def test_statement__malformed_proofs__rejected(harness, iris_verifier, prove_iris, strong_model, iris_chunks, deployer):
    import os

    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    with ape.reverts(harness.EvaluationProofTooShort, length=0, minimum=192):
        harness.verify(iris_verifier, b"", bundle.instances, bundle.chunk_commitment, bundle.model_commitment, 8, sender=deployer)
    truncated = bundle.proof[: len(bundle.proof) - 32]
    with ape.reverts(harness.EvaluationProofInvalid):
        harness.verify(iris_verifier, truncated, bundle.instances, bundle.chunk_commitment, bundle.model_commitment, 8, sender=deployer)
    random_tail = bundle.proof[:192] + os.urandom(len(bundle.proof) - 192)
    with ape.reverts(harness.EvaluationProofInvalid):
        harness.verify(iris_verifier, random_tail, bundle.instances, bundle.chunk_commitment, bundle.model_commitment, 8, sender=deployer)


def test_statement__score_above_sample_count__rejected(harness, iris_verifier, prove_iris, strong_model, iris_chunks, deployer):
    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    with ape.reverts(harness.EvaluationProofScoreAboveMax, score=bundle.score, maxScore=bundle.score - 1):
        harness.verify(iris_verifier, bundle.proof, bundle.instances, bundle.chunk_commitment, bundle.model_commitment, bundle.score - 1, sender=deployer)


def test_reference_circuit__digits_mlp_end_to_end(deploy_verifier, deployer, harness, chain):
    """The reference bounty circuit as committed: keys regenerated from artefacts, proof, on-chain check. The
    model and chunk are the demo's Alice's on her first chunk (apiary/demo/bounty_demo.py), so the proof is the one
    the demo and tests/integration/test_digits_bounty.py make (one proof, cached, under a lock, for all three)."""
    from apiary.demo import bounty_demo
    from apiary.sdk.bounties import cached_or_new_proof
    from apiary.zk import models

    circuit = pipeline.open_circuit(bounty_demo.CIRCUIT)
    verifier = deploy_verifier(circuit, deployer)
    assert len(chain.provider.get_code(verifier.address)) <= EIP170
    digits = models.load_dataset("digits")
    chunk = models.test_chunks(digits, circuit.spec.samples, bounty_demo.CHUNKS)[0]
    model = models.train(digits, "mlp", len(digits.labels) - circuit.spec.samples * bounty_demo.CHUNKS, hidden=16,
                         seed=1)
    bundle, _ = cached_or_new_proof(circuit, model, *chunk, pipeline.model_commitment(circuit, model),
                                    pipeline.chunk_commitment(circuit, *chunk), bounty_demo.CACHE)
    assert bundle.score == model.score(*chunk) and bundle.score > 48  # a real model: most of 64 right
    harness.verify(verifier, bundle.proof, bundle.instances, pipeline.chunk_commitment(circuit, *chunk),
                   pipeline.model_commitment(circuit, model), 64, sender=deployer)
    assert harness.lastScore() == bundle.score


def _tx(contract, data):
    from ape import networks

    return networks.provider.network.ecosystem.create_transaction(receiver=contract.address, data=data, gas_limit=3_000_000)
