"""Adversarial review of the market contracts (settlement base, bounties, registries, fee vault).

Two kinds of tests live here:

* ``test_attack__*`` — an attack that worked on the contracts as reviewed (before commit 29c20d1). Each asserts the
  property the protocol promises (SECURITY.md / the NatSpec); the docstring says what the attacker did and gained.
  They failed on the reviewed code and pass on the fixes (burned forfeits, non-final commits, transfers only when
  final, announced record blocks, a claim window that opens after the record block).
* ``test_defended__*`` — an attack the contracts stop, in a case no other test covers (exact deadlines, seal-window
  edges, retired verifiers, re-entrancy into `_collect`, malformed instances through the market, ...). They pass.
"""

import ape
import pytest
from eth_utils import keccak

from apiary.sdk.market import Phase, Status, register_model

from .conftest import DAY, SAMPLES, TEST_DATA, FakeProof

HOUR = 3600
FIELD_MODULUS = 21888242871839275222246405745257275088548364400416034343698204186575808495617
REENTRANT_CALL = keccak(text="ReentrancyGuardReentrantCall()")[:4]


# ---------------------------------------------------------------- helpers


def submit(bounties, bounty_id, model_id, chunk, p, sender, **tx):
    return bounties.submitChunk(bounty_id, model_id, chunk, p.proof, p.instances, sender=sender, **tx)


def ledger_ok(bounties, token, open_rewards=0):
    assert bounties.locked(token) == open_rewards
    assert bounties.escrowed(token) == (bounties.locked(token) + bounties.totalOwed(token) + bounties.feesPending(token)
                                        + bounties.burned(token))
    assert bounties.escrowed(token) == token.balanceOf(bounties)


def at(chain, timestamp):
    """The next transaction runs in a block stamped exactly `timestamp`."""
    chain.pending_timestamp = timestamp


def sealed_params(bounties, token, circuit, chunks, now, salt=b"\x42" * 32, data=TEST_DATA, amount=1_000_000,
                  threshold=10, windows=(DAY, 2 * DAY, 3 * DAY)):
    commitment = bounties.testSetCommitment(chunks, keccak(data), salt)
    c, r, d = windows
    return (token, amount, circuit, commitment, len(chunks), threshold, 0, now + c, now + r, now + d)


def prove_all(bounties, bounty_id, model_id, name, scores, sender, proofs):
    for chunk, score in enumerate(scores):
        submit(bounties, bounty_id, model_id, chunk, proofs(chunk, name, score), sender)


# ================================================================ attacks that worked on the first version (fixed)


def test_attack__apy_holding_sponsor_recovers_more_by_withholding_than_by_honesty(
    bounties, vault, token, usd, whale, alice, gov, chain, circuit, chunks, proofs, alice_model
):
    """SECURITY.md: "withholding must never pay better than honesty"; IModelBounties: "committers (or Sybils of
    the sponsor) gain nothing from a forfeit".

    A forfeit is credited to the fee vault as ordinary fees, and the vault exists to route fees to APY holders.
    A sponsor that holds APY (here the whale: 4/7 of the supply) gets its pro-rata share of its own forfeited
    reward back. Honest reveal + a winner: the sponsor recovers only its share of the 1 % fee. Withholding: its
    share of the whole reward. 4/7 of 1 000 000 = 571 428 back by withholding vs 5 714 by being honest."""
    usd.mint(whale, 2_000_000, sender=whale)
    usd.approve(bounties, 2_000_000, sender=whale)
    now = chain.pending_timestamp
    salt = b"\x42" * 32
    bounties.createSealed(sealed_params(bounties, usd, circuit, chunks, now, salt), sender=whale)  # 0: honest
    bounties.createSealed(sealed_params(bounties, usd, circuit, chunks, now, salt), sender=whale)  # 1: withheld
    for bounty_id in (0, 1):
        bounties.commitModel(bounty_id, alice_model, sender=alice)  # one honest entrant in each
    at(chain, now + DAY + 1)
    bounties.reveal(0, chunks, salt, TEST_DATA, sender=whale)  # bounty 1 is never revealed
    prove_all(bounties, 0, alice_model, "alice", (6, 6), alice, proofs)
    at(chain, now + 3 * DAY + 1)
    bounties.finalize(0, sender=alice)  # alice wins: 990 000 to her, 10 000 fee
    bounties.finalize(1, sender=alice)  # forfeited: 1 000 000 "fees"
    assert bounties.bounty(1).status == Status.FORFEITED

    # Only the honest bounty's fee reaches the vault; the withheld reward is burned, so no distribution can carry
    # any of it back to the sponsor as a shareholder.
    assert bounties.burned(usd) == 1_000_000 and bounties.feesPending(usd) == 10_000
    bounties.flushFees(usd, sender=alice)
    assert vault.unallocated(usd) == 10_000
    record = chain.blocks.height + 2
    vault.distribute(usd, 10_000, 7 * DAY, record, sender=gov)
    chain.mine(2)
    honest = vault.claimable(0, whale)  # the most the sponsor can ever recover, whatever it did
    assert honest == 5_714
    withheld = 0  # nothing of bounty 1 exists outside the burned ledger
    assert withheld <= honest
    ledger_ok(bounties, usd)


