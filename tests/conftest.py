"""Shared fixtures: named actors and factories for the governance core.

Actors (yearn style): `deployer` deploys, `alice`/`bob`/`carol` are token holders, `whale` holds a lot,
`attacker` is hostile, `gov` stands in for the timelock in unit tests that call governance-only functions
directly. The integration tests deploy the real stack with `deploy_core`, exactly as the scripts do.
"""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.timing"]

from apiary.paths import use_project_toolchain

use_project_toolchain()

if os.environ.get("PYTEST_XDIST_WORKER"):
    # `ape test` sets its log level (WARNING unless -v) in the process it starts; pytest-xdist's workers are new
    # processes where ape logs at INFO, and "Confirmed 0x…" lines would land in the output of CLI commands run in
    # process. The controller passes its level on through the environment.
    from ape.logging import logger

    logger.set_level(int(os.environ.get("APIARY_APE_LOG_LEVEL", "30")))



def _skip_console_log_traces() -> None:
    """ape re-runs every transaction it sends with a tracer to print console.log() lines from the contracts
    (`receipt.show_debug_logs()`), which was a fifth of the unit tests' time. No contract here logs that way (a
    contract that imports console.sol turns the tracing back on), so the tests skip that step; every receipt,
    event, revert and trace a test asks for is unchanged."""
    from apiary.paths import PROJECT_ROOT

    if any("console.sol" in path.read_text() for path in (PROJECT_ROOT / "contracts").rglob("*.sol")):
        return
    from ape.logging import logger
    from ape_ethereum import provider

    def post_send_transaction(tx, receipt):
        logger.info(f"Confirmed {receipt.txn_hash} (total fees paid = {receipt.total_fees_paid})")

    provider._post_send_transaction = post_send_transaction


_skip_console_log_traces()


def pytest_configure(config):
    if not os.environ.get("PYTEST_XDIST_WORKER"):  # the controller (or the only process): workers inherit this
        from ape.logging import logger

        os.environ["APIARY_APE_LOG_LEVEL"] = str(logger.level)

from apiary.deploy.config import ONE_TOKEN, PROFILES, DeployConfig  # noqa: E402
from apiary.deploy.deploy import deploy_core  # noqa: E402

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


@pytest.fixture(scope="session")
def deployer(accounts):
    return accounts[0]


@pytest.fixture(scope="session")
def gov(accounts):
    return accounts[1]


@pytest.fixture(scope="session")
def alice(accounts):
    return accounts[2]


@pytest.fixture(scope="session")
def bob(accounts):
    return accounts[3]


@pytest.fixture(scope="session")
def carol(accounts):
    return accounts[4]


@pytest.fixture(scope="session")
def whale(accounts):
    return accounts[5]


@pytest.fixture(scope="session")
def attacker(accounts):
    return accounts[6]


@pytest.fixture(scope="session")
def local_config(alice, bob, carol, whale) -> DeployConfig:
    base = PROFILES["local"]
    # 40% of 10M outside the treasury: whale 2M, alice/bob/carol 0.667M each.
    return DeployConfig(
        governance=base.governance,
        fees=base.fees,
        holders=((whale.address, 3), (alice.address, 1), (bob.address, 1), (carol.address, 1)),
    )


@pytest.fixture(scope="module")
def core(project, deployer, local_config):
    """The real governance core, deployed and handed over exactly as `ape run deploy` does."""
    return deploy_core(project, deployer, local_config)


@pytest.fixture(scope="module")
def create_token(project, deployer):
    def create(holders, amounts):
        return project.ApiaryToken.deploy([h.address if hasattr(h, "address") else h for h in holders], amounts, sender=deployer)

    return create


@pytest.fixture(scope="module")
def token(create_token, alice, bob, carol, whale):
    return create_token([whale, alice, bob, carol], [4_000 * ONE_TOKEN, 1_000 * ONE_TOKEN, 1_000 * ONE_TOKEN, 1_000 * ONE_TOKEN])


@pytest.fixture(scope="module")
def create_vault(project, deployer, gov):
    def create(share_token, max_fee_bps=1_000, initial_fee_bps=100, owner=None):
        vault = project.FeeVault.deploy((owner or gov).address, share_token.address, max_fee_bps, initial_fee_bps,
                                        sender=deployer)
        if share_token.contract_type.name == "ApiaryToken" and share_token.owner() == deployer.address:
            share_token.setRecorder(vault, sender=deployer)  # the vault announces its record blocks (as deployed)
        return vault

    return create


@pytest.fixture(scope="module")
def vault(create_vault, token):
    return create_vault(token)


@pytest.fixture(scope="module")
def create_erc20(project, deployer):
    def create(kind="MockERC20", *args):
        if kind == "MockERC20" and not args:
            args = ("Mock USD", "mUSD")
        return getattr(project, kind).deploy(*args, sender=deployer)

    return create


@pytest.fixture(scope="module")
def usd(create_erc20):
    return create_erc20()


def load_script(name: str):
    """An `ape run` script (scripts/<name>.py) as a module, to invoke its click `cli` in process."""
    import importlib.util

    from apiary import paths

    spec = importlib.util.spec_from_file_location(f"{name}_script", paths.PROJECT_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cli_stack(project, chain, deployer, core, tmp_path, monkeypatch):
    """Core and markets deployed as `ape run deploy` does, with their manifest for ethereum:local:test in a
    temporary deployments folder (state too), so `ape run …` scripts find them in process. Returns (core, market)."""
    from apiary import paths
    from apiary.deploy.market import deploy_market
    from apiary.sdk.manifest import write_manifest

    market = deploy_market(project, deployer, core)
    monkeypatch.setattr(paths, "DEPLOYMENTS_DIR", tmp_path / "deployments")
    monkeypatch.setattr(paths, "STATE_DIR", tmp_path / "build")
    write_manifest("ethereum", "local", "test", chain.provider.chain_id, deployer.address, core.start_block,
                   {**core.contracts(), **market.contracts()}, {"profile": "local"}, directory=tmp_path / "deployments")
    return core, market
