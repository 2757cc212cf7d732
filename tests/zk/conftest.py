"""ZKML fixtures: a small iris circuit built from scratch per test session, and the committed digits circuit."""

from __future__ import annotations

import pytest

from apiary.zk import evm, models, pipeline

IRIS_SAMPLES = 8


@pytest.fixture(scope="session")
def iris():
    return models.load_dataset("iris")


@pytest.fixture(scope="session")
def iris_chunks(iris):
    return models.test_chunks(iris, IRIS_SAMPLES, 2)


@pytest.fixture(scope="session")
def strong_model(iris):
    return models.train(iris, "logreg", 120)


@pytest.fixture(scope="session")
def weak_model(iris):
    # Six training samples and coarse weights: a real model, just a worse one.
    return models.train(iris, "logreg", 6, weight_bits=2)


@pytest.fixture(scope="session")
def iris_circuit(tmp_path_factory, strong_model, iris_chunks):
    root = tmp_path_factory.mktemp("verifiers")
    spec = models.builtin_spec("iris", "logreg", IRIS_SAMPLES)
    return pipeline.build_circuit(spec, sample=iris_chunks[0], out_dir=root)


@pytest.fixture(scope="session")
def prove_iris(iris_circuit, tmp_path_factory):
    cache: dict = {}
    out_dir = tmp_path_factory.mktemp("proofs")

    def prove(model, chunk, name):
        if name not in cache:
            path = out_dir / f"{name}.json"
            cache[name] = (pipeline.prove(iris_circuit, model, *chunk, path), path)
        return cache[name]

    return prove


@pytest.fixture(scope="session")
def deploy_verifier():
    return evm.deploy_with_ape


@pytest.fixture
def harness(project, deployer):
    return project.EvaluationProofsHarness.deploy(sender=deployer)

