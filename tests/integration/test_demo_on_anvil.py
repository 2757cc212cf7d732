"""The README's demo, on a real node: anvil started by the test through ape-foundry."""

import shutil

import pytest
from ape import networks

from apiary.demo.demo import governance_round_trip


@pytest.mark.anvil
def test_demo__governance_round_trip_on_anvil(project, accounts):
    assert shutil.which("anvil"), "anvil not on PATH: run the tests through ./dev test (npm ci installs it)"
    with networks.parse_network_choice("ethereum:local:foundry") as provider:
        assert provider.name == "foundry"
        lines: list[str] = []
        core = governance_round_trip(project, accounts, log=lines.append)
        assert core.vault.feeBps() == 250
        assert any("alice claimed 60.0000 dUSD" in line for line in lines)
        assert len(provider.get_code(core.governor.address)) <= 24_576
