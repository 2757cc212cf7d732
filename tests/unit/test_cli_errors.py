"""What a user sees when something is wrong: one line that says what to do, exit code 1, no traceback."""

import json
import subprocess
import sys

import pytest


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-c", "from apiary.cli import run; run()", *args],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.mark.parametrize("args,expected", [
    (["zk", "verify", "no-such-circuit", "proof.json"], "no circuit folder or built-in circuit 'no-such-circuit'"),
    (["zk", "decode", "missing-proof.json"], "missing-proof.json is missing"),
    (["zk", "prove", "iris-logreg-n8", "--model", "missing.onnx", "--chunk", "0", "--chunks", "2", "--out", "p.json"], "does not exist"),
    (["zk", "prove", "iris-logreg-n8", "--model", "missing.onnx", "--chunk", "0", "--out", "p.json"], "Missing option '--chunks'"),
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
    result = run_cli("zk", "train", "--dataset", "iris", "--arch", "logreg", "--out", "model.onnx", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "data.csv").write_text("a,b,c,label\n" + "1,2,3,0\n" * 8)
    result = run_cli("zk", "prove", "iris-logreg-n8", "--model", "model.onnx", "--data", "data.csv", "--chunk", "0",
                     "--chunks", "1", "--out", "proof.json", cwd=tmp_path)
    assert result.returncode == 1
    assert "data.csv has 3 feature columns; circuit iris-logreg-n8 takes 4" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "proof.json").exists()


def test_cli__help_lists_steps_in_order():
    result = run_cli("zk", "--help")
    assert result.returncode == 0
    for step in ("import", "testset", "prove", "verify", "calldata", "train", "build", "check-deployed"):
        assert step in result.stdout


def _run_in_process(monkeypatch, capsys, *args):
    from apiary.cli import run

    monkeypatch.setattr(sys, "argv", ["apiary", *args])
    with pytest.raises(SystemExit) as exited:
        run()
    out = capsys.readouterr()
    return exited.value.code, out.out, out.err


_FAKE_PROOF = {"proof": list(range(256)) * 2, "instances": [["07" + "00" * 31]], "hex_proof": "0x" + bytes(range(256)).hex() * 2}
MALFORMED_PROOFS = {
    "empty": (b"", "not JSON"),
    "whitespace": (b"  \n", "not JSON"),
    "truncated": (json.dumps(_FAKE_PROOF).encode()[:700], "not JSON"),
    "random_bytes": (bytes((i * 73 + 41) % 256 for i in range(4096)), "binary data"),
    "not_json": (b"proof: 0x1234\n", "not JSON"),
    "json_list": (b"[1, 2, 3]", "not an object"),
    "json_null": (b"null", "not an object"),
    "missing_proof": (json.dumps({"instances": _FAKE_PROOF["instances"]}).encode(), "no 'proof' field"),
    "missing_instances": (json.dumps({"proof": _FAKE_PROOF["proof"]}).encode(), "no 'instances' field"),
    "short_proof": (json.dumps({"proof": [1] * 64, "instances": _FAKE_PROOF["instances"]}).encode(), "truncated"),
    "deeply_nested": (b"[" * 100_000, "not JSON"),
    "huge_number": (b'{"proof": [' + b"9" * 5000 + b"]}", "not JSON"),
}


@pytest.mark.parametrize("command", ["verify", "decode", "calldata"])
@pytest.mark.parametrize("case", sorted(MALFORMED_PROOFS))
def test_cli__malformed_proof_file__one_line_error(tmp_path, monkeypatch, capsys, command, case):
    content, expected = MALFORMED_PROOFS[case]
    path = tmp_path / "proof.json"
    path.write_bytes(content)
    args = ["zk", command, *(["iris-logreg-n8"] if command == "verify" else []), str(path)]
    code, out, err = _run_in_process(monkeypatch, capsys, *args)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert expected in err and str(path) in err


def test_cli__malformed_proof_files__no_traceback_in_a_real_process(tmp_path):
    for case in ("empty", "random_bytes", "missing_instances"):
        path = tmp_path / f"{case}.json"
        path.write_bytes(MALFORMED_PROOFS[case][0])
        result = run_cli("zk", "calldata", str(path))
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        assert "Traceback" not in result.stderr
