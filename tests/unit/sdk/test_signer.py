"""Keyfile accounts that sign without a terminal (`--unattended`, apiary/sdk/signer.py): the passphrase only from
the environment, signing only calls to the deployment's contracts (and approvals of them), no ether, no messages;
every refusal one line."""

from __future__ import annotations

import json
import os

import pytest
from eth_account import Account as EthAccount

from apiary.sdk import signer
from apiary.sdk.errors import ApiaryCliError

PASSPHRASE = "correct horse battery staple"


@pytest.fixture
def keyfile_account(tmp_path, accounts, monkeypatch):
    from ape_accounts.accounts import KeyfileAccount

    key = os.urandom(32)
    path = tmp_path / "seller.json"
    path.write_text(json.dumps(EthAccount.encrypt(key, PASSPHRASE)))
    account = KeyfileAccount(keyfile_path=path)
    accounts[0].transfer(account.address, 10**18)
    monkeypatch.delenv("APE_ACCOUNTS_seller_PASSPHRASE", raising=False)
    monkeypatch.delenv(signer.PASSPHRASE_FILE, raising=False)
    return account


def test_unattended__signs_the_deployments_calls_and_approvals_of_them_only(keyfile_account, project, deployer, bob,
                                                                             monkeypatch):
    ours = project.MockERC20.deploy("USD", "USD", sender=deployer)
    other = project.MockERC20.deploy("X", "X", sender=deployer)
    for token in (ours, other):
        token.mint(keyfile_account, 10**20, sender=deployer)
    monkeypatch.setenv("APE_ACCOUNTS_seller_PASSPHRASE", PASSPHRASE)
    lines: list[str] = []
    signer.unattended(keyfile_account, [ours.address, bob.address], log=lines.append)
    assert lines and "signing as 'seller'" in lines[0] and "unlocked" in lines[0]
    ours.transfer(deployer, 1, sender=keyfile_account)  # a call to a deployment contract: signed, no prompt
    other.approve(ours, 5, sender=keyfile_account)  # an approval whose spender is one: signed
    assert other.allowance(keyfile_account, ours) == 5
    nonce = keyfile_account.nonce
    with pytest.raises(ApiaryCliError, match="refused to sign: it calls .*, not a contract of this deployment"):
        other.transfer(deployer, 1, sender=keyfile_account)
    with pytest.raises(ApiaryCliError, match=f"refused to sign: it approves {deployer.address.lower()}"):
        other.approve(deployer, 5, sender=keyfile_account)
    with pytest.raises(ApiaryCliError, match="refused to sign: it sends 1 wei of ether"):
        keyfile_account.transfer(bob, 1)
    with pytest.raises(ApiaryCliError, match="signs no messages"):
        keyfile_account.sign_message("hello")
    assert keyfile_account.nonce == nonce


def test_unattended_deploy__creates_contracts_and_calls_only_those_it_created(keyfile_account, project, deployer,
                                                                              bob, monkeypatch):
    """`deploy --unattended` (and deploy-verifier, propose-inference): creations are signed, and so are calls to
    the contracts this run created; calls elsewhere, ether and creations without the flag are refused."""
    other = project.MockERC20.deploy("X", "X", sender=deployer)
    monkeypatch.setenv("APE_ACCOUNTS_seller_PASSPHRASE", PASSPHRASE)
    lines: list[str] = []
    signer.unattended(keyfile_account, [], log=lines.append, deploys=True)
    assert "contract creations (no ether)" in lines[0]
    mine = project.MockERC20.deploy("USD", "USD", sender=keyfile_account)
    mine.mint(keyfile_account, 10, sender=keyfile_account)  # a call to what it created: signed
    assert mine.balanceOf(keyfile_account) == 10
    with pytest.raises(ApiaryCliError, match="refused to sign: it calls"):
        other.mint(keyfile_account, 1, sender=keyfile_account)
    assert signer.created_address(deployer.address, 0) != signer.created_address(deployer.address, 1)


def test_unattended__without_deploys__a_creation_is_refused(keyfile_account, project, monkeypatch):
    monkeypatch.setenv("APE_ACCOUNTS_seller_PASSPHRASE", PASSPHRASE)
    signer.unattended(keyfile_account, [], log=lambda _m: None)
    with pytest.raises(ApiaryCliError, match="refused to sign: it deploys a contract"):
        project.MockERC20.deploy("USD", "USD", sender=keyfile_account)


def test_unattended__passphrase_only_from_the_environment_or_a_private_file(keyfile_account, tmp_path, monkeypatch):
    with pytest.raises(ApiaryCliError, match="set APE_ACCOUNTS_seller_PASSPHRASE, or APIARY_PASSPHRASE_FILE"):
        signer.unattended(keyfile_account, [])
    secret = tmp_path / "pass.txt"
    secret.write_text(PASSPHRASE + "\n")
    secret.chmod(0o644)
    monkeypatch.setenv(signer.PASSPHRASE_FILE, str(secret))
    with pytest.raises(ApiaryCliError, match="can be read by other users: chmod 600"):
        signer.unattended(keyfile_account, [])
    secret.chmod(0o600)
    assert signer.passphrase_for("seller") == PASSPHRASE
    monkeypatch.setenv("APE_ACCOUNTS_seller_PASSPHRASE", "wrong")
    with pytest.raises(ApiaryCliError, match="cannot unlock 'seller' with the passphrase from the environment"):
        signer.unattended(keyfile_account, [])


def test_without_unattended__no_terminal__one_line_naming_it(keyfile_account, accounts):
    assert "run with --unattended" in signer.needs_terminal(keyfile_account)  # pytest's stdin is no terminal
    assert signer.needs_terminal(accounts[0]) is None  # a test account signs anyway