def test_attack__apy_holder_griefs_a_sealed_bounty_with_a_junk_commit_and_profits(
    bounties, vault, token, reward_token, sponsor, whale, gov, chain, circuit, chunks, models, sealed_bounty
):
    """Griefing with profit. A sealed bounty whose honest test set nobody meets would refund the sponsor; one junk
    commitment (a registration and a commit, ~250k gas, from any address) turns the refund into a forfeit to the
    vault. The griefer, an APY holder, then claims its share of the forfeit: 4/7 of the reward for the whale.
    Every APY holder is paid to do this to every sealed bounty that might go unmet."""
    bounty_id = sealed_bounty(threshold=16)  # a perfect score is required; nobody will reach it
    junk = register_model(models, whale, circuit, keccak(b"junk weights"))
    bounties.commitModel(bounty_id, junk, sender=whale)  # never proves anything
    at(chain, bounties.bounty(bounty_id).commitDeadline + 1)
    bounties.reveal(bounty_id, chunks, sealed_bounty.salt, sealed_bounty.data, sender=sponsor)  # honest
    at(chain, bounties.bounty(bounty_id).deadline + 1)
    bounties.finalize(bounty_id, sender=whale)
    assert bounties.owed(sponsor, reward_token) == 0  # the honest sponsor lost the reward (by design)
    assert bounties.burned(reward_token) == 1_000_000
    with ape.reverts(bounties.SettlementNoFeesPending, token=reward_token.address):
        bounties.flushFees(reward_token, sender=whale)  # nothing reaches the vault: the griefer gains nothing
    assert vault.unallocated(reward_token) == 0
    ledger_ok(bounties, reward_token)


def test_attack__commit_window_floor_is_shorter_than_a_registrations_finality(
    project, deployer, verifiers, vault, circuit, chunks, chain, sponsor, usd, alice, proofs
):
    """Finding 7's sibling. MIN_COMMIT_WINDOW is 1 hour, but a model may only be committed once final:
    `sealWindow` blocks after its seal. With the testnet profile's window (300 blocks, "an hour of 12 s blocks";
    mainnet: 7 200 = a day) a model registered when the bounty is announced is final only after the commit window
    closed. A sponsor picking the floor admits only models registered beforehand (its own, pre-registered), and
    locks every newcomer out — the first-come exclusion finding 1 was about, by the clock instead of slots."""
    models = project.ModelRegistry.deploy(verifiers, 300, sender=deployer)  # apiary/deploy/config.py: testnet
    market = project.ModelBounties.deploy(verifiers, models, vault, "0x0000000000000000000000000000000000000000", sender=deployer)
    usd.mint(sponsor, 1_000_000, sender=sponsor)
    usd.approve(market, 1_000_000, sender=sponsor)
    now = chain.pending_timestamp
    params = sealed_params(market, usd, circuit, chunks, now, windows=(HOUR, 2 * HOUR, 2 * HOUR + DAY))
    receipt = market.createSealed(params, sender=sponsor)  # accepted: every window is at its floor
    created = receipt.block_number
    # Alice hears of the bounty and registers her model at once (seal in the next block, reveal in the one after).
    model_id = register_model(models, alice, circuit, proofs(0, "alice", 0).model, wait_final=False)
    # 12 s blocks: the commit window spans 300 blocks. Her last chance is the block stamped commitDeadline.
    chain.mine(created + 299 - chain.blocks.height)
    at(chain, market.bounty(0).commitDeadline)
    assert market.phase(0) == Phase.COMMIT
    assert not models.isFinal(model_id)
    market.commitModel(0, model_id, sender=alice)  # reverted before the fix: BountyModelNotFinal
    assert market.entry(0, model_id).commitIndex == 1


