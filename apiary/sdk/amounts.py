"""Amounts are integers end to end: parsed exactly from decimal text by the token's `decimals()`, formatted back
exactly, never through a float. Times print as ISO-8601 UTC with a distance relative to the chain's clock.

    token = Token.at("0x…")                 # reads decimals() and symbol() from the ERC20
    raw = token.parse("1.5")                # 1_500_000 for a 6-decimals token
    token.format(raw)                       # '1.5 USDC'
    parse_amount("1e9", 18) == 10**27       # exponent forms are exact
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

import click

MAX_UINT256 = 2**256 - 1
MAX_DECIMALS = 77  # 10**77 < 2**256 < 10**78: a token with more decimals could not hold one whole unit
DEFAULT_DECIMALS = 18
UNKNOWN_SYMBOL = "?"


class AmountError(ValueError):
    """The text is not an amount the token can represent; the message says why."""


def _check_decimals(decimals: int) -> None:
    if not isinstance(decimals, int) or not 0 <= decimals <= MAX_DECIMALS:
        raise AmountError(f"decimals must be an integer within 0..{MAX_DECIMALS}, got {decimals!r}")


def _decimal(text: str) -> Decimal:
    """The exact decimal value of `text`: digits, one point, an optional exponent; no sign, no NaN/Infinity."""
    if not isinstance(text, str):
        raise AmountError(f"an amount is text like '1.5', got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        raise AmountError("empty amount")
    if stripped[0] in "+-":
        raise AmountError(f"'{text}': amounts are never negative or signed")
    try:
        value = Decimal(stripped)
    except InvalidOperation:
        raise AmountError(f"'{text}' is not a number (write e.g. 1000, 1.5 or 1e9)") from None
    if not value.is_finite():
        raise AmountError(f"'{text}' is not a finite number")
    return value


def parse_amount(text: str, decimals: int) -> int:
    """Base units of `text` for a token with `decimals`: "1.5" with 6 decimals is 1_500_000.

    Exact: the decimal digits are scaled as integers (no float, no rounding context), so "1e9" with 18
    decimals is 10**27. Refuses negatives, garbage, values above uint256 and any value with a non-zero digit
    below the token's smallest unit (more fractional digits than `decimals`; trailing zeros are fine).
    """
    _check_decimals(decimals)
    value = _decimal(text)
    _sign, digits, exponent = value.as_tuple()
    mantissa = int("".join(map(str, digits)))
    shift = exponent + decimals
    if mantissa and len(digits) + shift > 78:  # more than 78 integer digits: far above uint256, don't build it
        raise AmountError(f"'{text}' is larger than the largest token amount (2**256 - 1 base units)")
    if shift >= 0:
        raw = mantissa * 10**shift
    else:
        raw, rest = divmod(mantissa, 10**-shift)
        if rest:
            raise AmountError(f"'{text}' has more fractional digits than the token's {decimals} decimals")
    if raw > MAX_UINT256:
        raise AmountError(f"'{text}' is larger than the largest token amount (2**256 - 1 base units)")
    return raw


def format_amount(raw: int, decimals: int, symbol: str | None = None) -> str:
    """`raw` base units as exact decimal text without trailing zeros ("1.5", "1000"), then the symbol if given.

    `parse_amount(format_amount(raw, d), d) == raw` for every raw amount.
    """
    _check_decimals(decimals)
    if isinstance(raw, bool) or not isinstance(raw, int):
        raw = int(raw)  # ape returns ints; an int subclass or a numpy int is fine, a float is not below
    sign = "-" if raw < 0 else ""
    whole, fraction = divmod(abs(raw), 10**decimals)
    text = f"{sign}{whole}"
    if fraction:
        text += "." + str(fraction).rjust(decimals, "0").rstrip("0")
    return f"{text} {symbol}" if symbol else text


class AmountType(click.ParamType):
    """A click parameter for token amounts. It checks the syntax and keeps the text: the amount is parsed by
    the token's decimals once the token is known (`Token.parse(value)`), so "1.5" means 1.5 tokens whatever
    the token's decimals."""

    name = "amount"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        try:
            _decimal(value)
        except AmountError as exc:
            self.fail(str(exc), param, ctx)
        return value.strip()


AMOUNT = AmountType()


# ------------------------------------------------------------------ tokens

_DECIMALS = bytes.fromhex("313ce567")  # decimals()
_SYMBOL = bytes.fromhex("95d89b41")  # symbol()


