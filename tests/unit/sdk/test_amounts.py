"""Amounts are integers end to end: exact decimal parsing and formatting by the token's decimals; readable times."""

from decimal import Decimal

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from apiary.sdk.amounts import (MAX_UINT256, AmountError, AmountType, Token, format_amount, format_duration,
                                format_time, parse_amount)


@pytest.mark.parametrize("text,decimals,raw", [
    ("1.5", 6, 1_500_000),
    ("1000", 18, 1000 * 10**18),
    ("1e9", 18, 10**27),  # the float bug: int(1e9 * 1e18) != 10**27
    ("1E9", 0, 10**9),
    ("0.000001", 6, 1),
    ("1.50", 1, 15),  # trailing zeros below the unit are exact, so accepted
    (" 2_000 ", 0, 2000),
    ("0", 18, 0),
    ("1.5e-6", 7, 15),
    (str(MAX_UINT256), 0, MAX_UINT256),
])
def test_parse_amount__exact(text, decimals, raw):
    assert parse_amount(text, decimals) == raw


@pytest.mark.parametrize("text,decimals,message", [
    ("1.0000001", 6, "more fractional digits than the token's 6 decimals"),
    ("1e-19", 18, "more fractional digits"),
    ("-1", 18, "never negative"),
    ("+1", 18, "never negative or signed"),
    ("abc", 18, "not a number"),
    ("1,5", 18, "not a number"),
    ("", 18, "empty"),
    ("NaN", 18, "not a finite number"),
    ("Infinity", 18, "not a finite number"),
    (str(MAX_UINT256 + 1), 0, "larger than the largest"),
    ("1e1000000000", 18, "larger than the largest"),  # refused without building a 10**1e9 integer
])
def test_parse_amount__refused(text, decimals, message):
    with pytest.raises(AmountError, match=message):
        parse_amount(text, decimals)


def test_format_amount__trims_and_adds_symbol():
    assert format_amount(1_500_000, 6, "USDC") == "1.5 USDC"
    assert format_amount(10**27, 18) == "1000000000"
    assert format_amount(1, 18) == "0.000000000000000001"
    assert format_amount(0, 18) == "0"
    assert format_amount(-15, 1) == "-1.5"


@given(raw=st.integers(min_value=0, max_value=MAX_UINT256), decimals=st.integers(min_value=0, max_value=77))
def test_parse_of_format__round_trips(raw, decimals):
    assert parse_amount(format_amount(raw, decimals), decimals) == raw


@given(text=st.decimals(min_value=0, max_value=10**30, allow_nan=False, allow_infinity=False, places=6))
def test_format_of_parse__same_value(text):
    raw = parse_amount(str(text), 6)
    assert Decimal(format_amount(raw, 6)) == text


def test_amount_type__keeps_the_text_and_rejects_garbage():
    @click.command()
    @click.option("--reward", type=AmountType())
    def cmd(reward):
        click.echo(repr(reward))

    assert CliRunner().invoke(cmd, ["--reward", "1e9"]).output == "'1e9'\n"
    bad = CliRunner().invoke(cmd, ["--reward", "ten"])
    assert bad.exit_code == 2 and "not a number" in bad.output


def test_format_duration_and_time():
    assert format_duration(2 * 3600 + 5 * 60 + 7) == "2 h 5 min"
    assert format_duration(59) == "59 s"
    assert format_duration(86_400) == "1 d"
    assert format_time(1_700_000_000 + 7500, now=1_700_000_000) == "2023-11-15T00:18:20Z (in 2 h 5 min)"
    assert format_time(1_700_000_000 - 180, now=1_700_000_000).endswith("(3 min ago)")
    assert format_time(1_700_000_000, now=1_700_000_000).endswith("(now)")
    assert format_time(0) == "-"


def test_format_time__relative_to_the_chain_clock(chain):
    head = chain.blocks.head.timestamp
    assert format_time(head + 60).endswith("(in 1 min)")


def test_token__reads_decimals_and_symbol(usd):
    token = Token.at(usd.address)
    assert (token.decimals, token.symbol, token.warning) == (18, "mUSD", None)
    assert token.format(token.parse("2.25")) == "2.25 mUSD"


def test_token__without_metadata__assumes_and_says_so(project, deployer):
    # A contract without decimals() or symbol(): the defaults are used and named.
    vault_like = project.MockHalo2Verifier.deploy(sender=deployer)
    token = Token.at(vault_like.address)
    assert (token.decimals, token.symbol) == (18, "?")
    assert "no decimals() and no symbol()" in token.warning


def test_token__no_code__refused(accounts):
    from apiary.sdk.errors import ApiaryCliError

    with pytest.raises(ApiaryCliError, match="no contract at"):
        Token.at(accounts[8].address)
