"""Stateful property test of the FeeVault against a plain-Python model.

Any sequence of fee deposits (plain and fee-on-transfer tokens), direct transfers, governance-token transfers,
routings, claims, reclaims, spends, fee changes and the passage of time keeps:
  * ledger == model, and `unallocated + reserved + surplus == tokens held` for every token;
  * `reserved == sum of unclaimed open distributions`;
  * each holder receives exactly `floor(amount * balance_at_snapshot / supply)`, at most once per distribution,
    and never more than its share; a distribution never pays out more than it routed;
  * the fee rate never exceeds the immutable cap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test
from tests.invariants.fastview import fast

DAY = 24 * 3600


@dataclass
class ModelDistribution:
    token: str
    amount: int
    supply: int
    shares: dict[str, int]
    deadline: int
    claimed: set[str] = field(default_factory=set)
    paid: int = 0
    reclaimed: bool = False


def test_vault__any_sequence_keeps_ledger_and_shares(chain, project, deployer, gov, alice, bob, carol, whale, attacker):
    holders = [whale, alice, bob, carol]

    class VaultMachine(RuleBasedStateMachine):
        @initialize()
        def deploy(self):
            self.snapshot_id = chain.snapshot()
            amounts = [4_000, 1_000, 1_000, 1_000]
            self.share = project.ApiaryToken.deploy([h.address for h in holders], amounts, sender=deployer)
            self.vault = project.FeeVault.deploy(gov, self.share, 1_000, 100, sender=deployer)
            self.share.setRecorder(self.vault, sender=deployer)  # as deployed: the vault announces record blocks
            self.tokens = [
                project.MockERC20.deploy("Mock USD", "mUSD", sender=deployer),
                project.FeeOnTransferToken.deploy(100, sender=deployer),
            ]
            for t in self.tokens:
                t.mint(attacker, 10**30, sender=attacker)
                t.approve(self.vault, 2**256 - 1, sender=attacker)
            self.balances = {h.address: a for h, a in zip(holders, amounts)}
            self.unallocated = {t.address: 0 for t in self.tokens}
            self.surplus = {t.address: 0 for t in self.tokens}
            self.received = {(t.address, h.address): 0 for t in self.tokens for h in holders}
            self.dists: list[ModelDistribution] = []
            chain.mine()

        def teardown(self):
            if hasattr(self, "snapshot_id"):
                chain.restore(self.snapshot_id)

        # -------------------------------------------------------------- rules

        @rule(which=st.integers(0, 1), amount=st.integers(1, 10**24))
        def deposit(self, which, amount):
            token = self.tokens[which]
            receipt = self.vault.depositFee(token, amount, sender=attacker)
            received = amount - (amount * 100 // 10_000 if which == 1 else 0)
            assert self.vault.FeeDeposited(token=token, nominal=amount, received=received) in receipt.events
            self.unallocated[token.address] += received

        @rule(which=st.integers(0, 1), amount=st.integers(1, 10**20))
        def direct_transfer(self, which, amount):
            token = self.tokens[which]
            token.transfer(self.vault, amount, sender=attacker)
            self.surplus[token.address] += amount - (amount * 100 // 10_000 if which == 1 else 0)

        @rule(src=st.integers(0, 3), dst=st.integers(0, 3), fraction=st.integers(0, 100))
        def move_shares(self, src, dst, fraction):
            sender, receiver = holders[src], holders[dst]
            amount = self.balances[sender.address] * fraction // 100
            self.share.transfer(receiver, amount, sender=sender)
            self.balances[sender.address] -= amount
            self.balances[receiver.address] += amount

        @rule(which=st.integers(0, 1), fraction=st.integers(0, 120), period=st.integers(DAY, 30 * DAY))
        def distribute(self, which, fraction, period):
            token = self.tokens[which]
            available = self.unallocated[token.address]
            amount = available * fraction // 100
            if amount == 0:
                with ape.reverts(self.vault.FeeVaultZeroAmount):
                    self.vault.distribute(token, amount, period, ape.chain.blocks.height + 2, sender=gov)
                return
            if amount > available:
                with ape.reverts(self.vault.FeeVaultInsufficientFees, requested=amount, available=available):
                    self.vault.distribute(token, amount, period, ape.chain.blocks.height + 2, sender=gov)
                return
            receipt = self.vault.distribute(token, amount, period, ape.chain.blocks.height + 2, sender=gov)
            ape.chain.mine(2)  # past the record block: balances there are the balances now
            receipt = self.vault.openClaims(self.vault.distributionCount() - 1, sender=gov)  # the window starts
            supply = sum(self.balances.values())
            self.dists.append(
                ModelDistribution(
                    token=token.address,
                    amount=amount,
                    supply=supply,
                    shares={a: amount * b // supply for a, b in self.balances.items()},
                    deadline=receipt.timestamp + period,
                )
            )
            self.unallocated[token.address] -= amount

        @precondition(lambda self: self.dists)
        @rule(holder=st.integers(0, 3), pick=st.integers(0, 10**6))
        def claim(self, holder, pick):
            account = holders[holder]
            dist_id = pick % len(self.dists)
            d = self.dists[dist_id]
            now = chain.pending_timestamp
            if now > d.deadline:
                with ape.reverts(self.vault.FeeVaultClaimPeriodOver, id=dist_id):
                    self.vault.claim(dist_id, sender=account)
            elif account.address in d.claimed:
                with ape.reverts(self.vault.FeeVaultAlreadyClaimed, id=dist_id, account=account.address):
                    self.vault.claim(dist_id, sender=account)
            elif d.shares[account.address] == 0:
                with ape.reverts(self.vault.FeeVaultNothingToClaim, id=dist_id, account=account.address):
                    self.vault.claim(dist_id, sender=account)
            else:
                receipt = self.vault.claim(dist_id, sender=account)
                share = d.shares[account.address]
                assert self.vault.Claimed(id=dist_id, account=account.address, amount=share) in receipt.events
                d.claimed.add(account.address)
                d.paid += share
                self.received[(d.token, account.address)] += share

        @precondition(lambda self: self.dists)
        @rule(pick=st.integers(0, 10**6))
        def reclaim(self, pick):
            dist_id = pick % len(self.dists)
            d = self.dists[dist_id]
            if chain.pending_timestamp <= d.deadline:
                with ape.reverts(self.vault.FeeVaultClaimPeriodRunning, id=dist_id):
                    self.vault.reclaim(dist_id, sender=attacker)
            elif d.reclaimed:
                with ape.reverts(self.vault.FeeVaultAlreadyReclaimed, id=dist_id):
                    self.vault.reclaim(dist_id, sender=attacker)
            else:
                self.vault.reclaim(dist_id, sender=attacker)
                d.reclaimed = True
                self.unallocated[d.token] += d.amount - d.paid

        @rule(which=st.integers(0, 1), fraction=st.integers(1, 100))
        def spend(self, which, fraction):
            token = self.tokens[which]
            amount = self.unallocated[token.address] * fraction // 100
            if amount == 0:
                return
            self.vault.spend(token, carol, amount, sender=gov)
            self.unallocated[token.address] -= amount

        @rule(bps=st.integers(0, 2_000))
        def set_fee(self, bps):
            if bps > 1_000:
                with ape.reverts(self.vault.FeeVaultFeeAboveCap, feeBps=bps, maxFeeBps=1_000):
                    self.vault.setFeeBps(bps, sender=gov)
            else:
                self.vault.setFeeBps(bps, sender=gov)

        @rule(seconds=st.integers(1, 20 * DAY))
        def wait(self, seconds):
            chain.mine(1, timestamp=chain.pending_timestamp + seconds)

        # -------------------------------------------------------------- invariants

        @invariant()
        def ledger_matches_model_and_holdings(self):
            if not hasattr(self, "vault"):
                return
            vault = fast(self.vault)  # reads through eth_call (tests/invariants/fastview.py)
            for token in self.tokens:
                key = token.address
                reserved = sum(d.amount - d.paid for d in self.dists if d.token == key and not d.reclaimed)
                assert vault.unallocated(token) == self.unallocated[key]
                assert vault.reserved(token) == reserved
                assert vault.surplus(token) == self.surplus[key]
                assert self.unallocated[key] + reserved + self.surplus[key] == fast(token).balanceOf(vault)

        @invariant()
        def nobody_gets_more_than_their_share(self):
            if not hasattr(self, "vault"):
                return
            for d in self.dists:
                assert d.paid <= d.amount
                assert sum(d.shares.values()) <= d.amount
            for (token, holder), got in self.received.items():
                entitled = sum(d.shares[holder] for d in self.dists if d.token == token)
                assert got <= entitled

        @invariant()
        def fee_within_cap(self):
            if hasattr(self, "vault"):
                assert self.vault.feeBps() <= self.vault.maxFeeBps() == 1_000

    run_state_machine_as_test(
        VaultMachine,
        settings=settings(
            max_examples=12,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
