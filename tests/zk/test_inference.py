"""Inference circuits: the same weights give the same commitment in a model's evaluation circuit and in its
inference twin (so the model a compute job hires is the model registered), proofs of inference verify off chain,
on chain, and through the ComputeMarket's statement checks; broken folders and inputs are refused with one line.
"""

from __future__ import annotations

import json
import shutil

import ape
import numpy as np
import pytest
from eth_utils import keccak

from apiary.zk import evm, inference, pipeline, tasks
from apiary.zk import models as zk_models
from apiary.zk.errors import ArtefactError, DataError, ProofError

from tests.zk.test_byo_task import apiary


@pytest.fixture(scope="module")
def iris_ic():
    return inference.open_inference("iris-logreg-n8")


@pytest.fixture(scope="module")
def iris_model():
    return zk_models.train(zk_models.load_dataset("iris"), "logreg", 120)


@pytest.fixture(scope="module")
def iris_x():
    return np.array([[51, 35, 14, 2]], dtype=np.int64)  # tenths of a centimetre, as the circuit's scale takes them


@pytest.mark.parametrize("circuit, dataset, arch", [("iris-logreg-n8", "iris", "logreg"),
                                                    ("diabetes-linreg-n64", "diabetes", "linreg")])
def test_same_weights__same_commitment_in_evaluation_and_inference_circuits(circuit, dataset, arch):
    ic = inference.open_inference(circuit)
    inference.check_inference_statement(ic)
    assert ic.logrows == ic.evaluation.logrows
    model = zk_models.train(zk_models.load_dataset(dataset), arch, 100 if dataset == "iris" else 300)
    shared = inference.check_shared_commitment(ic, model)
    assert shared == pipeline.model_commitment(ic.evaluation, model)
    other = zk_models.train(zk_models.load_dataset(dataset), arch, 50 if dataset == "iris" else 150, seed=1)
    assert inference.check_shared_commitment(ic, other) != shared  # and other weights commit elsewhere


def test_prove__outputs_exact__verifies__carries_input_and_model(iris_ic, iris_model, iris_x, tmp_path):
    proof = inference.prove_inference(iris_ic, iris_model, iris_x, tmp_path / "p.json")
    assert proof.outputs == inference.outputs_of(iris_model, iris_x)
    assert proof.model_commitment == pipeline.model_commitment(iris_ic.evaluation, iris_model)
    assert proof.input_commitment == inference.input_commitment(iris_ic, iris_x)
    assert inference.InferenceProof.from_json((tmp_path / "p.json").read_text()) == proof
    inference.verify_inference(iris_ic, proof)
    forged = inference.InferenceProof(proof.proof, inference.to_instances([v + 1 for v in proof.outputs]))
    with pytest.raises(ProofError, match="does not verify"):
        inference.verify_inference(iris_ic, forged)


def test_input_commitment__depends_on_the_input_only__equals_the_witness_point(iris_ic, iris_x, tmp_path):
    a = inference.input_commitment(iris_ic, iris_x)
    witness = inference._witness(iris_ic, zk_models.train(zk_models.load_dataset("iris"), "logreg", 60).to_network(),
                                 iris_x, tmp_path, None)
    from apiary.zk.encoding import decompress_g1

    assert keccak(decompress_g1(witness["processed_inputs"]["polycommit"][0][0])) == a
    assert a == inference.input_commitment(iris_ic, iris_x.copy())
    assert a != inference.input_commitment(iris_ic, iris_x + 1)


def test_broken_folder__refused(iris_ic, tmp_path):
    folder = tmp_path / "iris-logreg-n8"
    shutil.copytree(iris_ic.evaluation.root, folder)
    ic = inference.open_inference(pipeline.open_circuit(folder))
    settings = json.loads(ic.path("settings.json").read_text())
    settings["run_args"]["logrows"] += 1
    ic.path("settings.json").write_text(json.dumps(settings))
    with pytest.raises(ArtefactError, match="does not match its manifest"):
        inference.check_inference_statement(ic)
    shutil.rmtree(ic.root)
    with pytest.raises(ArtefactError, match="has no inference circuit"):
        inference.open_inference(pipeline.open_circuit(folder))