def test_attack__proposer_chosen_snapshot_pays_a_one_block_holder(vault, usd, token, alice, gov, attacker, chain):
    """Finding 8, moved rather than closed. The snapshot is now whatever past block the *proposal* names (the CLI
    and demo use the last mined block when the proposal is built). The proposer therefore still chooses it, and
    knows it before anybody else: it borrows or buys APY, holds it for one block, writes that block into its
    `distribute` proposal, and returns the tokens in the next block. `FeeVault.distribute` accepts any past
    block, so the one-block holding earns a full share (here alice's 1/7 of the routed fees)."""
    usd.mint(alice, 7_000, sender=alice)
    usd.approve(vault, 7_000, sender=alice)
    vault.depositFee(usd, 7_000, sender=alice)
    lent = token.balanceOf(alice)
    token.transfer(attacker, lent, sender=alice)  # block X: the proposer holds (a loan across two blocks)
    snapshot = chain.blocks.height
    token.transfer(alice, lent, sender=attacker)  # block X + 1: returned, then the proposal names block X
    chain.mine(30)  # vote, queue, timelock delay
    # Balances are kept only at record blocks the vault announced ahead of time (issue 22): the one-block holding
    # is on no record, and the vault refuses a past block.
    assert not token.isRecordBlock(snapshot)
    with ape.reverts(token.ApiaryTokenNotARecordBlock, timepoint=snapshot):
        token.getPastBalance(attacker, snapshot)
    with ape.reverts(vault.FeeVaultBadRecordBlock, recordBlock=snapshot):
        vault.distribute(usd, 7_000, 7 * DAY, snapshot, sender=gov)
    assert vault.distributionCount() == 0 and vault.unallocated(usd) == 7_000


def test_attack__seller_takes_a_sold_model_back_with_a_second_earlier_seal(models, alice, bob, circuit, chain):
    """Takeover of a registered model by its own seller. Alice seals the same commitment twice (two salts), registers
    with the later seal and sells the token to Bob (ERC-721 transfer: allowed while the model is contestable). Then
    she reveals the earlier seal: the registry moves the token back to her without Bob's approval. Markets refuse
    non-final models, but the registry itself lets contestable tokens be transferred and hence sold."""
    w = keccak(b"alice weights")
    models.commit(models.seal(alice, circuit, w, b"\x01" * 32), sender=alice)  # kept in her pocket
    models.commit(models.seal(alice, circuit, w, b"\x02" * 32), sender=alice)
    models.register(circuit, w, b"\x02" * 32, "ipfs://alice", sender=alice)
    model_id = models.modelIdOf(circuit, w)
    until = models.contestableUntil(model_id)
    with ape.reverts(models.ModelRegistryNotFinal, id=model_id, contestableUntil=until):
        models.transferFrom(alice, bob, model_id, sender=alice)  # the sale cannot happen while contestable
    models.register(circuit, w, b"\x01" * 32, "ipfs://alice", sender=alice)  # her own earlier seal: no-op owner
    chain.mine(models.contestableUntil(model_id) - chain.blocks.height)
    models.transferFrom(alice, bob, model_id, sender=alice)  # final: sold for good
    assert models.ownerOf(model_id) == bob.address


def test_attack__record_block_after_the_claim_period_voids_the_distribution(vault, usd, token, alice, gov, chain):
    """The new record-block design has a gap: the claim deadline is `routing time + claimPeriod`, but claims open
    only after `recordBlock`, which may lie up to MAX_RECORD_LEAD (50 400 blocks, a week of 12 s blocks) ahead,
    while MIN_CLAIM_PERIOD is one day. `distribute` accepts a record block that passes after the claim period
    has closed: no holder can ever claim, and the whole distribution just flows back on `reclaim`. (Here the test
    chain's clock moves faster than its blocks; on mainnet a lead of more than ~7 200 blocks with a one-day claim
    period does the same.) An accepted, executed distribution must give holders a real claim window."""
    usd.mint(alice, 7_000, sender=alice)
    usd.approve(vault, 7_000, sender=alice)
    vault.depositFee(usd, 7_000, sender=alice)
    record = chain.blocks.height + 10
    routed = vault.distribute(usd, 7_000, DAY, record, sender=gov)  # accepted
    at(chain, routed.timestamp + DAY)  # a claim period after routing: the record block has not passed yet
    with ape.reverts(vault.FeeVaultRecordBlockNotPassed, id=0, recordBlock=record):
        vault.claim(0, sender=alice)
    chain.mine(record - chain.blocks.height + 1)
    assert token.getPastBalance(alice, record) > 0  # alice held at the record block...
    vault.claim(0, sender=alice)  # ...and can: the window opens after the record block (was FeeVaultClaimPeriodOver)
    assert usd.balanceOf(alice) == 1_000


