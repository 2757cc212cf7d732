"""The README's data market block, run verbatim with bash against the node it starts itself (as the market
block's test does): a camera registered by governance, a dataset registered, attested and listed, the seller's
delivery agent as its own process, a buyer who decrypts a file equal byte for byte to the original, the seller
paid less the fee."""

from __future__ import annotations

import re

import pytest


from tests.integration.test_readme_market_flow import _port_open, readme_bash_block, run_block

TIMEOUT = 600


def readme_block() -> str:
    return readme_bash_block("data-flow")


@pytest.mark.anvil
def test_readme_data_flow__runs_verbatim__buyer_gets_the_file_seller_is_paid(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    port, output = run_block(readme_block().replace("D=build/data-task", f"D={work}/data-task"), tmp_path, TIMEOUT)
    assert "bought file equal byte for byte" in output
    assert re.search(r"dataset #1: owner 0x70997970C51812dc3A010C7d01b50e0d17dc79C8, \d+ rows", output), output[-3000:]
    assert "delivered sale #1" in output and "rows checked against the registered dataset" in output
    assert "withdrew 24.75 APY to 0x70997970C51812dc3A010C7d01b50e0d17dc79C8" in output, output[-3000:]
    assert "attested: yes" in output and "paid 25 APY, settled" in output, output[-3000:]
    assert re.search(r"stake 100 APY, .*price 25 APY, challenges close", output), output[-3000:]  # words, not wei
    assert not _port_open(port), "the block must stop its node"