@pytest.mark.parametrize("name, body, message", [
    ("x.csv", "1,2,3\n", "holds 3 values"),
    ("x.json", "[1, 2, NaN, 4]", "NaN"),
    ("x.txt", "1,2,3,4", ".npy, .json or .csv"),
    ("x.csv", "a,b,c,d\ne,f,g,h\n", "no row of numbers"),
    ("x.csv", "1e9,2,3,4\n", "exceeds 2\\^24"),
    ("x.csv", "100,2,3,4\n", "beyond the bound"),
])
def test_read_input__bad_files__one_clear_error(iris_ic, tmp_path, name, body, message):
    path = tmp_path / name
    path.write_text(body)
    with pytest.raises(DataError, match=message):
        inference.read_input(iris_ic, path)
    with pytest.raises(DataError, match="does not exist"):
        inference.read_input(iris_ic, tmp_path / "missing.csv")


def test_read_input__a_job_uri_cannot_block_or_flood_the_reader(iris_ic, tmp_path):
    """SECURITY: providers' agents read the file a job's URI names. A FIFO (a blocking read would wait forever), a
    device (/dev/zero never ends), a directory, an empty (procfs-like) file and a file larger than one input can be
    are refused before anything is parsed; whatever happens, the read returns (a hang fails the test, not CI)."""
    import os
    import threading

    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "zero.csv").symlink_to("/dev/zero")
    (tmp_path / "dir.csv").mkdir()
    (tmp_path / "empty.csv").write_text("")
    with open(tmp_path / "huge.csv", "wb") as f:
        f.truncate(inference.input_limit(iris_ic) + 1)  # sparse: no disk used
    (tmp_path / "nested.json").write_text("[" * 30_000 + "]" * 30_000)  # within the size bound, too deep to parse
    (tmp_path / "pickle.npy").write_bytes(__import__("pickle").dumps([1, 2, 3, 4]))
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000,), }"
    (tmp_path / "claims_huge.npy").write_bytes(b"\x93NUMPY\x01\x00" + len(header + "\n").to_bytes(2, "little")
                                               + (header + "\n").encode())
    (tmp_path / "bools.json").write_text("[true, false, true, true]")
    (tmp_path / "big_int.json").write_text("[" + "9" * 400 + ", 1, 2, 3]")
    cases = [("fifo.csv", "not a regular file"), ("zero.csv", "not a regular file"), ("dir.csv", "not a regular file"),
             ("empty.csv", "is empty"), ("huge.csv", "more than one input of this circuit can be"),
             ("nested.json", "not one numeric input"), ("pickle.npy", "not one numeric input"),
             ("claims_huge.npy", "one input is 4 numbers"), ("bools.json", "an input is a list of numbers"),
             ("big_int.json", "not one numeric input")]
    outcome: dict = {}

    def read_all():
        for name, _ in cases:
            try:
                inference.read_input(iris_ic, tmp_path / name)
                outcome[name] = "read"
            except DataError as exc:
                outcome[name] = str(exc)

    reader = threading.Thread(target=read_all, daemon=True)
    reader.start()
    reader.join(timeout=60)
    assert not reader.is_alive(), f"the reader blocked after {sorted(outcome)}"
    for name, message in cases:
        assert message in outcome[name], (name, outcome[name])