# ================================================================ defended (regression tests, these PASS)


# ---------------------------------------------------------------- phase transitions at exact deadlines


def test_defended__sealed_phases_at_exact_deadlines(bounties, sealed_bounty, sponsor, alice, alice_model, bob, bob_model,
                                                    chunks, chain, proofs, reward_token):
    """Every boundary second of a sealed bounty, one transaction per second (a reverted one takes its block too):
    bounty A is probed on the refusing side of each boundary, bounty B (created 10 s later) on the accepting one."""
    t0 = chain.pending_timestamp
    at(chain, t0)
    a = sealed_bounty()
    at(chain, t0 + 10)
    b = sealed_bounty()
    A, B = bounties.bounty(a), bounties.bounty(b)
    bounties.commitModel(a, alice_model, sender=alice)
    reveal_args = (chunks, sealed_bounty.salt, sealed_bounty.data)

    at(chain, A.commitDeadline)  # A: in the last second of the commit window a reveal is refused
    with ape.reverts(bounties.BountyWrongPhase, bountyId=a, current=Phase.COMMIT, required=Phase.REVEAL):
        bounties.reveal(a, *reveal_args, sender=sponsor)
    at(chain, B.commitDeadline)  # B: and a commitment still lands
    receipt = bounties.commitModel(b, bob_model, sender=bob)
    assert chain.blocks[receipt.block_number].timestamp == B.commitDeadline
    at(chain, B.commitDeadline + 1)  # B: one second later nobody commits any more
    with ape.reverts(bounties.BountyWrongPhase, bountyId=b, current=Phase.REVEAL, required=Phase.COMMIT):
        bounties.commitModel(b, alice_model, sender=alice)

    at(chain, A.revealDeadline)  # A: the last second of the reveal window still reveals
    bounties.reveal(a, *reveal_args, sender=sponsor)
    at(chain, B.revealDeadline)
    bounties.reveal(b, *reveal_args, sender=sponsor)
    submit(bounties, a, alice_model, 0, proofs(0, "alice", 6), alice)
    submit(bounties, b, bob_model, 0, proofs(0, "bob", 6), bob)

    at(chain, A.deadline)  # A: in the last second of the proving window nobody can settle
    with ape.reverts(bounties.BountyWrongPhase, bountyId=a, current=Phase.PROVE, required=Phase.SETTLE):
        bounties.finalize(a, sender=alice)
    at(chain, B.deadline)  # B: and a proof still scores
    receipt = submit(bounties, b, bob_model, 1, proofs(1, "bob", 6), bob)
    assert chain.blocks[receipt.block_number].timestamp == B.deadline
    assert bounties.bounty(b).best == bob_model
    at(chain, B.deadline + 1)  # A: a proof one second after its deadline is refused
    with ape.reverts(bounties.BountyWrongPhase, bountyId=a, current=Phase.SETTLE, required=Phase.PROVE):
        submit(bounties, a, alice_model, 1, proofs(1, "alice", 6), alice)
    bounties.finalize(b, sender=bob)
    bounties.finalize(a, sender=alice)  # committed, revealed, nobody complete: forfeited, not refunded
    assert bounties.owed(bob, reward_token) == 990_000
    assert bounties.bounty(a).status == Status.FORFEITED and bounties.owed(sponsor, reward_token) == 0
    ledger_ok(bounties, reward_token)


def test_defended__sealed_unrevealed_at_reveal_deadline__not_yet_settleable(bounties, sealed_bounty, alice, alice_model,
                                                                            chain, reward_token, sponsor):
    bounty_id = sealed_bounty()
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    b = bounties.bounty(bounty_id)
    at(chain, b.revealDeadline)  # the sponsor may still reveal in this second: nobody can force a forfeit yet
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.REVEAL, required=Phase.SETTLE):
        bounties.finalize(bounty_id, sender=alice)
    at(chain, b.revealDeadline + 1)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.SETTLE, required=Phase.REVEAL):
        bounties.reveal(bounty_id, [b"\x01" * 32, b"\x02" * 32], b"\0" * 32, b"x", sender=sponsor)
    bounties.finalize(bounty_id, sender=alice)
    assert bounties.bounty(bounty_id).status == Status.FORFEITED
    ledger_ok(bounties, reward_token)


