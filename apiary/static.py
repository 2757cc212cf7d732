"""Static analysis: slither over the project's contracts; High and Medium findings fail.

    ./dev exec python -m apiary.static          # High/Medium findings, one line each; exit 1 if any
    ./dev exec python -m apiary.static --all    # also the Low, Informational and Optimization lines

What is analysed: every `.sol` under `contracts/` (new folders are picked up by themselves), compiled as one
standard-json unit with the settings of `ape-config.yaml`, except
  * `contracts/test/`: test-only mocks (hostile tokens, a flash lender, a harness) that are never deployed and
    are hostile on purpose;
  * `verifiers/*/Verifier.sol` live outside `contracts/` and are not analysed: they are generated code (ezkl's
    Halo2 verifier, patched by `apiary/zk/verifier.py`), almost all inline assembly, checked by rebuilding them
    and verifying real proofs on chain (`tests/zk`), not by reading.

A finding counts when any of its elements lies in an analysed file (so a finding in our code that also points
into OpenZeppelin stays; one only inside `node_modules` does not). Slither's own `--filter-paths` is not used:
it drops a result as soon as *one* element matches.

Suppressions live next to the code only, as `// slither-disable-next-line <detector> — <reason>`; a directive
without a reason, or one that no longer suppresses anything, fails too. No triage database or SARIF input is
read, so nothing is hidden outside the source.

Offline: the compiler is the project's solc-js launcher (`tools/solc/solc-v0.8.28`), passed by path; slither runs
under a bootstrap that makes solc-select's download functions raise, so it can never fetch a compiler.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .paths import NODE_BIN, PROJECT_ROOT, SOLC_DIR, SOLC_VERSION

FAIL_IMPACTS = ("High", "Medium")
IMPACT_ORDER = ("High", "Medium", "Low", "Informational", "Optimization")
CONTRACTS_DIR = "contracts"
EXCLUDED_DIRS = ("contracts/test",)
CONFIG_FILE = PROJECT_ROOT / "slither.config.json"
SOLC = SOLC_DIR / f"solc-v{SOLC_VERSION}"
TIMEOUT_S = 900

# `// slither-disable-next-line a,b — reason` (also -start / -end); group 2: the detectors, group 3: the rest.
_DIRECTIVE = re.compile(r"//\s*slither-disable(-next-line|-start|-end|-line)?\s*([A-Za-z0-9_,-]*)(.*)$")
_MIN_REASON = 8  # characters of reason after the detector list

# Replaces every solc-select function that could download a compiler with a refusal; must run before
# crytic_compile is imported (it binds `install_artifacts` by name).
OFFLINE_GUARD = r"""
import solc_select.solc_select as _ss

def _refuse(*args, **kwargs):
    raise SystemExit("apiary.static: slither tried to download a compiler through solc-select (pass --solc)")

for _name in ("install_artifacts", "get_url", "get_available_versions", "get_installable_versions",
              "get_latest_release", "switch_global_version", "get_soliditylang_checksums"):
    if hasattr(_ss, _name):
        setattr(_ss, _name, _refuse)