def test_cli_infer__commitment_outputs_and_proof(iris_ic, tmp_path):
    (tmp_path / "x.csv").write_text("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n")
    apiary("zk", "train", "--dataset", "iris", "--arch", "logreg", "--out", tmp_path / "m.onnx", cwd=tmp_path)
    only = json.loads(apiary("zk", "infer", "iris-logreg-n8", "--input", "x.csv", cwd=tmp_path).stdout)
    full = json.loads(apiary("zk", "infer", "iris-logreg-n8", "--model", "m.onnx", "--input", "x.csv", "--out", "p.json",
                             cwd=tmp_path).stdout)
    assert only["input_commitment"] == full["input_commitment"] and len(full["outputs"]) == 3
    proof = inference.InferenceProof.from_json((tmp_path / "p.json").read_text())
    assert proof.outputs == full["outputs"] and "0x" + proof.input_commitment.hex() == full["input_commitment"]
    bad = apiary("zk", "infer", "iris-logreg-n8", "--input", "x.csv", "--out", "p2.json", cwd=tmp_path, ok=False)
    assert bad.returncode == 1 and bad.stderr.strip() == "error: --out proves an inference: pass --model too"


def test_cli_build_inference__single_rebuilds_the_committed_twin__slots_build_a_batch(iris_ic, tmp_path):
    folder = tmp_path / "iris"
    folder.mkdir()
    for path in iris_ic.evaluation.root.iterdir():
        if path.is_file():
            shutil.copy(path, folder / path.name)
    out = apiary("zk", "build-inference", str(folder), cwd=tmp_path).stdout
    assert "iris-logreg-n8.infer: " in out and "metric inference" in out
    for name in ("model.onnx", "settings.json", "vk.key", "Verifier.sol", "vk.bin"):
        assert (folder / "inference" / name).read_bytes() == iris_ic.path(name).read_bytes(), name
    out = apiary("zk", "build-inference", str(folder), "--slots", "2", cwd=tmp_path).stdout
    assert "iris-logreg-n8.infer.x2: " in out and "6 public outputs" in out
    batch = inference.open_inference(str(folder), 2)
    inference.check_inference_statement(batch)
    assert inference.batch_sizes(batch.evaluation) == [2]
    bad = apiary("zk", "build-inference", str(folder), "--slots", "65", cwd=tmp_path, ok=False)
    assert bad.returncode != 0 and "65" in bad.stderr
    with pytest.raises(ArtefactError, match="--slots 3"):
        inference.open_inference(str(folder), 3)


def test_committed_circuits__settings_in_the_order_a_build_writes():
    """`apiary zk build` and `build-inference` reproduce the committed circuits only if their settings are in the
    one order a build writes (the range-check order lays out the fixed columns, so it changes the verifying key)."""
    folders = sorted(pipeline.VERIFIERS_DIR.glob("*/settings.json")) + sorted(pipeline.VERIFIERS_DIR.glob("*/inference*/settings.json"))
    assert len(folders) >= 10
    for path in folders:
        settings = json.loads(path.read_text())
        assert settings == pipeline.canonical_settings(settings), path


# ---------------------------------------------------------------- on chain: the real verifier in the market


@pytest.fixture(scope="module")
def market(project, accounts, iris_ic):
    deployer, gov = accounts[0], accounts[1]
    from apiary.sdk.market import register_model

    vault_token = project.MockERC20.deploy("S", "S", sender=deployer)
    vault = project.FeeVault.deploy(gov, vault_token, 1_000, 100, sender=deployer)
    verifier = evm.deploy_with_ape(iris_ic, deployer, name="Halo2Verifier_iris_logreg_n8_infer")
    assert len(ape.chain.provider.get_code(verifier.address)) <= evm.EIP170_LIMIT
    registry = project.VerifierRegistry.deploy(gov, sender=deployer)
    registry.register("iris-logreg-n8", project.MockHalo2Verifier.deploy(sender=deployer), b"\x01" * 32, 8, 0, sender=gov)
    registry.register(iris_ic.circuit_id, verifier, iris_ic.manifest_sha256, iris_ic.num_outputs, 2, sender=gov)
    models = project.ModelRegistry.deploy(registry, 4, sender=deployer)
    apy = project.MockERC20.deploy("APY", "APY", sender=deployer)
    params = (100, 50, 20, 86_400, 3_600, 3_600, 0, 5_000, 3_000)
    market = project.ComputeMarket.deploy(gov, vault, registry, models, apy, 10**30, params, sender=deployer)
    market.setInferenceCircuit(registry.circuitId("iris-logreg-n8"), registry.circuitId(iris_ic.circuit_id), sender=gov)
    return market, models, registry, apy, register_model