def test_defended__open_proof_at_exact_deadline_wins_and_one_second_later_is_refused(
    bounties, open_bounty, alice, alice_model, bob, bob_model, chain, proofs, reward_token, sponsor
):
    bounty_id = open_bounty(threshold=12)
    deadline = bounties.bounty(bounty_id).deadline
    submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)
    submit(bounties, bounty_id, bob_model, 0, proofs(0, "bob", 8), bob)
    at(chain, deadline)
    submit(bounties, bounty_id, alice_model, 1, proofs(1, "alice", 8), alice)
    assert bounties.bounty(bounty_id).status == Status.WON
    at(chain, deadline + 1)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.CLOSED, required=Phase.PROVE):
        submit(bounties, bounty_id, bob_model, 1, proofs(1, "bob", 8), bob)
    assert bounties.owed(sponsor, reward_token) == 0


def test_defended__windows_exactly_at_their_floors_and_one_second_below(bounties, reward_token, sponsor, circuit, chunks,
                                                                        chain):
    now = chain.pending_timestamp
    at(chain, now)
    bounties.createOpen((reward_token, 100, circuit, chunks, TEST_DATA, 10, 0, now + DAY), sender=sponsor)
    at(chain, now + 1)  # a second later the same deadline leaves one second too little
    with ape.reverts(bounties.BountyBadWindow, window=2, length=DAY - 1, min=DAY):
        bounties.createOpen((reward_token, 100, circuit, chunks, TEST_DATA, 10, 0, now + DAY), sender=sponsor)
    # The whole sealed bounty must end within MAX_DURATION of creation, not each window.
    t = now + 10
    at(chain, t)
    ok = sealed_params(bounties, reward_token, circuit, chunks, t, windows=(HOUR, 2 * HOUR, 365 * DAY))
    bounties.createSealed(ok, sender=sponsor)
    at(chain, t + 1)
    too_long = sealed_params(bounties, reward_token, circuit, chunks, t + 1, windows=(HOUR, 2 * HOUR, 365 * DAY + 1))
    with ape.reverts(bounties.BountyBadWindow, window=2):
        bounties.createSealed(too_long, sender=sponsor)
    assert bounties.bountyCount() == 2


# ---------------------------------------------------------------- seal window and finality at block edges


def test_defended__copy_cannot_compete_while_the_original_seal_can_still_be_revealed(
    project, deployer, verifiers, vault, usd, sponsor, alice, attacker, circuit, chunks, chain, proofs
):
    """The attacker copies the weight commitment from Alice's delayed reveal, seals and registers it first, and
    enters it in bounties before Alice's reveal lands. It may commit the copy to a sealed bounty (payment waits for
    finality) but cannot prove it on an open one; Alice's reveal in the very last block of her seal window takes
    the token back, and the sealed entry with it."""
    models = project.ModelRegistry.deploy(verifiers, 8, sender=deployer)
    bounties = project.ModelBounties.deploy(verifiers, models, vault, "0x0000000000000000000000000000000000000000", sender=deployer)
    usd.mint(sponsor, 2_000_000, sender=sponsor)
    usd.approve(bounties, 2_000_000, sender=sponsor)
    now = chain.pending_timestamp
    bounties.createSealed(sealed_params(bounties, usd, circuit, chunks, now), sender=sponsor)
    bounties.createOpen((usd, 1_000_000, circuit, chunks, TEST_DATA, 12, 0, now + 7 * DAY), sender=sponsor)
    sealed_id, open_id = 0, 1
    w = proofs(0, "alice", 0).model
    models.commit(models.seal(alice, circuit, w, b"\x01" * 32), sender=alice)
    alice_seal_block = chain.blocks.height
    models.commit(models.seal(attacker, circuit, w, b"\x02" * 32), sender=attacker)
    models.register(circuit, w, b"\x02" * 32, "ipfs://copy", sender=attacker)
    model_id = models.modelIdOf(circuit, w)
    last = alice_seal_block + models.sealWindow()  # the last block Alice's seal can be revealed in
    chain.mine(last - 3 - chain.blocks.height)
    bounties.commitModel(sealed_id, model_id, sender=attacker)  # block last - 2: allowed, the entry is the token's
    with ape.reverts(bounties.BountyModelNotFinal, modelId=model_id):  # block last - 1: open bounties pay at once
        submit(bounties, open_id, model_id, 0, proofs(0, "alice", 8), attacker)
    assert chain.blocks.height == last - 1
    receipt = models.register(circuit, w, b"\x01" * 32, "ipfs://alice", sender=alice)
    assert receipt.block_number == last
    assert models.ownerOf(model_id) == alice.address
    assert models.contestableUntil(model_id) == last  # final from the next block on, for Alice
    # The copier's commitment now belongs to Alice's token: she is the one a win would pay.
    assert bounties.entry(sealed_id, model_id).commitIndex == 1
    with ape.reverts(bounties.BountyAlreadyCommitted, bountyId=sealed_id, modelId=model_id):
        bounties.commitModel(sealed_id, model_id, sender=alice)
    chain.mine()
    submit(bounties, open_id, model_id, 0, proofs(0, "alice", 8), attacker)  # final now: proofs pay Alice
    assert bounties.chunkProven(open_id, model_id, 0)


