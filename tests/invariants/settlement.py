"""The settlement base's invariant, as a reusable suite: any market's state machine keeps a `SettlementLedger`
(a Python model of ISettlement's three ledgers) next to its own model and inherits `SettlementInvariants`.

For every token, after every step:
  * locked(token)      == Σ amounts of the market's open items (the model's `locked`);
  * owed(a, token)     == the model's credit of every known account a, and totalOwed == Σ of all credits;
  * feesPending(token) == fees accrued and not yet flushed, and the vault received exactly the flushed fees;
  * burned(token)      == penalties burned;
  * escrowed(token)    == locked + totalOwed + feesPending + burned == token.balanceOf(market) − surplus, where
                          surplus is what was sent to the market directly (it changes no ledger; no stray wei).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis.stateful import invariant
from tests.invariants.fastview import fast

BPS = 10_000


def fee_on(amount: int, fee_bps: int) -> int:
    """Settlement._feeOn: rounded up, in the protocol's favour."""
    return -(-amount * fee_bps // BPS)


@dataclass
class SettlementLedger:
    locked: int = 0
    credits: dict[str, int] = field(default_factory=dict)
    fees_pending: int = 0
    fees_flushed: int = 0
    burned: int = 0
    surplus: int = 0  # tokens sent to the market directly: held, accounted for by no ledger

    @property
    def fees_charged(self) -> int:
        """Every fee and forfeited share the market ever accrued for the vault, flushed or not."""
        return self.fees_pending + self.fees_flushed

    def lock(self, amount: int) -> None:
        self.locked += amount

    def _credit(self, account: str, amount: int) -> None:
        self.credits[account] = self.credits.get(account, 0) + amount

    def pay_out(self, payee: str, gross: int, fee_bps: int) -> tuple[int, int]:
        fee = fee_on(gross, fee_bps)
        self.locked -= gross
        self._credit(payee, gross - fee)
        self.fees_pending += fee
        return gross - fee, fee

    def refund(self, account: str, amount: int) -> None:
        self.locked -= amount
        self._credit(account, amount)

    def forfeit(self, amount: int) -> None:
        """Settlement._forfeitToVault: a slashed share goes to the fees pending for the vault."""
        self.locked -= amount
        self.fees_pending += amount

    def burn(self, amount: int) -> None:
        self.locked -= amount
        self.burned += amount

    def donate(self, amount: int) -> None:
        """A plain transfer to the market: no ledger moves."""
        self.surplus += amount

    def sweep(self, cap: int) -> int:
        """`sweepSurplus(token, cap)`: what was sent directly, at most `cap`, becomes fees pending for the vault."""
        amount = min(self.surplus, cap)
        self.surplus -= amount
        self.fees_pending += amount
        return amount

    def withdraw(self, account: str) -> int:
        return self.credits.pop(account, 0)

    def flush(self) -> int:
        amount, self.fees_pending = self.fees_pending, 0
        self.fees_flushed += amount
        return amount

    def check(self, market, token, accounts, vault_received: int | None = None) -> None:
        market, token = fast(market), fast(token)  # reads through eth_call (tests/invariants/fastview.py)
        assert market.locked(token) == self.locked, "locked != Σ open items"
        for account in accounts:
            assert market.owed(account, token) == self.credits.get(account.address, 0), f"owed({account}) differs"
        assert market.totalOwed(token) == sum(self.credits.values()), "totalOwed != Σ credits"
        assert market.feesPending(token) == self.fees_pending, "feesPending differs"
        assert market.burned(token) == self.burned, "burned differs"
        escrowed = market.escrowed(token)
        assert escrowed == self.locked + sum(self.credits.values()) + self.fees_pending + self.burned
        assert escrowed + self.surplus == token.balanceOf(market), "escrowed != balance held − surplus"
        if vault_received is not None:
            assert vault_received == self.fees_flushed, "the vault did not receive exactly the flushed fees"


class SettlementInvariants:
    """Mixin for a RuleBasedStateMachine over a market: set `self.market`, `self.token`, `self.ledger`,
    `self.accounts` and `self.vault` in the initialize rule and keep the ledger in step."""

    @invariant()
    def settlement_ledgers_match(self):
        if getattr(self, "ledger", None) is None:
            return
        self.ledger.check(self.market, self.token, self.accounts, fast(self.vault).unallocated(self.token))


class ChainMachine:
    """Mixin for a RuleBasedStateMachine on a chain: set `self.chain` and `self.snap = chain.snapshot()` in the
    initialize rule; every run is undone at teardown, and `now` is the timestamp the next transaction lands at."""

    def teardown(self):
        if hasattr(self, "snap"):
            self.chain.restore(self.snap)

    @property
    def now(self) -> int:
        return int(self.chain.pending_timestamp)
