"""Static analysis in the test command: slither over every project contract, no High or Medium findings.

The runner is `apiary/static.py` (what is analysed and why, how to suppress). The second test proves the gate
can fail: a tiny contract with a known Medium hit, analysed from a temporary folder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from apiary.paths import PROJECT_ROOT
from apiary.static import OFFLINE_GUARD, SOLC, contract_sources, run_slither

HOW_TO_FIX = (
    "Fix the code, or, where the finding is a false positive, put on the line above the flagged statement\n"
    "    // slither-disable-next-line <detector> — <one-line reason why it is safe>\n"
    "Standalone: ./dev exec python -m apiary.static   (--all also prints Low/Informational/Optimization)"
)


def test_contracts_have_no_high_or_medium_findings():
    started = time.monotonic()
    report = run_slither()
    elapsed = time.monotonic() - started
    print(f"{report.summary()} in {elapsed:.1f} s")
    assert report.sources, "no contracts analysed"
    assert report.ok, (
        f"slither: {len(report.failing)} high/medium finding(s) and {len(report.problems)} suppression problem(s):\n  "
        + "\n  ".join(report.failure_lines())
        + "\n"
        + HOW_TO_FIX
    )


def test_every_project_contract_is_analysed_except_test_mocks():
    contracts = PROJECT_ROOT / "contracts"
    rel = [p.relative_to(contracts).as_posix() for p in contract_sources()]
    # ape keeps its dependency cache in contracts/.cache (on a fresh clone, OpenZeppelin's sources): not ours.
    on_disk = {p.relative_to(contracts).as_posix() for p in contracts.rglob("*.sol")
               if not any(part.startswith(".") for part in p.relative_to(contracts).parts)}
    assert set(rel) == {r for r in on_disk if not r.startswith("test/")}
    assert not [r for r in rel if r.startswith("test/")], "mocks under contracts/test are not deployed"
    for expected in ("vault/FeeVault.sol", "governance/ApiaryToken.sol", "zk/EvaluationProofs.sol"):
        assert expected in rel


STRICT_BALANCE = """\
// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

contract StrictBalance {
    function drained() external view returns (bool) {
        return address(this).balance == 0;
    }

    function drainedSuppressed() external view returns (bool) {
        // slither-disable-next-line incorrect-equality — test: a suppression with a reason hides the finding
        return address(this).balance == 0;
    }

    function stale() external pure returns (uint256) {
        // slither-disable-next-line incorrect-equality — test: nothing on the next line for it to suppress
        return 1;
    }

    function noReason() external view returns (bool) {
        // slither-disable-next-line incorrect-equality
        return address(this).balance == 1;
    }
}
"""


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not found")


def test_runner_reports_a_medium_finding_and_bad_suppressions(tmp_path):
    source = tmp_path / "contracts" / "StrictBalance.sol"
    source.parent.mkdir()
    source.write_text(STRICT_BALANCE)
    report = run_slither(root=tmp_path)

    failing = [(f.impact, f.check, f.file, f.line) for f in report.failing]
    flagged = _line_of(STRICT_BALANCE, "return address(this).balance == 0;", 1)
    assert failing == [("Medium", "incorrect-equality", "contracts/StrictBalance.sol", flagged)], report.failure_lines()
    line = report.failing[0].one_line()
    assert line.startswith(f"Medium incorrect-equality contracts/StrictBalance.sol:{flagged} ")
    assert "StrictBalance.drained()" in line

    stale = _line_of(STRICT_BALANCE, "nothing on the next line")
    no_reason = _line_of(STRICT_BALANCE, "return address(this).balance == 1;") - 1
    problems = "\n".join(report.problems)
    assert f"contracts/StrictBalance.sol:{stale}: suppresses nothing" in problems, problems
    assert f"contracts/StrictBalance.sol:{no_reason}: no reason given" in problems, problems
    assert len(report.problems) == 2, problems
    assert not report.ok


def test_slither_cannot_download_a_compiler():
    probe = OFFLINE_GUARD + textwrap.dedent(
        """
        import crytic_compile.crytic_compile as cc
        import crytic_compile.compiler.compiler as comp
        assert cc.install_artifacts is comp.install_artifacts
        cc.install_artifacts(["0.8.28"])
        """
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "tried to download a compiler" in proc.stderr, proc.stderr


def test_solc_on_path_is_the_offline_launcher():
    """solc-select's `solc` shim downloads compilers; `./dev` replaces it with the project's launcher."""
    found = shutil.which("solc")
    if found is not None:
        assert Path(found).resolve() == SOLC.resolve(), f"`solc` on PATH is {found}, not {SOLC}"
