"""The regression circuit (linreg on diabetes): the sum of squared errors, exact in circuit and on chain."""

import ape
import pytest

from apiary.zk import models, network, pipeline, tasks

CIRCUIT = "diabetes-linreg-n64"


@pytest.fixture(scope="module")
def diabetes():
    return models.load_dataset("diabetes")


@pytest.fixture(scope="module")
def regression_proofs(diabetes, tmp_path_factory):
    circuit = pipeline.open_circuit(CIRCUIT)
    chunk = tasks.builtin_test_set(circuit.spec, 2).chunks[0]  # targets at the circuit's output scale (2^8)
    out = tmp_path_factory.mktemp("regression")
    good = models.train(diabetes, "linreg", 300)
    weak = models.train(diabetes, "linreg", 20)
    return circuit, chunk, {
        name: (model, pipeline.prove(circuit, model, *chunk, out / f"{name}.json")) for name, model in (("good", good), ("weak", weak))
    }


def test_regression__squared_error_in_circuit_equals_python(regression_proofs):
    _, chunk, proofs = regression_proofs
    for model, bundle in proofs.values():
        assert bundle.score == network.score(model.to_network(), *chunk) == model.score(chunk[0], chunk[1] >> 8)
    assert proofs["weak"][1].score > proofs["good"][1].score  # lower is better


def test_regression__manifest_states_the_metric(regression_proofs):
    circuit, _, _ = regression_proofs
    assert circuit.manifest["statement"]["metric"] == "sse"
    assert circuit.spec.metric == "sse"


def test_regression__wrong_target_type__rejected(regression_proofs, tmp_path):
    circuit, (x, y), proofs = regression_proofs
    from apiary.zk.errors import DataError

    with pytest.raises(DataError, match="labels must be integers"):
        pipeline.prove(circuit, proofs["good"][0], x, y + 0.5, tmp_path / "p.json")


def test_regression__on_chain_without_sample_bound(regression_proofs, deploy_verifier, deployer, harness):
    circuit, chunk, proofs = regression_proofs
    verifier = deploy_verifier(circuit, deployer)
    _, bundle = proofs["good"]
    harness.verify(verifier, bundle.proof, bundle.instances, bundle.chunk_commitment, bundle.model_commitment,
                   2**256 - 1, sender=deployer)
    assert harness.lastScore() == bundle.score
    with ape.reverts(harness.EvaluationProofInvalid):
        harness.verify(verifier, bundle.proof, [bundle.score - 1], bundle.chunk_commitment, bundle.model_commitment,
                       2**256 - 1, sender=deployer)