"""

# Runs slither's CLI under the guard.
_BOOTSTRAP = OFFLINE_GUARD + r"""
import sys
from slither.__main__ import main
sys.argv[0] = "slither"
main()
"""


class StaticAnalysisError(RuntimeError):
    """slither could not run or could not compile the contracts; the message carries its output."""


@dataclass(frozen=True)
class Finding:
    impact: str
    confidence: str
    check: str
    file: str
    line: int
    description: str

    @property
    def fails(self) -> bool:
        return self.impact in FAIL_IMPACTS

    def one_line(self) -> str:
        text = " ".join(self.description.split())
        return f"{self.impact} {self.check} {self.file}:{self.line} {text}"


@dataclass
class Report:
    sources: list[str]
    findings: list[Finding] = field(default_factory=list)
    # Suppression hygiene: directives without a reason, or that suppress nothing any more.
    problems: list[str] = field(default_factory=list)

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.fails]

    @property
    def ok(self) -> bool:
        return not self.failing and not self.problems

    def __repr__(self) -> str:
        return f"Report({self.summary()})"

    def failure_lines(self) -> list[str]:
        return [f.one_line() for f in self.failing] + self.problems

    def summary(self) -> str:
        counts = {i: 0 for i in IMPACT_ORDER}
        for f in self.findings:
            counts[f.impact] = counts.get(f.impact, 0) + 1
        parts = ", ".join(f"{n} {i.lower()}" for i, n in counts.items())
        return f"slither: {len(self.sources)} files; {parts}; {len(self.problems)} suppression problem(s)"


def contract_sources(root: Path = PROJECT_ROOT) -> list[Path]:
    """Every `.sol` under `contracts/` except the test mocks, sorted."""
    base = root / CONTRACTS_DIR
    excluded = [root / d for d in EXCLUDED_DIRS]
    return sorted(
        p for p in base.rglob("*.sol") if not any(p.is_relative_to(e) for e in excluded) and ".cache" not in p.parts
    )


def _compiler_settings() -> dict:
    """Compiler settings for the analysis: solc version and evmVersion as ape compiles (ape-config.yaml).

    The optimizer is on as in ape's build: OpenZeppelin's P256 (DeviceRegistry) is "stack too deep" without it.
    It costs solc-js time (about 44 s instead of 12 s on two cores) but changes nothing slither reads (the AST).
    """
    cfg = yaml.safe_load((PROJECT_ROOT / "ape-config.yaml").read_text()).get("solidity", {})
    version = str(cfg.get("version", SOLC_VERSION))
    if version != SOLC_VERSION:
        raise StaticAnalysisError(f"ape-config.yaml wants solc {version}, the launcher serves {SOLC_VERSION}")
    settings: dict = {"optimizer": {"enabled": True, "runs": int(cfg.get("optimization_runs", 200))}}
    if cfg.get("evm_version"):
        settings["evmVersion"] = cfg["evm_version"]
    return settings


def _rel(path: Path, root: Path) -> str:
    path = path.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def _suppression_problems(files: list[Path], root: Path) -> list[str]:
    """Every slither-disable directive needs a detector list and a one-line reason after it."""
    problems = []
    for path in files:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            m = _DIRECTIVE.search(text)
            if not m:
                continue
            kind, detectors, rest = m.group(1) or "", m.group(2), m.group(3)
            where = f"{_rel(path, root)}:{number}"
            if kind == "-end":
                continue
            if not detectors:
                problems.append(f"suppression {where}: names no detector: {text.strip()}")
            elif "all" in detectors.split(","):
                problems.append(f"suppression {where}: 'all' is not allowed, name the detector")
            reason = rest.strip(" \t-—–:")
            if len(reason) < _MIN_REASON:
                problems.append(f"suppression {where}: no reason given (write `— why it is safe` after the detector)")
    return problems


def _location(result: dict, wanted: set[str], root: Path) -> tuple[str, int] | None:
    """The first element of `result` inside an analysed file, as (relative path, first line); the most
    specific one (a statement rather than its whole function) when there are several."""
    best: tuple[int, str, int] | None = None
    for element in result.get("elements", []):
        sm = element.get("source_mapping") or {}
        absolute = sm.get("filename_absolute")
        if not absolute:
            continue
        rel = _rel(Path(absolute), root)
        if rel not in wanted:
            continue
        lines = sm.get("lines") or [0]
        span = len(lines)
        if best is None or span < best[0]:
            best = (span, rel, lines[0])
    return None if best is None else (best[1], best[2])


def _headline(description: str) -> str:
    """slither's first line; when it ends in a colon, up to the first detail line (the statement)."""
    lines = [line.strip() for line in description.strip().splitlines() if line.strip()]
    head = lines[:1]
    for line in lines[1:4]:
        if not head[-1].endswith(":"):
            break
        head.append(line)
    return " ".join(head)


