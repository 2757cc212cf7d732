"""Stateful property test of ModelBounties (mock verifier) against a Python model.

Any interleaving of open and sealed bounty creation, model commitments, reveals (right, wrong salt, wrong data),
chunk submissions (valid, replayed, rejected by the verifier), finalisation, fee-rate changes, fee flushes,
withdrawals and time keeps:
  * the settlement base's ledgers equal the model (tests/invariants/settlement.py): locked == Σ rewards of active
    bounties, credits per account, pending and flushed fees, escrowed == balance held;
  * every bounty settles exactly once through the phase it must be in, and `phase(id)` equals the model's;
  * a winner is paid at the fee rate fixed when the bounty was created, whatever governance did since;
  * a sealed bounty with commitments never pays its sponsor back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ape
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from apiary.sdk.market import Phase, Status, register_model
from tests.invariants.settlement import SettlementInvariants, SettlementLedger
from tests.unit.market.conftest import SEAL_WINDOW, FakeProof
from tests.invariants.fastview import fast

DAY = 24 * 3600
SAMPLES = 8
NUM_CHUNKS = 2


@dataclass
class B:
    mode: int
    reward: int
    threshold: int
    fee_bps: int
    chunks: list
    salt: bytes
    data: bytes
    commit_deadline: int
    reveal_deadline: int
    deadline: int
    status: Status = Status.ACTIVE
    revealed: bool = False
    committed: list = field(default_factory=list)  # model ids in commit order
    proven: dict = field(default_factory=dict)  # model -> {chunk: score}
    best: int = 0

    def phase(self, now: int) -> Phase:
        if self.status != Status.ACTIVE:
            return Phase.CLOSED
        if not self.revealed:
            if now <= self.commit_deadline:
                return Phase.COMMIT
            return Phase.REVEAL if now <= self.reveal_deadline else Phase.SETTLE
        return Phase.PROVE if now <= self.deadline else Phase.SETTLE


class BountyMachine(SettlementInvariants, RuleBasedStateMachine):
    env: dict = {}  # fixtures, set by the test before the machine runs

    @initialize()
    def deploy(self):
        e = self.env
        chain, project, deployer, gov = e["chain"], e["project"], e["deployer"], e["gov"]
        self.snap = chain.snapshot()
        self.owners, self.sponsor, self.relayer = e["owners"], e["sponsor"], e["relayer"]
        self.verifier = project.MockHalo2Verifier.deploy(sender=deployer)
        self.registry = project.VerifierRegistry.deploy(gov, sender=deployer)
        self.registry.register("mock-n8", self.verifier, b"\x11" * 32, SAMPLES, 0, sender=gov)
        self.cid = self.registry.circuitId("mock-n8")
        self.models = project.ModelRegistry.deploy(self.registry, SEAL_WINDOW, sender=deployer)
        self.vault = project.FeeVault.deploy(gov, e["token"], 1_000, 100, sender=deployer)
        self.market = project.ModelBounties.deploy(self.registry, self.models, self.vault, "0x0000000000000000000000000000000000000000", sender=deployer)
        self.token = project.MockERC20.deploy("USD", "USD", sender=deployer)
        self.token.mint(self.sponsor, 10**30, sender=self.sponsor)
        self.token.approve(self.market, 2**256 - 1, sender=self.sponsor)
        self.model_ids = [register_model(self.models, o, self.cid, FakeProof(b"-", o.address.encode(), 0).model)
                          for o in self.owners]
        self.owner_of = dict(zip(self.model_ids, self.owners))
        self.accounts = [*self.owners, self.sponsor]
        self.ms: list[B] = []
        self.set_counter = 0
        self.ledger = SettlementLedger()

    def teardown(self):
        if hasattr(self, "snap"):
            self.env["chain"].restore(self.snap)

    @property
    def now(self) -> int:
        return self.env["chain"].pending_timestamp

    def _pick(self, pick):
        i = pick % len(self.ms)
        return i, self.ms[i]

    def _proof(self, b: B, chunk: int, model_id: int, score: int) -> FakeProof:
        return FakeProof(b.chunks[chunk], self.owner_of[model_id].address.encode(), score)

    def _expect_phase_error(self, i, b, required):
        return ape.reverts(self.market.BountyWrongPhase, bountyId=i, current=b.phase(self.now), required=required)

    # ---------------------------------------------------------- creation and governance

    @rule(amount=st.integers(1, 10**24), threshold=st.integers(1, 16), sealed=st.booleans())
    def create(self, amount, threshold, sealed):
        self.set_counter += 1
        seeds = [f"set{self.set_counter}-{i}".encode() for i in range(NUM_CHUNKS)]
        chunk_hashes = [FakeProof(s, b"-", 0).chunk for s in seeds]
        now, salt, data = self.now, self.set_counter.to_bytes(32, "big"), b"data-%d" % self.set_counter
        fee_bps = int(self.vault.feeBps())
        if sealed:
            commitment = self.market.testSetCommitment(chunk_hashes, keccak(data), salt)
            self.market.createSealed((self.token, amount, self.cid, commitment, NUM_CHUNKS, threshold, 0,
                                      now + DAY, now + 2 * DAY, now + 3 * DAY), sender=self.sponsor)
            b = B(1, amount, threshold, fee_bps, seeds, salt, data, now + DAY, now + 2 * DAY, now + 3 * DAY)
        else:
            self.market.createOpen((self.token, amount, self.cid, chunk_hashes, data, threshold, 0, now + 3 * DAY),
                                   sender=self.sponsor)
            b = B(0, amount, threshold, fee_bps, seeds, salt, data, 0, 0, now + 3 * DAY, revealed=True)
        assert int(self.market.bounty(len(self.ms)).feeBps) == fee_bps
        self.ms.append(b)
        self.ledger.lock(amount)

    @rule(bps=st.integers(0, 1_000))
    def governance_changes_fee(self, bps):
        self.vault.setFeeBps(bps, sender=self.env["gov"])  # must never touch bounties already created

    # ---------------------------------------------------------- sealed steps

    @precondition(lambda self: self.ms)
    @rule(pick=st.integers(0, 10**6), who=st.integers(0, 2))
    def commit(self, pick, who):
        i, b = self._pick(pick)
        model_id = self.model_ids[who]
        if b.phase(self.now) != Phase.COMMIT:
            with self._expect_phase_error(i, b, Phase.COMMIT):
                self.market.commitModel(i, model_id, sender=self.owners[who])
            return
        if model_id in b.committed:
            with ape.reverts(self.market.BountyAlreadyCommitted, bountyId=i, modelId=model_id):
                self.market.commitModel(i, model_id, sender=self.owners[who])
            return
        self.market.commitModel(i, model_id, sender=self.owners[who])
        b.committed.append(model_id)

    @precondition(lambda self: self.ms)
    @rule(pick=st.integers(0, 10**6), how=st.sampled_from(["honest", "wrong_salt", "wrong_data"]))
    def reveal(self, pick, how):
        i, b = self._pick(pick)
        chunk_hashes = [FakeProof(s, b"-", 0).chunk for s in b.chunks]
        salt = b.salt if how != "wrong_salt" else b"\x01" * 32
        data = b.data if how != "wrong_data" else b.data + b"!"
        if b.phase(self.now) != Phase.REVEAL:
            with self._expect_phase_error(i, b, Phase.REVEAL):
                self.market.reveal(i, chunk_hashes, salt, data, sender=self.sponsor)
            return
        if how != "honest":
            with ape.reverts(self.market.BountyRevealMismatch):
                self.market.reveal(i, chunk_hashes, salt, data, sender=self.sponsor)
            return
        self.market.reveal(i, chunk_hashes, salt, data, sender=self.sponsor)
        b.revealed = True

    # ---------------------------------------------------------- proofs

    @precondition(lambda self: self.ms)
    @rule(pick=st.integers(0, 10**6), who=st.integers(0, 2), chunk=st.integers(0, NUM_CHUNKS - 1),
          score=st.integers(0, SAMPLES), valid=st.booleans())
    def submit(self, pick, who, chunk, score, valid):
        i, b = self._pick(pick)
        model_id = self.model_ids[who]
        proof = self._proof(b, chunk, model_id, score)
        self.verifier.setAccept(valid, sender=self.env["deployer"])
        ok = (b.phase(self.now) == Phase.PROVE and (b.mode == 0 or model_id in b.committed)
              and chunk not in b.proven.get(model_id, {}) and valid)
        if not ok:
            with ape.reverts():
                self.market.submitChunk(i, model_id, chunk, proof.proof, proof.instances, sender=self.relayer)
            return
        # Sent by a third party: who sends a proof never matters, the model's owner is paid.
        self.market.submitChunk(i, model_id, chunk, proof.proof, proof.instances, sender=self.relayer)
        b.proven.setdefault(model_id, {})[chunk] = score
        total = sum(b.proven[model_id].values())
        if len(b.proven[model_id]) == NUM_CHUNKS and total >= b.threshold:
            if b.mode == 0:
                b.best = model_id
                self._win(b)
            elif b.best == 0:
                b.best = model_id
            else:
                lead_total = sum(b.proven[b.best].values())
                if total > lead_total or (total == lead_total and b.committed.index(model_id) < b.committed.index(b.best)):
                    b.best = model_id

    def _win(self, b: B):
        self.ledger.pay_out(self.owner_of[b.best].address, b.reward, b.fee_bps)
        b.status = Status.WON

    # ---------------------------------------------------------- settlement

    @precondition(lambda self: self.ms)
    @rule(pick=st.integers(0, 10**6))
    def finalize(self, pick):
        i, b = self._pick(pick)
        if b.phase(self.now) != Phase.SETTLE:
            with self._expect_phase_error(i, b, Phase.SETTLE):
                self.market.finalize(i, sender=self.relayer)
            return
        sponsor_owed = self.ledger.credits.get(self.sponsor.address, 0)
        self.market.finalize(i, sender=self.relayer)  # models are final: registered before any bounty
        if b.best:
            self._win(b)
        elif b.committed:
            self.ledger.burn(b.reward)
            b.status = Status.FORFEITED
            assert self.market.owed(self.sponsor, self.token) == sponsor_owed  # no refund once anyone committed
        else:
            self.ledger.refund(self.sponsor.address, b.reward)
            b.status = Status.REFUNDED

    @rule(who=st.integers(0, 3))
    def withdraw(self, who):
        account = self.accounts[who]
        if not self.ledger.credits.get(account.address):
            with ape.reverts(self.market.SettlementNothingToWithdraw):
                self.market.withdraw(self.token, sender=account)
            return
        before = self.token.balanceOf(account)
        self.market.withdraw(self.token, sender=account)
        assert self.token.balanceOf(account) - before == self.ledger.withdraw(account.address)

    @rule()
    def flush_fees(self):
        if self.ledger.fees_pending == 0:
            with ape.reverts(self.market.SettlementNoFeesPending):
                self.market.flushFees(self.token, sender=self.relayer)
            return
        self.market.flushFees(self.token, sender=self.relayer)
        self.ledger.flush()

    @rule(seconds=st.integers(1, 2 * DAY))
    def wait(self, seconds):
        self.env["chain"].mine(1, timestamp=self.now + seconds)

    # ---------------------------------------------------------- invariants (plus the settlement suite)

    @invariant()
    def statuses_and_phases(self):
        if not hasattr(self, "market"):
            return
        now = self.env["chain"].blocks.head.timestamp
        market = fast(self.market)  # reads through eth_call (tests/invariants/fastview.py)
        for i, b in enumerate(self.ms):
            on_chain = market.bounty(i)
            assert on_chain.status == b.status and on_chain.best == b.best
            assert market.phase(i) == b.phase(now)


def test_bounties__any_sequence_keeps_the_ledgers_and_pays_at_most_once(chain, project, deployer, gov, accounts, alice,
                                                                        bob, carol, token):
    BountyMachine.env = dict(chain=chain, project=project, deployer=deployer, gov=gov, token=token,
                             owners=[alice, bob, carol], sponsor=accounts[7], relayer=accounts[6])
    run_state_machine_as_test(
        BountyMachine,
        settings=settings(max_examples=10, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)),
    )
