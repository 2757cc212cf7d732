"""Stateful property test of ModelBounties (mock verifier) against a Python model.

Any interleaving of open and sealed bounty creation, model commitments, reveals (right and wrong), chunk
submissions (valid, replayed, rejected by the verifier), finalisation, compensation claims, withdrawals and time
keeps:
  * escrowed(token) == token.balanceOf(bounties) == Σ rewards of active bounties + Σ credits not withdrawn
    + Σ compensation shares not yet claimed;
  * every bounty settles at most once, and its status never leaves a settled state;
  * fees received by the vault == Σ feeOn(reward) over won bounties + the fee-and-dust of forfeited ones;
  * nobody is ever credited more than the model says.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ape
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from apiary.chain.market import register_model

DAY = 24 * 3600
SAMPLES = 8
NUM_CHUNKS = 2
ACTIVE, WON, REFUNDED, FORFEITED = range(4)


@dataclass
class B:
    mode: int
    reward: int
    threshold: int
    chunks: list
    salt: bytes
    commit_deadline: int
    reveal_deadline: int
    deadline: int
    status: int = ACTIVE
    revealed: bool = False
    committed: list = field(default_factory=list)  # model ids in commit order
    proven: dict = field(default_factory=dict)  # model -> {chunk: score}
    best: int = 0
    share: int = 0
    compensated: set = field(default_factory=set)


def test_bounties__any_sequence_keeps_escrow_and_pays_at_most_once(
    chain, project, deployer, gov, accounts, alice, bob, carol, token
):
    from tests.unit.market.conftest import FakeProof  # the same proof shape the example tests use

    owners = [alice, bob, carol]
    sponsor = accounts[7]

    class Machine(RuleBasedStateMachine):
        @initialize()
        def deploy(self):
            self.snap = chain.snapshot()
            self.verifier = project.MockHalo2Verifier.deploy(sender=deployer)
            self.registry = project.VerifierRegistry.deploy(gov, sender=deployer)
            self.registry.register("mock-n8", self.verifier, b"\x11" * 32, SAMPLES, 0, sender=gov)
            self.cid = self.registry.circuitId("mock-n8")
            self.models = project.ModelRegistry.deploy(self.registry, sender=deployer)
            self.vault = project.FeeVault.deploy(gov, token, 1_000, 100, sender=deployer)
            self.bounties = project.ModelBounties.deploy(self.registry, self.models, self.vault, sender=deployer)
            self.usd = project.MockERC20.deploy("USD", "USD", sender=deployer)
            self.usd.mint(sponsor, 10**30, sender=sponsor)
            self.usd.approve(self.bounties, 2**256 - 1, sender=sponsor)
            self.model_ids = [register_model(self.models, o, self.cid, FakeProof(b"-", o.address.encode(), 0).model) for o in owners]
            self.owner_of = dict(zip(self.model_ids, owners))
            self.ms: list[B] = []
            self.credits = {}
            self.fees = 0
            self.set_counter = 0

        def teardown(self):
            if hasattr(self, "snap"):
                chain.restore(self.snap)

        def _proof(self, b: B, chunk: int, model_id: int, score: int) -> FakeProof:
            return FakeProof(b.chunks[chunk], self.owner_of[model_id].address.encode(), score)

        def _credit(self, account, amount):
            self.credits[account] = self.credits.get(account, 0) + amount

        # ---------------------------------------------------------- creation

        @rule(amount=st.integers(1, 10**24), threshold=st.integers(1, 16), sealed=st.booleans())
        def create(self, amount, threshold, sealed):
            self.set_counter += 1
            seeds = [f"set{self.set_counter}-{i}".encode() for i in range(NUM_CHUNKS)]
            chunk_hashes = [FakeProof(s, b"-", 0).chunk for s in seeds]
            now = chain.pending_timestamp
            salt = self.set_counter.to_bytes(32, "big")
            if sealed:
                commitment = self.bounties.testSetCommitment(chunk_hashes, salt)
                self.bounties.createSealed((self.usd, amount, self.cid, commitment, NUM_CHUNKS, threshold, 0,
                                            now + DAY, now + 2 * DAY, now + 3 * DAY), sender=sponsor)
                b = B(1, amount, threshold, seeds, salt, now + DAY, now + 2 * DAY, now + 3 * DAY)
            else:
                self.bounties.createOpen((self.usd, amount, self.cid, chunk_hashes, threshold, 0, now + 3 * DAY), sender=sponsor)
                b = B(0, amount, threshold, seeds, salt, 0, 0, now + 3 * DAY, revealed=True)
            self.ms.append(b)

        # ---------------------------------------------------------- sealed steps

        @precondition(lambda self: self.ms)
        @rule(pick=st.integers(0, 10**6), who=st.integers(0, 2))
        def commit(self, pick, who):
            i = pick % len(self.ms)
            b, model_id = self.ms[i], self.model_ids[who]
            now = chain.pending_timestamp
            if b.status != ACTIVE or b.mode == 0 or now > b.commit_deadline or model_id in b.committed:
                with ape.reverts():
                    self.bounties.commitModel(i, model_id, sender=owners[who])
                return
            self.bounties.commitModel(i, model_id, sender=owners[who])
            b.committed.append(model_id)

        @precondition(lambda self: self.ms)
        @rule(pick=st.integers(0, 10**6), honest=st.booleans())
        def reveal(self, pick, honest):
            i = pick % len(self.ms)
            b = self.ms[i]
            chunk_hashes = [FakeProof(s, b"-", 0).chunk for s in b.chunks]
            salt = b.salt if honest else b"\x01" * 32
            now = chain.pending_timestamp
            ok = b.status == ACTIVE and b.mode == 1 and not b.revealed and b.commit_deadline < now <= b.reveal_deadline and honest
            if not ok:
                with ape.reverts():
                    self.bounties.reveal(i, chunk_hashes, salt, "", sender=sponsor)
                return
            self.bounties.reveal(i, chunk_hashes, salt, "", sender=sponsor)
            b.revealed = True

        # ---------------------------------------------------------- proofs

        @precondition(lambda self: self.ms)
        @rule(pick=st.integers(0, 10**6), who=st.integers(0, 2), chunk=st.integers(0, NUM_CHUNKS - 1),
              score=st.integers(0, SAMPLES), valid=st.booleans())
        def submit(self, pick, who, chunk, score, valid):
            i = pick % len(self.ms)
            b, model_id = self.ms[i], self.model_ids[who]
            proof = self._proof(b, chunk, model_id, score)
            self.verifier.setAccept(valid, sender=deployer)
            now = chain.pending_timestamp
            ok = (b.status == ACTIVE and now <= b.deadline and b.revealed
                  and (b.mode == 0 or model_id in b.committed)
                  and chunk not in b.proven.get(model_id, {}) and valid)
            if not ok:
                with ape.reverts():
                    self.bounties.submitChunk(i, model_id, chunk, proof.proof, proof.instances, sender=attacker_of(who))
                return
            self.bounties.submitChunk(i, model_id, chunk, proof.proof, proof.instances, sender=attacker_of(who))
            b.proven.setdefault(model_id, {})[chunk] = score
            total = sum(b.proven[model_id].values())
            if len(b.proven[model_id]) == NUM_CHUNKS and total >= b.threshold:
                if b.mode == 0:
                    b.best = model_id
                    self._win(b)
                else:
                    leader = b.best
                    if leader == 0:
                        b.best = model_id
                    else:
                        lead_total = sum(b.proven[leader].values())
                        if total > lead_total or (total == lead_total and b.committed.index(model_id) < b.committed.index(leader)):
                            b.best = model_id

        def _win(self, b: B):
            fee = self.vault.feeOn(b.reward)
            self.fees += fee
            self._credit(self.owner_of[b.best].address, b.reward - fee)
            b.status = WON

        # ---------------------------------------------------------- settlement

        @precondition(lambda self: self.ms)
        @rule(pick=st.integers(0, 10**6))
        def finalize(self, pick):
            i = pick % len(self.ms)
            b = self.ms[i]
            now = chain.pending_timestamp
            if b.status != ACTIVE:
                with ape.reverts(self.bounties.BountyNotActive):
                    self.bounties.finalize(i, sender=sponsor)
                return
            if b.mode == 1 and not b.revealed:
                if now <= b.reveal_deadline:
                    with ape.reverts(self.bounties.BountyTooEarlyToFinalize):
                        self.bounties.finalize(i, sender=sponsor)
                    return
                self.bounties.finalize(i, sender=sponsor)
                if b.committed:
                    fee = self.vault.feeOn(b.reward)
                    b.share = (b.reward - fee) // len(b.committed)
                    self.fees += b.reward - b.share * len(b.committed)
                    b.status = FORFEITED
                else:
                    self._credit(sponsor.address, b.reward)
                    b.status = REFUNDED
                return
            if now <= b.deadline:
                with ape.reverts(self.bounties.BountyTooEarlyToFinalize):
                    self.bounties.finalize(i, sender=sponsor)
                return
            self.bounties.finalize(i, sender=sponsor)
            if b.best:
                self._win(b)
            else:
                self._credit(sponsor.address, b.reward)
                b.status = REFUNDED

        @precondition(lambda self: self.ms)
        @rule(pick=st.integers(0, 10**6), who=st.integers(0, 2))
        def compensate(self, pick, who):
            i = pick % len(self.ms)
            b, model_id = self.ms[i], self.model_ids[who]
            if b.status != FORFEITED or model_id not in b.committed or model_id in b.compensated:
                with ape.reverts():
                    self.bounties.claimCompensation(i, model_id, sender=owners[who])
                return
            self.bounties.claimCompensation(i, model_id, sender=owners[who])
            b.compensated.add(model_id)
            self._credit(owners[who].address, b.share)

        @rule(who=st.integers(0, 3))
        def withdraw(self, who):
            account = (owners + [sponsor])[who]
            owed = self.credits.get(account.address, 0)
            if owed == 0:
                with ape.reverts(self.bounties.BountyNothingToWithdraw):
                    self.bounties.withdraw(self.usd, sender=account)
                return
            before = self.usd.balanceOf(account)
            self.bounties.withdraw(self.usd, sender=account)
            assert self.usd.balanceOf(account) - before == owed
            self.credits[account.address] = 0

        @rule(seconds=st.integers(1, 2 * DAY))
        def wait(self, seconds):
            chain.mine(1, timestamp=chain.pending_timestamp + seconds)

        # ---------------------------------------------------------- invariants

        @invariant()
        def escrow_matches(self):
            if not hasattr(self, "bounties"):
                return
            open_rewards = sum(b.reward for b in self.ms if b.status == ACTIVE)
            unclaimed = sum(b.share * (len(b.committed) - len(b.compensated)) for b in self.ms if b.status == FORFEITED)
            expected = open_rewards + sum(self.credits.values()) + unclaimed
            assert self.bounties.escrowed(self.usd) == expected == self.usd.balanceOf(self.bounties)
            for account in owners + [sponsor]:
                assert self.bounties.owed(account, self.usd) == self.credits.get(account.address, 0)

        @invariant()
        def statuses_and_fees(self):
            if not hasattr(self, "bounties"):
                return
            for i, b in enumerate(self.ms):
                on_chain = self.bounties.bounty(i)
                assert on_chain.status == b.status
                assert on_chain.best == b.best
            assert self.vault.unallocated(self.usd) == self.fees

    run_state_machine_as_test(
        Machine,
        settings=settings(max_examples=10, stateful_step_count=30, deadline=None, suppress_health_check=list(HealthCheck)),
    )


def attacker_of(who):
    # Submissions come from a third party: who sends a proof never matters, the model's owner is paid.
    from ape import accounts

    return accounts.test_accounts[6]
