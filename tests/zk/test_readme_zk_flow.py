"""The README's `apiary zk` block, run as a user runs it from a directory of their own.

The block is the text between `<!-- zk-flow:begin -->` and `<!-- zk-flow:end -->` in README.md; `./dev` is
replaced by this checkout's absolute path (the user's directory is a fresh temporary one), nothing else changes.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from apiary.paths import PROJECT_ROOT

BEGIN, END = "<!-- zk-flow:begin -->", "<!-- zk-flow:end -->"
pytestmark = pytest.mark.slow


def readme_block() -> str:
    text = (PROJECT_ROOT / "README.md").read_text()
    assert text.count(BEGIN) == 1 and text.count(END) == 1, "README.md needs exactly one zk-flow block"
    match = re.fullmatch(r"\s*```bash\n(.*?)```\s*", text[text.index(BEGIN) + len(BEGIN) : text.index(END)], re.S)
    assert match, "the zk-flow markers must enclose exactly one ```bash block"
    return match.group(1)


def test_readme_zk_flow__runs_in_the_users_directory(tmp_path):
    script = readme_block().replace("./dev ", f"{PROJECT_ROOT}/dev ")
    result = subprocess.run(["bash", "-c", "set -euo pipefail\n" + script], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert (tmp_path / "task" / "circuit" / "manifest.json").is_file() and (tmp_path / "proof.json").is_file()
    assert re.search(r"valid on chain: verifyProof took [\d,]+ gas", result.stdout)
    assert re.search(r"2 proofs valid on chain: [\d,]+ gas in 2 verifyProof calls; [\d,]+ gas in one verifyBatch call",
                     result.stdout)
    assert result.stdout.rstrip().splitlines()[-1].startswith("0x")  # the calldata
    chunks = re.search(r'"chunks": \[(.*?)\]', result.stdout, re.S)
    assert chunks and chunks.group(1).count("0x") == 3 and '"test_set_commitment"' in result.stdout
