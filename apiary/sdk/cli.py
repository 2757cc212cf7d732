"""CLI plumbing for `ape run` scripts: one-line errors, `--verbose`, and options defined once.

    from apiary.sdk.cli import ConnectedCommand, bounty_option, amount_option, token_option

    @cli.command(cls=ConnectedCommand)
    @account_option()
    @bounty_option()
    def finalize(ecosystem, network, account, bounty_id): ...

`ConnectedCommand` is ape's `ConnectedProviderCommand` plus `--verbose`: any exception — while connecting to
the node too — prints one line `error: …` on stderr (the traceback only with `--verbose`) and exits 1.
`Command` is the same for commands that need no network.
"""

from __future__ import annotations

import functools
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand

from ..paths import PROJECT_ROOT
from .amounts import AmountType
from .errors import ApiaryCliError, explain

VERIFIERS_DIR = PROJECT_ROOT / "verifiers"
_VERBOSE = "apiary_verbose"


def _network_choice(ctx: click.Context) -> str | None:
    value = ctx.params.get("network")
    if isinstance(value, str):
        return value
    network = getattr(value, "network", None)  # a ProviderAPI
    if network is not None:
        return f"{network.ecosystem.name}:{network.name}:{value.name}"
    try:
        from ape import networks

        return networks.provider.network.choice if networks.active_provider else None
    except Exception:  # noqa: BLE001
        return None


class _OneLineErrors:
    """Mixin for click commands: `--verbose`, and every exception reported as one line with exit status 1."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.params.append(click.Option(["--verbose"], is_flag=True, expose_value=False, is_eager=True,
                                        callback=_remember_verbose, help="Print the traceback of a failure."))

    def invoke(self, ctx: click.Context) -> Any:
        network = _network_choice(ctx)
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except (click.exceptions.Exit, click.exceptions.Abort, click.UsageError):
            raise  # click's own: usage errors already print one line and exit 2
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the point of this class: no traceback as the only output
            fail(ctx, exc, network)


def _remember_verbose(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    ctx.meta[_VERBOSE] = value


def fail(ctx: click.Context | None, exc: BaseException, network: str | None = None) -> None:
    """Print `error: <one line>` (and the traceback with --verbose) and exit 1."""
    if ctx is not None and ctx.meta.get(_VERBOSE):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    click.echo(f"error: {explain(exc, network=network)}", err=True)
    if ctx is not None:
        ctx.exit(1)
    raise SystemExit(1)


_UNATTENDED = "apiary.unattended"


class ConnectedCommand(_OneLineErrors, ConnectedProviderCommand):
    """ape's ConnectedProviderCommand with one-line errors, `--verbose` and `--unattended`: a keyfile `--account`
    signs without asking, with its passphrase from the environment, only this deployment's transactions
    (apiary/sdk/signer.py); without a terminal and without `--unattended`, a keyfile account fails in one line."""

    def __init__(self, *args: Any, deploys: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.deploys = deploys  # the command creates contracts: `--unattended` lets it (signer.unattended)
        self.params.append(click.Option(
            ["--unattended"], is_flag=True, expose_value=False,
            callback=lambda ctx, _p, value: ctx.meta.__setitem__(_UNATTENDED, value),
            help="Sign without asking (a keyfile account, its passphrase in APE_ACCOUNTS_<alias>_PASSPHRASE or a "
                 "file named by APIARY_PASSPHRASE_FILE), only calls to this deployment's contracts."))

    def invoke(self, ctx: click.Context) -> Any:
        callback = self.callback
        if callback is not None:
            @functools.wraps(callback)  # ape passes ecosystem/network/provider by the callback's signature
            def prepared(*args: Any, **kwargs: Any) -> Any:
                _prepare_account(ctx, kwargs, self.deploys)
                return callback(*args, **kwargs)

            self.callback = prepared
        try:
            return super().invoke(ctx)
        finally:
            self.callback = callback


def _prepare_account(ctx: click.Context, kwargs: dict[str, Any], deploys: bool = False) -> None:
    """Connected now: set up a keyfile account for `--unattended`, or refuse early where it could not sign (a
    keyfile account without a terminal, a wallet whose app is not running)."""
    from . import signer

    account = kwargs.get("account")
    if account is not None and (why := signer.wallet_unreachable(account)) is not None:
        raise ApiaryCliError(why)
    if account is None or not signer.is_keyfile(account):
        return
    if not ctx.meta.get(_UNATTENDED):
        if (why := signer.needs_terminal(account)) is not None:
            raise ApiaryCliError(why)
        return
    from ape import networks

    from ..paths import DEPLOYMENTS_DIR
    from .manifest import ManifestError, load_manifest

    provider = networks.provider
    try:
        manifest = load_manifest(provider.network.ecosystem.name, provider.network.name, provider.name,
                                 provider.chain_id, directory=DEPLOYMENTS_DIR)
        allowed = manifest.addresses.values()
    except ManifestError:
        allowed = []  # nothing deployed here: nothing to sign for
    signer.unattended(account, allowed, log=lambda m: click.echo(m, err=True), deploys=deploys)


class Command(_OneLineErrors, click.Command):
    """A click command with one-line errors and `--verbose` (no network)."""


def echo_step(message: str) -> None:
    click.echo(f"  {message}")


def echo_warning(message: str | None, quiet: bool = False) -> None:
    """A warning the command goes on after (e.g. Manifest.check_srs on a test deployment), on stderr."""
    if message and not quiet:
        click.echo(message, err=True)


# ------------------------------------------------------------------ parameter types

class AddressType(click.ParamType):
    """A 0x-prefixed 20-byte address; returned checksummed."""

    name = "address"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from eth_utils import is_hex_address, to_checksum_address

        text = str(value).strip()
        if not is_hex_address(text):
            self.fail(f"'{value}' is not an address (0x followed by 40 hex digits)", param, ctx)
        return to_checksum_address(text)


def known_circuits() -> list[str]:
    """Circuit ids: the folders under verifiers/ with a manifest.json (see apiary.zk.pipeline.open_circuit)."""
    if not VERIFIERS_DIR.is_dir():
        return []
    return sorted(p.name for p in VERIFIERS_DIR.iterdir() if (p / "manifest.json").is_file())


def caller_path(text: str | Path) -> Path:
    """A path the user typed, relative to where they stand: `./dev exec ape run …` runs in the project root and
    passes the user's directory as APIARY_CALLER_DIR."""
    import os

    path = Path(text).expanduser()
    if path.is_absolute():
        return path
    return Path(os.environ.get("APIARY_CALLER_DIR") or os.getcwd()) / path