@dataclass(frozen=True)
class Token:
    """An ERC20's address, decimals and symbol. `assumed` names what was not readable and was defaulted."""

    address: str
    decimals: int
    symbol: str
    assumed: tuple[str, ...] = ()

    @classmethod
    def at(cls, address: str) -> Token:
        """Read `decimals()` and `symbol()` from the token on the connected network.

        Both are optional in ERC20: when a call does not exist (reverts or returns nothing), the default is used
        (18 decimals, symbol "?") and recorded in `assumed`; `warning` then says so. An address without code is
        refused, and a node that does not answer raises as usual (nothing is guessed then).
        """
        from ape import convert, networks
        from ape.types import AddressType

        from .errors import ApiaryCliError

        checksummed = convert(address, AddressType)
        if not networks.provider.get_code(checksummed):
            raise ApiaryCliError(f"no contract at {checksummed}: that is not a token on this network; check the address")
        assumed = []
        raw_decimals = _optional_call(checksummed, _DECIMALS)
        decimals = _decode_decimals(raw_decimals)
        if decimals is None:
            decimals = DEFAULT_DECIMALS
            assumed.append("decimals")
        symbol = _decode_symbol(_optional_call(checksummed, _SYMBOL))
        if symbol is None:
            symbol = UNKNOWN_SYMBOL
            assumed.append("symbol")
        return cls(checksummed, decimals, symbol, tuple(assumed))

    @property
    def warning(self) -> str | None:
        """One line for the user when a default was assumed, else None."""
        if not self.assumed:
            return None
        return (f"token {self.address} has no {' and no '.join(f'{a}()' for a in self.assumed)}: assuming "
                f"{self.decimals} decimals and symbol '{self.symbol}'")

    def parse(self, text: str) -> int:
        return parse_amount(text, self.decimals)

    def format(self, raw: int) -> str:
        return format_amount(raw, self.decimals, self.symbol)


def _optional_call(address: str, selector: bytes) -> bytes | None:
    """eth_call of a view that may not exist: its return data, or None when it reverted or returned nothing."""
    from ape import networks
    from ape.exceptions import VirtualMachineError

    provider = networks.provider
    tx = provider.network.ecosystem.create_transaction(receiver=address, data=selector)
    try:
        data = bytes(provider.send_call(tx))
    except VirtualMachineError:  # ape's revert; a connection error is not caught: it is not "missing"
        return None
    return data or None


def _decode_decimals(data: bytes | None) -> int | None:
    if data is None or len(data) < 32:
        return None
    value = int.from_bytes(data[:32], "big")
    return value if value <= MAX_DECIMALS else None


def _decode_symbol(data: bytes | None) -> str | None:
    """ERC20 `string symbol()`, or the `bytes32` some early tokens return."""
    if data is None:
        return None
    if len(data) == 32:
        return data.rstrip(b"\0").decode("utf-8", "replace") or None
    try:
        from eth_abi import decode

        (text,) = decode(["string"], data)
    except Exception:  # noqa: BLE001 - any malformed return is "no readable symbol"
        return None
    return text or None


# ------------------------------------------------------------------ time

_UNITS = (("d", 86_400), ("h", 3_600), ("min", 60), ("s", 1))


def format_duration(seconds: int) -> str:
    """"2 h 5 min": the two largest non-zero units of a non-negative number of seconds."""
    seconds = abs(int(seconds))
    if seconds == 0:
        return "0 s"
    parts = []
    for unit, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {unit}")
        if len(parts) == 2:
            break
    return " ".join(parts)


def chain_time() -> int:
    """The chain's clock: the latest block's timestamp (what the next block's `block.timestamp` starts from)."""
    from ape import chain

    return int(chain.blocks.head.timestamp)


def format_time(unix: int, now: int | None = None) -> str:
    """"2025-01-01T12:00:00Z (in 2 h 5 min)" or "… (3 min ago)", relative to `now` (default: the chain's time,
    so a dev node whose clock was advanced reads right). 0 — an unset deadline — prints "-"."""
    unix = int(unix)
    if unix == 0:
        return "-"
    stamp = datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    now = chain_time() if now is None else int(now)
    delta = unix - now
    relative = "now" if delta == 0 else f"in {format_duration(delta)}" if delta > 0 else f"{format_duration(delta)} ago"
    return f"{stamp} ({relative})"
