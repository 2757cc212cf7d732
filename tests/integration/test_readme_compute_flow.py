"""The README's compute market block, run verbatim with bash against the node it starts itself: the iris circuit
and its inference twin enabled by governance, a model registered, three provider agents (one configured to lie)
and a watchdog as their own processes; a proof-mode job proven and paid, an optimistic job final after its
window, the liar's result challenged by the watchdog and slashed when no proof comes, the requester refunded."""

from __future__ import annotations

import re

import pytest


from tests.integration.test_readme_market_flow import _port_open, readme_bash_block, run_block

TIMEOUT = 900


def readme_block() -> str:
    return readme_bash_block("compute-flow")


@pytest.mark.anvil
def test_readme_compute_flow__runs_verbatim__proof_optimistic_liar_slashed(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    port, output = run_block(readme_block().replace("T=build/compute-task", f"T={work}/compute-task"), tmp_path, TIMEOUT)
    assert re.search(r"job #1: paid \(proven\); outputs \[-?\d+, -?\d+, -?\d+\]", output), output[-4000:]
    assert "outputs match your own run" in output
    # One optimistic result in twenty is audited at random (the local profile's 5%): job #2 is then paid on the
    # proof its provider sends once the requester's `wait` reveals the seed, else final after its window. The
    # liar's job #3 is challenged by the watchdog whatever its audit says (nobody knows the draw while challenges
    # are open).
    paid = re.search(r"job #2: paid \((final after its challenge window|proven)\)", output)
    assert paid, output[-4000:]
    assert paid.group(1) != "proven" or "job #2 audit passed with a proof" in output, output[-4000:]
    assert re.search(r"job #3: slashed \(the provider failed", output), output[-4000:]
    assert "no proof exists" in output
    assert "challenged job #3" in output
    assert re.search(r"job #3: optimistic, model #1, submitted; .*challenged by "
                     r"0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc", output), output[-4000:]
    assert re.search(r"job #3: optimistic, .*; price 2 APY; collateral 20 APY; due ", output), output[-4000:]
    assert "withdrew" in output
    assert "b'\\x" not in output, "nothing printed as Python bytes"
    assert not _port_open(port), "the block must stop its node"
