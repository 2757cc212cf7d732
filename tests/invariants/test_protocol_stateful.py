"""Stateful property test of the whole protocol, deployed as `ape run deploy` deploys it, against a Python model.

The deployment is the real one (`deploy_core`, `deploy_market`, local profile): the token, Governor and Timelock,
the one FeeVault every market pays, VerifierRegistry, ModelRegistry + ModelBounties, DatasetRegistry + DataMarket
+ Provenance, ComputeMarket. The timelock owns every admin knob, so the mock verifiers of an evaluation circuit and
its inference twin are registered, and inference enabled in the compute market, by two proposals run with the
deployment helpers (propose → vote → queue → execute). The protocol is then brought into use once, through the
helpers the rules use (`ProtocolMachine._in_use`: items under way in every market, fees in the vault, proposals
queued); every run starts from that state and the chain is restored to it afterwards.

Rules, interleaved at random by nine named actors (holders who vote, a sponsor, model owners, sellers, buyers,
requesters, providers, a challenger who also relays proofs and calls every permissionless function). Each rule
mostly acts on an item whose state the action fits, otherwise on any item (the refusal is then checked), and lets
time pass to an item's next window when none fits yet:
  * governance: proposals to change the fee (within the cap, and above it: fails at execution), the royalty
    share (within and above its cap), the datasets' challenge window, and to distribute vault fees at a record
    block (ahead, or already passed at execution: fails; more than the vault holds: fails until it does), votes for/against/abstain (late quorum extends the vote), queue and execute early
    (refused) or on time; claims, claim windows opened, reclaims; admin functions called directly (refused);
    APY moved between accounts, so that balances and votes at past blocks matter;
  * models: commit–reveal registrations, final or not yet, a copy of a registered commitment (refused);
    citations of owned or licensed datasets (not final, cited twice, not licensed: refused);
  * bounties: open bounties in USD or APY, chunk proofs through the mock verifier (valid, replayed, made for
    another model) from a relayer, the first qualifying model paid with royalties to its cited datasets'
    owners (a duplicate's part stays with the winner), finalisation of unwon bounties;
  * datasets: registrations (originals, partial copies, an exact copy: refused) staked in APY, duplicate
    challenges (commit, reveal; reversed, repeated, too late: refused), challenge rewards, stake releases;
  * licences: listings (honest and dishonest packages), purchases with one-time keys, honest and dishonest
    deliveries (the seller's agent answering at once, or later), disputes (of good and bad deliveries),
    settlements (refused while the dataset can still be proven a duplicate), refunds (expired, bad package,
    dataset proven a duplicate), closing listings, bond releases;
  * compute: stakes, unbonding requested and completed, jobs posted (proof and optimistic, open or for a named
    provider, paid in USD or APY, priced at the fee rate of the moment), acceptances, proofs (valid or for
    another input), results, challenges, audit draws (predicted from the block hash), proofs of results,
    finalisations, slashes after a missed proof, expiries and cancellations;
  * money: withdrawals from every market, fee flushes from every market to the one vault, tokens sent to a
    market or the vault directly and swept from a market into its fees by governance (capped at the amount
    voted; anyone else refused), time and blocks passing.

Invariants, after every step (one that mined nothing changed nothing, and is not read again):
  * every market and token: escrowed == locked + owed + feesPending + burned == balanceOf(market) − surplus, each
    ledger equal to the model's (tests/invariants/settlement.py);
  * the vault, per token: unallocated, reserved and surplus equal the model and sum to its balance;
  * fees charged (summed over every market in the model) == fees the vault received (its ledgers plus what
    holders claimed) + fees still pending in the markets;
  * every item (bounty, sale, job, dataset stake, listing bond, provider stake) is in the model's state: it ends
    in exactly one terminal state and never leaves it (settled items are re-read in turn, every third step); no
    account is credited twice for one item, and a sale of a dataset proven a duplicate is refunded, never paid;
  * the fee rate and royalty share are the ones governance set; terms fixed when funds were committed (fee per
    item, royalty per citation) are the ones paid;
  * the APY supply is constant (and, every fourth step, held in full by the accounts and contracts the run knows);
  * votes, balances and total supply at past blocks, recorded as the run goes, never change (and votes equal
    balances: nobody delegates).
Depth: tests/invariants/depth.py (APIARY_DEEP).
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import ape
from eth_abi import encode
from eth_utils import keccak
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule, run_state_machine_as_test

from apiary.data import exchange, merkle
from apiary.deploy.config import GENESIS_SUPPLY, ONE_TOKEN, PROFILES
from apiary.deploy.governance import ABSTAIN, AGAINST, FOR, LocalProposalRunner, Proposal, call
from apiary.deploy.market import deploy_market, register_circuit_by_governance, register_inference_by_governance
from apiary.sdk.compute import STATUS
from apiary.sdk.data import SALE_STATES
from apiary.sdk.devnode import advance
from apiary.sdk.market import Phase, Status, circuit_id, register_model
from tests.invariants.depth import machine_settings
from tests.invariants.fastview import fast
from tests.invariants.settlement import BPS, ChainMachine, SettlementLedger
from tests.invariants.test_bounties_stateful import B
from tests.invariants.test_compute_market_stateful import ACCEPTED, PAID, REFUNDED, SETTLED, SLASHED, SUBMITTED, Job
from tests.invariants.test_data_market_stateful import Sale
from tests.unit.compute.conftest import EVAL, INFER, OUTPUTS
from tests.unit.compute.conftest import FakeProof as InferenceProof
from tests.unit.compute.conftest import commitment, input_commitment, weights_point
from tests.unit.data.conftest import table
from tests.unit.market.conftest import SAMPLES, TEST_DATA
from tests.unit.market.conftest import FakeProof as EvaluationProof

HOUR, DAY = 3_600, 86_400
MARGIN = 5  # seconds: a step whose outcome hangs on a deadline this close does nothing (block times drift by 1 s)
LOCAL = PROFILES["local"]
P, GOV = LOCAL.market, LOCAL.governance
MAX_FEE, MAX_ROYALTY, MAX_RECORD_LEAD = LOCAL.fees.max_fee_bps, P.max_royalty_bps, 50_400
CHUNKS, ROWS = 2, 12
# Windows chosen within each contract's bounds so that one day passing does not end every item at once.
DELIVERY_WINDOW, DISPUTE_WINDOW, JOB_TIME, BOUNTY_TIME = 6 * HOUR, DAY, 2 * DAY, 3 * DAY
COLLATERAL = 60 * ONE_TOKEN
OUT = [1, 2, 3][:OUTPUTS]
ZERO = "0x0000000000000000000000000000000000000000"
MARKETS = ("bounties", "datasets", "data", "compute")
SALE = {name: i for i, name in enumerate(SALE_STATES)}
OPEN = STATUS.index("open")
NO_FRAUD, WRONG_KEY, BAD_PACKAGE = 0, 1, 2  # IDataMarket.Fraud
VOTE_CHOICES = (FOR, FOR, AGAINST, ABSTAIN)


# ---------------------------------------------------------------- model items


@dataclass
class Model:
    id: int
    owner: Any
    seed: bytes
    until: int  # last block an earlier seal could take it over; final after it


@dataclass
class Dataset:
    id: int
    owner: Any
    values: list
    c: merkle.Commitment
    stake: int
    challenge_ends: int
    until: int
    order: int  # registration order: seals land in it, so a lower order is an earlier seal
    token: Any = None
    price: int = 0
    duplicate: bool = False
    released: bool = False  # released, or taken by a duplicate proof
    claim_ends: int = 0
    reward: int = 0  # the slashed stake waiting for claimChallengeReward


@dataclass
class Listing:
    id: int
    dataset: Dataset
    key: bytes
    package: exchange.Package
    bad_index: int | None
    bond: int
    fraud: int = NO_FRAUD
    closed: bool = False
    bond_released: bool = False
    open_sales: int = 0


@dataclass
class ProtocolSale(Sale):
    token: Any = None
    amount: int = 0


@dataclass
class Bounty(B):
    token: Any = None


@dataclass
class ProtocolJob(Job):
    token: Any = None
    price: int = 0
    model: Model | None = None
    input: bytes = b""
    bond: int = 0


@dataclass
class Prop:
    proposal: Proposal
    kind: str
    value: int
    snapshot: int
    deadline: int
    token: Any = None
    record: int = 0
    period: int = 0
    votes: dict = field(default_factory=dict)  # voter address → (support, weight)
    quorum_reached: bool = False
    eta: int = 0
    queued: bool = False
    executed: bool = False
    market: str = ""  # a sweep's market

    def tally(self) -> tuple[int, int, int]:
        counts = [0, 0, 0]
        for support, weight in self.votes.values():
            counts[support] += weight
        return counts[AGAINST], counts[FOR], counts[ABSTAIN]


@dataclass
class Distribution:
    token: Any
    amount: int
    record: int
    period: int
    deadline: int = 0  # set when claims open
    claimed: dict = field(default_factory=dict)  # account address → amount
    reclaimed: bool = False


# ---------------------------------------------------------------- the machine


class _Randao:
    """The embedded chain's prevrandao (eth-tester mines each block with `os.urandom(32)` as its mix hash), drawn
    instead from a counter that every run starts again: a run's choices then meet the same chain, as hypothesis
    requires (audits depend on prevrandao; a choice that depends on an audit would otherwise be flaky)."""

    def __init__(self) -> None:
        self.n = 0

    def urandom(self, size: int) -> bytes:
        self.n += 1
        return keccak(b"prevrandao" + self.n.to_bytes(8, "big"))[:size]


RANDAO = _Randao()


class ProtocolMachine(ChainMachine, RuleBasedStateMachine):
    env: dict = {}  # the deployment and the actors, set by the test before the machine runs
    packages: dict = {}  # (row values, honest) → (package, key, bad index): built once, reused by every run
    template: dict = {}  # the model of the protocol in use that every run starts from (`prepare`)

    @classmethod
    def prepare(cls) -> None:
        """Bring the protocol into use once, through the helpers the rules use, and keep the model of that state:
        every run starts from it (the chain is restored to it after each run)."""
        machine = cls()
        machine._wire()
        wiring = set(machine.__dict__)
        machine._fresh_model()
        model = set(machine.__dict__) - wiring
        machine._in_use()
        cls.template = {key: getattr(machine, key) for key in model}

    @initialize()
    def start(self):
        self._wire()
        # The model is copied; the accounts and contracts it refers to are the same objects.
        shared = [*self.everyone, *self.tokens]
        self.__dict__.update(copy.deepcopy(self.template, {id(x): x for x in shared}))
        self.checked: dict[str, int] = {}  # invariant → chain height it last passed at
        self.snap = self.chain.snapshot()
        RANDAO.n = 0  # the same steps mine the same prevrandao values, so they draw the same audits

    def _wire(self) -> None:
        e = self.env
        self.chain = e["chain"]
        self.core, self.m, self.usd = e["core"], e["market"], e["usd"]
        self.apy, self.vault, self.governor = self.core.token, self.core.vault, self.core.governor
        self.tokens = (self.apy, self.usd)
        self.contracts = {"bounties": self.m.bounties, "datasets": self.m.datasets, "data": self.m.data_market,
                          "compute": self.m.compute}
        a = e["actors"]
        self.holders, self.sponsor, self.challenger = a["holders"], a["sponsor"], a["challenger"]
        self.owners, self.sellers, self.buyers = a["owners"], a["sellers"], a["buyers"]
        self.requesters, self.providers, self.everyone = a["requesters"], a["providers"], a["everyone"]
        self.runner = LocalProposalRunner(self.governor, self.core.timelock)
        self.fast = {name: fast(c) for name, c in self.contracts.items()}
        self.fast_vault, self.fast_apy, self.fast_usd = fast(self.vault), fast(self.apy), fast(self.usd)
        self.fast_governor, self.fast_provenance = fast(self.governor), fast(self.m.provenance)
        self.fast_token = {self.apy.address: self.fast_apy, self.usd.address: self.fast_usd}
        self.by_address = {acct.address: acct for acct in self.everyone}
        self.apy_holders = [*self.everyone, self.core.timelock, self.vault, *self.contracts.values()]
        self.cid = circuit_id(EVAL)

    def _fresh_model(self) -> None:
        self.ledgers = {(name, t.address): SettlementLedger() for name in MARKETS for t in self.tokens}
        self.fee_bps, self.royalty_bps = int(self.vault.feeBps()), P.royalty_bps
        self.challenge_window = P.challenge_window
        self.unallocated = {t.address: 0 for t in self.tokens}
        self.vault_surplus = {t.address: 0 for t in self.tokens}
        self.props: list[Prop] = []
        self.dists: list[Distribution] = []
        self.models: list[Model] = []
        self.citations: dict[int, tuple[int, list[int]]] = {}  # model id → (royalty bps fixed at citation, ids)
        self.datasets: list[Dataset] = []
        self.listings: list[Listing] = []
        self.sales: list[ProtocolSale] = []
        self.licensed: set[tuple[int, str]] = set()
        self.bounties: list[Bounty] = []
        self.jobs: list[ProtocolJob] = []
        self.stake = {p.address: 0 for p in self.providers}
        self.unbonding = {p.address: [0, 0] for p in self.providers}
        self.paid: set[tuple] = set()
        self.history: dict[tuple, int] = {}
        self.recheck_at = 0
        self.counter = 0
        self.commits: dict[bytes, tuple[int, int]] = {}  # unrevealed challenge commitments: (time made, bond)

    def _in_use(self) -> None:
        """A protocol in use, every market with items under way: governance gave datasets two-day challenge
        windows; providers staked; two final models, one citing its owner's dataset; datasets (two priced originals,
        an unpriced one, a priced partial copy) listed with an honest, a dishonest and a copier's package; a sale
        delivered, two paid; a bounty whose first chunk the model proved; jobs open, accepted and submitted; fees in
        the vault, a fee change and a distribution of them queued, a royalty change voted on."""
        whale, alice = self.holders[0], self.holders[1]
        longer = self._propose(whale, "challenge_window", 2 * DAY - HOUR)  # copies stay challengeable for 2 days
        self._vote(longer, whale, FOR)
        self._queue(longer)
        self._execute(longer)
        for p in self.providers:
            self._stake(p, 2_000 * ONE_TOKEN)
        model = self._new_model(self.owners[0], final=True)
        self._new_model(self.owners[1], final=True)
        originals = [self._new_dataset(self.sellers[0], self._fresh_values(), self.usd, 1_000 * ONE_TOKEN),
                     self._new_dataset(self.sellers[1], self._fresh_values(), self.apy, 300 * ONE_TOKEN),
                     self._new_dataset(self.owners[0], self._fresh_values())]
        copied = self._new_dataset(self.buyers[1], originals[0].values[4:] + self._fresh_values()[:3], self.apy,
                                   50 * ONE_TOKEN)
        self.chain.mine(P.seal_window + 1)
        self._cite(model, [originals[2].id])
        listings = [self._list(originals[0], True), self._list(originals[1], False), self._list(copied, True)]
        delivered = self._buy(listings[0], self.buyers[0])
        self._deliver(delivered, honest=True)
        self._buy(listings[1], self.buyers[1])
        self._buy(listings[2], self.buyers[0])
        bounty = self._create_bounty(self.usd, 10**21, 4)
        self._submit_chunk(bounty, model, 0, SAMPLES)
        paid = self._post_job(model, self.requesters[1], 0, self.providers[0], self.usd, 10**20)
        self._submit_job(paid)  # a named provider proves at once: fees to flush
        self._post_job(model, self.requesters[0], 1, None, self.usd, 10**20)
        self._accept(self._post_job(model, self.requesters[1], 0, None, self.apy, 10**19), self.providers[1])
        submitted = self._post_job(model, self.requesters[0], 1, None, self.usd, 10**20)
        self._accept(submitted, self.providers[0])
        self._submit_job(submitted)
        self.flush_fees()
        queued = [self._propose(whale, "fee", 250), self._propose(alice, "distribute", 100, token=self.usd)]
        for p in queued:
            self._vote(p, whale, FOR)
        self._queue(queued[0])
        self._queue(queued[1])
        self._vote(self._propose(whale, "royalty", 800), alice, FOR)

    # ------------------------------------------------------------ helpers

    @property
    def height(self) -> int:
        return int(self.chain.blocks.height)

    def _near(self, *moments: int) -> bool:
        now = self.now
        return any(m and abs(now - m) <= MARGIN for m in moments)

    def _ledger(self, market: str, token: Any) -> SettlementLedger:
        return self.ledgers[(market, token.address)]

    def _once(self, *key: Any) -> None:
        """An account is credited at most once for one item and role."""
        assert key not in self.paid, f"paid twice: {key}"
        self.paid.add(key)

    def _choose(self, data, items: list, fits=lambda _x: True, after=lambda _x: 0) -> int:
        """The index of an item the action fits (by the model's state) four times in five, of any item otherwise:
        the refusals of actions on items in the wrong state are checked too. When nothing fits yet but `after(x)`
        names the moment an item will fit, time passes up to then half the time (someone acts once a window is over)."""
        fitting = [i for i, x in enumerate(items) if fits(x)]
        if not fitting:
            later = [(i, t) for i, x in enumerate(items) if (t := after(x))]
            if later and data.draw(st.booleans()):
                i, t = data.draw(st.sampled_from(later))
                self._wait_past(t)
                return i
        if fitting and data.draw(st.integers(0, 4)):
            return data.draw(st.sampled_from(fitting))
        return data.draw(st.integers(0, len(items) - 1))

    def _wait_past(self, moment: int) -> None:
        """Mine a block after `moment` (and clear of the margin around it)."""
        advance(blocks=1, seconds=max(1, moment + MARGIN + 1 - int(self.chain.blocks.head.timestamp)))

    def _fresh_values(self) -> list[int]:
        self.counter += 1
        return list(range(1_000 * self.counter, 1_000 * self.counter + ROWS))

    def _past(self, kind: str, account: Any, block: int) -> int:
        """Votes, balance or total supply at the end of `block` (mined): read once, then remembered and re-checked
        by the `the_past_never_changes` invariant."""
        key = (kind, getattr(account, "address", None), block)
        if key not in self.history:
            assert block <= self.height, "a past value of a block not mined yet"
            self.history[key] = self._read_past(*key)
        return self.history[key]

    def _read_past(self, kind: str, address: str | None, block: int) -> int:
        t = self.fast_apy
        if block == self.height:  # the latest block: the current values are its final ones
            return {"votes": lambda: t.getVotes(address), "balance": lambda: t.balanceOf(address),
                    "supply": t.totalSupply}[kind]()
        return {"votes": lambda: t.getPastVotes(address, block), "balance": lambda: t.getPastBalance(address, block),
                "supply": lambda: t.getPastTotalSupply(block)}[kind]()

    # ------------------------------------------------------------ governance

    def _gov_state(self, p: Prop) -> str:
        """IGovernor.state for a transaction sent now (it lands in block height + 1)."""
        if p.executed:
            return "Executed"
        if p.queued:
            return "Queued"
        clock = self.height + 1
        if clock <= p.snapshot:
            return "Pending"
        if clock <= p.deadline:
            return "Active"
        return "Succeeded" if self._passes(p) else "Defeated"

    def _passes(self, p: Prop) -> bool:
        against, for_, abstain = p.tally()
        return for_ > against and for_ + abstain >= self._quorum(p)

    def _quorum(self, p: Prop) -> int:
        return self._past("supply", None, p.snapshot) * GOV.quorum_percent // 100

    def _propose(self, who, kind: str, value: int, data=None, token=None) -> Prop | None:
        self.counter += 1
        record, period = 0, DAY * (1 + self.counter % 3)
        token = None if kind != "distribute" else token
        market = ""
        if kind == "fee":
            value %= MAX_FEE + 1
            actions = [call(self.vault, "setFeeBps", value)]
        elif kind == "fee_over_cap":
            value = MAX_FEE + 1 + value % 1_000
            actions = [call(self.vault, "setFeeBps", value)]
        elif kind == "royalty":
            value %= MAX_ROYALTY * 5 // 4 + 1
            actions = [call(self.m.provenance, "setRoyaltyBps", value)]
        elif kind == "challenge_window":
            value = HOUR + value % (3 * DAY)
            actions = [call(self.m.datasets, "setChallengeWindow", value)]
        elif kind == "sweep":  # a market's surplus in USD, capped at a voted amount (value, in base units)
            market, token = MARKETS[self.counter % len(MARKETS)], self.usd
            value = value * 10**12
            actions = [call(self.vault, "sweepMarketSurplus", self.contracts[market].address, token.address, value)]
        else:
            token = token or data.draw(st.sampled_from(self.tokens))
            value = max(1, self.unallocated[token.address] * (value % 150) // 100)
            # 3 blocks ahead passes before any execution (refused); 40 or 150 are still ahead if executed promptly
            record = self.height + (data.draw(st.sampled_from([3, 40, 150])) if data else 150)
            actions = [call(self.vault, "distribute", token.address, value, period, record)]
        proposal = Proposal(actions, f"{kind} {value} (#{self.counter})")
        votes, threshold = self.fast_apy.getVotes(who), GOV.proposal_threshold
        if votes < threshold:
            with ape.reverts(self.governor.GovernorInsufficientProposerVotes, proposer=who.address, votes=votes,
                             threshold=threshold):
                self.runner.propose(who, proposal)
            return None
        self.runner.propose(who, proposal)
        snapshot = self.height + GOV.voting_delay
        p = Prop(proposal, kind, value, snapshot, snapshot + GOV.voting_period, token, record, period,
                 market=market if kind == "sweep" else "")
        assert self.fast_governor.proposalSnapshot(proposal.proposal_id) == p.snapshot
        assert self.fast_governor.proposalDeadline(proposal.proposal_id) == p.deadline
        self.props.append(p)
        return p

    @rule(kind=st.sampled_from(["fee", "fee", "fee_over_cap", "royalty", "challenge_window", "distribute",
                                "distribute", "sweep"]),
          value=st.integers(0, 10**6), proposer=st.integers(0, 3), data=st.data())
    def propose(self, kind, value, proposer, data):
        self._propose(self.holders[proposer], kind, value, data)

    @precondition(lambda self: self.props)
    @rule(support=st.sampled_from(VOTE_CHOICES), data=st.data())
    def vote(self, support, data):
        p = self.props[self._choose(data, self.props, lambda p: self._gov_state(p) in ("Pending", "Active"))]
        fresh = [h for h in self.holders if h.address not in p.votes]
        who = data.draw(st.sampled_from(fresh if fresh and data.draw(st.integers(0, 4)) else self.holders))
        pid, state = p.proposal.proposal_id, self._gov_state(p)
        if state not in ("Pending", "Active"):
            with ape.reverts(self.governor.GovernorUnexpectedProposalState):
                self.governor.castVote(pid, support, sender=who)
            return
        if who.address in p.votes:  # only possible while Active
            with ape.reverts(self.governor.GovernorAlreadyCastVote, voter=who.address):
                self.governor.castVote(pid, support, sender=who)
            return
        self._vote(p, who, support)

    def _vote(self, p: Prop, who, support: int) -> None:
        pid = p.proposal.proposal_id
        self.runner.vote(p.proposal, [who], support)  # a Pending proposal: mines up to its snapshot first
        p.votes[who.address] = (support, self._past("votes", who, p.snapshot))
        against, for_, abstain = p.tally()
        assert tuple(self.fast_governor.proposalVotes(pid)) == (against, for_, abstain)
        if not p.quorum_reached and for_ + abstain >= self._quorum(p):
            # GovernorPreventLateQuorum: reaching quorum extends the vote to at least this block + the extension
            p.quorum_reached = True
            p.deadline = max(p.deadline, self.height + GOV.late_quorum_extension)
        assert self.fast_governor.proposalDeadline(pid) == p.deadline

    @precondition(lambda self: self.props)
    @rule(early=st.booleans(), data=st.data())
    def queue(self, early, data):
        p = self.props[self._choose(data, self.props, lambda p: self._gov_state(p) in ("Active", "Succeeded")
                                    and self._passes(p))]
        state = self._gov_state(p)
        if state == "Active" and early:
            with ape.reverts(self.governor.GovernorUnexpectedProposalState):
                self.governor.queue(*p.proposal.args(), sender=self.challenger)
            return
        if state in ("Pending", "Active"):
            advance(blocks=p.deadline - self.height + 1)  # "mine past the period", as the runner does
            state = self._gov_state(p)
        if state != "Succeeded":
            with ape.reverts(self.governor.GovernorUnexpectedProposalState):
                self.runner.queue(p.proposal, self.challenger)
            return
        self._queue(p)

    def _queue(self, p: Prop) -> None:
        self.runner.queue(p.proposal, self.challenger)  # anyone may queue (mines past the vote first)
        p.queued, p.eta = True, int(self.chain.blocks.head.timestamp) + GOV.timelock_delay
        assert self.fast_governor.proposalEta(p.proposal.proposal_id) == p.eta

    @precondition(lambda self: self.props)
    @rule(early=st.booleans(), data=st.data())
    def execute(self, early, data):
        p = self.props[self._choose(data, self.props, lambda p: p.queued and not p.executed)]
        state, args = self._gov_state(p), p.proposal.args()
        if state != "Queued":
            # Succeeded but not queued: the timelock has no such operation; any other state: the Governor refuses
            error = (self.core.timelock.TimelockUnexpectedOperationState if state == "Succeeded"
                     else self.governor.GovernorUnexpectedProposalState)
            with ape.reverts(error):
                self.governor.execute(*args, sender=self.challenger)
            return
        if self.now < p.eta - MARGIN and early:
            with ape.reverts(self.core.timelock.TimelockUnexpectedOperationState):
                self.governor.execute(*args, sender=self.challenger)
            return
        if self.now <= p.eta + MARGIN:  # "time past the delay"
            advance(blocks=1, seconds=p.eta + MARGIN + 1 - int(self.chain.blocks.head.timestamp))
        expected = self._execution_error(p)
        if expected is not None:
            error, fields = expected
            with ape.reverts(error, **fields):
                self.runner.execute(p.proposal, self.challenger)
            return  # the proposal stays Queued: it may succeed later (a distribution once fees arrived)
        self._execute(p)

    def _execute(self, p: Prop) -> None:
        self.runner.execute(p.proposal, self.challenger)  # anyone may execute (after the delay)
        p.executed = True
        if p.kind == "fee":
            self.fee_bps = p.value
        elif p.kind == "royalty":
            self.royalty_bps = p.value
        elif p.kind == "challenge_window":
            self.challenge_window = p.value  # for registrations from now on: earlier ones keep theirs
        elif p.kind == "sweep":
            self._ledger(p.market, self.usd).sweep(p.value)
        else:
            self.unallocated[p.token.address] -= p.value
            self.dists.append(Distribution(p.token, p.value, p.record, p.period))

    def _execution_error(self, p: Prop) -> tuple | None:
        if p.kind == "sweep" and not self._ledger(p.market, self.usd).surplus:
            return self.contracts[p.market].SettlementNoSurplus, {"token": self.usd.address}
        if p.kind == "fee_over_cap":
            return self.vault.FeeVaultFeeAboveCap, {"feeBps": p.value, "maxFeeBps": MAX_FEE}
        if p.kind == "royalty" and p.value > MAX_ROYALTY:
            return self.m.provenance.ProvenanceRoyaltyAboveCap, {"bps": p.value, "cap": MAX_ROYALTY}
        if p.kind == "distribute":
            clock = self.height + 1
            if p.record <= clock:
                return self.vault.FeeVaultBadRecordBlock, {"recordBlock": p.record, "clock": clock,
                                                           "maxLead": MAX_RECORD_LEAD}
            available = self.unallocated[p.token.address]
            if p.value > available:
                return self.vault.FeeVaultInsufficientFees, {"requested": p.value, "available": available}
        return None

    def _claimable(self, d: Distribution) -> bool:
        return self.height + 1 > d.record and (not d.deadline or self.now < d.deadline - MARGIN)

    @precondition(lambda self: self.dists)
    @rule(data=st.data())
    def claim(self, data):
        i = self._choose(data, self.dists, self._claimable)
        d = self.dists[i]
        if self.height + 1 <= d.record and data.draw(st.integers(0, 2)):
            advance(blocks=d.record - self.height)  # the record block passes
        fresh = [a for a in self.everyone if a.address not in d.claimed]
        account = data.draw(st.sampled_from(fresh if fresh and data.draw(st.integers(0, 4)) else self.everyone))
        if self.height + 1 <= d.record:
            with ape.reverts(self.vault.FeeVaultRecordBlockNotPassed, id=i, recordBlock=d.record):
                self.vault.claim(i, sender=account)
            return
        if self._near(d.deadline):
            return
        share = d.amount * self._past("balance", account, d.record) // self._past("supply", None, d.record)
        if d.deadline and self.now > d.deadline:
            with ape.reverts(self.vault.FeeVaultClaimPeriodOver, id=i):
                self.vault.claim(i, sender=account)
        elif account.address in d.claimed:
            with ape.reverts(self.vault.FeeVaultAlreadyClaimed, id=i, account=account.address):
                self.vault.claim(i, sender=account)
        elif share == 0:
            with ape.reverts(self.vault.FeeVaultNothingToClaim, id=i, account=account.address):
                self.vault.claim(i, sender=account)
        else:
            before = self.fast_token[d.token.address].balanceOf(account)
            receipt = self.vault.claim(i, sender=account)
            assert self.fast_token[d.token.address].balanceOf(account) - before == share
            self._once("distribution", i, account.address)
            d.claimed[account.address] = share
            d.deadline = d.deadline or int(receipt.timestamp) + d.period

    @precondition(lambda self: self.dists)
    @rule(data=st.data())
    def open_claims(self, data):
        i = self._choose(data, self.dists, lambda d: not d.deadline and self.height + 1 > d.record)
        d = self.dists[i]
        if self.height + 1 <= d.record:
            with ape.reverts(self.vault.FeeVaultRecordBlockNotPassed, id=i, recordBlock=d.record):
                self.vault.openClaims(i, sender=self.challenger)
            return
        receipt = self.vault.openClaims(i, sender=self.challenger)  # idempotent once open
        d.deadline = d.deadline or int(receipt.timestamp) + d.period
        assert self.fast_vault.distribution(i).deadline == d.deadline

    @precondition(lambda self: self.dists)
    @rule(data=st.data())
    def reclaim(self, data):
        i = self._choose(data, self.dists, lambda d: d.deadline and self.now > d.deadline + MARGIN and not d.reclaimed,
                         after=lambda d: d.deadline if not d.reclaimed else 0)
        d = self.dists[i]
        if self._near(d.deadline):
            return
        if not d.deadline:
            with ape.reverts(self.vault.FeeVaultClaimsNotOpened, id=i):
                self.vault.reclaim(i, sender=self.challenger)
        elif self.now <= d.deadline:
            with ape.reverts(self.vault.FeeVaultClaimPeriodRunning, id=i, deadline=d.deadline):
                self.vault.reclaim(i, sender=self.challenger)
        elif d.reclaimed:
            with ape.reverts(self.vault.FeeVaultAlreadyReclaimed, id=i):
                self.vault.reclaim(i, sender=self.challenger)
        else:
            self.vault.reclaim(i, sender=self.challenger)
            d.reclaimed = True
            self.unallocated[d.token.address] += d.amount - sum(d.claimed.values())

    @rule(src=st.integers(0, 3), dst=st.integers(0, 8), percent=st.integers(1, 50))
    def move_apy(self, src, dst, percent):
        """A holder moves APY: votes and distribution shares at blocks already recorded must not move. (Holders
        only send, so the other actors keep what they stake, bond and pay.)"""
        sender, receiver = self.holders[src], self.everyone[dst]
        self.apy.transfer(receiver, self.fast_apy.balanceOf(sender) * percent // 100, sender=sender)

    @rule(which=st.integers(0, 5))
    def admin_called_directly(self, which):
        m, attacker = self.m, self.challenger
        target, method, args = [
            (self.vault, "setFeeBps", (0,)),
            (self.vault, "distribute", (self.usd, 1, DAY, self.height + 5)),
            (m.provenance, "setRoyaltyBps", (0,)),
            (m.verifiers, "register", ("evil", self.vault, b"\x01" * 32, 8, 0)),
            (m.compute, "setInferenceCircuit", (self.cid, b"\x00" * 32)),
            (m.datasets, "setStakeAmount", (0,)),
        ][which]
        with ape.reverts(target.OwnableUnauthorizedAccount, account=attacker.address):
            getattr(target, method)(*args, sender=attacker)

    # ------------------------------------------------------------ models and citations

    def _new_model(self, owner, final: bool) -> Model:
        self.counter += 1
        seed = b"model-%d" % self.counter
        model_id = register_model(self.m.models, owner, self.cid, keccak(weights_point(seed)), wait_final=final)
        model = Model(model_id, owner, seed, int(self.m.models.contestableUntil(model_id)))
        assert model.until == self.m.models.model(model_id).sealedAt + P.seal_window
        self.models.append(model)
        return model

    def _final(self, model: Model) -> bool:
        return self.height + 1 > model.until

    @rule(owner=st.integers(0, 1), final=st.booleans())
    def register_a_model(self, owner, final):
        self._new_model(self.owners[owner], final)

    @precondition(lambda self: self.models)
    @rule(data=st.data())
    def copy_a_model(self, data):
        """A registered commitment sealed again by someone else: a later seal is a duplicate."""
        model, salt = data.draw(st.sampled_from(self.models)), os.urandom(32)
        commitment = keccak(weights_point(model.seed))
        self.m.models.commit(self.m.models.seal(self.challenger, self.cid, commitment, salt), sender=self.challenger)
        with ape.reverts(self.m.models.ModelRegistryDuplicate, circuitId=self.cid, commitment=commitment,
                         existingId=model.id):
            self.m.models.register(self.cid, commitment, salt, "", sender=self.challenger)

    def _may_cite(self, d: Dataset, owner) -> bool:
        return d.owner.address == owner.address or (d.id, owner.address) in self.licensed

    @precondition(lambda self: self.models)
    @rule(anything=st.integers(0, 4), data=st.data())
    def cite(self, anything, data):
        model = self.models[self._choose(data, self.models, lambda m: self._final(m) and m.id not in self.citations)]
        owner = model.owner
        usable = [d for d in self.datasets if not anything or self._may_cite(d, owner)]
        if not usable:
            return
        chosen = sorted(data.draw(st.lists(st.sampled_from(usable), min_size=1, max_size=3, unique_by=lambda d: d.id)),
                        key=lambda d: d.id)
        ids, unlicensed = [d.id for d in chosen], [d for d in chosen if not self._may_cite(d, owner)]
        if not self._final(model):
            with ape.reverts(self.m.provenance.ProvenanceModelNotFinal, modelId=model.id):
                self.m.provenance.cite(model.id, ids, sender=owner)
        elif model.id in self.citations:
            with ape.reverts(self.m.provenance.ProvenanceAlreadyCited, modelId=model.id):
                self.m.provenance.cite(model.id, ids, sender=owner)
        elif unlicensed:
            with ape.reverts(self.m.provenance.ProvenanceNotLicensed, datasetId=unlicensed[0].id, caller=owner.address):
                self.m.provenance.cite(model.id, ids, sender=owner)
        else:
            self._cite(model, ids)

    def _cite(self, model: Model, ids: list[int]) -> None:
        self.m.provenance.cite(model.id, ids, sender=model.owner)
        self.citations[model.id] = (self.royalty_bps, ids)  # the share promised now: later changes do not apply
        assert self.fast_provenance.citation(model.id).royaltyBps == self.royalty_bps

    # ------------------------------------------------------------ bounties

    def _create_bounty(self, token, amount: int, threshold: int) -> int:
        self.counter += 1
        seeds = [b"bounty-%d-chunk-%d" % (self.counter, i) for i in range(CHUNKS)]
        chunks = [EvaluationProof(s, b"-", 0).chunk for s in seeds]
        deadline = self.now + BOUNTY_TIME
        self.m.bounties.createOpen((token, amount, self.cid, chunks, TEST_DATA, threshold, 0, deadline),
                                   sender=self.sponsor)
        b = Bounty(0, amount, threshold, self.fee_bps, seeds, b"", TEST_DATA, 0, 0, deadline, revealed=True,
                   token=token)
        assert self.fast["bounties"].bounty(len(self.bounties)).feeBps == self.fee_bps  # terms fixed now
        self.bounties.append(b)
        self._ledger("bounties", token).lock(amount)
        return len(self.bounties) - 1

    @rule(in_apy=st.booleans(), amount=st.integers(1, 10**21), threshold=st.integers(1, CHUNKS * SAMPLES))
    def create_bounty(self, in_apy, amount, threshold):
        self._create_bounty(self.apy if in_apy else self.usd, amount, threshold)

    @precondition(lambda self: self.bounties and self.models)
    @rule(how=st.sampled_from(["valid", "valid", "valid", "replay", "other model"]), score=st.integers(0, SAMPLES),
          data=st.data())
    def submit_chunk(self, how, score, data):
        i = self._choose(data, self.bounties, lambda b: b.phase(self.now) == Phase.PROVE)
        b = self.bounties[i]
        # mostly a final model, one furthest along on this bounty: a winner needs every chunk proven
        most = max((len(b.proven.get(m.id, {})) for m in self.models if self._final(m)), default=0)
        model = self.models[self._choose(data, self.models, lambda m: self._final(m)
                                         and len(b.proven.get(m.id, {})) == most)]
        proven = b.proven.get(model.id, {})
        todo = [c for c in range(CHUNKS) if c not in proven]
        chunk = data.draw(st.sampled_from(todo if todo and how != "replay" else list(range(CHUNKS))))
        proof = EvaluationProof(b.chunks[chunk], b"other" if how == "other model" else model.seed, score)
        bounties = self.m.bounties
        if self._near(b.deadline):
            return
        phase = b.phase(self.now)
        submit = lambda: bounties.submitChunk(i, model.id, chunk, proof.proof, proof.instances,  # noqa: E731
                                              sender=self.challenger)
        if phase != Phase.PROVE:
            with ape.reverts(bounties.BountyWrongPhase, bountyId=i, current=phase, required=Phase.PROVE):
                submit()
        elif not self._final(model):
            with ape.reverts(bounties.BountyModelNotFinal, modelId=model.id, contestableUntil=model.until):
                submit()
        elif chunk in proven:
            with ape.reverts(bounties.BountyChunkAlreadyProven, bountyId=i, modelId=model.id, chunkIndex=chunk):
                submit()
        elif how == "other model":
            with ape.reverts(bounties.EvaluationProofWrongModel):
                submit()
        else:
            self._submit_chunk(i, model, chunk, score)

    def _submit_chunk(self, i: int, model: Model, chunk: int, score: int) -> None:
        b = self.bounties[i]
        proof = EvaluationProof(b.chunks[chunk], model.seed, score)
        # relayed: who sends a proof never matters, the model's owner is paid
        receipt = self.m.bounties.submitChunk(i, model.id, chunk, proof.proof, proof.instances, sender=self.challenger)
        b.proven.setdefault(model.id, {})[chunk] = score
        if len(b.proven[model.id]) == CHUNKS and sum(b.proven[model.id].values()) >= b.threshold:
            b.best = model.id
            self._pay_winner(i, b, model, int(receipt.timestamp))

    def _pay_winner(self, i: int, b: Bounty, model: Model, at: int) -> None:
        """The reward less the cited datasets' equal parts (duplicates, and datasets whose duplicate challenges
        are still open at `at`, skipped; at the share fixed at citation), each part and the winner's charged the
        bounty's fee."""
        ledger, royalties = self._ledger("bounties", b.token), 0
        bps, ids = self.citations.get(model.id, (0, []))
        live = [d for d in self.datasets if d.id in ids and not d.duplicate and at >= d.challenge_ends + DAY + 1]
        if live and bps * len(live) // len(ids):
            part = b.reward * (bps * len(live) // len(ids)) // BPS // len(live)
            for d in live:
                self._once("bounty", i, "royalty", d.id)
                ledger.pay_out(d.owner.address, part, b.fee_bps)
            royalties = part * len(live)
        self._once("bounty", i, "winner")
        ledger.pay_out(model.owner.address, b.reward - royalties, b.fee_bps)
        b.status = Status.WON

    @precondition(lambda self: self.bounties)
    @rule(data=st.data())
    def finalize_bounty(self, data):
        i = self._choose(data, self.bounties, lambda b: b.phase(self.now) == Phase.SETTLE,
                         after=lambda b: b.deadline if b.status == Status.ACTIVE else 0)
        b = self.bounties[i]
        if self._near(b.deadline):
            return
        phase = b.phase(self.now)
        if phase != Phase.SETTLE:
            with ape.reverts(self.m.bounties.BountyWrongPhase, bountyId=i, current=phase, required=Phase.SETTLE):
                self.m.bounties.finalize(i, sender=self.challenger)
            return
        self.m.bounties.finalize(i, sender=self.challenger)  # open: a winner was paid at once, so nobody won
        self._once("bounty", i, "refund")
        self._ledger("bounties", b.token).refund(self.sponsor.address, b.reward)
        b.status = Status.REFUNDED

    # ------------------------------------------------------------ datasets

    def _new_dataset(self, owner, values, token=None, price=0) -> Dataset:
        c, salt, reg = table(values), os.urandom(32), self.m.datasets
        committed = reg.commit(reg.seal(owner, c.root, salt), sender=owner)
        receipt = reg.register((c.root, c.rows, c.schema_hash, "", token or ZERO, price), salt, sender=owner)
        d = Dataset(int(reg.datasetIdOf(c.root)), owner, list(values), c, P.dataset_stake,
                    int(receipt.timestamp) + self.challenge_window, int(committed.block_number) + P.seal_window,
                    len(self.datasets), token, price)
        self.datasets.append(d)
        self._ledger("datasets", self.apy).lock(d.stake)
        return d

    @rule(who=st.integers(0, 3), kind=st.sampled_from(["original", "copy", "copy", "exact"]), priced=st.booleans(),
          data=st.data())
    def register_dataset(self, who, kind, priced, data):
        owner = (self.sellers + self.buyers)[who]
        token, price = data.draw(st.sampled_from(self.tokens)), 100 * ONE_TOKEN if priced else 0
        if kind == "original" or not self.datasets:
            self._new_dataset(owner, self._fresh_values(), token if priced else None, price)
            return
        base = data.draw(st.sampled_from(self.datasets))
        if kind == "exact":
            c, salt, reg = base.c, os.urandom(32), self.m.datasets
            reg.commit(reg.seal(owner, c.root, salt), sender=owner)
            with ape.reverts(reg.DatasetRegistryDuplicateRoot, root=c.root, existingId=base.id):
                reg.register((c.root, c.rows, c.schema_hash, "", ZERO, 0), salt, sender=owner)
            return
        start = data.draw(st.integers(1, ROWS - P.min_duplicate_rows))
        self._new_dataset(owner, base.values[start:] + self._fresh_values()[:3], token if priced else None, price)

    @precondition(lambda self: len(self.datasets) >= 2)
    @rule(reverse=st.integers(0, 4), data=st.data())
    def challenge_duplicate(self, reverse, data):
        pairs = [(later, earlier) for later in self.datasets for earlier in self.datasets
                 if earlier.order < later.order and len(merkle.shared_rows(later.c, earlier.c)) >= P.min_duplicate_rows]
        if not pairs:
            return
        later, earlier = pairs[self._choose(data, pairs, lambda pair: not pair[0].released
                                            and self.now < pair[0].challenge_ends - MARGIN)]
        if not reverse:
            later, earlier = earlier, later
        reg, salt = self.m.datasets, os.urandom(32)
        shared = merkle.shared_rows(later.c, earlier.c, P.min_duplicate_rows)
        committed = reg.commitChallenge(reg.challengeCommitment(self.challenger, later.id, earlier.id, shared, salt),
                                        sender=self.challenger)
        reveal_end = max(later.challenge_ends + DAY, later.claim_ends)
        if self._near(reveal_end, later.claim_ends):
            return
        now = self.now
        args = (later.id, earlier.id, shared, [later.c.proof(h) for h in shared], [earlier.c.proof(h) for h in shared],
                salt)
        if int(committed.timestamp) > later.challenge_ends or now > reveal_end:
            with ape.reverts(reg.DatasetRegistryChallengeClosed, id=later.id):
                reg.challengeDuplicate(*args, sender=self.challenger)
        elif earlier.order >= later.order:
            with ape.reverts(reg.DatasetRegistryNotEarlier, laterId=later.id, earlierId=earlier.id):
                reg.challengeDuplicate(*args, sender=self.challenger)
        elif later.released and (not later.claim_ends or now > later.claim_ends):
            with ape.reverts(reg.DatasetRegistryStakeGone, id=later.id):
                reg.challengeDuplicate(*args, sender=self.challenger)
        elif later.claim_ends:
            with ape.reverts(reg.DatasetRegistryNotFirstChallenge):  # a later commitment never takes the reward
                reg.challengeDuplicate(*args, sender=self.challenger)
        else:
            receipt = reg.challengeDuplicate(*args, sender=self.challenger)
            later.duplicate, later.released, later.reward, later.stake = True, True, later.stake, 0
            later.claim_ends = int(receipt.timestamp) + HOUR
            assert self.fast["datasets"].challengeClaim(later.id).endsAt == later.claim_ends

    @precondition(lambda self: any(d.duplicate for d in self.datasets))
    @rule(data=st.data())
    def claim_challenge_reward(self, data):
        dups = [d for d in self.datasets if d.duplicate]
        d = dups[self._choose(data, dups, lambda d: d.reward and self.now > d.claim_ends + MARGIN,
                              after=lambda d: d.claim_ends if d.reward else 0)]
        reg = self.m.datasets
        if self._near(d.claim_ends):
            return
        if not d.reward:
            with ape.reverts(reg.DatasetRegistryNothingToClaim, id=d.id):
                reg.claimChallengeReward(d.id, sender=self.challenger)
        elif self.now <= d.claim_ends:
            with ape.reverts(reg.DatasetRegistryClaimOpen, id=d.id, endsAt=d.claim_ends):
                reg.claimChallengeReward(d.id, sender=self.challenger)
        else:
            reg.claimChallengeReward(d.id, sender=self.challenger)
            self._once("dataset", d.id, "challenge reward")
            # prover and earliest committer are one: the challenger's half, the vault's half (as a fee)
            self._ledger("datasets", self.apy).pay_out(self.challenger.address, d.reward, BPS - 5_000)
            d.reward = 0

    @precondition(lambda self: self.datasets)
    @rule(impostor=st.integers(0, 4), data=st.data())
    def release_stake(self, impostor, data):
        d = self.datasets[self._choose(data, self.datasets, lambda d: not d.released
                                       and self.now > d.challenge_ends + DAY + MARGIN,
                                       after=lambda d: 0 if d.released else d.challenge_ends + DAY + 1)]
        who, reg = self.challenger if not impostor else d.owner, self.m.datasets
        if self._near(d.challenge_ends + DAY + 1):
            return
        if who.address != d.owner.address:
            with ape.reverts(reg.DatasetRegistryNotStaker, id=d.id, caller=who.address):
                reg.releaseStake(d.id, sender=who)
        elif d.released:
            with ape.reverts(reg.DatasetRegistryStakeGone, id=d.id):
                reg.releaseStake(d.id, sender=who)
        elif self.now < d.challenge_ends + DAY + 1 or not self.height + 1 > d.until:
            with ape.reverts(reg.DatasetRegistryStakeLocked, id=d.id):
                reg.releaseStake(d.id, sender=who)
        else:
            reg.releaseStake(d.id, sender=who)
            self._once("dataset", d.id, "stake")
            self._ledger("datasets", self.apy).refund(who.address, d.stake)
            d.released, d.stake = True, 0

    # ------------------------------------------------------------ licences

    def _package(self, d: Dataset, honest: bool) -> tuple[exchange.Package, bytes, int | None]:
        """An encrypted package of the dataset's rows (built once per row set); a dishonest one has a row changed
        and publishes the registered leaves, so it passes a look at its tree but not a decryption."""
        key = (tuple(d.values), honest)
        if key not in self.packages:
            values = list(d.values) if honest else [*d.values[:-1], -d.values[-1]]
            csv = self.env["tmp"] / f"dataset-{os.urandom(6).hex()}.csv"
            csv.write_text("a,b,c\n" + "".join(f"{v},{v * 2},r{v}\n" for v in values))
            pkg, package_key = exchange.build_package(csv, csv.with_suffix(".apkg"))
            pkg.leaves = [bytes(x) for x in d.c.leaves]
            assert honest == (merkle.root_of(pkg.leaves) == merkle.commit_file(csv).root)
            self.packages[key] = (pkg, package_key, exchange.open_package(pkg, package_key).bad_index)
        return self.packages[key]

    def _list(self, d: Dataset, honest: bool) -> Listing:
        pkg, key, bad_index = self._package(d, honest)
        self.m.data_market.list(d.id, pkg.cipher_root, keccak(key), DELIVERY_WINDOW, DISPUTE_WINDOW, "u",
                                sender=d.owner)
        self.listings.append(Listing(len(self.listings) + 1, d, key, pkg, bad_index, P.listing_bond))
        self._ledger("data", self.apy).lock(P.listing_bond)
        return self.listings[-1]

    def _sellable(self, d: Dataset) -> bool:
        return self.height + 1 > d.until and not d.duplicate

    @precondition(lambda self: self.datasets)
    @rule(honest=st.booleans(), data=st.data())
    def list_dataset(self, honest, data):
        listed = {listing.dataset.id for listing in self.listings if not listing.closed}
        d = self.datasets[self._choose(data, self.datasets, lambda d: d.price and self._sellable(d)
                                       and d.id not in listed)]
        if not self._sellable(d):
            with ape.reverts(self.m.data_market.DataMarketDatasetNotSellable, datasetId=d.id):
                self.m.data_market.list(d.id, b"\x01" * 32, b"\x02" * 32, HOUR, DAY, "u", sender=d.owner)
            return
        self._list(d, honest)

    def _buy(self, listing: Listing, buyer) -> int | None:
        d, dm, key = listing.dataset, self.m.data_market, exchange.OneTimeKey.new()
        root = listing.package.cipher_root
        signature = key.sign(dm.buyerKeyDigest(buyer, listing.id, root))
        buy = lambda: dm.buy(listing.id, root, d.token or ZERO, d.price, *key.public, signature,  # noqa: E731
                             sender=buyer)
        if listing.closed:
            with ape.reverts(dm.DataMarketListingClosed, listingId=listing.id):
                buy()
        elif d.duplicate or not d.price:
            with ape.reverts(dm.DataMarketDatasetNotSellable, datasetId=d.id):
                buy()
        elif buyer.address == d.owner.address:
            with ape.reverts(dm.DataMarketNotBuyer, saleId=0, caller=buyer.address):
                buy()
        else:
            receipt = buy()
            deadline = int(receipt.timestamp) + DELIVERY_WINDOW
            self.sales.append(ProtocolSale(listing.id, buyer, self.fee_bps, key, deadline, token=d.token,
                                           amount=d.price))
            assert self.fast["data"].sale(len(self.sales)).feeBps == self.fee_bps  # terms fixed now
            listing.open_sales += 1
            self._ledger("data", d.token).lock(d.price)
            return len(self.sales)

    @precondition(lambda self: self.listings)
    @rule(who=st.integers(0, 1), agent=st.integers(0, 2), data=st.data())
    def buy(self, who, agent, data):
        """A purchase; two times in three the seller's delivery agent answers at once (honestly, or not)."""
        listing = self.listings[self._choose(data, self.listings, lambda x: not x.closed and x.dataset.price
                                             and not x.dataset.duplicate)]
        buyer = self.buyers[who]
        if buyer.address == listing.dataset.owner.address and data.draw(st.integers(0, 4)):
            buyer = self.buyers[1 - who]
        sale_id = self._buy(listing, buyer)
        if sale_id and agent and listing.fraud != BAD_PACKAGE:
            self._deliver(sale_id, honest=agent == 1)

    def _sale_state(self, s: ProtocolSale) -> int:
        if s.done:
            return SALE[s.done]
        if not s.dispute_ends:
            return SALE["expired"] if self.now > s.deadline else SALE["paid"]
        return SALE["settleable"] if self.now > s.dispute_ends else SALE["delivered"]

    def _sale(self, data, fits, after=lambda _s: 0) -> tuple[int, ProtocolSale, Listing]:
        i = self._choose(data, self.sales, fits, after)
        return i + 1, self.sales[i], self.listings[self.sales[i].listing - 1]

    def _unsellable(self, listing: Listing) -> bool:
        """A package proven bad, or a dataset proven a duplicate: its open sales are refunded, never paid
        (SECURITY.md: an item proven bad after it was sold is never paid for sales not yet settled)."""
        return listing.fraud == BAD_PACKAGE or listing.dataset.duplicate

    @precondition(lambda self: self.sales)
    @rule(honest=st.booleans(), data=st.data())
    def deliver(self, honest, data):
        sale_id, s, listing = self._sale(data, lambda s: self._sale_state(s) == SALE["paid"]
                                         and not self._unsellable(self.listings[s.listing - 1]))
        dm = self.m.data_market
        info = exchange.key_info(self.chain.chain_id, dm.address, sale_id)
        ephemeral, enc = exchange.deliver_key(listing.key if honest else os.urandom(32), s.buyer_key.public, info)
        deliver = lambda: dm.deliver(sale_id, exchange.key_id(s.buyer_key.public), *ephemeral, enc,  # noqa: E731
                                     sender=listing.dataset.owner)
        if self._near(s.deadline, s.dispute_ends):
            return
        state = self._sale_state(s)
        if state != SALE["paid"]:
            with ape.reverts(dm.DataMarketUnexpectedSaleState, saleId=sale_id, current=state):
                deliver()
        elif listing.fraud == BAD_PACKAGE:
            with ape.reverts(dm.DataMarketListingClosed, listingId=listing.id):
                deliver()
        elif listing.dataset.duplicate:
            with ape.reverts(dm.DataMarketDatasetNotSellable, datasetId=listing.dataset.id):
                deliver()
        else:
            self._deliver(sale_id, honest, ephemeral, enc)

    def _deliver(self, sale_id: int, honest: bool, ephemeral=None, enc=None) -> None:
        s, dm = self.sales[sale_id - 1], self.m.data_market
        listing = self.listings[s.listing - 1]
        if ephemeral is None:
            info = exchange.key_info(self.chain.chain_id, dm.address, sale_id)
            ephemeral, enc = exchange.deliver_key(listing.key if honest else os.urandom(32), s.buyer_key.public, info)
        receipt = dm.deliver(sale_id, exchange.key_id(s.buyer_key.public), *ephemeral, enc,
                             sender=listing.dataset.owner)
        s.dispute_ends, s.honest, s.ephemeral = int(receipt.timestamp) + DISPUTE_WINDOW, honest, ephemeral

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def dispute(self, data):
        sale_id, s, listing = self._sale(data, lambda s: self._sale_state(s) == SALE["delivered"])
        dm, pkg = self.m.data_market, listing.package
        if self._near(s.deadline, s.dispute_ends):
            return
        state = self._sale_state(s)
        if state != SALE["delivered"]:
            with ape.reverts(dm.DataMarketUnexpectedSaleState, saleId=sale_id, current=state):
                dm.dispute(sale_id, exchange.evidence(pkg, s.buyer_key, s.ephemeral or (1, 2), None), sender=s.buyer)
            return
        bad_package = listing.bad_index is not None
        index = None if not s.honest else (listing.bad_index if bad_package else 3)
        evidence = exchange.evidence(pkg, s.buyer_key, s.ephemeral, index)
        if s.honest and not bad_package:
            with ape.reverts(dm.DataMarketDeliveryCorrect, saleId=sale_id):
                dm.dispute(sale_id, evidence, sender=s.buyer)
            return
        dm.dispute(sale_id, evidence, sender=s.buyer)
        self._refund_sale(s, listing, "dispute")
        if listing.fraud == NO_FRAUD:  # one proof slashes the bond: half to this buyer, half to the vault
            self._once("listing", listing.id, "bond")
            self._ledger("data", self.apy).pay_out(s.buyer.address, listing.bond, BPS - 5_000)
            listing.closed = listing.bond_released = True
        fraud = BAD_PACKAGE if s.honest else WRONG_KEY
        if fraud == BAD_PACKAGE or listing.fraud == NO_FRAUD:
            listing.fraud = fraud

    def _refund_sale(self, s: ProtocolSale, listing: Listing, why: str) -> None:
        self._once("sale", self.sales.index(s), "buyer")
        s.done = "refunded"
        listing.open_sales -= 1
        self._ledger("data", s.token).refund(s.buyer.address, s.amount)

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def settle(self, data):
        sale_id, s, listing = self._sale(data, lambda s: self._sale_state(s) == SALE["settleable"],
                                         after=lambda s: s.dispute_ends * (self._sale_state(s) == SALE["delivered"]))
        dm = self.m.data_market
        if self._near(s.deadline, s.dispute_ends):
            return
        state = self._sale_state(s)
        if state != SALE["settleable"]:
            with ape.reverts(dm.DataMarketUnexpectedSaleState, saleId=sale_id, current=state):
                dm.settle(sale_id, sender=self.challenger)
        elif listing.fraud == BAD_PACKAGE:
            with ape.reverts(dm.DataMarketListingClosed, listingId=listing.id):
                dm.settle(sale_id, sender=self.challenger)
        elif listing.dataset.duplicate:
            with ape.reverts(dm.DataMarketDatasetNotSellable, datasetId=listing.dataset.id):
                dm.settle(sale_id, sender=self.challenger)
        elif self._near(listing.dataset.challenge_ends + DAY + 1):
            return
        elif self.now < listing.dataset.challenge_ends + DAY + 1:  # it can still be proven a copy: not paid yet
            with ape.reverts(dm.DataMarketDatasetContestable, datasetId=listing.dataset.id,
                             payableAt=listing.dataset.challenge_ends + DAY + 1):
                dm.settle(sale_id, sender=self.challenger)
        else:
            dm.settle(sale_id, sender=self.challenger)
            self._once("sale", sale_id - 1, "seller")
            s.done = "settled"
            listing.open_sales -= 1
            self.licensed.add((listing.dataset.id, s.buyer.address))
            self._ledger("data", s.token).pay_out(listing.dataset.owner.address, s.amount, s.fee_bps)
            assert self.fast["data"].isLicensed(listing.dataset.id, s.buyer)

    @precondition(lambda self: self.sales)
    @rule(data=st.data())
    def refund_sale(self, data):
        def refundable(s: ProtocolSale) -> bool:
            state = self._sale_state(s)
            open_sale = state not in (SALE["settled"], SALE["refunded"])
            return state == SALE["expired"] or (open_sale and self._unsellable(self.listings[s.listing - 1]))

        sale_id, s, listing = self._sale(data, refundable,
                                         after=lambda s: s.deadline if self._sale_state(s) == SALE["paid"] else 0)
        dm = self.m.data_market
        if self._near(s.deadline, s.dispute_ends):
            return
        if refundable(s):
            dm.refund(sale_id, sender=self.challenger)  # anyone may: the buyer is credited
            self._refund_sale(s, listing, "refund")
        else:
            with ape.reverts(dm.DataMarketUnexpectedSaleState, saleId=sale_id, current=self._sale_state(s)):
                dm.refund(sale_id, sender=self.challenger)

    @precondition(lambda self: self.listings)
    @rule(data=st.data())
    def close_listing(self, data):
        listing = self.listings[self._choose(data, self.listings, lambda x: not x.closed)]
        dm = self.m.data_market
        if listing.closed:
            with ape.reverts(dm.DataMarketListingClosed, listingId=listing.id):
                dm.closeListing(listing.id, sender=listing.dataset.owner)
            return
        dm.closeListing(listing.id, sender=listing.dataset.owner)
        listing.closed = True

    @precondition(lambda self: self.listings)
    @rule(data=st.data())
    def release_bond(self, data):
        listing = self.listings[self._choose(data, self.listings, lambda x: x.closed and not x.open_sales
                                             and not x.bond_released)]
        dm = self.m.data_market
        if not listing.closed or listing.open_sales or listing.bond_released:
            with ape.reverts(dm.DataMarketBondLocked, listingId=listing.id):
                dm.releaseBond(listing.id, sender=listing.dataset.owner)
            return
        dm.releaseBond(listing.id, sender=listing.dataset.owner)
        self._once("listing", listing.id, "bond")
        listing.bond_released = True
        self._ledger("data", self.apy).refund(listing.dataset.owner.address, listing.bond)

    # ------------------------------------------------------------ compute: providers

    def _stake(self, p, amount: int) -> None:
        self.m.compute.stake(amount, sender=p)
        self.stake[p.address] += amount
        self._ledger("compute", self.apy).lock(amount)

    def _locked(self, p) -> int:
        return sum(COLLATERAL for j in self.jobs
                   if j.status in (ACCEPTED, SUBMITTED) and j.provider.address == p.address)

    def _free(self, p) -> int:
        return self.stake[p.address] - self._locked(p) - self.unbonding[p.address][0]

    @rule(p=st.integers(0, 1), amount=st.integers(1, 500 * ONE_TOKEN))
    def stake_more(self, p, amount):
        self._stake(self.providers[p], amount)

    @rule(p=st.integers(0, 1), amount=st.integers(1, 3_000 * ONE_TOKEN))
    def request_unstake(self, p, amount):
        who, compute = self.providers[p], self.m.compute
        free = self._free(who)
        if amount > free:
            with ape.reverts(compute.ComputeMarketInsufficientStake, provider=who.address, free=free, needed=amount):
                compute.requestUnstake(amount, sender=who)
            return
        receipt = compute.requestUnstake(amount, sender=who)
        # one queue per provider: adding to it restarts the period for all of it
        self.unbonding[who.address] = [self.unbonding[who.address][0] + amount,
                                       int(receipt.timestamp) + P.unbonding_period]

    @rule(p=st.integers(0, 1), data=st.data())
    def complete_unstake(self, p, data):
        who, compute = self.providers[p], self.m.compute
        amount, ends = self.unbonding[who.address]
        if amount and self.now <= ends + MARGIN and data.draw(st.integers(0, 2)):
            self._wait_past(ends)  # the unbonding period passes
        if self._near(ends):
            return
        if not amount:
            with ape.reverts(compute.ComputeMarketNothingUnbonding, provider=who.address):
                compute.completeUnstake(sender=who)
        elif self.now < ends:
            with ape.reverts(compute.ComputeMarketStillUnbonding, provider=who.address, endsAt=ends):
                compute.completeUnstake(sender=who)
        else:
            compute.completeUnstake(sender=who)
            self.unbonding[who.address] = [0, 0]
            self.stake[who.address] -= amount
            self._ledger("compute", self.apy).refund(who.address, amount)

    # ------------------------------------------------------------ compute: jobs

    def _post_job(self, model: Model, requester, mode: int, provider, token, price: int) -> int | None:
        compute, deadline = self.m.compute, self.now + JOB_TIME
        self.counter += 1
        seed = b"input-%d" % self.counter
        # most optimistic jobs carry the requester's audit seed; the others are never audited
        audit = keccak(b"audit-%d" % self.counter) if mode == 1 and self.counter % 3 else None
        request = (model.id, input_commitment(seed), "uri", token, price, COLLATERAL, deadline, mode, provider or ZERO,
                   keccak(audit) if audit else bytes(32))
        if not self._final(model):
            with ape.reverts(compute.ComputeMarketModelNotFinal, modelId=model.id):
                compute.postJob(request, sender=requester)
            return None
        compute.postJob(request, sender=requester)
        self.jobs.append(ProtocolJob(requester, mode, deadline, self.fee_bps, provider, token=token, price=price,
                                     model=model, input=seed, seed=audit))
        assert self.fast["compute"].job(len(self.jobs)).terms.feeBps == self.fee_bps  # terms fixed now
        self._ledger("compute", token).lock(price)
        return len(self.jobs) - 1

    @precondition(lambda self: self.models)
    @rule(r=st.integers(0, 1), mode=st.integers(0, 1), named=st.booleans(), in_apy=st.booleans(),
          price=st.integers(1, 10**20), data=st.data())
    def post_job(self, r, mode, named, in_apy, price, data):
        model = self.models[self._choose(data, self.models, self._final)]
        provider = data.draw(st.sampled_from(self.providers)) if named else None
        self._post_job(model, self.requesters[r], mode, provider, self.apy if in_apy else self.usd, price)

    def _can_take(self, j: ProtocolJob, who) -> bool:
        return ((j.provider is None or j.provider.address == who.address) and self.now <= j.deadline
                and self._free(who) >= COLLATERAL
                and self.stake[who.address] - self.unbonding[who.address][0] >= P.compute_min_stake)

    @precondition(lambda self: self.jobs)
    @rule(p=st.integers(0, 1), data=st.data())
    def accept(self, p, data):
        i = self._choose(data, self.jobs,
                         lambda j: j.status == OPEN and any(self._can_take(j, w) for w in self.providers))
        j, compute = self.jobs[i], self.m.compute
        who = self.providers[p]
        if j.status == OPEN and not self._can_take(j, who) and self._can_take(j, self.providers[1 - p]):
            who = self.providers[1 - p]
        if j.status != OPEN:
            with ape.reverts(compute.ComputeMarketWrongStatus, jobId=i + 1, current=j.status, required=OPEN):
                compute.accept(i + 1, sender=who)
            return
        if self._near(j.deadline):
            return
        if not self._can_take(j, who):
            with ape.reverts():  # deadline passed, another provider named, or not enough free stake
                compute.accept(i + 1, sender=who)
            return
        self._accept(i, who)

    def _accept(self, i: int, who) -> None:
        self.m.compute.accept(i + 1, sender=who)
        self.jobs[i].provider, self.jobs[i].status = who, ACCEPTED

    @precondition(lambda self: self.jobs)
    @rule(valid=st.integers(0, 3), data=st.data())
    def submit_job(self, valid, data):
        """The provider's proof (proof mode) or result (optimistic); a named provider may take an open job so."""
        i = self._choose(data, self.jobs, lambda j: (j.status == ACCEPTED or (j.status == OPEN and j.provider))
                         and self.now < j.deadline - MARGIN)
        j, compute = self.jobs[i], self.m.compute
        who = j.provider or self.providers[0]
        submit = lambda proof: (compute.submitResult(i + 1, OUT, sender=who) if j.mode  # noqa: E731
                                else compute.submitProof(i + 1, proof, OUT, sender=who))
        if j.status not in (OPEN, ACCEPTED) or (j.status == OPEN and j.provider is None):
            with ape.reverts(compute.ComputeMarketWrongStatus, jobId=i + 1, current=j.status, required=ACCEPTED):
                submit(InferenceProof(j.input, j.model.seed).proof)
            return
        if self._near(j.deadline):
            return
        if self.now > j.deadline or (j.status == OPEN and not self._can_take(j, who)):
            with ape.reverts():  # too late, or the named provider's stake cannot back it
                submit(InferenceProof(j.input, j.model.seed).proof)
            return
        if j.mode == 0 and not valid:
            with ape.reverts(compute.InferenceProofWrongInput):
                submit(InferenceProof(b"another input", j.model.seed).proof)
            return
        self._submit_job(i)

    def _submit_job(self, i: int) -> None:
        """The provider (named, or the one that accepted) posts the result, or proves it and is paid."""
        j, compute = self.jobs[i], self.m.compute
        if j.mode == 1:
            receipt = compute.submitResult(i + 1, OUT, sender=j.provider)
            j.status, j.result_at = SUBMITTED, int(receipt.timestamp)
            j.result_randao = int(self.fast["compute"].job(i + 1).resultRandao)
            return
        compute.submitProof(i + 1, InferenceProof(j.input, j.model.seed).proof, OUT, sender=j.provider)
        self._pay_job(i)

    def _pay_job(self, i: int) -> None:
        j = self.jobs[i]
        self._once("job", i, "provider")
        j.status = PAID
        self._ledger("compute", j.token).pay_out(j.provider.address, j.price, j.fee_bps)

    def _refund_job(self, i: int, status: int) -> None:
        j = self.jobs[i]
        self._once("job", i, "requester")
        j.status = status
        self._ledger("compute", j.token).refund(j.requester.address, j.price)

    def _slash(self, i: int) -> None:
        """The collateral split: challenger (with its bond back), requester, the rest to the vault; the price back."""
        j, apy = self.jobs[i], self._ledger("compute", self.apy)
        self.stake[j.provider.address] -= COLLATERAL
        to_challenger = COLLATERAL * P.challenger_bps // BPS if j.challenger else 0
        to_requester = COLLATERAL * (P.requester_bps + (0 if j.challenger else P.challenger_bps)) // BPS
        if j.challenger:
            apy.refund(j.challenger.address, j.bond + to_challenger)
            j.bond = 0
        apy.refund(j.requester.address, to_requester)
        apy.forfeit(COLLATERAL - to_challenger - to_requester)
        self._refund_job(i, SLASHED)

    @staticmethod
    def _draw(i: int, j: ProtocolJob) -> bool:
        """The audit revealAudit draws: keccak256(abi.encode(seed, resultRandao, jobId)) below auditBps."""
        h = keccak(encode(["bytes32", "uint64", "uint256"], [j.seed, j.result_randao, i + 1]))
        return int.from_bytes(h, "big") % BPS < P.audit_bps

    def _require_proof(self, j: ProtocolJob, at: int) -> None:
        j.proof_due = j.proof_due or at + P.response_window

    def _submitted(self, data, fits, after=lambda _j: 0) -> tuple[int, ProtocolJob] | tuple[None, None]:
        """A submitted job the action fits, mostly; a job in another status is refused (and checked as such)."""
        i = self._choose(data, self.jobs, lambda j: j.status == SUBMITTED and fits(j),
                         after=lambda j: after(j) if j.status == SUBMITTED else 0)
        j = self.jobs[i]
        if j.status == SUBMITTED:
            return i, j
        compute = self.m.compute
        calls = [lambda: compute.revealAudit(i + 1, bytes(32), sender=self.challenger),
                 lambda: compute.finalize(i + 1, sender=self.challenger),
                 lambda: compute.slashUnproven(i + 1, sender=self.challenger),
                 lambda: compute.proveResult(i + 1, InferenceProof(j.input, j.model.seed).proof, OUT,
                                             sender=j.provider or self.challenger)]
        with ape.reverts(compute.ComputeMarketWrongStatus, jobId=i + 1, current=j.status, required=SUBMITTED):
            data.draw(st.sampled_from(calls))()
        return None, None

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def challenge_job(self, data):
        """Commit (the bond behind a hash), then reveal a block later: the first reveal holds the job, a later one
        is refunded, one after the window reverts and leaves its commitment to be forfeited."""
        i, j = self._submitted(data, lambda j: not j.challenger
                               and self.now < j.result_at + P.compute_challenge_window - MARGIN)
        if j is None:
            return
        compute, closes, apy = self.m.compute, j.result_at + P.compute_challenge_window, self._ledger("compute", self.apy)
        if self._near(closes):
            return
        self.counter += 1
        salt = keccak(b"salt-%d" % self.counter)
        c = commitment(i + 1, self.challenger, salt)
        made = compute.commitChallenge(c, P.challenge_bond, sender=self.challenger)
        apy.lock(P.challenge_bond)
        self.commits[c] = (int(made.timestamp), P.challenge_bond)
        if self._near(closes):
            return  # left unrevealed: forfeited later
        if not j.challenger and self.now > closes:
            with ape.reverts(compute.ComputeMarketWindowClosed, jobId=i + 1, closedAt=closes):
                compute.challenge(i + 1, salt, sender=self.challenger)
            return
        receipt = compute.challenge(i + 1, salt, sender=self.challenger)
        del self.commits[c]
        if j.challenger:  # someone challenged first: the bond comes back, whenever it is revealed
            apy.refund(self.challenger.address, P.challenge_bond)
        else:
            j.challenger, j.bond = self.challenger, P.challenge_bond
            self._require_proof(j, int(receipt.timestamp))

    @precondition(lambda self: self.commits)
    @rule(data=st.data())
    def forfeit_commitment(self, data):
        """An unrevealed commitment: live for COMMIT_LIFETIME, then its bond goes to the fee vault (anyone)."""
        c = data.draw(st.sampled_from(sorted(self.commits)))
        made, bond = self.commits[c]
        compute, expires = self.m.compute, made + 7 * DAY
        if self._near(expires):
            return
        if self.now <= expires:
            with ape.reverts(compute.ComputeMarketCommitmentLive, commitment=c):
                compute.forfeitChallengeCommit(c, self.challenger, sender=self.challenger)
            return
        compute.forfeitChallengeCommit(c, self.challenger, sender=self.challenger)
        self._ledger("compute", self.apy).forfeit(bond)
        del self.commits[c]

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def reveal_audit(self, data):
        """The requester's seed, after the challenge window and within the response window after it."""
        i, j = self._submitted(data, lambda j: j.seed is not None and not j.drawn
                               and self.now > j.result_at + P.compute_challenge_window + MARGIN,
                               after=lambda j: j.result_at + P.compute_challenge_window if j.seed else 0)
        if j is None:
            return
        compute, closes = self.m.compute, j.result_at + P.compute_challenge_window
        if j.seed is None:
            with ape.reverts(compute.ComputeMarketBadSeed, jobId=i + 1):
                compute.revealAudit(i + 1, bytes(32), sender=j.requester)
            return
        if self._near(closes, closes + P.response_window):
            return
        if j.drawn:
            compute.revealAudit(i + 1, j.seed, sender=j.requester)  # revealed once: the same answer, nothing changes
        elif self.now <= closes:
            with ape.reverts(compute.ComputeMarketTooEarly, jobId=i + 1):
                compute.revealAudit(i + 1, j.seed, sender=j.requester)
            return
        elif self.now > closes + P.response_window:
            with ape.reverts(compute.ComputeMarketWindowClosed, jobId=i + 1):
                compute.revealAudit(i + 1, j.seed, sender=j.requester)
            return
        else:
            receipt = compute.revealAudit(i + 1, j.seed, sender=j.requester)
            j.drawn, j.audited = True, self._draw(i, j)
            if j.audited:
                self._require_proof(j, int(receipt.timestamp))
        on_chain = self.fast["compute"].job(i + 1)
        assert (on_chain.drawn, on_chain.audited, on_chain.proofDue) == (True, j.audited, j.proof_due)

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def prove_result(self, data):
        i, j = self._submitted(data, lambda j: not j.proof_due or self.now < j.proof_due - MARGIN)
        if j is None:
            return
        compute, proof = self.m.compute, InferenceProof(j.input, j.model.seed).proof
        if self._near(j.proof_due):
            return
        if j.proof_due and self.now > j.proof_due:
            with ape.reverts(compute.ComputeMarketWindowClosed, jobId=i + 1, closedAt=j.proof_due):
                compute.proveResult(i + 1, proof, OUT, sender=j.provider)
            return
        compute.proveResult(i + 1, proof, OUT, sender=j.provider)
        if j.challenger:  # a valid proof takes the challenger's bond
            self._once("job", i, "bond")
            self._ledger("compute", self.apy).refund(j.provider.address, j.bond)
            j.bond = 0
        self._pay_job(i)

    def _payable_from(self, j: ProtocolJob) -> int:
        """When an unchallenged, unaudited result can be finalized: after its window, and with an unrevealed seed,
        after the response window in which the requester may reveal it."""
        closes = j.result_at + P.compute_challenge_window
        return closes + (P.response_window if j.seed is not None and not j.drawn else 0)

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def finalize_job(self, data):
        i, j = self._submitted(data, lambda j: not j.challenger and not j.audited
                               and self.now > self._payable_from(j) + MARGIN,
                               after=lambda j: 0 if j.challenger or j.audited else self._payable_from(j))
        if j is None:
            return
        compute, closes, payable = self.m.compute, j.result_at + P.compute_challenge_window, self._payable_from(j)
        if self._near(closes, payable):
            return
        if self.now <= closes:
            with ape.reverts(compute.ComputeMarketTooEarly, jobId=i + 1):
                compute.finalize(i + 1, sender=self.challenger)
        elif j.challenger or j.audited:
            with ape.reverts(compute.ComputeMarketProofRequired, jobId=i + 1):
                compute.finalize(i + 1, sender=self.challenger)
        elif self.now <= payable:
            with ape.reverts(compute.ComputeMarketTooEarly, jobId=i + 1):  # the seed may still be revealed
                compute.finalize(i + 1, sender=self.challenger)
        else:
            compute.finalize(i + 1, sender=self.challenger)
            self._pay_job(i)

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def slash_unproven(self, data):
        i, j = self._submitted(data, lambda j: j.proof_due and self.now > j.proof_due + MARGIN,
                               after=lambda j: j.proof_due)
        if j is None:
            return
        compute = self.m.compute
        if self._near(j.proof_due):
            return
        if not j.proof_due:
            with ape.reverts(compute.ComputeMarketProofNotRequired, jobId=i + 1):
                compute.slashUnproven(i + 1, sender=self.challenger)
        elif self.now <= j.proof_due:
            with ape.reverts(compute.ComputeMarketTooEarly, jobId=i + 1):
                compute.slashUnproven(i + 1, sender=self.challenger)
        else:
            compute.slashUnproven(i + 1, sender=self.challenger)
            self._slash(i)

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def expire_job(self, data):
        i = self._choose(data, self.jobs, lambda j: j.status in (OPEN, ACCEPTED) and self.now > j.deadline + MARGIN,
                         after=lambda j: j.deadline if j.status in (OPEN, ACCEPTED) else 0)
        j, compute = self.jobs[i], self.m.compute
        if j.status not in (OPEN, ACCEPTED):
            with ape.reverts(compute.ComputeMarketWrongStatus, jobId=i + 1, current=j.status, required=ACCEPTED):
                compute.expire(i + 1, sender=self.challenger)
            return
        if self._near(j.deadline):
            return
        if self.now <= j.deadline:
            with ape.reverts(compute.ComputeMarketTooEarly, jobId=i + 1):
                compute.expire(i + 1, sender=self.challenger)
        elif j.status == OPEN:
            compute.expire(i + 1, sender=self.challenger)
            self._refund_job(i, REFUNDED)
        else:
            compute.expire(i + 1, sender=self.challenger)
            self._slash(i)

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def cancel_job(self, data):
        i = self._choose(data, self.jobs, lambda j: j.status == OPEN and j.provider is None)
        j, compute = self.jobs[i], self.m.compute
        if j.status != OPEN:
            with ape.reverts(compute.ComputeMarketWrongStatus, jobId=i + 1, current=j.status, required=OPEN):
                compute.cancel(i + 1, sender=j.requester)
        elif j.provider is not None:  # a named job only expires
            with ape.reverts(compute.ComputeMarketNamedJob, jobId=i + 1):
                compute.cancel(i + 1, sender=j.requester)
        else:
            compute.cancel(i + 1, sender=j.requester)
            self._refund_job(i, REFUNDED)

    # ------------------------------------------------------------ money and time

    @rule(data=st.data())
    def withdraw(self, data):
        owed = [(name, t, a) for (name, t), ledger in self.ledgers.items() for a, v in ledger.credits.items() if v]
        if not owed or not data.draw(st.integers(0, 9)):
            who, token = data.draw(st.sampled_from(self.everyone)), data.draw(st.sampled_from(self.tokens))
            name = data.draw(st.sampled_from(MARKETS))
            if not self._ledger(name, token).credits.get(who.address):
                with ape.reverts(self.contracts[name].SettlementNothingToWithdraw, account=who.address,
                                 token=token.address):
                    self.contracts[name].withdraw(token, sender=who)
                return
            owed = [(name, token.address, who.address)]
        name, token_address, address = data.draw(st.sampled_from(owed))
        fast_token = self.fast_token[token_address]
        before = fast_token.balanceOf(address)
        self.contracts[name].withdraw(token_address, sender=self.by_address[address])
        assert fast_token.balanceOf(address) - before == self.ledgers[(name, token_address)].withdraw(address)

    @rule()
    def flush_fees(self):
        """A keeper pushes every pending fee of every market and token to the one vault; with none pending, a flush
        is refused. (No arguments: hypothesis's first, simplest run repeats this cheap step.)"""
        pending = [key for key, ledger in self.ledgers.items() if ledger.fees_pending]
        if not pending:
            with ape.reverts(self.m.compute.SettlementNoFeesPending, token=self.usd.address):
                self.m.compute.flushFees(self.usd, sender=self.challenger)
            return
        for name, token_address in pending:
            self.contracts[name].flushFees(token_address, sender=self.challenger)
            self.unallocated[token_address] += self.ledgers[(name, token_address)].flush()

    @rule(where=st.sampled_from([*MARKETS, "vault"]), in_apy=st.booleans(), amount=st.integers(1, 10**18))
    def send_directly(self, where, in_apy, amount):
        """Tokens sent to a contract directly change no ledger."""
        token = self.apy if in_apy else self.usd
        token.transfer(self.vault if where == "vault" else self.contracts[where], amount, sender=self.challenger)
        if where == "vault":
            self.vault_surplus[token.address] += amount
        else:
            self._ledger(where, token).donate(amount)

    @rule(where=st.sampled_from(MARKETS), in_apy=st.booleans())
    def sweep_surplus_directly(self, where, in_apy):
        """A market's surplus is swept by governance only (a proposal of kind "sweep"): anyone else is refused."""
        token = self.apy if in_apy else self.usd
        market = self.contracts[where]
        with ape.reverts(market.SettlementNotVault, caller=self.challenger.address):
            market.sweepSurplus(token, 2**256 - 1, sender=self.challenger)
        with ape.reverts(self.vault.OwnableUnauthorizedAccount, account=self.challenger.address):
            self.vault.sweepMarketSurplus(market, token, 2**256 - 1, sender=self.challenger)

    @rule(seconds=st.sampled_from([30, 130, 700, HOUR + 30, DAY + 30]))
    def wait(self, seconds):
        advance(blocks=1, seconds=seconds)

    @rule(blocks=st.sampled_from([1, 5, 25]))
    def mine(self, blocks):
        advance(blocks=blocks)

    # ------------------------------------------------------------ invariants

    def _moved(self, check: str) -> bool:
        """Whether the chain moved since `check` last passed: a step that mined nothing (a refusal, a no-op)
        changed neither the chain nor the model, so the check would read the same."""
        if not hasattr(self, "ledgers"):
            return False
        height = self.height
        if self.checked.get(check) == height:
            return False
        self.checked[check] = height
        return True

    @invariant()
    def every_market_ledger_matches(self):
        if not self._moved("ledgers"):
            return
        for (name, token_address), ledger in self.ledgers.items():
            credited = [self.by_address[a] for a, v in ledger.credits.items() if v]
            # totalOwed == Σ model credits and each credited account's owed match: every other account owes 0
            market, token = self.fast[name], self.fast_token[token_address]
            try:
                ledger.check(market, token, credited)
            except AssertionError as failed:
                symbol = "APY" if token_address == self.apy.address else "USD"
                raise AssertionError(f"{name} market, {symbol}: {failed} (chain: locked {market.locked(token)}, "
                                     f"totalOwed {market.totalOwed(token)}, feesPending {market.feesPending(token)}; "
                                     f"model: {ledger})") from None

    @invariant()
    def vault_ledgers_sum_to_its_balance(self):
        if not self._moved("vault"):
            return
        v = self.fast_vault
        for token in self.tokens:
            key = token.address
            mine = [d for d in self.dists if d.token.address == key]
            reserved = sum(d.amount - sum(d.claimed.values()) for d in mine if not d.reclaimed)
            unallocated, held = v.unallocated(key), v.reserved(key)
            assert unallocated == self.unallocated[key], "vault unallocated != model"
            assert held == reserved, "vault reserved != unclaimed open distributions"
            assert v.surplus(key) == self.vault_surplus[key], "vault surplus != tokens sent to it directly"
            assert unallocated + held + self.vault_surplus[key] == self.fast_token[key].balanceOf(v)
            # Every fee charged by any market is pending there (checked against the chain by the ledger invariant)
            # or reached the vault: in its ledgers, or claimed by holders.
            charged = sum(self.ledgers[(name, key)].fees_charged for name in MARKETS)
            pending = sum(self.ledgers[(name, key)].fees_pending for name in MARKETS)
            claimed = sum(sum(d.claimed.values()) for d in mine)
            assert charged == pending + unallocated + held + claimed, "fees lost between the markets and the vault"
        assert v.feeBps() == self.fee_bps <= MAX_FEE
        assert self.fast_provenance.royaltyBps() == self.royalty_bps <= MAX_ROYALTY

    @invariant()
    def every_item_in_its_one_state(self):
        if not self._moved("items"):
            return
        f, turn = self.fast, self.recheck_at

        def due(i: int, settled: bool) -> bool:
            """Every open item each step; a settled one every third step, in turn: it must never move again."""
            return not settled or (i + turn) % 3 == 0

        for i, b in enumerate(self.bounties):
            if due(i, b.status != Status.ACTIVE):
                on_chain = f["bounties"].bounty(i)
                assert (on_chain.status, on_chain.best, on_chain.feeBps) == (b.status, b.best, b.fee_bps), f"bounty {i}"
        for i, s in enumerate(self.sales):
            if due(i, bool(s.done)):
                state = f["data"].saleState(i + 1)
                expected = state == SALE[s.done] if s.done else state < SALE["settled"]
                assert expected, f"sale {i + 1}: {SALE_STATES[state]}"
        for i, x in enumerate(self.listings):
            if due(i, x.closed and x.bond_released and not x.open_sales):
                on_chain = f["data"].listing(x.id)
                assert (on_chain.closed, on_chain.fraud, on_chain.openSales, on_chain.bondReleased) == (
                    x.closed, x.fraud, x.open_sales, x.bond_released), f"listing {x.id}"
        for i, j in enumerate(self.jobs):
            if due(i, j.status in SETTLED):
                assert f["compute"].job(i + 1).status == j.status, f"job {i + 1}: {STATUS[j.status]}"
        for p in self.providers:
            info = f["compute"].providerOf(p)
            assert (info.stake, info.locked, info.unbonding) == (
                self.stake[p.address], self._locked(p), self.unbonding[p.address][0]), f"provider {p}"
        for i, d in enumerate(self.datasets):
            if due(i, d.released and not d.reward):
                on_chain = f["datasets"].dataset(d.id)
                assert (on_chain.duplicate, on_chain.stakeReleased, on_chain.stake) == (d.duplicate, d.released,
                                                                                       d.stake), f"dataset {d.id}"

    @invariant()
    def apy_supply_is_constant(self):
        if not self._moved("supply"):
            return
        assert self.fast_apy.totalSupply() == GENESIS_SUPPLY
        if self.recheck_at % 4 == 0:  # every holder's balance, every fourth step
            assert sum(self.fast_apy.balanceOf(h) for h in self.apy_holders) == GENESIS_SUPPLY, "APY held elsewhere"

    @invariant()
    def the_past_never_changes(self):
        """Record votes and supply at the previous block (and balances, where it is a record block: the token
        keeps balances at the vault's record blocks only), then re-read a rotating sample of everything recorded so
        far: a past value never moves, and votes equal balances (nobody delegates)."""
        if not self._moved("past"):
            return
        block = self.height - 1
        self.recheck_at += 1
        for who in (self.everyone[self.recheck_at % len(self.everyone)], self.holders[self.recheck_at % 4]):
            votes = self._past("votes", who, block)
            if self.fast_apy.isRecordBlock(block):
                assert votes == self._past("balance", who, block)
        assert self._past("supply", None, block) == GENESIS_SUPPLY
        recorded = list(self.history)
        for k in range(min(8, len(recorded))):
            key = recorded[(self.recheck_at * 8 + k) % len(recorded)]
            if key[2] < self.height:
                assert self._read_past(*key) == self.history[key], f"the past changed: {key}"


def test_protocol__any_sequence_keeps_every_ledger_and_settles_each_item_once(project, chain, deployer, core, accounts,
                                                                              tmp_path, monkeypatch):
    # One object per account (ape makes a new one per lookup): roles are picked from this list. accounts[1] (`gov`
    # in unit tests) holds no power on the real deployment: here it sponsors bounties.
    everyone = [accounts[i] for i in range(1, 10)]
    sponsor, alice, bob, carol, whale, attacker, dave, frank, erin = everyone
    market = deploy_market(project, deployer, core)
    usd = project.MockERC20.deploy("Mock USD", "mUSD", sender=deployer)
    # The two circuits' mock verifiers, registered and mapped by governance, as on any deployment.
    evaluation, inference = (project.MockHalo2Verifier.deploy(sender=deployer) for _ in range(2))
    register_circuit_by_governance(core, market, EVAL, evaluation.address, b"\x11" * 32, SAMPLES, alice, [whale, alice])
    twin = SimpleNamespace(circuit_id=INFER, manifest_sha256=b"\x22" * 32, num_outputs=OUTPUTS, slots=1,
                           evaluation=SimpleNamespace(circuit_id=EVAL))
    register_inference_by_governance(core, market, twin, inference.address, alice, [whale, alice])
    for who in everyone:
        if who not in (whale, alice, bob, carol):
            core.token.transfer(who, 50_000 * ONE_TOKEN, sender=whale)
        usd.mint(who, 10**27, sender=who)
        for spender in (market.bounties, market.datasets, market.data_market, market.compute):
            core.token.approve(spender, 2**256 - 1, sender=who)
            usd.approve(spender, 2**256 - 1, sender=who)
    ProtocolMachine.env = dict(
        chain=chain, core=core, market=market, usd=usd, deployer=deployer, tmp=tmp_path,
        actors=dict(holders=[whale, alice, bob, carol], sponsor=sponsor, challenger=attacker, owners=[alice, erin],
                    sellers=[bob, erin], buyers=[alice, dave], requesters=[dave, whale], providers=[carol, frank],
                    everyone=everyone),
    )
    ProtocolMachine.packages = {}
    # Deterministic time as well: a block's timestamp is the wall clock's, or its parent's + 1 s when the chain is
    # ahead of the clock. Ten years ahead, every block is its parent + 1 s (+ the machine's own time jumps), so a
    # run's choices meet the same windows whatever the machine's speed. The chain is restored after the test.
    import eth_tester.backends.pyevm.main as pyevm

    monkeypatch.setattr(pyevm, "os", SimpleNamespace(urandom=RANDAO.urandom))
    chain.mine(1, deltatime=10 * 365 * DAY)
    ProtocolMachine.prepare()
    run_state_machine_as_test(ProtocolMachine, settings=machine_settings(ci_examples=5, ci_steps=35))
