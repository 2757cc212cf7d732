"""Stateful property test of the data market (DatasetRegistry stakes and DataMarket licences) against a model.

Any interleaving of copy registrations, duplicate challenges (repeated too), stake releases, purchases, honest
and dishonest deliveries, disputes (of good and bad deliveries), settlements, refunds, withdrawals, fee flushes
and time keeps:
  * both contracts' settlement ledgers equal the model (tests/invariants/settlement.py): locked == stakes of
    unslashed, unreleased datasets (registry) and payments of open sales + unreleased bonds (market);
  * no stake is slashed twice for the same evidence, nor a dataset twice for any evidence;
  * each sale settles exactly once (paid, refunded or disputed), a listing's bond is slashed at most once;
  * the vault holds exactly the fees both contracts flushed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import ape
from eth_hash.auto import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from apiary.data import exchange, merkle, rows
from tests.invariants.settlement import SettlementLedger
from tests.invariants.fastview import fast

DAY, HOUR = 24 * 3600, 3600
STAKE, BOND, PRICE = 100, 300, 1_000
SEAL_WINDOW = 4


def commitment(values) -> merkle.Commitment:
    return merkle.commit_rows(iter([rows.row_bytes([v, v * 3]) for v in values]), rows.Schema(["a", "b"], "t"))


@dataclass
class Sale:
    listing: int
    buyer: object
    fee_bps: int
    buyer_key: exchange.OneTimeKey
    deadline: int
    dispute_ends: int = 0
    honest: bool = True
    ephemeral: tuple = (0, 0)
    done: str = ""  # "", "settled", "refunded"


class DataMarketMachine(RuleBasedStateMachine):
    env: dict = {}

    @initialize()
    def deploy(self):
        e = self.env
        chain, project, deployer, gov = e["chain"], e["project"], e["deployer"], e["gov"]
        self.chain = chain
        self.snap = chain.snapshot()
        self.sellers, self.buyers, self.challenger = e["sellers"], e["buyers"], e["challenger"]
        self.token = project.MockERC20.deploy("USD", "USD", sender=deployer)
        self.vault = project.FeeVault.deploy(gov, e["share"], 1_000, 100, sender=deployer)
        devices = project.DeviceRegistry.deploy(gov, sender=deployer)
        self.reg = project.DatasetRegistry.deploy(gov, self.vault, self.token, devices, SEAL_WINDOW, STAKE, 10**24, DAY,
                                                  1, sender=deployer)
        self.mk = project.DataMarket.deploy(gov, self.vault, self.reg, self.token, BOND, 10**24, sender=deployer)
        self.accounts = [*self.sellers, *self.buyers, self.challenger]
        for who in self.accounts:
            self.token.mint(who, 10**24, sender=who)
            self.token.approve(self.reg, 2**256 - 1, sender=who)
            self.token.approve(self.mk, 2**256 - 1, sender=who)
        self.reg_ledger, self.mk_ledger = SettlementLedger(), SettlementLedger()
        # two datasets, listed: the first with an honest package, the second with one row swapped
        self.listings, self.packages = [], []
        tmp = e["tmp"]
        self.originals: list[merkle.Commitment] = []
        for i, seller in enumerate(self.sellers):
            values = range(100 * i, 100 * i + 12)
            c = commitment(values)
            self._register(seller, c, price=PRICE)
            self.originals.append(c)
        chain.mine(SEAL_WINDOW + 1)
        for i, seller in enumerate(self.sellers):
            csv = tmp / f"d{i}-{os.urandom(4).hex()}.csv"
            values = [100 * i + v if (i == 0 or v != 5) else 999 for v in range(12)]
            csv.write_text("a,b\n" + "".join(f"{v},{v * 3}\n" for v in values))
            pkg, key = exchange.build_package(csv, csv.with_suffix(".apkg"))
            pkg.leaves = [bytes(x) for x in self.originals[i].leaves]  # the registered tree, as a buyer checks it
            self.mk.list(i + 1, pkg.cipher_root, keccak(key), HOUR, DAY, "u", sender=seller)
            self.mk_ledger.lock(BOND)
            bad_index = exchange.open_package(pkg, key).bad_index
            assert (bad_index is not None) == (i == 1)
            self.listings.append({"seller": seller, "key": key, "bond": BOND, "fraud": 0, "bad": i == 1,
                                  "bad_index": bad_index, "payable_at": int(self.reg.releasableAt(i + 1))})
            self.packages.append(pkg)
        self.copies: list[dict] = []  # registered partial copies of dataset 1
        self.sales: list[Sale] = []
        self.slashes: set = set()

    def teardown(self):
        if hasattr(self, "snap"):
            self.chain.restore(self.snap)

    @property
    def now(self) -> int:
        return self.chain.pending_timestamp

    def _register(self, who, c, price=0):
        salt = os.urandom(32)
        self.reg.commit(self.reg.seal(who, c.root, salt), sender=who)
        self.reg.register((c.root, c.rows, c.schema_hash, "", self.token.address if price else
                           "0x0000000000000000000000000000000000000000", price), salt, sender=who)
        self.reg_ledger.lock(STAKE)
        return int(self.reg.datasetIdOf(c.root))

    # ---------------------------------------------------------- registry

    @rule(who=st.integers(0, 1), start=st.integers(1, 11))
    def register_copy(self, who, start):
        values = list(range(start, 12)) + [10_000 + len(self.copies) * 50 + v for v in range(3)]
        c = commitment(values)
        if int(self.reg.datasetIdOf(c.root)):
            return
        buyer = self.buyers[who]
        dataset_id = self._register(buyer, c)
        self.copies.append({"id": dataset_id, "c": c, "staker": buyer, "slashed": False, "released": False,
                            "ends": int(self.reg.dataset(dataset_id).challengeEnds)})

    @precondition(lambda self: self.copies)
    @rule(pick=st.integers(0, 100), row=st.integers(0, 100))
    def challenge(self, pick, row):
        copy = self.copies[pick % len(self.copies)]
        common = merkle.shared_rows(copy["c"], self.originals[0])
        shared = [common[row % len(common)]]  # evidence is exactly minDuplicateRows (1 here) rows: which one varies
        salt = os.urandom(32)
        evidence = (copy["id"], tuple(shared))
        self.reg.commitChallenge(self.reg.challengeCommitment(self.challenger, copy["id"], 1, shared, salt),
                                 sender=self.challenger)
        args = (copy["id"], 1, shared, [copy["c"].proof(h) for h in shared], [self.originals[0].proof(h) for h in shared],
                salt)
        reveal_end = max(copy["ends"] + DAY, copy.get("claim_ends", 0))  # an open claim period keeps reveals open
        if self.now > reveal_end or int(self.chain.blocks.head.timestamp) > copy["ends"]:
            with ape.reverts(self.reg.DatasetRegistryChallengeClosed):
                self.reg.challengeDuplicate(*args, sender=self.challenger)
            return
        if copy["slashed"] or copy["released"]:
            # slashed: a later commitment never takes the reward (NotFirstChallenge), after the claim period the
            # stake is gone; released: gone. Either way nothing moves.
            with ape.reverts():
                self.reg.challengeDuplicate(*args, sender=self.challenger)
            return
        self.reg.challengeDuplicate(*args, sender=self.challenger)
        assert evidence not in self.slashes and copy["id"] not in {e[0] for e in self.slashes}, "slashed twice"
        self.slashes.add(evidence)
        copy["slashed"] = True
        copy["claim_ends"] = int(self.reg.challengeClaim(copy["id"]).endsAt)

    @precondition(lambda self: self.copies)
    @rule(pick=st.integers(0, 100))
    def claim(self, pick):
        copy = self.copies[pick % len(self.copies)]
        if not copy["slashed"] or copy.get("claimed"):
            with ape.reverts():
                self.reg.claimChallengeReward(copy["id"], sender=self.challenger)
            return
        if self.now <= copy["claim_ends"] + 5:
            if self.now < copy["claim_ends"] - 5:
                with ape.reverts(self.reg.DatasetRegistryClaimOpen):
                    self.reg.claimChallengeReward(copy["id"], sender=self.challenger)
            return
        self.reg.claimChallengeReward(copy["id"], sender=self.challenger)
        copy["claimed"] = True
        self.reg_ledger.pay_out(self.challenger.address, STAKE, 5_000)

    @precondition(lambda self: self.copies)
    @rule(pick=st.integers(0, 100))
    def release(self, pick):
        copy = self.copies[pick % len(self.copies)]
        if copy["slashed"] or copy["released"]:
            with ape.reverts(self.reg.DatasetRegistryStakeGone):
                self.reg.releaseStake(copy["id"], sender=copy["staker"])
        elif self.now < copy["ends"] + DAY + 1 or self.chain.blocks.height + 1 <= int(self.reg.contestableUntil(copy["id"])):
            with ape.reverts(self.reg.DatasetRegistryStakeLocked):
                self.reg.releaseStake(copy["id"], sender=copy["staker"])
        else:
            self.reg.releaseStake(copy["id"], sender=copy["staker"])
            copy["released"] = True
            self.reg_ledger.refund(copy["staker"].address, STAKE)

    # ---------------------------------------------------------- licences

    @rule(listing=st.integers(0, 1), who=st.integers(0, 1))
    def buy(self, listing, who):
        l = self.listings[listing]
        buyer, key = self.buyers[who], exchange.OneTimeKey.new()
        if l["fraud"]:
            with ape.reverts(self.mk.DataMarketListingClosed):
                self.mk.buy(listing + 1, self.mk.listing(listing + 1).cipherRoot, self.token, PRICE, *key.public, key.sign(self.mk.buyerKeyDigest(buyer, listing + 1, self.mk.listing(listing + 1).cipherRoot)), sender=buyer)
            return
        fee = int(self.vault.feeBps())
        self.mk.buy(listing + 1, self.mk.listing(listing + 1).cipherRoot, self.token, PRICE, *key.public, key.sign(self.mk.buyerKeyDigest(buyer, listing + 1, self.mk.listing(listing + 1).cipherRoot)), sender=buyer)
        self.sales.append(Sale(listing, buyer, fee, key, int(self.chain.blocks.head.timestamp) + HOUR))
        self.mk_ledger.lock(PRICE)

    @precondition(lambda self: self.sales)
    @rule(pick=st.integers(0, 100), honest=st.booleans())
    def deliver(self, pick, honest):
        i = pick % len(self.sales)
        s, l = self.sales[i], self.listings[self.sales[pick % len(self.sales)].listing]
        info = exchange.key_info(self.chain.chain_id, self.mk.address, i + 1)
        ephemeral, enc = exchange.deliver_key(l["key"] if honest else os.urandom(32), s.buyer_key.public, info)
        if s.done or s.dispute_ends or self.now > s.deadline or l["fraud"] == 2:
            with ape.reverts():
                self.mk.deliver(i + 1, exchange.key_id(s.buyer_key.public), *ephemeral, enc, sender=l["seller"])
            return
        receipt = self.mk.deliver(i + 1, exchange.key_id(s.buyer_key.public), *ephemeral, enc, sender=l["seller"])
        s.dispute_ends = int(self.chain.blocks.head.timestamp) + DAY
        assert receipt.timestamp + DAY == s.dispute_ends
        s.honest, s.ephemeral = honest, ephemeral

    @precondition(lambda self: self.sales)
    @rule(pick=st.integers(0, 100))
    def dispute(self, pick):
        i = pick % len(self.sales)
        s, l = self.sales[i], self.listings[self.sales[i].listing]
        pkg = self.packages[s.listing]
        if s.done or not s.dispute_ends or self.now > s.dispute_ends:
            with ape.reverts(self.mk.DataMarketUnexpectedSaleState):
                self.mk.dispute(i + 1, exchange.evidence(pkg, s.buyer_key, s.ephemeral or (1, 2), None), sender=s.buyer)
            return
        index = None if not s.honest else (l["bad_index"] if l["bad"] else 3)
        evidence = exchange.evidence(pkg, s.buyer_key, s.ephemeral, index)
        if s.honest and not l["bad"]:
            with ape.reverts(self.mk.DataMarketDeliveryCorrect):
                self.mk.dispute(i + 1, evidence, sender=s.buyer)
            return
        self.mk.dispute(i + 1, evidence, sender=s.buyer)
        s.done = "refunded"
        self.mk_ledger.refund(s.buyer.address, PRICE)
        if not l["fraud"]:
            self.mk_ledger.pay_out(s.buyer.address, l["bond"], 5_000)
            l["fraud"] = 1
        if s.honest and l["bad"]:
            l["fraud"] = 2

    @precondition(lambda self: self.sales)
    @rule(pick=st.integers(0, 100))
    def settle_or_refund(self, pick):
        i = pick % len(self.sales)
        s, l = self.sales[i], self.listings[self.sales[i].listing]
        if not s.done and l["fraud"] == 2:
            self.mk.refund(i + 1, sender=self.challenger)
            s.done = "refunded"
            self.mk_ledger.refund(s.buyer.address, PRICE)
        elif not s.done and s.dispute_ends and self.now > s.dispute_ends and self.now < l["payable_at"]:
            # the dataset can still be proven a duplicate: no sale of it is paid yet
            with ape.reverts(self.mk.DataMarketDatasetContestable, datasetId=s.listing + 1, payableAt=l["payable_at"]):
                self.mk.settle(i + 1, sender=self.challenger)
        elif not s.done and s.dispute_ends and self.now > s.dispute_ends:
            self.mk.settle(i + 1, sender=self.challenger)
            s.done = "settled"
            self.mk_ledger.pay_out(l["seller"].address, PRICE, s.fee_bps)
        elif not s.done and not s.dispute_ends and self.now > s.deadline:
            self.mk.refund(i + 1, sender=self.challenger)
            s.done = "refunded"
            self.mk_ledger.refund(s.buyer.address, PRICE)
        else:
            with ape.reverts():
                self.mk.settle(i + 1, sender=self.challenger)
            with ape.reverts():
                self.mk.refund(i + 1, sender=self.challenger)

    # ---------------------------------------------------------- money and time

    @rule(hours=st.sampled_from([1, 6, 25, 49]))
    def wait(self, hours):
        self.chain.mine(1, deltatime=hours * HOUR)

    @rule(who=st.integers(0, 4))
    def withdraw(self, who):
        account = self.accounts[who]
        for contract, ledger in ((self.reg, self.reg_ledger), (self.mk, self.mk_ledger)):
            if ledger.credits.get(account.address, 0):
                contract.withdraw(self.token, sender=account)
                ledger.withdraw(account.address)

    @rule()
    def flush(self):
        for contract, ledger in ((self.reg, self.reg_ledger), (self.mk, self.mk_ledger)):
            if ledger.fees_pending:
                contract.flushFees(self.token, sender=self.challenger)
                ledger.flush()

    @invariant()
    def ledgers_match(self):
        if not hasattr(self, "reg_ledger"):
            return
        for contract, ledger in ((self.reg, self.reg_ledger), (self.mk, self.mk_ledger)):
            ledger.check(contract, self.token, self.accounts)
        assert int(fast(self.vault).unallocated(self.token)) == self.reg_ledger.fees_flushed + self.mk_ledger.fees_flushed
        mk = fast(self.mk)  # reads through eth_call (tests/invariants/fastview.py)
        for i, s in enumerate(self.sales):
            state = int(mk.saleState(i + 1))
            if s.done:
                assert state == (5 if s.done == "settled" else 6), f"sale {i + 1} settled twice or not at all"


def test_data_market__any_sequence_keeps_the_ledgers_and_slashes_once(chain, project, deployer, gov, accounts, token,
                                                                      alice, bob, carol, tmp_path):
    DataMarketMachine.env = dict(chain=chain, project=project, deployer=deployer, gov=gov, share=token, tmp=tmp_path,
                                 sellers=[alice, bob], buyers=[carol, accounts[7]], challenger=accounts[8])
    run_state_machine_as_test(
        DataMarketMachine,
        settings=settings(max_examples=6, stateful_step_count=25, deadline=None, suppress_health_check=list(HealthCheck)),
    )