def test_market__real_inference_proof_pays__other_input_or_model_refused(market, iris_ic, iris_model, iris_x, accounts,
                                                                        chain):
    compute, models, registry, apy, register_model = market
    requester, provider = accounts[2], accounts[3]
    commitment = pipeline.model_commitment(iris_ic.evaluation, iris_model)
    model_id = register_model(models, requester, registry.circuitId("iris-logreg-n8"), commitment)
    for who in (requester, provider):
        apy.mint(who, 10**6, sender=who)
        apy.approve(compute, 2**256 - 1, sender=who)
    compute.stake(500, sender=provider)
    proof = inference.prove_inference(iris_ic, iris_model, iris_x)
    other_input = inference.prove_inference(iris_ic, iris_model, iris_x + 1)
    other_model = inference.prove_inference(iris_ic, zk_models.train(zk_models.load_dataset("iris"), "logreg", 30), iris_x)

    def post():
        compute.postJob((model_id, inference.input_commitment(iris_ic, iris_x), "file://x", apy, 40, 60,
                         chain.pending_timestamp + 86_400, 0, provider, bytes(32)), sender=requester)
        job_id = int(compute.totalJobs())
        compute.accept(job_id, sender=provider)
        return job_id

    job_id = post()
    with ape.reverts(compute.InferenceProofWrongInput):
        compute.submitProof(job_id, other_input.proof, other_input.instances, sender=provider)
    with ape.reverts(compute.InferenceProofWrongModel):
        compute.submitProof(job_id, other_model.proof, other_model.instances, sender=provider)
    with ape.reverts(compute.InferenceProofInvalid):  # outputs that are not the model's
        compute.submitProof(job_id, proof.proof, inference.to_instances([v + 1 for v in proof.outputs]), sender=provider)
    receipt = compute.submitProof(job_id, proof.proof, proof.instances, sender=provider)
    assert compute.job(job_id).status == 4 and compute.owed(provider, apy) == 40 - 1
    assert compute.job(job_id).outputHash == keccak(b"".join(v.to_bytes(32, "big") for v in proof.instances))
    print(f"submitProof with a real iris inference proof: {receipt.gas_used:,} gas")


# ---------------------------------------------------------------- batch circuits: one proof, several jobs


@pytest.fixture(scope="module")
def iris_batch():
    return inference.open_inference("iris-logreg-n8", 4)


def test_batch__each_slot_commits_its_input_as_the_single_circuit_does__weights_shared(iris_ic, iris_batch, iris_model):
    xs = [np.array([[51, 35, 14, 2]]), np.array([[67, 30, 52, 23]]), np.array([[58, 27, 41, 10]])]
    proof = inference.prove_inference_batch(iris_batch, iris_model, xs)
    assert proof.slots == 4 and len(proof.instances) == 4 * 3
    for i, x in enumerate(xs):
        assert proof.input_commitment_at(i) == inference.input_commitment(iris_ic, x)  # slot-independent
        assert proof.outputs_at(i) == inference.outputs_of(iris_model, x)
    assert proof.outputs_at(3) == inference.outputs_of(iris_model, np.zeros((1, 4)))  # the padded slot
    assert proof.model_commitment == pipeline.model_commitment(iris_ic.evaluation, iris_model)
    assert inference.InferenceProof.from_json(proof.to_json()) == proof
    with pytest.raises(DataError, match="5 inputs for a batch circuit of 4 slots"):
        inference.prove_inference_batch(iris_batch, iris_model, xs + xs[:2])
    inference.check_inference_statement(iris_batch)
    assert inference.batch_sizes(iris_ic.evaluation) == [4]


