"""ZKML pipeline off chain: exact metric, commitments, artefacts, reproducibility, clear errors."""

import json

import numpy as np
import pytest

from apiary.zk import circuits, encoding, models, pipeline, srs
from apiary.zk.errors import ArtefactError, DataError, ModelError, SrsError


def test_metric__in_circuit_score_equals_python(iris_circuit, strong_model, iris_chunks, prove_iris):
    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    assert bundle.score == strong_model.score(*iris_chunks[0])


def test_metric__weaker_model_proves_exactly_its_lower_score(weak_model, strong_model, iris_chunks, prove_iris):
    weak, _ = prove_iris(weak_model, iris_chunks[0], "weak0")
    strong, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    assert weak.score == weak_model.score(*iris_chunks[0])
    assert weak.score < strong.score


def test_metric__ties_count_as_wrong_in_both():
    """Were ties correct, a model whose logits are all equal would score every sample (attack review A1)."""
    from apiary.zk import network

    model = models.QuantisedModel("logreg", [np.array([[1, 1, 0]])], [np.array([0, 0, 1])])
    # logits for x=1: [1, 1, 1] → every class ties with the max: wrong for any label.
    assert model.score(np.array([[1], [1], [1]]), np.array([0, 1, 2])) == 0
    assert network.score(model.to_network(), np.array([[1], [1], [1]]), np.array([0, 1, 2])) == 0
    # x=2: [2, 2, 1] ties 0 and 1; class 2 is strictly lowest
    assert model.score(np.array([[2], [2], [3]]), np.array([0, 1, 0])) == 0


def test_soundness__constant_logits_model_scores_zero_in_circuit(iris_circuit, iris_chunks, tmp_path):
    """The attack: identical last-layer columns (every logit equal) on any data. It proves a score of 0."""
    cheat = models.QuantisedModel("logreg", [np.ones((4, 3), dtype=np.int64)], [np.ones(3, dtype=np.int64)])
    bundle = pipeline.prove(iris_circuit, cheat, *iris_chunks[0], tmp_path / "cheat.json")
    assert bundle.score == 0


def test_commitments__proof_carries_chunk_and_model_commitments(iris_circuit, strong_model, iris_chunks, prove_iris):
    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    assert bundle.chunk_commitment == pipeline.chunk_commitment(iris_circuit, *iris_chunks[0])
    assert bundle.model_commitment == pipeline.model_commitment(iris_circuit, strong_model)
    assert bundle.chunk_commitment != pipeline.chunk_commitment(iris_circuit, *iris_chunks[1])


def test_commitments__one_weight_changes_the_model_commitment(iris_circuit, strong_model, iris_chunks, prove_iris):
    tweaked = models.QuantisedModel("logreg", [w.copy() for w in strong_model.weights], [b.copy() for b in strong_model.biases])
    tweaked.weights[0][0, 0] += 1
    base, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    other, _ = prove_iris(tweaked, iris_chunks[0], "tweaked0")
    assert other.model_commitment != base.model_commitment
    assert other.chunk_commitment == base.chunk_commitment
    assert other.model_commitment == pipeline.model_commitment(iris_circuit, tweaked)


def test_commitments__two_models_share_one_verifying_key(iris_circuit, weak_model, iris_chunks, prove_iris):
    _, path = prove_iris(weak_model, iris_chunks[1], "weak1")
    assert pipeline.verify_local(iris_circuit, path)


def test_artefacts__rebuild_reproduces_verifier_byte_for_byte(iris_circuit):
    assert pipeline.rebuild_verifier(iris_circuit)


def test_artefacts__settings_are_written_in_one_order():
    """ezkl lists range checks and lookups from a hash set, in an order that changes between runs on the same graph
    (seen in CI: a rebuilt inference twin came out [[0, 1023], [-1, 1]], the committed one [[-1, 1], [0, 1023]]), and
    the order lays out the fixed columns, so it changes the verifying key. Builds write one order."""
    a = {"required_range_checks": [[0, 1023], [-1, 1]], "required_lookups": [{"Div": {"denom": 2.0}}, "ReLU"],
         "timestamp": 1, "num_rows": 79}
    b = {"required_range_checks": [[-1, 1], [0, 1023]], "required_lookups": ["ReLU", {"Div": {"denom": 2.0}}],
         "timestamp": 2, "num_rows": 79}
    assert pipeline.canonical_settings(a) == pipeline.canonical_settings(b)
    assert pipeline.canonical_settings(a)["required_range_checks"] == [[-1, 1], [0, 1023]]
    assert "timestamp" not in pipeline.canonical_settings(a) and a["timestamp"] == 1  # the input is left as it was


