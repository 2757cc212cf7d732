"""Several proofs, one pairing check: Halo2BatchVerifier over deferred verifiers (apiary/zk/verifier.py).

The deferred verifier is the committed verifier with its final pairing returned instead of checked; the batch
verifier checks a random linear combination of the batch's pairing equations. Every batch containing an invalid
proof must revert, including batches built by an adversary who controls one of the "verifiers".
"""

from __future__ import annotations

import ape
import pytest

from apiary.zk import evm, pipeline, verifier
from apiary.zk.errors import ArtefactError

BUILT_IN = ["iris-logreg-n8", "digits-logreg-n64", "digits-mlp16-n64", "diabetes-linreg-n64"]
# BN254 base field: −(x, y) = (x, q − y)
Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583


@pytest.fixture(scope="module")
def deferred(iris_circuit, deployer):
    compiled = evm.compile_deferred_verifier(iris_circuit)
    container = ape.contracts.ContractContainer(compiled.contract_type("IrisDeferredVerifier"))
    return container.deploy(iris_circuit.path("vk.bin").read_bytes(), sender=deployer)


@pytest.fixture(scope="module")
def plain(iris_circuit, deploy_verifier, deployer):
    return deploy_verifier(iris_circuit, deployer)


@pytest.fixture(scope="module")
def batch(project, deployer):
    return project.Halo2BatchVerifier.deploy(sender=deployer)


@pytest.fixture(scope="module")
def proofs(prove_iris, strong_model, weak_model, iris_chunks):
    return [prove_iris(strong_model, iris_chunks[0], "strong0")[0], prove_iris(strong_model, iris_chunks[1], "strong1")[0],
            prove_iris(weak_model, iris_chunks[0], "weak0")[0]]


def _verify(batch, verifiers, bundles, sender, instances=None):
    instances = instances or [list(b.instances) for b in bundles]
    return batch.verifyBatch([v.address for v in verifiers], [b.proof for b in bundles], instances, sender=sender)


def test_batch__valid_proofs__accepted_for_less_gas_than_one_call_each(batch, deferred, plain, proofs, deployer):
    receipt = _verify(batch, [deferred] * 3, proofs, deployer)
    assert not receipt.failed
    separate = [plain.verifyProof(b.proof, list(b.instances), sender=deployer).gas_used for b in proofs]
    # one pairing check (~113k) saved per proof beyond the first, less two scalar multiplications (~12k) each
    assert receipt.gas_used < sum(separate) - 2 * 80_000
    single = _verify(batch, [deferred], proofs[:1], deployer)
    assert not single.failed


@pytest.mark.parametrize("bad", [0, 1, 2])
def test_batch__one_wrong_score__whole_batch_rejected(batch, deferred, proofs, deployer, bad):
    instances = [list(b.instances) for b in proofs]
    instances[bad][0] += 1
    with ape.reverts(batch.Halo2BatchPairingFailed):
        _verify(batch, [deferred] * 3, proofs, deployer, instances)


