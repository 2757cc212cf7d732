"""What a user sees when something is wrong: one line that says what to do, exit code 1, no traceback."""

import json
import subprocess
import sys

import pytest


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", "from apiary.cli import run; run()", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize("args,expected", [
    (["zk", "verify", "no-such-circuit", "proof.json"], "no circuit 'no-such-circuit'"),
    (["zk", "decode", "missing-proof.json"], "missing-proof.json is missing"),
    (["zk", "prove", "iris-logreg-n8", "--model", "missing.json", "--chunk", "0", "--out", "p.json"], "does not exist"),
    (["zk", "keys", "iris-logreg-n8", "--srs", "/nonexistent.srs"], "does not exist"),
])
def test_cli__bad_input__one_line_error(tmp_path, args, expected):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_cli__corrupt_proof_file__one_line_error(tmp_path):
    (tmp_path / "proof.json").write_text(json.dumps({"hex_proof": "0x1234", "instances": [["00"]]}))
    result = run_cli("zk", "decode", str(tmp_path / "proof.json"))
    assert result.returncode == 1
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_cli__wrong_shaped_data_file__nothing_written(tmp_path):
    from apiary.zk import models

    ds = models.load_dataset("iris")
    models.train(ds, "logreg", 100).save(tmp_path / "model.json")
    (tmp_path / "data.json").write_text(json.dumps({"features": [[1, 2, 3]] * 8, "labels": [0] * 8}))
    result = run_cli("zk", "prove", "iris-logreg-n8", "--model", str(tmp_path / "model.json"),
                     "--data", str(tmp_path / "data.json"), "--out", str(tmp_path / "proof.json"))
    assert result.returncode == 1
    assert "shape (8, 3)" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "proof.json").exists()


def test_cli__help_lists_steps_in_order():
    result = run_cli("zk", "--help")
    assert result.returncode == 0
    for step in ("train", "build", "prove", "verify", "calldata"):
        assert step in result.stdout