class CallerPathType(click.ParamType):
    """A file relative to the user's directory (see `caller_path`): an existing one, or with `new=True` one to
    write (its folder must exist, the file itself may)."""

    name = "file"

    def __init__(self, new: bool = False):
        self.new = new

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        path = caller_path(value)
        if path.is_dir():
            self.fail(f"{value}: a folder, not a file", param, ctx)
        if self.new:
            if not path.parent.is_dir():
                self.fail(f"{value}: no folder {path.parent} to write it in", param, ctx)
        elif not path.is_file():
            self.fail(f"{value}: no such file", param, ctx)
        return path


class CircuitType(click.ParamType):
    """A built-in circuit id under verifiers/, or a circuit folder made by `apiary zk import` (a path relative to
    the user's directory); returned as the id, or as the folder's absolute path."""

    name = "circuit"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        folder = caller_path(text)
        if (folder / "manifest.json").is_file() and (text not in known_circuits() or "/" in text or text.startswith(".")):
            return str(folder.resolve())
        if text in known_circuits():
            return text
        self.fail(f"no circuit '{text}': neither a circuit folder (apiary zk import --out) nor a built-in circuit "
                  f"({', '.join(known_circuits()) or 'none'})", param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        from click.shell_completion import CompletionItem

        return [CompletionItem(c) for c in known_circuits() if c.startswith(incomplete)]


class ProposalPrefix(str):
    """A short proposal id (0x and 8 to 63 hex digits): resolved against the Governor by the command."""


class ProposalIdType(click.ParamType):
    """A Governor proposal id: decimal, 0x-hex, or its short form (`0x` and at least 8 hex digits, as commands print
    it), which the command resolves (governance.resolve_proposal)."""

    name = "proposal-id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int | ProposalPrefix:
        if isinstance(value, int):
            return value
        text = str(value).strip()
        digits = text[2:] if text.lower().startswith("0x") else None
        if digits is not None and 8 <= len(digits) < 64 and all(c in "0123456789abcdefABCDEF" for c in digits):
            return ProposalPrefix(text.lower())
        try:
            number = int(text, 16) if digits is not None else int(text)
        except ValueError:
            self.fail(f"'{value}' is not a proposal id (a decimal or 0x-hex number, or its short form 0x + 10 hex "
                      "digits)", param, ctx)
        if not 0 <= number < 2**256:
            self.fail(f"'{value}' is not a uint256", param, ctx)
        return number


ADDRESS = AddressType()
CIRCUIT = CircuitType()


# ------------------------------------------------------------------ options defined once

def bounty_option(required: bool = True) -> Callable:
    return click.option("--bounty", "bounty_id", type=click.IntRange(min=0), required=required, help="Bounty id.")


def model_option(required: bool = True) -> Callable:
    return click.option("--model-id", "model_id", type=click.IntRange(min=1), required=required,
                        help="Registered model id (ModelRegistry token id).")


def model_file_option(required: bool = True) -> Callable:
    return click.option("--model", "model_path", type=CallerPathType(), required=required,
                        help="The model: an ONNX file (your own, or `apiary zk train --out model.onnx`).")


def token_option(required: bool = True, help: str = "ERC20 token address.") -> Callable:
    return click.option("--token", type=ADDRESS, required=required, help=help)


def amount_option(name: str = "--amount", required: bool = True,
                  help: str = "Amount in whole tokens (e.g. 1000, 1.5, 1e9), scaled by the token's decimals().") -> Callable:
    return click.option(name, type=AmountType(), required=required, help=help)


def circuit_option(required: bool = True) -> Callable:
    return click.option("--circuit", type=CIRCUIT, required=required,
                        help=f"A circuit folder (apiary zk import --out) or a built-in circuit ({', '.join(known_circuits()) or 'none built'}).")


def proposal_option() -> Callable:
    return click.option("--proposal", "proposal_id", type=ProposalIdType(), required=True,
                        help="Governor proposal id: the short form the commands print (0x + 10 hex digits) or in full.")