def test_artefacts__a_fresh_build_reproduces_the_committed_circuit(tmp_path):
    """Anyone can rebuild a built-in circuit from its spec and get the committed verifier, byte for byte."""
    from tests.zk.test_byo_task import apiary

    apiary("zk", "build", "--dataset", "iris", "--arch", "logreg", "--samples", "8", "--out-dir", tmp_path, cwd=tmp_path)
    committed = pipeline.VERIFIERS_DIR / "iris-logreg-n8"
    for name in (*pipeline.ARTEFACTS, "manifest.json"):
        assert (tmp_path / "iris-logreg-n8" / name).read_bytes() == (committed / name).read_bytes(), name


def test_artefacts__manifest_lists_hashes_and_insecure_srs(iris_circuit):
    manifest = iris_circuit.manifest
    assert set(manifest["files"]) == set(pipeline.ARTEFACTS)
    assert manifest["srs"]["kind"] == "dev-insecure"
    iris_circuit.check_files()


def test_artefacts__edited_file_is_detected(iris_circuit, tmp_path):
    import shutil

    copy = tmp_path / iris_circuit.circuit_id
    shutil.copytree(iris_circuit.root, copy)
    (copy / "Verifier.sol").write_text((copy / "Verifier.sol").read_text() + "\n// edited\n")
    with pytest.raises(ArtefactError, match="does not match manifest"):
        pipeline.Circuit(copy).check_files()


def test_artefacts__committed_reference_circuits_are_intact():
    for circuit_id in ("digits-mlp16-n64", "digits-logreg-n64", "iris-logreg-n8", "diabetes-linreg-n64"):
        pipeline.open_circuit(circuit_id).check_files()


def test_errors__unknown_circuit_names_known_ones():
    with pytest.raises(ArtefactError, match="digits-mlp16-n64"):
        pipeline.open_circuit("nope")


def test_errors__malformed_onnx(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"definitely not protobuf")
    with pytest.raises(ModelError, match="not a valid ONNX model"):
        circuits.read_graph(bad)
    with pytest.raises(ModelError, match="does not exist"):
        circuits.read_graph(tmp_path / "missing.onnx")


