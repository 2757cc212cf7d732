"""The benchmark commands keep working (their numbers are reports, not assertions)."""

import os
import subprocess

from apiary.paths import PROJECT_ROOT


def test_bench_market__runs_and_reports_every_call():
    result = subprocess.run(["ape", "run", "bench_market"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=900, env={**os.environ})
    assert result.returncode == 0, result.stderr[-2000:]
    report = (PROJECT_ROOT / "reports" / "market-gas.md").read_text()
    for call in ("createOpen", "createSealed", "commitModel", "submitChunk, mock verifier", "submitChunk, real verifier", "withdraw"):
        assert call in report
