"""Keyfile accounts that sign without a person at the terminal: agents and scripts started with `--unattended`.

ape's keyfile accounts ask "Sign: [y/N]" for every transaction (and the passphrase, and "Leave unlocked?"), so
an agent with one fails every tick without a terminal. With `--unattended`:

* the passphrase comes from the environment — `APE_ACCOUNTS_<alias>_PASSPHRASE` (ape's own variable) or
  `APIARY_PASSPHRASE_FILE`, the path of a file only its owner can read (never a command-line argument, which
  other users see in the process list);
* the account is unlocked once and ape's autosign is on, but only for transactions to the deployment's own
  contracts (and `approve` calls whose spender is one of them), with no ether attached: anything else, and every
  message signature, is refused with one line, so a bug or a hostile input cannot make the agent sign a transfer
  elsewhere;
* a command that deploys contracts (`deploy`, `market deploy-verifier`, `compute propose-inference`) may also
  create contracts, without ether, and then call the contracts it created in this run;
* the command says which account signs and that it is unlocked.

Without `--unattended` nothing changes: ape asks at the terminal, and without one the command fails in one line
that names `--unattended`.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import ApiaryCliError

PASSPHRASE_FILE = "APIARY_PASSPHRASE_FILE"
APPROVE = bytes.fromhex("095ea7b3")  # approve(address,uint256)


def is_keyfile(account: Any) -> bool:
    try:
        from ape_accounts.accounts import KeyfileAccount
    except ImportError:  # pragma: no cover - ape-accounts ships with ape
        return False
    return isinstance(account, KeyfileAccount)


def passphrase_for(alias: str, env: dict[str, str] | None = None) -> str | None:
    """The passphrase of keyfile account `alias` from the environment, or None when none is given."""
    env = os.environ if env is None else env
    if value := env.get(f"APE_ACCOUNTS_{alias}_PASSPHRASE"):
        return value
    if path := env.get(PASSPHRASE_FILE):
        p = Path(path).expanduser()
        try:
            mode = p.stat().st_mode
        except OSError as exc:
            raise ApiaryCliError(f"{PASSPHRASE_FILE}={path}: {exc.strerror or exc}") from None
        if not stat.S_ISREG(mode):
            raise ApiaryCliError(f"{PASSPHRASE_FILE}={path} is not a file")
        if mode & 0o077:
            raise ApiaryCliError(f"{PASSPHRASE_FILE}={path} can be read by other users: chmod 600 {path}")
        text = p.read_text()
        return text.splitlines()[0] if text.strip() else None
    return None


def created_address(sender: str, nonce: int) -> str:
    """The address of the contract that `sender` creates with its transaction of `nonce` (CREATE)."""
    import rlp
    from eth_utils import keccak, to_canonical_address

    return "0x" + keccak(rlp.encode([to_canonical_address(sender), int(nonce)]))[12:].hex()


def allowed_receiver(txn: Any, allowed: set[str], deploys: bool = False) -> str | None:
    """Why an unattended account must not sign `txn`; None when it may. With `deploys`, a contract creation is
    allowed and the address it creates joins `allowed`."""
    to = str(txn.receiver) if txn.receiver else None
    if int(getattr(txn, "value", 0) or 0):
        return f"it sends {int(txn.value)} wei of ether"
    if to is None:
        if not deploys:
            return "it deploys a contract"
        if getattr(txn, "nonce", None) is None or not getattr(txn, "sender", None):
            return "it deploys a contract from an unknown nonce"
        allowed.add(created_address(str(txn.sender), int(txn.nonce)))
        return None
    if to.lower() in allowed:
        return None
    data = bytes(txn.data or b"")
    if data[:4] == APPROVE and len(data) >= 36:
        spender = "0x" + data[16:36].hex()
        if spender.lower() in allowed:
            return None
        return f"it approves {spender}, not a contract of this deployment"
    return f"it calls {to}, not a contract of this deployment"


def unattended(account: Any, allowed: Iterable[str], log: Callable[[str], None] = print, *,
               deploys: bool = False) -> Any:
    """Unlock keyfile `account` from the environment and let it sign, without asking, only transactions to
    `allowed` addresses — and with `deploys`, contract creations and calls to what they created (see the
    module's docstring). Other accounts (test accounts, hardware wallets) are left as they are. Returns the
    account."""
    if not is_keyfile(account):
        return account
    passphrase = passphrase_for(account.alias)
    if passphrase is None:
        raise ApiaryCliError(f"--unattended needs the passphrase of '{account.alias}' from the environment: set "
                             f"APE_ACCOUNTS_{account.alias}_PASSPHRASE, or {PASSPHRASE_FILE} to a file only you can "
                             "read (never on the command line)")
    targets = {str(a).lower() for a in allowed}
    try:
        account.set_autosign(True, passphrase=passphrase)
    except Exception as exc:  # noqa: BLE001 - ape raises InvalidPasswordError (a ValueError) on a wrong passphrase
        raise ApiaryCliError(f"cannot unlock '{account.alias}' with the passphrase from the environment "
                             f"({type(exc).__name__})") from None
    sign_transaction = account.sign_transaction

    def guarded(txn: Any, **signer_options: Any) -> Any:
        if (why := allowed_receiver(txn, targets, deploys)) is not None:
            raise ApiaryCliError(f"unattended '{account.alias}' refused to sign: {why}")
        return sign_transaction(txn, **signer_options)

    def no_messages(*_args: Any, **_kwargs: Any) -> Any:
        raise ApiaryCliError(f"unattended '{account.alias}' signs no messages, only this deployment's transactions")

    # Instance attributes shadow the class's methods: ape's AccountAPI.call signs through self.sign_transaction.
    object.__setattr__(account, "sign_transaction", guarded)
    object.__setattr__(account, "sign_message", no_messages)
    what = f"calls to this deployment's {len(targets)} contracts"
    if deploys:
        what = f"contract creations (no ether), calls to the contracts they create and {what}"
    log(f"signing as '{account.alias}' ({account.address}): unlocked, signing without asking only {what}")
    return account


def wallet_unreachable(account: Any) -> str | None:
    """Why the wallet behind `account` cannot be used now, or None. A wallet plugin's account asks its app or
    device for what it needs (ape-frame asks Frame, on 127.0.0.1:1248, for the address): when the app is not
    running that is a connection error deep inside the plugin, which becomes one line that names the app."""
    plugin = type(account).__module__.split(".", 1)[0]
    if plugin in ("ape_test", "ape_accounts"):  # test and keyfile accounts: nothing to ask
        return None
    try:
        account.address  # noqa: B018 - the plugin asks its app here
    except Exception as exc:  # noqa: BLE001 - whatever the plugin raises: a missing app is one line, not a traceback
        app = plugin.removeprefix("ape_").capitalize()
        alias = getattr(account, "alias", None) or app.lower()
        found = re.search(r"host='([^']+)', port=(\d+)", str(exc))
        where = f"nothing answers at {found[1]}:{found[2]}" if found else (str(exc).splitlines() or [""])[0][:200]
        return (f"--account {alias}: the {app} wallet does not answer ({where or type(exc).__name__}): start {app} "
                "and unlock it, or choose another --account")
    return None


def needs_terminal(account: Any) -> str | None:
    """Why a keyfile account cannot sign here (no terminal to confirm on), or None."""
    if is_keyfile(account) and not sys.stdin.isatty():
        return (f"'{account.alias}' is a keyfile account and there is no terminal to confirm each signature: run "
                f"with --unattended and its passphrase in APE_ACCOUNTS_{account.alias}_PASSPHRASE or "
                f"{PASSPHRASE_FILE}")
    return None