def test_errors__wrong_shaped_data(iris_circuit, strong_model, iris_chunks, tmp_path):
    x, y = iris_chunks[0]
    with pytest.raises(DataError, match=r"shape \(7, 4\)"):
        pipeline.prove(iris_circuit, strong_model, x[:7], y[:7], tmp_path / "p.json")
    with pytest.raises(DataError, match="class indices"):
        pipeline.prove(iris_circuit, strong_model, x, y + 5, tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()


def test_errors__model_of_another_architecture(iris_circuit, iris, tmp_path, iris_chunks):
    mlp = models.train(iris, "mlp", 100, hidden=4)
    with pytest.raises(ModelError, match=r"does not fit circuit iris-logreg-n8: 3 layers \(dense → relu → dense\) instead of 1"):
        pipeline.prove(iris_circuit, mlp, *iris_chunks[0], tmp_path / "p.json")


def test_errors__all_zero_tensor_is_refused(iris_circuit, strong_model, iris_chunks, tmp_path):
    zero_bias = models.QuantisedModel("logreg", strong_model.weights, [np.zeros_like(strong_model.biases[0])])
    with pytest.raises(ModelError, match="entirely zero"):
        pipeline.prove(iris_circuit, zero_bias, *iris_chunks[0], tmp_path / "p.json")


def test_errors__values_beyond_circuit_range(iris_circuit, strong_model, iris_chunks, tmp_path):
    scale = 2**23 // int(np.abs(strong_model.weights[0]).max())  # parameters still exact in float32
    huge = models.QuantisedModel("logreg", [strong_model.weights[0] * scale], strong_model.biases)
    with pytest.raises(ModelError, match="beyond the circuit's range"):
        pipeline.prove(iris_circuit, huge, *iris_chunks[0], tmp_path / "p.json")
    beyond_float32 = models.QuantisedModel("logreg", [strong_model.weights[0] * 2**26], strong_model.biases)
    with pytest.raises(ModelError, match="beyond 2\\^24"):
        pipeline.prove(iris_circuit, beyond_float32, *iris_chunks[0], tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()


def test_errors__corrupt_proof_files(tmp_path, prove_iris, strong_model, iris_chunks):
    _, good = prove_iris(strong_model, iris_chunks[0], "strong0")
    body = json.loads(good.read_text())
    cases = {
        "not_json": "{",
        "no_proof": json.dumps({"instances": body["instances"]}),
        "truncated": json.dumps({**body, "hex_proof": body["hex_proof"][:200]}),
        "bad_felt": json.dumps({**body, "instances": [["zz"]]}),
    }
    for name, text in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        with pytest.raises(ArtefactError):
            pipeline.load_proof(path)
    with pytest.raises(ArtefactError, match="missing"):
        pipeline.load_proof(tmp_path / "absent.json")


def test_errors__missing_proving_key_is_regenerated_not_fatal(iris_circuit):
    iris_circuit.pk.unlink()
    assert pipeline.ensure_keys(iris_circuit).is_file()


def test_errors__wrong_or_missing_srs(iris_circuit, tmp_path):
    with pytest.raises(SrsError, match="does not exist"):
        pipeline.srs_for(iris_circuit, tmp_path / "missing.srs")
    other = srs.dev_srs_path(tmp_path, iris_circuit.logrows)
    other.write_bytes(b"\x00" * 10)
    with pytest.raises(SrsError, match="not an SRS"):
        pipeline.srs_for(iris_circuit, other)


def test_errors__srs_of_other_secret_is_refused(iris_circuit, tmp_path):
    import ezkl

    foreign = tmp_path / "foreign.srs"
    ezkl.gen_srs(str(foreign), iris_circuit.logrows)
    with pytest.raises(SrsError, match="not the SRS"):
        pipeline.srs_for(iris_circuit, foreign)


def test_encoding__negative_felts_and_range():
    assert encoding.int_to_signed(srs.R - 5) == -5
    assert encoding.int_to_signed(7) == 7
    assert encoding.felt_to_int((srs.R - 5).to_bytes(32, "little").hex()) == srs.R - 5
    with pytest.raises(ArtefactError, match="not below"):
        encoding.felt_to_int(srs.R.to_bytes(32, "little").hex())


def test_encoding__calldata_is_abi_of_proof_and_instances(prove_iris, strong_model, iris_chunks):
    from eth_abi import decode

    bundle, _ = prove_iris(strong_model, iris_chunks[0], "strong0")
    data = bundle.calldata()
    assert data[:4] == encoding.VERIFY_SELECTOR
    proof, instances = decode(["bytes", "uint256[]"], data[4:])
    assert proof == bundle.proof and list(instances) == bundle.instances


@pytest.mark.parametrize("circuit_id", ["iris-logreg-n8", "digits-logreg-n64", "digits-mlp16-n64", "diabetes-linreg-n64"])
def test_soundness__evaluation_graph_has_no_constant_the_prover_chooses(circuit_id):
    """In polycommit mode every float initializer is a committed model parameter: the prover's to choose. The first
    built-in graphs had a float `n` (score = n − wrong) and `target_scale` (regression): a model owner could commit
    n = samples + k or target_scale = 0 and prove a score it does not have. Only layer weights may be floats."""
    import re

    import onnx
    from onnx import TensorProto

    graph = onnx.load(str(pipeline.open_circuit(circuit_id).path("model.onnx"))).graph
    floats = [init.name for init in graph.initializer if init.data_type == TensorProto.FLOAT]
    assert floats and all(re.fullmatch(r"[Wbmc]\d+", name) for name in floats), floats
    # and the sample count is read from the committed one-hot labels
    assert any(node.op_type == "ReduceSum" and node.input[0] == "Y" for node in graph.node) or circuit_id.startswith("diabetes")


def _tampered_copy(tmp_path, edit):
    """A copy of a committed circuit edited by `edit(folder)`, its manifest rehashed as a tamperer would."""
    import shutil

    folder = tmp_path / "iris-logreg-n8"
    shutil.copytree(pipeline.open_circuit("iris-logreg-n8").root, folder)
    edit(folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["files"] = {name: srs.sha256_file(folder / name) for name in pipeline.ARTEFACTS}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    circuit = pipeline.open_circuit(folder)
    circuit.check_files()  # consistent with its manifest: only the statement check can tell
    return circuit


def test_statement_check__graph_with_a_hidden_parameter__refused(tmp_path):
    import onnx
    from onnx import numpy_helper

    def add_constant(folder):
        proto = onnx.load(str(folder / "model.onnx"))
        proto.graph.initializer.append(numpy_helper.from_array(np.array([8.0], dtype=np.float32), "n"))
        onnx.save(proto, str(folder / "model.onnx"))

    with pytest.raises(ArtefactError, match="not the evaluation graph of its spec.json"):
        pipeline.check_statement(_tampered_copy(tmp_path, add_constant))


def test_statement_check__settings_without_range_checks__refused(tmp_path):
    def public_params(folder):
        settings = json.loads((folder / "settings.json").read_text())
        settings["run_args"]["param_visibility"] = "Public"
        (folder / "settings.json").write_text(json.dumps(settings))

    with pytest.raises(ArtefactError, match="param_visibility='Public', the statement needs 'KZGCommit'"):
        pipeline.check_statement(_tampered_copy(tmp_path, public_params))


@pytest.mark.parametrize("circuit_id", ["iris-logreg-n8", "digits-logreg-n64", "digits-mlp16-n64", "diabetes-linreg-n64"])
def test_statement_check__committed_circuits_pass(circuit_id):
    pipeline.check_statement(pipeline.open_circuit(circuit_id))
