"""One source of truth in a proof file: what `verify` checks is byte for byte what `calldata` sends.

ezkl's verifier reads a proof.json's `proof` (byte list) and `instances`; ezkl also writes copies
(`hex_proof`, `pretty_public_inputs`). A file whose copies disagree is refused by every command with the same
message; a consistent edit is verified and fails.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest

from apiary.zk import pipeline
from apiary.zk.errors import ArtefactError, ProofError


@pytest.fixture
def good(prove_iris, strong_model, iris_chunks):
    bundle, path = prove_iris(strong_model, iris_chunks[0], "strong0")
    return bundle, path, json.loads(path.read_text())


def _write(tmp_path, name, body) -> "pipeline.Path":
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(body))
    return path


def _flip_hex(hex_proof: str, index: int) -> str:
    raw = bytearray(bytes.fromhex(hex_proof.removeprefix("0x")))
    raw[index] ^= 0x01
    return "0x" + raw.hex()


def _cli(*args):
    return subprocess.run([sys.executable, "-c", "from apiary.cli import run; run()", *args],
                          capture_output=True, text=True, timeout=300)


def test_proof_file__ezkl_writes_the_fields_load_proof_checks(good):
    _, _, body = good
    assert set(body) <= pipeline._PROOF_FIELDS
    assert body["hex_proof"] == "0x" + bytes(body["proof"]).hex()
    assert body["pretty_public_inputs"]["outputs"] and body["pretty_public_inputs"]["rescaled_outputs"]


def test_proof_file__untouched_file_verifies_and_calldata_is_what_ezkl_checked(iris_circuit, good, monkeypatch):
    bundle, path, body = good
    seen = []
    real_verify = pipeline.ezkl.verify

    def spy(proof_path, *args, **kwargs):
        seen.append(json.loads(open(proof_path).read()))
        return real_verify(proof_path, *args, **kwargs)

    monkeypatch.setattr(pipeline.ezkl, "verify", spy)
    verified = pipeline.verify_local(iris_circuit, path)
    (checked,) = seen
    # ezkl was handed exactly the file's proof bytes and instances...
    assert checked["proof"] == body["proof"] and checked["instances"] == body["instances"]
    # ...which are exactly what the calldata carries.
    assert pipeline.ProofBundle(bytes(checked["proof"]), [int.from_bytes(bytes.fromhex(f), "little")
                                                          for f in checked["instances"][0]]).calldata() == bundle.calldata()
    assert verified == bundle == pipeline.load_proof(path)
    assert verified.calldata() == pipeline.load_proof(path).calldata()


@pytest.mark.parametrize("edit", ["hex_proof", "proof"])
def test_proof_file__one_copy_edited__refused_by_verify_decode_and_calldata_alike(iris_circuit, good, tmp_path, edit):
    _, _, body = good
    edited = copy.deepcopy(body)
    if edit == "hex_proof":
        edited["hex_proof"] = _flip_hex(body["hex_proof"], 300)
    else:
        edited["proof"][300] ^= 0x01
    path = _write(tmp_path, f"edited-{edit}", edited)
    with pytest.raises(ArtefactError, match="fields disagree") as refused:
        pipeline.load_proof(path)
    with pytest.raises(ArtefactError) as refused_by_verify:
        pipeline.verify_local(iris_circuit, path)
    assert str(refused_by_verify.value) == str(refused.value)
    assert "'hex_proof' != 'proof'" in str(refused.value)

    outputs = [_cli("zk", "verify", str(iris_circuit.root), str(path)),
               _cli("zk", "decode", str(path)),
               _cli("zk", "calldata", str(path))]
    for result in outputs:
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.strip() == f"error: {refused.value}"
        assert "Traceback" not in result.stderr


@pytest.mark.parametrize("field", ["outputs", "rescaled_outputs"])
def test_proof_file__pretty_copy_of_the_score_edited__refused(good, tmp_path, field):
    _, _, body = good
    edited = copy.deepcopy(body)
    edited["pretty_public_inputs"][field] = [["0x" + "00" * 31 + "09"]] if field == "outputs" else [["9"]]
    with pytest.raises(ArtefactError, match=f"pretty_public_inputs.{field}' != 'instances'"):
        pipeline.load_proof(_write(tmp_path, field, edited))


def test_proof_file__extra_public_values_or_columns__refused(good, tmp_path):
    _, _, body = good
    edited = copy.deepcopy(body)
    edited["pretty_public_inputs"]["inputs"] = [["1"]]
    with pytest.raises(ArtefactError, match="'pretty_public_inputs.inputs' is not empty"):
        pipeline.load_proof(_write(tmp_path, "inputs", edited))
    two_columns = {**body, "instances": body["instances"] * 2}
    with pytest.raises(ArtefactError, match="exactly one column"):
        pipeline.load_proof(_write(tmp_path, "columns", two_columns))
    for key, value in (("split", {"start": 0, "end": 1}), ("protocol", {}), ("transcript_type", "Poseidon")):
        with pytest.raises(ArtefactError, match=key):
            pipeline.load_proof(_write(tmp_path, key, {**body, key: value}))


def test_proof_file__bit_flipped_consistently__verify_fails(iris_circuit, good, tmp_path):
    _, _, body = good
    for index in (5, 300, len(body["proof"]) - 1):
        edited = copy.deepcopy(body)
        edited["proof"][index] ^= 0x01
        edited["hex_proof"] = "0x" + bytes(edited["proof"]).hex()
        path = _write(tmp_path, f"flip{index}", edited)
        pipeline.load_proof(path)  # well-formed and consistent...
        with pytest.raises(ProofError, match="does not verify"):  # ...but not a proof
            pipeline.verify_local(iris_circuit, path)


def test_proof_file__score_raised_consistently_everywhere__verify_fails(iris_circuit, good, tmp_path):
    bundle, _, body = good
    higher = bundle.score + 1
    edited = {**body, "instances": [[higher.to_bytes(32, "little").hex()]],
              "pretty_public_inputs": {**body["pretty_public_inputs"], "outputs": [["0x" + higher.to_bytes(32, "big").hex()]],
                                       "rescaled_outputs": [[str(higher)]]}}
    path = _write(tmp_path, "higher", edited)
    assert pipeline.load_proof(path).score == higher
    with pytest.raises(ProofError, match="does not verify"):
        pipeline.verify_local(iris_circuit, path)


def test_proof_file__malformed_copies_and_types__refused(good, tmp_path):
    _, _, body = good
    cases = {
        "hex_not_string": {**body, "hex_proof": 5},
        "proof_not_bytes": {**body, "proof": body["proof"][:-1] + [256]},
        "proof_bools": {**body, "proof": [True] * len(body["proof"])},
        "proof_hex_string": {**body, "proof": body["hex_proof"]},
        "felt_with_prefix": {**body, "instances": [["0x" + body["instances"][0][0]]]},
        "felt_short": {**body, "instances": [["07"]]},
        "no_instances": {**body, "instances": [[]]},
        "pretty_not_object": {**body, "pretty_public_inputs": []},
        "version_object": {**body, "version": {}},
    }
    for name, edited in cases.items():
        with pytest.raises(ArtefactError):
            pipeline.load_proof(_write(tmp_path, name, edited))
    # Copies are optional (ezkl's verifier ignores them); the proof stays the same.
    minimal = {"proof": body["proof"], "instances": body["instances"]}
    assert pipeline.load_proof(_write(tmp_path, "minimal", minimal)) == pipeline.load_proof(_write(tmp_path, "full", body))
