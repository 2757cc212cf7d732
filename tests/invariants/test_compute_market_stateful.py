"""Stateful property test of the compute market against a model.

Any interleaving of stakes, unbonding, job posts (both modes, open or assigned), acceptances, proofs (valid and
invalid), optimistic results, challenges (committed, then revealed; a second one refunded), the requesters' audit
reveals, answers, finalisations, slashes after a missed response,
expiries, cancellations, withdrawals, fee flushes and time keeps:
  * both tokens' settlement ledgers equal the model (tests/invariants/settlement.py), and
    escrow == payments held + bonds + stakes: locked(stake token) == Σ stakes + Σ open challenge bonds,
    locked(payment token) == Σ prices of unsettled jobs;
  * each provider's locked collateral == Σ collateral of its accepted or submitted jobs, never above its stake;
  * each job settles exactly once: a settled job's status never changes again, and every settling call on it
    reverts.
"""

from __future__ import annotations

from dataclasses import dataclass

import ape
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from apiary.sdk.market import register_model
from tests.invariants.settlement import ChainMachine, SettlementLedger
from tests.unit.compute.conftest import FakeProof, commitment, input_commitment, weights_point
from tests.invariants.fastview import fast

HOUR, DAY = 3_600, 86_400
# minStake, minCollateral, challengeBond, unbonding, challengeWindow, responseWindow, auditBps, challengerBps,
# requesterBps
PARAMS = (100, 50, 20, DAY, HOUR, HOUR, 3_000, 5_000, 3_000)
PRICE, COLLATERAL = 40, 60
OUT = [1, 2, 3]
ACCEPTED, SUBMITTED, PAID, SLASHED, REFUNDED = 2, 3, 4, 5, 6
SETTLED = (PAID, SLASHED, REFUNDED)
ZERO = "0x0000000000000000000000000000000000000000"


@dataclass
class Job:
    requester: object
    mode: int
    deadline: int
    fee_bps: int
    provider: object = None
    status: int = 1
    result_at: int = 0
    challenger: object = None
    proof_due: int = 0
    drawn: bool = False
    audited: bool = False
    seed: bytes | None = None  # the requester's audit seed (optimistic jobs posted with one)
    result_randao: int = 0