def test_defended__mempool_copy_of_a_seal_hash_only_helps_its_owner(models, alice, attacker, circuit):
    w, salt = keccak(b"alice weights"), b"\x01" * 32
    seal = models.seal(alice, circuit, w, salt)
    models.commit(seal, sender=attacker)  # copied from Alice's pending commit and landed first
    with ape.reverts(models.SealExists, seal=seal):
        models.commit(seal, sender=alice)
    with ape.reverts(models.SealUnknown):
        models.register(circuit, w, salt, "", sender=attacker)  # the seal binds Alice's address
    models.register(circuit, w, salt, "", sender=alice)
    assert models.ownerOf(models.modelIdOf(circuit, w)) == alice.address


def test_defended__revealed_seal_cannot_be_recommitted_to_steal_a_later_number(models, alice, attacker, circuit):
    w, salt = keccak(b"alice weights"), b"\x01" * 32
    seal = models.seal(alice, circuit, w, salt)
    models.commit(seal, sender=alice)
    models.register(circuit, w, salt, "", sender=alice)
    model_id = models.modelIdOf(circuit, w)
    models.commit(seal, sender=attacker)  # the record was deleted at registration: it can land again...
    with ape.reverts(models.ModelRegistryDuplicate, existingId=model_id):
        models.register(circuit, w, salt, "", sender=alice)  # ...but with a later number it changes nothing
    assert models.model(model_id).sealNumber == 1


# ---------------------------------------------------------------- retired verifier, replays, malformed instances


def test_defended__sealed_bounty_survives_the_retirement_of_its_circuit(bounties, verifiers, gov, circuit, sealed_bounty,
                                                                        alice, alice_model, sponsor, chunks, chain,
                                                                        proofs, reward_token, models):
    bounty_id = sealed_bounty()
    verifiers.retire(circuit, sender=gov)
    # No new model can be registered for it...
    models.commit(models.seal(alice, circuit, b"\x09" * 32, b"\x01" * 32), sender=alice)
    with ape.reverts(verifiers.VerifierRegistryRetired, id=circuit):
        models.register(circuit, b"\x09" * 32, b"\x01" * 32, "", sender=alice)
    # ...but the bounty runs to the end with the verifier it was created with.
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    at(chain, bounties.bounty(bounty_id).commitDeadline + 1)
    bounties.reveal(bounty_id, chunks, sealed_bounty.salt, sealed_bounty.data, sender=sponsor)
    prove_all(bounties, bounty_id, alice_model, "alice", (6, 6), alice, proofs)
    at(chain, bounties.bounty(bounty_id).deadline + 1)
    bounties.finalize(bounty_id, sender=alice)
    assert bounties.owed(alice, reward_token) == 990_000


def test_defended__proofs_replayed_into_another_bounty_with_the_same_chunks_pay_only_the_model_owner(
    bounties, open_bounty, alice, alice_model, attacker, proofs, reward_token
):
    first, second = open_bounty(threshold=12), open_bounty(threshold=12)
    prove_all(bounties, first, alice_model, "alice", (7, 7), alice, proofs)
    prove_all(bounties, second, alice_model, "alice", (7, 7), attacker, proofs)  # copied from the first bounty's calldata
    assert bounties.owed(alice, reward_token) == 2 * 990_000
    assert bounties.owed(attacker, reward_token) == 0