def test_batch__mutated_proof_or_swapped_instances__rejected(batch, deferred, proofs, deployer):
    proof = bytearray(proofs[1].proof)
    proof[len(proof) // 2] ^= 0x01
    mutated = [proofs[0], pipeline.ProofBundle(bytes(proof), proofs[1].instances)]
    with ape.reverts():
        _verify(batch, [deferred] * 2, mutated, deployer)
    # strong0 and weak0 score differently on the same chunk: their instances swapped make both equations false
    with ape.reverts(batch.Halo2BatchPairingFailed):
        _verify(batch, [deferred] * 2, [proofs[0], proofs[2]], deployer,
                [list(proofs[2].instances), list(proofs[0].instances)])


def test_batch__adversary_verifier_cancelling_a_false_equation__rejected(batch, deferred, project, proofs, deployer):
    """The points of a false equation (L, R), then a contract returning (−L, −R): with unit coefficients the sum
    would pair to 1. The random coefficients, drawn after every point is fixed, make it fail."""
    wrong = [proofs[0].instances[0] + 1]
    out = list(deferred.verifyProofDeferred.call(proofs[0].proof, wrong))
    mock = project.MockDeferredVerifier.deploy(sender=deployer)
    mock.set([out[0], (Q - out[1]) % Q, out[2], (Q - out[3]) % Q, *out[4:]], sender=deployer)
    with ape.reverts(batch.Halo2BatchPairingFailed):
        _verify(batch, [deferred, mock], [proofs[0], proofs[0]], deployer, [wrong, wrong])
    # the control: with unit coefficients the two equations would cancel (L + (−L) = R + (−R) = ∞, and
    # e(∞, ·)·e(∞, ·) = 1), so the batch above is exactly the forgery the coefficients are there to stop
    from py_ecc.bn128 import FQ, add, neg

    assert add((FQ(out[0]), FQ(out[1])), neg((FQ(out[0]), FQ(out[1])))) is None
    assert add((FQ(out[2]), FQ(out[3])), neg((FQ(out[2]), FQ(out[3])))) is None


def test_batch__different_srs__rejected(batch, deferred, project, proofs, deployer):
    out = list(deferred.verifyProofDeferred.call(proofs[0].proof, list(proofs[0].instances)))
    mock = project.MockDeferredVerifier.deploy(sender=deployer)
    mock.set(out[:8] + [out[8] ^ 1, *out[9:]], sender=deployer)
    with ape.reverts(batch.Halo2BatchSrsMismatch, index=1):
        _verify(batch, [deferred, mock], proofs[:2], deployer)


def test_batch__empty_or_ragged__rejected(batch, deferred, proofs, deployer):
    with ape.reverts(batch.Halo2BatchEmpty):
        batch.verifyBatch([], [], [], sender=deployer)
    with ape.reverts(batch.Halo2BatchLengthMismatch):
        batch.verifyBatch([deferred.address], [proofs[0].proof, proofs[1].proof], [[1], [1]], sender=deployer)


def test_deferred_verifier__cannot_be_called_as_a_verifier(deferred, proofs, deployer):
    """On its own a deferred verifier proves nothing: it has no verifyProof for a market to call by mistake."""
    assert not any(abi.name == "verifyProof" for abi in deferred.contract_type.methods)
    from ape import networks

    tx = networks.provider.network.ecosystem.create_transaction(receiver=deferred.address, data=proofs[0].calldata(),
                                                                gas_limit=3_000_000)
    with ape.reverts():
        deployer.call(tx)


@pytest.mark.parametrize("circuit_id", BUILT_IN)
def test_deferred_verifier__every_committed_verifier__patches_compiles_and_fits_eip170(circuit_id):
    circuit = pipeline.open_circuit(circuit_id)
    source = verifier.defer_pairing(circuit.path("Verifier.sol").read_text())
    assert source.count("verifyProofDeferred") == 1 and "function verifyProof(" not in source
    assert "ec_pairing(\n" not in source.split("Deferred: revert")[1]
    assert evm.compile_deferred_verifier(circuit).runtime_size <= evm.EIP170_LIMIT


def test_deferred_verifier__unknown_layout__refused():
    with pytest.raises(ArtefactError, match="layout"):
        verifier.defer_pairing("contract Halo2Verifier {}")
    source = pipeline.open_circuit("iris-logreg-n8").path("Verifier.sol").read_text()
    with pytest.raises(ArtefactError, match="pairing block"):
        verifier.defer_pairing(source.replace("// Perform pairing", "// pairing"))


def test_bench__measures_the_batch_lever(iris_circuit, strong_model, iris_chunks, tmp_path):
    from apiary.zk import bench

    row = bench.measure(iris_circuit, strong_model, iris_chunks[0], "batch of 3", tmp_path, batch=3)
    assert row.batch_proofs == 3
    assert row.verify_gas < row.batch_gas < 3 * row.verify_gas - 2 * 80_000
