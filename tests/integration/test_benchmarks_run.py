"""The benchmark commands keep working (their numbers are reports, not assertions)."""

import os
import subprocess

from apiary.paths import PROJECT_ROOT


def test_bench_market__runs_and_reports_every_call():
    result = subprocess.run(["ape", "run", "bench_market"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                            timeout=900, env={**os.environ})
    assert result.returncode == 0, result.stderr[-2000:]
    report = (PROJECT_ROOT / "reports" / "market-gas.md").read_text()
    for call in ("createOpen", "createSealed", "commitModel", "submitChunk, mock verifier", "submitChunk, real verifier", "withdraw",
                 "anchor: OpenZeppelin ERC20 transfer", "anchor: OpenZeppelin ERC20Votes transfer", "APY transfer"):
        assert call in report
    assert "| calldata floor | goal |" in report and "| ≤ 80,000 |" in report


def test_bench_compute__jobs_through_the_agent_on_anvil__each_paid_once(tmp_path):
    out = tmp_path / "compute-bench.md"
    result = subprocess.run(["ape", "run", "bench_compute", "--network", "ethereum:local:foundry", "--optimistic", "6",
                             "--proof", "2", "--digits", "0", "--out", str(out)], cwd=PROJECT_ROOT, capture_output=True,
                            text=True, timeout=900, env={**os.environ})
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    report = out.read_text()
    assert "| optimistic, iris logreg | 6 |" in report and "| proof, iris logreg (2^11 rows) | 2 |" in report
    assert "every job paid exactly once: True" in report and "× (2 APY − fee): True" in report