def test_defended__sealed_proof_for_an_uncommitted_copy_or_before_reveal(bounties, sealed_bounty, alice, alice_model,
                                                                         bob, bob_model, sponsor, chunks, chain, proofs):
    bounty_id = sealed_bounty()
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    at(chain, bounties.bounty(bounty_id).commitDeadline + 1)
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.REVEAL, required=Phase.PROVE):
        submit(bounties, bounty_id, alice_model, 0, proofs(0, "alice", 8), alice)
    bounties.reveal(bounty_id, chunks, sealed_bounty.salt, sealed_bounty.data, sender=sponsor)
    with ape.reverts(bounties.EvaluationProofWrongModel):
        submit(bounties, bounty_id, alice_model, 0, proofs(0, "bob", 8), bob)  # bob's proof under alice's entry
    with ape.reverts(bounties.BountyModelNotCommitted, bountyId=bounty_id, modelId=bob_model):
        submit(bounties, bounty_id, bob_model, 0, proofs(0, "bob", 8), bob)


@pytest.mark.parametrize("case", ["score_above_samples", "no_instance", "two_instances", "short_proof", "empty_proof"])
def test_defended__malformed_proof_through_the_market__rejected_before_the_verifier(
    bounties, open_bounty, alice, alice_model, proofs, mock_verifier, case
):
    bounty_id = open_bounty()
    p = proofs(0, "alice", 8)
    proof, instances = p.proof, p.instances
    errors = {
        "score_above_samples": (dict(instances=[SAMPLES + 1]), bounties.EvaluationProofScoreAboveMax,
                                {"score": SAMPLES + 1, "maxScore": SAMPLES}),
        "no_instance": (dict(instances=[]), bounties.EvaluationProofInstanceCount, {"count": 0, "expected": 1}),
        "two_instances": (dict(instances=[4, 4]), bounties.EvaluationProofInstanceCount, {"count": 2, "expected": 1}),
        "short_proof": (dict(proof=p.proof[:191]), bounties.EvaluationProofTooShort, {"length": 191, "minimum": 192}),
        "empty_proof": (dict(proof=b""), bounties.EvaluationProofTooShort, {"length": 0, "minimum": 192}),
    }
    change, error, fields = errors[case]
    proof, instances = change.get("proof", proof), change.get("instances", instances)
    calls = mock_verifier.calls()
    with ape.reverts(error, **fields):
        bounties.submitChunk(bounty_id, alice_model, 0, proof, instances, sender=alice)
    assert mock_verifier.calls() == calls
    assert bounties.entry(bounty_id, alice_model).chunksProven == 0


@pytest.mark.parametrize("score", [FIELD_MODULUS, 2**256 - 1])
def test_defended__error_sum_instance_outside_the_field__rejected(project, bounties, verifiers, gov, deployer, models,
                                                                  reward_token, sponsor, chunks, chain, alice, score):
    """Error sums have no sample bound (maxScore = 2^256 - 1): the field check is the only thing between a forged
    'negative' or wrapped instance and the score."""
    sse = project.MockHalo2Verifier.deploy(sender=deployer)
    verifiers.register("mock-sse", sse, b"\x33" * 32, 8, 1, sender=gov)
    cid = verifiers.circuitId("mock-sse")
    model_id = register_model(models, alice, cid, FakeProof(b"chunk0", b"alice-sse", 0).model)
    bounties.createOpen((reward_token, 100, cid, chunks, TEST_DATA, 10**9, 1, chain.pending_timestamp + 2 * DAY),
                        sender=sponsor)
    p = FakeProof(b"chunk0", b"alice-sse", 0)
    with ape.reverts(bounties.EvaluationProofInstanceOutOfField, index=0, value=score):
        bounties.submitChunk(0, model_id, 0, p.proof, [score], sender=alice)
    bounties.submitChunk(0, model_id, 0, p.proof, [FIELD_MODULUS - 1], sender=alice)  # the largest field element
    assert bounties.entry(0, model_id).score == FIELD_MODULUS - 1
    assert bounties.bounty(0).status == Status.ACTIVE


# ---------------------------------------------------------------- money: re-entrancy into _collect, huge values


