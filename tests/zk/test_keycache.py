"""The build cache of proving keys and the development SRS (apiary/zk/keycache.py): keyed by the circuit's
manifest, built once when several processes ask at the same time, a corrupt entry detected and rebuilt."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from apiary.paths import PROJECT_ROOT
from apiary.zk import keycache, pipeline, srs

CIRCUIT = "iris-logreg-n8"  # 2^11 rows: keys in a second


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setattr(pipeline, "CACHE_DIR", root)
    monkeypatch.setattr(pipeline, "DEV_SRS_DIR", root / "srs")
    return root


def _vk_sha(circuit) -> str:
    return srs.sha256_file(circuit.path("vk.key"))


def test_keys__a_miss_builds_them_under_the_manifest_hash__a_hit_reuses_them(cache):
    circuit = pipeline.open_circuit(CIRCUIT)
    assert circuit.build == cache / "zk" / f"{CIRCUIT}-{circuit.manifest_sha256.hex()[:16]}"
    assert keycache.state(circuit.build, _vk_sha(circuit)) == "missing"
    steps: list[str] = []
    pk = pipeline.ensure_keys(circuit, progress=steps.append)
    assert any("proving key" in s for s in steps), steps
    assert keycache.state(circuit.build, _vk_sha(circuit)) == "valid"
    record = json.loads((circuit.build / keycache.RECORD).read_text())
    assert record["files"]["pk.key"]["size"] == pk.stat().st_size and record["vk_sha256"] == _vk_sha(circuit)
    built = pk.stat().st_mtime_ns
    steps.clear()
    assert pipeline.ensure_keys(circuit, progress=steps.append) == pk
    assert pk.stat().st_mtime_ns == built and not any("proving key" in s for s in steps)


@pytest.mark.parametrize("damage", ["truncated", "flipped", "deleted", "record"])
def test_keys__a_corrupt_cache_entry_is_detected_and_rebuilt(cache, damage):
    circuit = pipeline.open_circuit(CIRCUIT)
    pk = pipeline.ensure_keys(circuit)
    original = pk.read_bytes()
    if damage == "truncated":
        pk.write_bytes(original[: len(original) // 2])
    elif damage == "flipped":  # same size: only the recorded hash tells
        pk.write_bytes(original[:1000] + bytes([original[1000] ^ 1]) + original[1001:])
    elif damage == "deleted":
        circuit.compiled.unlink()
    else:
        (circuit.build / keycache.RECORD).write_text("{not json")
    assert keycache.state(circuit.build, _vk_sha(circuit)).startswith("corrupt")
    steps: list[str] = []
    pipeline.ensure_keys(circuit, progress=steps.append)
    assert any("rebuilding" in s for s in steps), steps
    assert keycache.state(circuit.build, _vk_sha(circuit)) == "valid"
    assert pk.read_bytes() == original  # the same key again (deterministic setup from the same SRS)


def test_keys__another_build_of_the_circuit__another_entry(cache, tmp_path, monkeypatch):
    verifiers = tmp_path / "verifiers"
    shutil.copytree(pipeline.VERIFIERS_DIR / CIRCUIT, verifiers / CIRCUIT, ignore=shutil.ignore_patterns(".build", "inference*"))
    monkeypatch.setattr(pipeline, "VERIFIERS_DIR", verifiers)
    first = pipeline.open_circuit(CIRCUIT).build
    manifest = verifiers / CIRCUIT / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"circuit_id"', '"note": "rebuilt",\n  "circuit_id"', 1))
    assert pipeline.open_circuit(CIRCUIT).build != first


def test_keys__processes_asking_at_once__one_builds_the_other_waits_and_reuses(cache):
    script = ("import sys; from apiary.zk import pipeline; c = pipeline.open_circuit(sys.argv[1]); "
              "pipeline.ensure_keys(c, progress=lambda m: print('STEP', m, flush=True))")
    env = {**os.environ, "APIARY_CACHE_DIR": str(cache)}
    procs = [subprocess.Popen([sys.executable, "-c", script, CIRCUIT], cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(3)]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert sum("proving key" in out for out in outputs) == 1, outputs
    circuit = pipeline.open_circuit(CIRCUIT)
    assert keycache.state(circuit.build, _vk_sha(circuit)) == "valid"
    assert not [p.name for p in circuit.build.iterdir() if p.name.endswith(".tmp")]


def test_dev_srs__a_corrupt_cached_srs_is_rebuilt(cache):
    circuit = pipeline.open_circuit(CIRCUIT)
    path = pipeline.srs_for(circuit, None)
    assert path.parent == cache / "srs"
    good = path.read_bytes()
    path.write_bytes(good[:100] + bytes([good[100] ^ 1]) + good[101:])
    steps: list[str] = []
    assert pipeline.srs_for(circuit, None, progress=steps.append) == path
    assert path.read_bytes() == good and any("rebuilding" in s for s in steps), steps