class ComputeMachine(ChainMachine, RuleBasedStateMachine):
    env: dict = {}

    @initialize()
    def deploy(self):
        e = self.env
        chain, project, deployer, gov = e["chain"], e["project"], e["deployer"], e["gov"]
        self.chain, self.snap = chain, chain.snapshot()
        self.requesters, self.providers, self.challenger = e["requesters"], e["providers"], e["challenger"]
        self.accounts = [*self.requesters, *self.providers, self.challenger]
        self.apy = project.MockERC20.deploy("APY", "APY", sender=deployer)
        self.usd = project.MockERC20.deploy("USD", "USD", sender=deployer)
        self.vault = project.FeeVault.deploy(gov, e["share"], 1_000, 100, sender=deployer)
        self.verifier = project.MockHalo2Verifier.deploy(sender=deployer)
        verifiers = project.VerifierRegistry.deploy(gov, sender=deployer)
        verifiers.register("eval", project.MockHalo2Verifier.deploy(sender=deployer), b"\x11" * 32, 8, 0, sender=gov)
        verifiers.register("infer", self.verifier, b"\x22" * 32, 3, 2, sender=gov)
        models = project.ModelRegistry.deploy(verifiers, 4, sender=deployer)
        self.model = register_model(models, self.requesters[0], verifiers.circuitId("eval"), keccak(weights_point(b"m")))
        self.mk = project.ComputeMarket.deploy(gov, self.vault, verifiers, models, self.apy, 10**30, PARAMS,
                                               sender=deployer)
        self.mk.setInferenceCircuit(verifiers.circuitId("eval"), verifiers.circuitId("infer"), sender=gov)
        verifiers.register("infer-x3", project.MockHalo2Verifier.deploy(sender=deployer), b"\x33" * 32, 9, 2, sender=gov)
        self.mk.setBatchCircuit(verifiers.circuitId("eval"), verifiers.circuitId("infer-x3"), sender=gov)
        for who in self.accounts:
            for t in (self.apy, self.usd):
                t.mint(who, 10**24, sender=who)
                t.approve(self.mk, 2**256 - 1, sender=who)
        self.ledgers = {self.apy.address: SettlementLedger(), self.usd.address: SettlementLedger()}
        self.stake = {p.address: 0 for p in self.providers}
        self.unbonding = {p.address: [0, 0] for p in self.providers}
        self.bonds: dict[int, int] = {}
        self.jobs: list[Job] = []
        for p in self.providers[:2]:
            self._stake(p, 300)

    # ------------------------------------------------------------ helpers

    def _stake(self, p, amount):
        self.mk.stake(amount, sender=p)
        self.stake[p.address] += amount
        self.ledgers[self.apy.address].lock(amount)

    def _locked(self, p) -> int:
        return sum(COLLATERAL for j in self.jobs if j.provider is p and j.status in (ACCEPTED, SUBMITTED))

    def _free(self, p) -> int:
        return self.stake[p.address] - self._locked(p) - self.unbonding[p.address][0]

    def _pay(self, i):
        j = self.jobs[i]
        j.status = PAID
        self.ledgers[self.usd.address].pay_out(j.provider.address, PRICE, j.fee_bps)

    def _refund(self, i, status):
        j = self.jobs[i]
        j.status = status
        self.ledgers[self.usd.address].refund(j.requester.address, PRICE)

    def _slash(self, i):
        j, apy = self.jobs[i], self.ledgers[self.apy.address]
        self.stake[j.provider.address] -= COLLATERAL
        to_challenger = COLLATERAL * PARAMS[7] // 10_000 if j.challenger else 0
        to_requester = COLLATERAL * (PARAMS[8] + (0 if j.challenger else PARAMS[7])) // 10_000
        if j.challenger:
            apy.refund(j.challenger.address, self.bonds.pop(i) + to_challenger)
        apy.refund(j.requester.address, to_requester)
        apy.forfeit(COLLATERAL - to_challenger - to_requester)
        self._refund(i, SLASHED)

    def _job(self, data, *statuses):
        candidates = [i for i, j in enumerate(self.jobs) if j.status in statuses]
        return data.draw(st.sampled_from(candidates)) if candidates else None

    # ------------------------------------------------------------ providers

    @rule(p=st.integers(0, 2), amount=st.integers(1, 200))
    def stake_more(self, p, amount):
        self._stake(self.providers[p], amount)

    @rule(p=st.integers(0, 2), amount=st.integers(1, 400))
    def request_unstake(self, p, amount):
        who = self.providers[p]
        if amount > self._free(who):
            with ape.reverts(self.mk.ComputeMarketInsufficientStake):
                self.mk.requestUnstake(amount, sender=who)
            return
        self.mk.requestUnstake(amount, sender=who)
        self.unbonding[who.address] = [self.unbonding[who.address][0] + amount, self.now - 1 + DAY]

    @rule(p=st.integers(0, 2))
    def complete_unstake(self, p):
        who = self.providers[p]
        amount, ends = self.unbonding[who.address]
        if amount == 0 or self.now < ends + 2:
            if amount == 0 or self.now < ends - 2:
                with ape.reverts():
                    self.mk.completeUnstake(sender=who)
            return
        self.mk.completeUnstake(sender=who)
        self.unbonding[who.address] = [0, 0]
        self.stake[who.address] -= amount
        self.ledgers[self.apy.address].refund(who.address, amount)

    # ------------------------------------------------------------ jobs

    @rule(r=st.integers(0, 1), mode=st.integers(0, 1), assigned=st.booleans(), seeded=st.booleans(), data=st.data())
    def post(self, r, mode, assigned, seeded, data):
        provider = data.draw(st.sampled_from(self.providers)) if assigned else None
        deadline = self.now + DAY
        seed = keccak(b"seed" + len(self.jobs).to_bytes(4, "big")) if seeded else None
        req = (self.model, input_commitment(b"in"), "uri", self.usd, PRICE, COLLATERAL, deadline, mode,
               provider or ZERO, keccak(seed) if seed else bytes(32))
        self.mk.postJob(req, sender=self.requesters[r])
        self.jobs.append(Job(self.requesters[r], mode, deadline, 100, provider, seed=seed))
        self.ledgers[self.usd.address].lock(PRICE)

    @rule(p=st.integers(0, 2), data=st.data())
    def accept(self, p, data):
        i = self._job(data, 1)
        if i is None:
            return
        j, who = self.jobs[i], self.providers[p]
        ok = (j.provider in (None, who) and self.now < j.deadline and self._free(who) >= COLLATERAL
              and self.stake[who.address] - self.unbonding[who.address][0] >= PARAMS[0])
        if not ok:
            with ape.reverts():
                self.mk.accept(i + 1, sender=who)
            return
        self.mk.accept(i + 1, sender=who)
        j.provider, j.status = who, ACCEPTED

    @rule(valid=st.booleans(), data=st.data())
    def submit(self, valid, data):
        i = self._job(data, ACCEPTED)
        if i is None or self.now > self.jobs[i].deadline - 5:
            return
        j = self.jobs[i]
        if j.mode == 0:
            proof = FakeProof(b"in" if valid else b"other", b"m").proof
            if not valid:
                with ape.reverts(self.mk.InferenceProofWrongInput):
                    self.mk.submitProof(i + 1, proof, OUT, sender=j.provider)
                return
            self.mk.submitProof(i + 1, proof, OUT, sender=j.provider)
            self._pay(i)
        else:
            self.mk.submitResult(i + 1, OUT, sender=j.provider)
            j.status, j.result_at = SUBMITTED, self.now - 1
            j.result_randao = int(self.mk.job(i + 1).resultRandao)

    @rule(p=st.integers(0, 2), repeat=st.booleans(), data=st.data())
    def submit_batch(self, p, repeat, data):
        """One batch proof for up to three of a provider's accepted proof-mode jobs; a repeated id pays nothing."""
        who = self.providers[p]
        mine = [i for i, j in enumerate(self.jobs)
                if j.status == ACCEPTED and j.mode == 0 and j.provider is who and self.now <= j.deadline - 5]
        if not mine:
            return
        chosen = sorted(data.draw(st.lists(st.sampled_from(mine), min_size=1, max_size=3, unique=True)))
        ids = [i + 1 for i in chosen]
        proof = FakeProof(b"in", b"m").proof
        proof = proof[:64] * 3 + proof[64:128] + proof[128:]  # every job's input is b"in": three slots of it
        if repeat:
            with ape.reverts(self.mk.ComputeMarketBadBatch):
                self.mk.submitProofBatch([ids[0], *ids], proof, OUT * 3, sender=who)
            return
        self.mk.submitProofBatch(ids, proof, OUT * 3, sender=who)
        for i in chosen:
            self._pay(i)

    @rule(data=st.data())
    def challenge(self, data):
        """Commit, then reveal (two blocks): the first reveal holds the job, a later one gets its bond back."""
        i = self._job(data, SUBMITTED)
        if i is None:
            return
        j = self.jobs[i]
        salt = keccak(b"salt" + self.now.to_bytes(8, "big"))
        if self.now > j.result_at + HOUR - 5:
            if self.now > j.result_at + HOUR + 5:
                with ape.reverts():
                    self.mk.challenge(i + 1, salt, sender=self.challenger)
            return
        self.mk.commitChallenge(commitment(i + 1, self.challenger, salt), PARAMS[2], sender=self.challenger)
        self.ledgers[self.apy.address].lock(PARAMS[2])
        self.mk.challenge(i + 1, salt, sender=self.challenger)
        if j.challenger:
            self.ledgers[self.apy.address].refund(self.challenger.address, PARAMS[2])
            return
        j.challenger = self.challenger
        self.bonds[i] = PARAMS[2]
        j.proof_due = j.proof_due or int(self.mk.job(i + 1).proofDue)

    @rule(data=st.data())
    def reveal_audit(self, data):
        """The requester reveals its seed: only after the challenge window, within the response window after it;
        the draw is the promised function of the seed, the result's prevrandao and the job id."""
        from eth_abi import encode

        i = self._job(data, SUBMITTED)
        if i is None or self.jobs[i].seed is None:
            return
        j = self.jobs[i]
        closes = j.result_at + HOUR
        if self.now <= closes + 5 or self.now > closes + HOUR - 5:
            if not j.drawn and (self.now < closes - 5 or self.now > closes + HOUR + 5):
                with ape.reverts():
                    self.mk.revealAudit(i + 1, j.seed, sender=j.requester)
            return
        self.mk.revealAudit(i + 1, j.seed, sender=j.requester)
        on_chain = self.mk.job(i + 1)
        draw = keccak(encode(["bytes32", "uint64", "uint256"], [j.seed, j.result_randao, i + 1]))
        expected = int.from_bytes(draw, "big") % 10_000 < PARAMS[6]
        assert not j.drawn or bool(on_chain.audited) == j.audited, "an audit was redrawn"
        assert bool(on_chain.audited) == expected
        j.drawn, j.audited = True, expected
        j.proof_due = int(on_chain.proofDue)

    @rule(data=st.data())
    def prove(self, data):
        i = self._job(data, SUBMITTED)
        if i is None:
            return
        j = self.jobs[i]
        if j.proof_due and self.now > j.proof_due - 5:
            return
        self.mk.proveResult(i + 1, FakeProof(b"in", b"m").proof, OUT, sender=j.provider)
        if j.challenger:
            self.ledgers[self.apy.address].refund(j.provider.address, self.bonds.pop(i))
        self._pay(i)

    @rule(data=st.data())
    def finalize(self, data):
        """After the window, unchallenged and unaudited — and, with a seed, once it is revealed or the response
        window for revealing it has passed."""
        i = self._job(data, SUBMITTED)
        if i is None:
            return
        j = self.jobs[i]
        opens = j.result_at + HOUR + (HOUR if j.seed is not None and not j.drawn else 0)
        if self.now <= opens + 5 or j.challenger or j.audited:
            if j.challenger or j.audited or self.now <= opens - 5:
                with ape.reverts():
                    self.mk.finalize(i + 1, sender=self.challenger)
            return
        self.mk.finalize(i + 1, sender=self.challenger)
        self._pay(i)

    @rule(data=st.data())
    def slash_unproven(self, data):
        i = self._job(data, SUBMITTED)
        if i is None:
            return
        j = self.jobs[i]
        if not j.proof_due or self.now <= j.proof_due + 5:
            if not j.proof_due or self.now < j.proof_due - 5:
                with ape.reverts():
                    self.mk.slashUnproven(i + 1, sender=self.challenger)
            return
        self.mk.slashUnproven(i + 1, sender=self.challenger)
        self._slash(i)

    @rule(data=st.data())
    def expire(self, data):
        i = self._job(data, 1, ACCEPTED)
        if i is None:
            return
        j = self.jobs[i]
        if self.now <= j.deadline + 5:
            if self.now < j.deadline - 5:
                with ape.reverts(self.mk.ComputeMarketTooEarly):
                    self.mk.expire(i + 1, sender=self.challenger)
            return
        self.mk.expire(i + 1, sender=self.challenger)
        if j.status == 1:
            self._refund(i, REFUNDED)
        else:
            self._slash(i)

    @rule(data=st.data())
    def cancel(self, data):
        i = self._job(data, 1)
        if i is None:
            return
        if self.jobs[i].provider is not None:  # named jobs only expire (their provider may take them with a result)
            with ape.reverts(self.mk.ComputeMarketNamedJob):
                self.mk.cancel(i + 1, sender=self.jobs[i].requester)
            return
        self.mk.cancel(i + 1, sender=self.jobs[i].requester)
        self._refund(i, REFUNDED)

    @rule(data=st.data())
    def settle_twice(self, data):
        i = self._job(data, *SETTLED)
        if i is None:
            return
        for call in (lambda: self.mk.finalize(i + 1, sender=self.challenger),
                     lambda: self.mk.slashUnproven(i + 1, sender=self.challenger),
                     lambda: self.mk.expire(i + 1, sender=self.challenger),
                     lambda: self.mk.proveResult(i + 1, FakeProof(b"in", b"m").proof, OUT, sender=self.challenger)):
            with ape.reverts(self.mk.ComputeMarketWrongStatus):
                call()

    @rule(seconds=st.sampled_from([60, HOUR + 30, DAY + 30]))
    def advance(self, seconds):
        self.chain.mine(1, deltatime=seconds)

    @rule(who=st.integers(0, 5), stake_token=st.booleans())
    def withdraw(self, who, stake_token):
        account, token = self.accounts[who], self.apy if stake_token else self.usd
        ledger = self.ledgers[token.address]
        if ledger.credits.get(account.address, 0):
            self.mk.withdraw(token, sender=account)
            ledger.withdraw(account.address)

    @precondition(lambda self: hasattr(self, "ledgers"))
    @rule()
    def flush(self):
        for token in (self.apy, self.usd):
            if self.ledgers[token.address].fees_pending:
                self.mk.flushFees(token, sender=self.challenger)
                self.ledgers[token.address].flush()

    # ------------------------------------------------------------ invariants

    @invariant()
    def ledgers_match(self):
        if not hasattr(self, "ledgers"):
            return
        for token in (self.apy, self.usd):
            self.ledgers[token.address].check(self.mk, token, self.accounts, int(fast(self.vault).unallocated(token)))
        mk = fast(self.mk)  # reads through eth_call (tests/invariants/fastview.py)
        assert int(mk.locked(self.apy)) == sum(self.stake.values()) + sum(self.bonds.values())
        open_prices = sum(PRICE for j in self.jobs if j.status not in SETTLED)
        assert int(mk.locked(self.usd)) == open_prices

    @invariant()
    def collateral_and_jobs_match(self):
        if not hasattr(self, "ledgers"):
            return
        mk = fast(self.mk)
        for p in self.providers:
            info = mk.providerOf(p)
            assert int(info.stake) == self.stake[p.address]
            assert int(info.locked) == self._locked(p) <= int(info.stake)
        for i, j in enumerate(self.jobs):
            assert int(mk.job(i + 1).status) == j.status, f"job {i + 1} settled twice or not at all"


def test_compute_market__any_sequence_keeps_escrow_and_settles_each_job_once(chain, project, deployer, gov, accounts,
                                                                            token):
    ComputeMachine.env = dict(chain=chain, project=project, deployer=deployer, gov=gov, share=token,
                              requesters=[accounts[2], accounts[3]], providers=[accounts[4], accounts[5], accounts[6]],
                              challenger=accounts[7])
    run_state_machine_as_test(
        ComputeMachine,
        settings=settings(max_examples=5, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)),
    )