def test_market__one_batch_proof_settles_several_jobs__tricks_refused(market, project, accounts, chain, iris_ic,
                                                                      iris_batch, iris_model):
    compute, models, registry, apy, register_model = market
    deployer, gov, requester, provider = accounts[0], accounts[1], accounts[2], accounts[3]
    verifier = evm.deploy_with_ape(iris_batch, deployer, name="Halo2Verifier_iris_logreg_n8_infer_x4")
    registry.register(iris_batch.circuit_id, verifier, iris_batch.manifest_sha256, iris_batch.num_outputs, 2, sender=gov)
    eval_id = registry.circuitId("iris-logreg-n8")
    with ape.reverts(compute.ComputeMarketNoInferenceCircuit):  # outputs not a multiple of k ≥ 2 slots
        compute.setBatchCircuit(eval_id, registry.circuitId(iris_ic.circuit_id), sender=gov)
    compute.setBatchCircuit(eval_id, registry.circuitId(iris_batch.circuit_id), sender=gov)
    commitment = pipeline.model_commitment(iris_ic.evaluation, iris_model)
    model_id = int(models.modelIdOf(eval_id, commitment)) or register_model(models, requester, eval_id, commitment)
    for who in (requester, provider):
        apy.mint(who, 10**6, sender=who)
        apy.approve(compute, 2**256 - 1, sender=who)
    compute.stake(500, sender=provider)
    xs = [np.array([[50 + i, 30, 15 + 3 * i, 2 + i]]) for i in range(3)]

    def post(x, mode=0):
        compute.postJob((model_id, inference.input_commitment(iris_ic, x), "file://x", apy, 40, 60,
                         chain.pending_timestamp + 86_400, mode, provider, bytes(32)), sender=requester)
        return int(compute.totalJobs())

    jobs = [post(x) for x in xs]
    proof = inference.prove_inference_batch(iris_batch, iris_model, xs)
    with ape.reverts(compute.ComputeMarketBadBatch):  # the same job twice would be paid twice
        compute.submitProofBatch([jobs[0], jobs[0]], proof.proof, proof.instances, sender=provider)
    with ape.reverts(compute.ComputeMarketBadBatch):
        compute.submitProofBatch([jobs[1], jobs[0]], proof.proof, proof.instances, sender=provider)
    with ape.reverts(compute.InferenceProofWrongInput):  # slot 0 holds job 0's input, not job 1's
        compute.submitProofBatch([jobs[1], jobs[2]], proof.proof, proof.instances, sender=provider)
    with ape.reverts(compute.ComputeMarketWrongStatus):  # only the named provider takes these jobs
        compute.submitProofBatch(jobs, proof.proof, proof.instances, sender=requester)
    with ape.reverts(compute.InferenceProofInvalid):  # another slot's outputs
        forged = proof.instances[3:6] + proof.instances[0:3] + proof.instances[6:]
        compute.submitProofBatch(jobs, proof.proof, forged, sender=provider)
    optimistic = post(xs[0], mode=1)
    with ape.reverts(compute.ComputeMarketWrongMode):
        compute.submitProofBatch([jobs[0], optimistic], proof.proof, proof.instances, sender=provider)
    receipt = compute.submitProofBatch(jobs, proof.proof, proof.instances, sender=provider)
    for i, job_id in enumerate(jobs):
        j = compute.job(job_id)
        assert j.status == 4 and j.outputHash == keccak(b"".join(v.to_bytes(32, "big") for v in proof.instances_at(i)))
    assert compute.owed(provider, apy) >= 3 * (40 - 1)
    with ape.reverts(compute.ComputeMarketWrongStatus):  # paid once
        compute.submitProofBatch(jobs, proof.proof, proof.instances, sender=provider)
    print(f"submitProofBatch, 3 jobs in one iris proof of 4 slots: {receipt.gas_used:,} gas")