def test_defended__reentrancy_into_create_during_collect__blocked(sponsor_token, bounties, sponsor, circuit, chunks, chain):
    """A token that calls back into the market while `_collect` measures its balance delta: a nested create would
    credit the same arrival twice. The guard refuses it and only the real arrival is credited."""
    evil = sponsor_token("ReentrantToken", 2 * 10**6)
    deadline = chain.pending_timestamp + 2 * DAY
    params = (evil.address, 10**6, circuit, chunks, TEST_DATA, 12, 0, deadline)
    evil.arm(bounties, bounties.createOpen.encode_input(params), sender=sponsor)
    bounties.createOpen(params, sender=sponsor)
    assert evil.attempted() and not evil.reentered()
    assert evil.lastReturnData() == REENTRANT_CALL
    assert bounties.bountyCount() == 1
    assert bounties.bounty(0).reward == 10**6 == bounties.locked(evil) == evil.balanceOf(bounties)


def test_defended__huge_reward_and_full_fee_rate(project, deployer, gov, token, verifiers, models, circuit, chunks, chain,
                                                 sponsor, proofs, alice, alice_model, create_vault):
    """2^255 reward at the 100 % fee cap: mulDiv does not overflow, the winner is credited nothing (no zero
    credit event), and everything is accounted for."""
    vault = create_vault(token, max_fee_bps=10_000, initial_fee_bps=10_000)
    market = project.ModelBounties.deploy(verifiers, models, vault, "0x0000000000000000000000000000000000000000", sender=deployer)
    big = project.MockERC20.deploy("Big", "BIG", sender=deployer)
    amount = 2**255
    big.mint(sponsor, amount, sender=sponsor)
    big.approve(market, amount, sender=sponsor)
    market.createOpen((big, amount, circuit, chunks, TEST_DATA, 12, 0, chain.pending_timestamp + 2 * DAY), sender=sponsor)
    prove_all(market, 0, alice_model, "alice", (8, 8), alice, proofs)
    assert market.bounty(0).status == Status.WON
    assert market.owed(alice, big) == 0 and market.feesPending(big) == amount
    ledger_ok(market, big)
    market.flushFees(big, sender=alice)
    assert vault.unallocated(big) == amount


def test_defended__sealed_leader_paid_to_the_holder_at_settlement_and_only_once(
    bounties, sealed_bounty, alice, alice_model, bob, sponsor, chunks, chain, proofs, reward_token, models
):
    bounty_id = sealed_bounty()
    bounties.commitModel(bounty_id, alice_model, sender=alice)
    at(chain, bounties.bounty(bounty_id).commitDeadline + 1)
    bounties.reveal(bounty_id, chunks, sealed_bounty.salt, sealed_bounty.data, sender=sponsor)
    prove_all(bounties, bounty_id, alice_model, "alice", (6, 6), alice, proofs)
    models.transferFrom(alice, bob, alice_model, sender=alice)  # sold while leading
    at(chain, bounties.bounty(bounty_id).deadline + 1)
    bounties.finalize(bounty_id, sender=alice)
    assert bounties.owed(bob, reward_token) == 990_000 and bounties.owed(alice, reward_token) == 0
    with ape.reverts(bounties.BountyWrongPhase, bountyId=bounty_id, current=Phase.CLOSED, required=Phase.SETTLE):
        bounties.finalize(bounty_id, sender=bob)
    ledger_ok(bounties, reward_token)


def test_defended__sealed_later_equal_score_does_not_displace_the_earlier_committer(
    bounties, sealed_bounty, alice, alice_model, bob, bob_model, sponsor, chunks, chain, proofs
):
    bounty_id = sealed_bounty()
    bounties.commitModel(bounty_id, alice_model, sender=alice)  # alice first
    bounties.commitModel(bounty_id, bob_model, sender=bob)
    at(chain, bounties.bounty(bounty_id).commitDeadline + 1)
    bounties.reveal(bounty_id, chunks, sealed_bounty.salt, sealed_bounty.data, sender=sponsor)
    prove_all(bounties, bounty_id, alice_model, "alice", (6, 6), alice, proofs)
    prove_all(bounties, bounty_id, bob_model, "bob", (6, 6), bob, proofs)  # equal total, committed later
    assert bounties.bounty(bounty_id).best == alice_model
    assert bounties.bounty(bounty_id).bestScore == 12
