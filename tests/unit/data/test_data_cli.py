"""`ape run data …` in process on the embedded chain, for the commands the README names in prose: `attest`,
`challenge`, `release-stake`, `refund`, `cite` (and `withdraw` after each). Every refusal is one line with nothing
sent (nonce unchanged).

The stack is deployed exactly as `ape run deploy` does (core + markets, timelock-owned); the camera and the iris
circuit are registered through real governance round trips (the circuit with a mock verifier: `cite` only needs a
registered model).
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from click.testing import CliRunner

from apiary.data import attest
from apiary.deploy.governance import LocalProposalRunner, Proposal, call
from apiary.deploy.market import register_circuit_by_governance
from apiary.sdk.devnode import advance
from apiary.zk import models as zk_models
from apiary.zk import pipeline

from tests.conftest import load_script

ONE = 10**18
HOUR, DAY = 3_600, 86_400
CIRCUIT = "iris-logreg-n8"


DATA, MARKET = load_script("data"), load_script("market")


@pytest.fixture
def stack(cli_stack):
    return cli_stack


@pytest.fixture
def run(accounts, stack):
    def invoke(*args, account=None, script=DATA):
        argv = [*args, "--network", "ethereum:local:test"]
        if account is not None:
            argv += ["--account", f"TEST::{[a.address for a in accounts].index(account.address)}"]
        return CliRunner(mix_stderr=False).invoke(script.cli, argv)

    return invoke


def ok(result) -> str:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result.stdout


def refused(result, account, nonce: int) -> str:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    assert account.nonce == nonce, "a refused command must send nothing"
    return lines[0]


def rows_file(path, values):
    path.write_text("day,region,units\n" + "".join(f"{v},r{v % 5},{v * 7 % 101}\n" for v in values))
    return path


def registered_id(result) -> int:
    return int(ok(result).strip().splitlines()[-1])


def test_attest_challenge_release_withdraw(run, stack, tmp_path, alice, bob, carol, whale, attacker):
    core, market = stack
    camera = attest.new_device_key(attest.KeyType.P256)
    camera.save(tmp_path / "camera.pem")
    stranger = attest.new_device_key(attest.KeyType.SECP256K1)
    stranger.save(tmp_path / "stranger.pem")
    LocalProposalRunner(core.governor, core.timelock).run(
        whale, [whale, alice], Proposal([call(market.devices, "register", int(camera.key_type), *camera.public)], "cam"))
    ok(run("transfer", "--to", attacker.address, "--amount", "1000", account=whale))

    a_file = rows_file(tmp_path / "a.csv", range(60))
    a_id = registered_id(run("register", "--data", str(a_file), "--quiet", account=alice))
    # attest: an unregistered device is refused; the registered camera attests
    nonce = alice.nonce
    line = refused(run("attest", "--dataset", str(a_id), "--device-key", str(tmp_path / "stranger.pem"), account=alice),
                   alice, nonce)
    assert "DeviceRegistryUnknownDevice" in line or "not registered" in line, line
    out = ok(run("attest", "--dataset", str(a_id), "--device-key", str(tmp_path / "camera.pem"), account=alice))
    assert f"dataset #{a_id} attested by device 0x{camera.device_id.hex()}" in out
    assert market.datasets.isAttested(a_id)

    # challenge: a partial copy (20 of alice's rows) is slashed; half its stake is the challenger's
    p_file = rows_file(tmp_path / "p.csv", range(40, 100))
    p_id = registered_id(run("register", "--data", str(p_file), "--quiet", account=attacker))
    stake = int(market.datasets.dataset(p_id).stake)
    out = ok(run("challenge", "--dataset", str(p_id), "--data", str(p_file), "--earlier", str(a_id), "--earlier-data",
                 str(a_file), account=carol))
    assert f"dataset #{p_id} slashed" in out and f"ape run data claim --dataset {p_id}" in out, out
    assert market.datasets.dataset(p_id).duplicate
    nonce = bob.nonce  # the same evidence again: nothing left to slash, nothing sent
    line = refused(run("challenge", "--dataset", str(p_id), "--data", str(p_file), "--earlier", str(a_id),
                       "--earlier-data", str(a_file), account=bob), bob, nonce)
    assert f"dataset #{p_id} was proven a duplicate already" in line, line
    # a challenge whose "earlier" dataset is in fact the later one is refused before anything is sent
    nonce = carol.nonce
    line = refused(run("challenge", "--dataset", str(a_id), "--data", str(a_file), "--earlier", str(p_id),
                       "--earlier-data", str(p_file), account=carol), carol, nonce)
    assert f"dataset #{p_id} was not sealed before dataset #{a_id}" in line, line
    nonce = carol.nonce
    line = refused(run("claim", "--dataset", str(p_id), account=carol), carol, nonce)
    assert "is paid after" in line, line
    advance(blocks=1, seconds=HOUR + 1)
    out = ok(run("claim", "--dataset", str(p_id), account=bob))  # anyone may trigger it
    assert f"{stake // 2 // 10**18} APY to {carol.address}" in out, out  # half the stake, in tokens
    before = int(core.token.balanceOf(carol))
    out = ok(run("withdraw", "--from", "registry", account=carol))
    assert int(core.token.balanceOf(carol)) == before + stake // 2 and f"to {carol.address}" in out

    # release-stake: refused inside the challenge window and for the slashed copy; alice's comes back after it
    nonce = alice.nonce
    line = refused(run("release-stake", "--dataset", str(a_id), account=alice), alice, nonce)
    assert "stake is locked until" in line, line
    advance(blocks=1, seconds=DAY + 60)  # the window, then the reveal period after it
    nonce = attacker.nonce
    refused(run("release-stake", "--dataset", str(p_id), account=attacker), attacker, nonce)
    a_stake = int(market.datasets.dataset(a_id).stake)
    ok(run("release-stake", "--dataset", str(a_id), account=alice))
    nonce = alice.nonce
    refused(run("release-stake", "--dataset", str(a_id), account=alice), alice, nonce)  # once only
    before = int(core.token.balanceOf(alice))
    ok(run("withdraw", "--from", "registry", account=alice))
    assert int(core.token.balanceOf(alice)) == before + a_stake > before
    nonce = alice.nonce
    line = refused(run("withdraw", account=alice), alice, nonce)
    assert "nothing to withdraw" in line
    assert "released" in ok(run("show", "--dataset", str(a_id)))


def test_refund__only_after_the_delivery_deadline_and_once(run, stack, tmp_path, alice, bob):
    core, market = stack
    a_file = rows_file(tmp_path / "a.csv", range(30))
    a_id = registered_id(run("register", "--data", str(a_file), "--price", "12.5", "--token", "ApiaryToken", "--quiet",
                             account=alice))
    advance(blocks=5)
    listing = registered_id(run("list", "--dataset", str(a_id), "--data", str(a_file), "--package",
                                str(tmp_path / "a.apkg"), "--delivery-hours", "1", "--quiet", account=alice))
    sale = registered_id(run("buy", "--listing", str(listing), "--package", str(tmp_path / "a.apkg"), "--max-price",
                             "12.5", "--quiet", account=bob))
    nonce = bob.nonce
    line = refused(run("refund", "--sale", str(sale), account=bob), bob, nonce)  # alice may still deliver
    assert "DataMarketUnexpectedSaleState" in line or "state" in line, line
    advance(blocks=1, seconds=HOUR + 60)  # nobody delivered
    out = ok(run("refund", "--sale", str(sale), account=alice))  # anyone may trigger it; the buyer is paid
    assert f"sale #{sale} refunded" in out
    nonce = alice.nonce
    refused(run("refund", "--sale", str(sale), account=alice), alice, nonce)  # no double refund
    before = int(core.token.balanceOf(bob))
    ok(run("withdraw", "--from", "market", account=bob))
    assert int(core.token.balanceOf(bob)) == before + int(Decimal("12.5") * ONE)
    assert ", refunded" in ok(run("show", "--sale", str(sale)))


def test_cite__own_or_licensed_datasets_only_once(run, stack, project, deployer, tmp_path, alice, bob, whale):
    core, market = stack
    verifier = project.MockHalo2Verifier.deploy(sender=deployer)
    register_circuit_by_governance(core, market, CIRCUIT, verifier.address, pipeline.open_circuit(CIRCUIT).manifest_sha256,
                                   8, whale, [whale, alice])
    model = zk_models.train(zk_models.load_dataset("iris"), "logreg", 120)
    model.save(tmp_path / "model.json")
    model_id = registered_id(run("register-model", "--circuit", CIRCUIT, "--model", str(tmp_path / "model.json"),
                                 "--quiet", account=alice, script=MARKET))
    own = registered_id(run("register", "--data", str(rows_file(tmp_path / "a.csv", range(30))), "--quiet",
                            account=alice))
    other = registered_id(run("register", "--data", str(rows_file(tmp_path / "b.csv", range(500, 530))), "--quiet",
                              account=bob))
    nonce = alice.nonce  # bob's dataset is neither hers nor licensed to her
    line = refused(run("cite", "--model-id", str(model_id), "--datasets", f"{own},{other}", account=alice), alice, nonce)
    assert "ProvenanceNotLicensed" in line, line
    nonce = bob.nonce  # not bob's model
    refused(run("cite", "--model-id", str(model_id), "--datasets", str(other), account=bob), bob, nonce)
    out = ok(run("cite", "--model-id", str(model_id), "--datasets", str(own), account=alice))
    assert f"model #{model_id} cites datasets [{own}]" in out and "bps" in out
    assert [int(i) for i in market.provenance.citation(model_id).datasetIds] == [own]
    nonce = alice.nonce
    line = refused(run("cite", "--model-id", str(model_id), "--datasets", str(own), account=alice), alice, nonce)
    assert "ProvenanceAlreadyCited" in line, line


def test_front_run_commits__registration_and_challenge_still_go_through(run, stack, tmp_path, monkeypatch, alice,
                                                                         carol, whale, attacker):
    """SECURITY (review L-3): someone who copies a seal or challenge hash from the mempool and lands it first
    cannot make the commit or its retries fail: the client reveals the pending copy, which binds its address."""
    from apiary.data import merkle
    from apiary.sdk import data as sdk_data

    core, market = stack
    reg = market.datasets
    salt = b"\x42" * 32
    monkeypatch.setattr(sdk_data._secrets, "token_bytes", lambda n: salt[:n])
    ok(run("transfer", "--to", attacker.address, "--amount", "1000", account=whale))

    a_file = rows_file(tmp_path / "a.csv", range(60))
    seal = reg.seal(alice, merkle.commit_file(a_file).root, salt)
    reg.commit(seal, sender=attacker)  # the copy lands in front of alice's commit
    copied_at = int(reg.pendingSeal(seal).blockNumber)
    a_id = registered_id(run("register", "--data", str(a_file), "--quiet", account=alice))
    assert reg.ownerOf(a_id) == alice.address and int(reg.dataset(a_id).sealedAt) == copied_at
    assert int(reg.pendingSeal(seal).number) == 0  # consumed by alice's reveal

    p_file = rows_file(tmp_path / "p.csv", range(40, 100))
    p_id = registered_id(run("register", "--data", str(p_file), "--quiet", account=attacker))
    common = merkle.shared_rows(merkle.commit_file(p_file), merkle.commit_file(a_file))
    monkeypatch.setattr(sdk_data._secrets, "SystemRandom", lambda: random.Random(7))  # the CLI's draw of rows, known
    shared = sorted(random.Random(7).sample(common, int(reg.minDuplicateRows())))
    commitment = reg.challengeCommitment(carol, p_id, a_id, shared, salt)
    reg.commitChallenge(commitment, sender=attacker)  # the challenger's hash, copied and landed first
    out = ok(run("challenge", "--dataset", str(p_id), "--data", str(p_file), "--earlier", str(a_id), "--earlier-data",
                 str(a_file), account=carol))
    assert f"dataset #{p_id} slashed" in out, out
    assert reg.challengeClaim(p_id).challenger == carol.address


def test_keyfile_account__unattended_signs_from_the_environment__otherwise_one_line(stack, whale, bob, monkeypatch):
    """Two machines (issue 21): a keyfile account signs without a terminal with --unattended and its passphrase
    from the environment (only this deployment's contracts); without --unattended, one line naming it, nothing
    sent."""
    import json as _json
    import os

    from ape import accounts as ape_accounts
    from eth_account import Account as EthAccount

    core, _ = stack
    alias = f"apiary-test-{os.urandom(4).hex()}"
    folder = ape_accounts.containers["accounts"].data_folder
    folder.mkdir(parents=True, exist_ok=True)
    keyfile = folder / f"{alias}.json"
    keyfile.write_text(_json.dumps(EthAccount.encrypt(os.urandom(32), "s3cret")))
    try:
        account = ape_accounts.load(alias)
        whale.transfer(account.address, 10**18)
        core.token.transfer(account.address, 10 * 10**18, sender=whale)
        argv = ["transfer", "--to", bob.address, "--amount", "1", "--network", "ethereum:local:test", "--account", alias]
        result = CliRunner(mix_stderr=False).invoke(DATA.cli, argv)
        line = refused(result, account, account.nonce)
        assert "no terminal to confirm each signature: run with --unattended" in line, line
        monkeypatch.setenv(f"APE_ACCOUNTS_{alias}_PASSPHRASE", "s3cret")
        before = core.token.balanceOf(bob)
        result = CliRunner(mix_stderr=False).invoke(DATA.cli, [*argv, "--unattended"])
        assert result.exit_code == 0, (result.stdout, result.stderr)
        assert f"signing as '{alias}'" in result.stderr and core.token.balanceOf(bob) == before + 10**18
    finally:
        keyfile.unlink(missing_ok=True)


def test_register__prints_the_stake_in_tokens_and_when_challenges_close(run, stack, tmp_path, alice):
    """Words, not wei (issue 21): `data register` printed "stake 100000000000000000000"."""
    out = ok(run("register", "--data", str(rows_file(tmp_path / "w.csv", range(500, 530))), account=alice))
    assert "(stake 100 APY, can be proven a duplicate until 20" in out, out