def _parse(output: dict, wanted: set[str], root: Path) -> tuple[list[Finding], list[str]]:
    findings: list[Finding] = []
    problems: list[str] = []
    for result in output.get("results", {}).get("detectors", []):
        if result.get("check") == "unused-ignore-directive":
            for unused in result.get("unused_ignores", []):
                rel = _rel(Path(unused["file"]), root)
                if rel in wanted:
                    dets = ",".join(unused.get("unused_detectors", []))
                    problem = f"suppression {rel}:{int(unused['line'])}: suppresses nothing ({dets}): remove it"
                    if problem not in problems:  # slither may list a directive once per compilation unit
                        problems.append(problem)
            continue
        where = _location(result, wanted, root)
        if where is None:
            continue  # only inside dependencies (OpenZeppelin)
        findings.append(
            Finding(
                impact=result.get("impact", "?"),
                confidence=result.get("confidence", "?"),
                check=result.get("check", "?"),
                file=where[0],
                line=where[1],
                description=_headline(result.get("description") or ""),
            )
        )
    findings.sort(key=lambda f: (IMPACT_ORDER.index(f.impact) if f.impact in IMPACT_ORDER else 9, f.file, f.line, f.check))
    return findings, problems


def run_slither(
    sources: list[Path] | None = None, root: Path = PROJECT_ROOT, timeout: float = TIMEOUT_S
) -> Report:
    """Compile `sources` (default: `contract_sources(root)`) as one unit and run every slither detector."""
    root = Path(root).resolve()
    files = [Path(s).resolve() for s in (sources if sources is not None else contract_sources(root))]
    if not files:
        raise StaticAnalysisError(f"no Solidity sources found under {root / CONTRACTS_DIR}")
    if not SOLC.is_file() or not (PROJECT_ROOT / "node_modules" / "solc" / "package.json").is_file():
        raise StaticAnalysisError(f"solc {SOLC_VERSION} (npm package `solc`) is not installed: run `npm ci`")
    wanted = {_rel(f, root) for f in files}
    standard_json = {
        "language": "Solidity",
        "sources": {_rel(f, root): {"urls": [_rel(f, root)]} for f in files},
        "settings": _compiler_settings(),
    }
    with tempfile.TemporaryDirectory(prefix="apiary-slither-") as tmp:
        tmp_dir = Path(tmp)
        input_path = tmp_dir / "input.json"
        output_path = tmp_dir / "slither.json"
        input_path.write_text(json.dumps(standard_json))
        cmd = [
            sys.executable, "-c", _BOOTSTRAP, str(input_path),
            "--config-file", str(CONFIG_FILE),
            "--solc", str(SOLC),
            "--solc-working-dir", str(root),
            "--json", str(output_path),
            "--fail-none",
            # Nothing hidden outside the source: no triage database, no SARIF triage.
            "--triage-database", str(tmp_dir / "no-triage.json"),
            "--sarif-input", str(tmp_dir / "no-input.sarif"),
        ]  # fmt: skip
        env = dict(os.environ)
        env["PATH"] = f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}"
        env.setdefault("NO_COLOR", "1")
        try:
            proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise StaticAnalysisError(f"slither ran past {timeout:.0f} s") from exc
        log = (proc.stdout + proc.stderr)[-6000:]
        if not output_path.is_file():
            raise StaticAnalysisError(f"slither wrote no result (exit {proc.returncode}):\n{log}")
        output = json.loads(output_path.read_text() or "{}")
    if not output.get("success", False):
        raise StaticAnalysisError(f"slither failed: {output.get('error')}\n{log}")
    findings, stale = _parse(output, wanted, root)
    return Report(sources=sorted(wanted), findings=findings, problems=_suppression_problems(files, root) + stale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m apiary.static", description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="also print Low, Informational and Optimization findings")
    parser.add_argument("files", nargs="*", type=Path, help="Solidity files (default: all project contracts)")
    args = parser.parse_args(argv)
    try:
        report = run_slither(args.files or None)
    except StaticAnalysisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for finding in report.findings:
        if finding.fails or args.all:
            print(finding.one_line())
    for problem in report.problems:
        print(problem)
    print(report.summary(), file=sys.stderr)
    if not report.ok:
        print(f"FAIL: {len(report.failing)} high/medium finding(s), {len(report.problems)} suppression problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
