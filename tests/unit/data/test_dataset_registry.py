"""DatasetRegistry: sealed, staked registration; duplicate challenges by Merkle proofs; stakes; terms.

Every attack test checks the named error and that no balance or ledger moved (SECURITY.md).
"""

from __future__ import annotations

import os

import ape
import pytest

from apiary.data import merkle

from .conftest import DAY, MAX_STAKE, MIN_DUPLICATE_ROWS, SEAL_WINDOW, STAKE, table

ZERO = "0x0000000000000000000000000000000000000000"


def ledger(registry, usd, *accounts):
    return (registry.locked(usd), registry.feesPending(usd), registry.totalOwed(usd), usd.balanceOf(registry),
            tuple(registry.owed(a, usd) for a in accounts))


# ---------------------------------------------------------------- registration


def test_register__mints_token_locks_stake_and_records_terms(registry, register, funded, alice, usd):
    c = table(range(10))
    id_ = register(alice, c, price_token=usd.address, price=5 * 10**18)
    assert id_ == 1 and registry.ownerOf(1) == alice and registry.tokenURI(1) == "ipfs://dataset"
    d = registry.dataset(1)
    assert (d.root, d.rows, d.schemaHash, d.stake, d.staker) == (c.root, 10, c.schema_hash, STAKE, alice)
    assert (d.priceToken, d.price, d.duplicate, d.stakeReleased) == (usd.address, 5 * 10**18, False, False)
    assert registry.locked(usd) == STAKE == registry.escrowed(usd) == usd.balanceOf(registry)


def test_register__same_root_under_a_later_seal__rejected(registry, register, alice, bob, usd):
    c = table(range(10))
    register(alice, c)
    before = ledger(registry, usd, alice, bob)
    salt = register(bob, c, reveal=False)
    with ape.reverts(registry.DatasetRegistryDuplicateRoot, root=c.root, existingId=1):
        register.reveal(bob, c, salt)
    assert ledger(registry, usd, alice, bob) == before and registry.totalDatasets() == 1


def test_register__same_rows_in_another_order_or_format__is_the_same_root(registry, register, alice, bob):
    first = table([3, 1, 2, 1])  # a repeated row is one row of the set
    second = table([2, 3, 1])
    assert first.root == second.root and first.rows == 3 and first.rows_read == 4
    register(alice, first)
    salt = register(bob, second, reveal=False)
    with ape.reverts(registry.DatasetRegistryDuplicateRoot):
        register.reveal(bob, second, salt)


def test_register__front_run_copy__taken_over_by_the_earlier_seal_and_slashed(registry, register, vault, alice, attacker, usd):
    """The attacker copies the root from alice's pending reveal and registers first under a later seal."""
    c = table(range(10))
    alice_salt = register(alice, c, reveal=False)
    register(attacker, c)
    assert registry.ownerOf(1) == attacker
    receipt_id = register.reveal(alice, c, alice_salt)
    assert receipt_id == 1 and registry.ownerOf(1) == alice
    d = registry.dataset(1)
    assert d.staker == alice and d.stake == STAKE
    # the copier's stake: half to alice, half to the vault
    assert registry.owed(alice, usd) == STAKE // 2 and registry.feesPending(usd) == STAKE // 2
    assert registry.locked(usd) == STAKE and registry.owed(attacker, usd) == 0


def test_register__empty_or_unsealed_or_expired__rejected(registry, register, chain, alice, bob, usd):
    c = table(range(4))
    empty = table(range(4))
    empty.rows = 0
    salt = register(alice, c, reveal=False)
    with ape.reverts(registry.DatasetRegistryEmpty):
        register.reveal(alice, empty, salt)
    with ape.reverts(registry.SealUnknown):
        register.reveal(bob, c, salt)  # alice's seal, bob's reveal
    chain.mine(SEAL_WINDOW + 1)
    with ape.reverts(registry.SealExpired):
        register.reveal(alice, c, salt)
    assert registry.locked(usd) == 0 and registry.totalDatasets() == 0


def test_register__pending_seal_cannot_be_recommitted(registry, alice, attacker):
    s = registry.seal(alice, b"\x01" * 32, b"\x02" * 32)
    registry.commit(s, sender=alice)
    with ape.reverts(registry.SealExists, seal=s):
        registry.commit(s, sender=attacker)


def test_register__fee_on_transfer_stake__credits_what_arrived(project, deployer, gov, vault, devices, alice):
    fot = project.FeeOnTransferToken.deploy(100, sender=deployer)
    reg = project.DatasetRegistry.deploy(gov, vault, fot, devices, SEAL_WINDOW, STAKE, 10**24, DAY, 3, sender=deployer)
    fot.mint(alice, 10 * STAKE, sender=alice)
    fot.approve(reg, 2**256 - 1, sender=alice)
    c = table(range(4))
    salt = os.urandom(32)
    reg.commit(reg.seal(alice, c.root, salt), sender=alice)
    reg.register((c.root, c.rows, c.schema_hash, "u", ZERO, 0), salt, sender=alice)
    stake = reg.dataset(1).stake
    assert 0 < stake < STAKE and reg.locked(fot) == stake == fot.balanceOf(reg)


def test_transfer__before_final__refused_then_allowed(registry, register, chain, alice, bob):
    register(alice, table(range(4)))
    with ape.reverts(registry.DatasetRegistryNotFinal):
        registry.transferFrom(alice, bob, 1, sender=alice)
    chain.mine(SEAL_WINDOW + 1)
    registry.transferFrom(alice, bob, 1, sender=alice)
    assert registry.ownerOf(1) == bob


def test_licence_terms__only_the_owner_sets_them(registry, register, alice, attacker, usd):
    register(alice, table(range(4)))
    with ape.reverts(registry.DatasetRegistryNotOwner, id=1, caller=attacker):
        registry.setLicenceTerms(1, usd, 1, sender=attacker)
    registry.setLicenceTerms(1, usd, 7, sender=alice)
    assert registry.dataset(1).price == 7


# ---------------------------------------------------------------- duplicate challenges


@pytest.fixture
def pair(register, alice, bob):
    """alice's dataset (values 0..19) and bob's later partial copy (values 15..29: five shared rows)."""
    a, b = table(range(20)), table(range(15, 30))
    return register(alice, a), register(bob, b), a, b


def test_challenge__partial_copy__slashed_once_split_between_challenger_and_vault(registry, pair, challenge, carol, bob, usd,
                                                                                   chain):
    earlier_id, later_id, a, b = pair
    challenge(carol, later_id, earlier_id, b, a)
    d = registry.dataset(later_id)
    assert d.duplicate and d.stakeReleased and d.stake == 0
    assert registry.owed(carol, usd) == 0 and registry.locked(usd) == 2 * STAKE  # the reward waits its claim period
    with ape.reverts(registry.DatasetRegistryClaimOpen):
        registry.claimChallengeReward(later_id, sender=carol)
    chain.mine(1, deltatime=3601)
    registry.claimChallengeReward(later_id, sender=bob)  # anyone may trigger it; the challenger is paid
    assert registry.owed(carol, usd) == STAKE // 2 and registry.feesPending(usd) == STAKE // 2
    assert registry.locked(usd) == STAKE  # alice's stake only
    with ape.reverts(registry.DatasetRegistryNothingToClaim):
        registry.claimChallengeReward(later_id, sender=carol)
    before = ledger(registry, usd, carol, bob)
    other = merkle.shared_rows(b, a)[-MIN_DUPLICATE_ROWS:]  # other evidence, same dataset: nothing left to slash
    with ape.reverts(registry.DatasetRegistryStakeGone, id=later_id):
        challenge(carol, later_id, earlier_id, b, a, other)
    assert ledger(registry, usd, carol, bob) == before


def test_challenge__same_evidence_twice__slashes_once(registry, pair, challenge, carol, usd, chain):
    earlier_id, later_id, a, b = pair
    hashes = merkle.shared_rows(b, a, MIN_DUPLICATE_ROWS)
    salt = os.urandom(32)
    challenge(carol, later_id, earlier_id, b, a, hashes, salt=salt)
    with ape.reverts(registry.SealUnknown):  # the commitment was consumed
        challenge(carol, later_id, earlier_id, b, a, hashes, salt=salt, commit=False)
    chain.mine(1, deltatime=3601)
    registry.claimChallengeReward(later_id, sender=carol)
    assert registry.owed(carol, usd) == STAKE // 2


def test_challenge__copied_reveal_from_another_address__pays_nobody(registry, pair, challenge, carol, attacker, usd):
    earlier_id, later_id, a, b = pair
    hashes = merkle.shared_rows(b, a, MIN_DUPLICATE_ROWS)
    salt = os.urandom(32)
    registry.commitChallenge(registry.challengeCommitment(carol, later_id, earlier_id, hashes, salt), sender=carol)
    with ape.reverts(registry.SealUnknown):
        challenge(attacker, later_id, earlier_id, b, a, hashes, salt=salt, commit=False)
    assert registry.owed(attacker, usd) == 0 and not registry.dataset(later_id).duplicate


def test_challenge__the_earlier_dataset__cannot_be_slashed(registry, pair, challenge, carol, usd):
    earlier_id, later_id, a, b = pair
    with ape.reverts(registry.DatasetRegistryNotEarlier, laterId=earlier_id, earlierId=later_id):
        challenge(carol, earlier_id, later_id, a, b)
    with ape.reverts(registry.DatasetRegistryNotEarlier):
        challenge(carol, later_id, later_id, b, b)
    assert registry.locked(usd) == 2 * STAKE


def test_challenge__too_few_repeated_or_unsorted_rows__bad_evidence(registry, pair, challenge, carol, usd):
    earlier_id, later_id, a, b = pair
    shared = merkle.shared_rows(b, a)
    for hashes in (shared[:2], [shared[0]] * 3, [shared[2], shared[1], shared[0]]):
        with ape.reverts(registry.DatasetRegistryBadEvidence):
            challenge(carol, later_id, earlier_id, b, a, hashes)
    assert registry.locked(usd) == 2 * STAKE


def test_challenge__row_not_shared_or_forged_proof__rejected(registry, pair, challenge, carol, usd):
    earlier_id, later_id, a, b = pair
    shared = merkle.shared_rows(b, a, 2)
    only_b = sorted(set(bytes(h) for h in b.hashes) - set(bytes(h) for h in a.hashes))
    hashes = sorted(shared + only_b[:1])
    bad = only_b[0]
    with ape.reverts(registry.DatasetRegistryRowNotInDataset, id=earlier_id, rowHash=bad):
        challenge(carol, later_id, earlier_id, b, a, hashes,
                  proofs_earlier=[a.proof(h) if h != bad else a.proof(shared[0]) for h in hashes])
    hashes = merkle.shared_rows(b, a, 3)
    forged = [b.proof(h) for h in hashes]
    forged[1] = (forged[1][0], [os.urandom(32)] + forged[1][1][1:])
    with ape.reverts(registry.DatasetRegistryRowNotInDataset, id=later_id, rowHash=hashes[1]):
        challenge(carol, later_id, earlier_id, b, a, hashes, proofs_later=forged)
    moved = [b.proof(h) for h in hashes]
    moved[0] = (moved[0][0] ^ 1, moved[0][1])  # the right siblings at the wrong position
    with ape.reverts(registry.DatasetRegistryRowNotInDataset, id=later_id, rowHash=hashes[0]):
        challenge(carol, later_id, earlier_id, b, a, hashes, proofs_later=moved)
    high = [b.proof(h) for h in hashes]
    high[2] = (high[2][0] + (1 << len(high[2][1])), high[2][1])  # bits beyond the path
    with ape.reverts(registry.DatasetRegistryRowNotInDataset, id=later_id, rowHash=hashes[2]):
        challenge(carol, later_id, earlier_id, b, a, hashes, proofs_later=high)
    assert registry.locked(usd) == 2 * STAKE


def test_challenge__inner_node_or_leaf_as_a_row__rejected(registry, register, challenge, gov, alice, bob, carol, usd):
    """Second preimages: an inner node (or a leaf) passed as a 'row hash' with the rest of a real path."""
    registry.setMinDuplicateRows(1, sender=gov)  # one forged row is the whole evidence (for datasets from now on)
    a, b = table(range(20)), table(range(15, 30))
    earlier_id, later_id = register(alice, a), register(bob, b)
    h = merkle.shared_rows(b, a, 1)[0]
    (ib, path_b), (ia, path_a) = b.proof(h), a.proof(h)
    assert merkle.verify(b.root, h, (ib, path_b))
    inner_b = merkle.node(path_b[0], merkle.leaf(h)) if ib & 1 else merkle.node(merkle.leaf(h), path_b[0])
    inner_a = merkle.node(path_a[0], merkle.leaf(h)) if ia & 1 else merkle.node(merkle.leaf(h), path_a[0])
    assert merkle.root_from(inner_b, ib >> 1, path_b[1:]) == b.root  # the inner node is genuine ...
    cases = [(inner_b, (ib >> 1, path_b[1:]), (ia >> 1, path_a[1:])),  # ... but is no row of either dataset
             (merkle.leaf(h), (ib, path_b), (ia, path_a))]
    for fake, pl, pe in cases:
        with ape.reverts(registry.DatasetRegistryRowNotInDataset):
            challenge(carol, later_id, earlier_id, b, a, [fake], proofs_later=[pl], proofs_earlier=[pe])
    assert inner_a != inner_b and registry.locked(usd) == 2 * STAKE


def test_challenge__committed_after_the_window__closed(registry, pair, challenge, chain, carol, usd):
    earlier_id, later_id, a, b = pair
    chain.pending_timestamp += DAY + 10
    with ape.reverts(registry.DatasetRegistryChallengeClosed):
        challenge(carol, later_id, earlier_id, b, a)
    assert registry.locked(usd) == 2 * STAKE


def test_challenge__revealed_after_the_reveal_period__closed(registry, pair, challenge, chain, carol, usd):
    earlier_id, later_id, a, b = pair
    hashes = merkle.shared_rows(b, a, MIN_DUPLICATE_ROWS)
    salt = os.urandom(32)
    registry.commitChallenge(registry.challengeCommitment(carol, later_id, earlier_id, hashes, salt), sender=carol)
    chain.pending_timestamp += 2 * DAY + 10
    with ape.reverts(registry.DatasetRegistryChallengeClosed):
        challenge(carol, later_id, earlier_id, b, a, hashes, salt=salt, commit=False)
    # committed inside the window, revealed inside the reveal period: still good
    assert registry.locked(usd) == 2 * STAKE


def test_challenge__committed_in_window_revealed_in_reveal_period__slashes(registry, pair, challenge, chain, carol, usd):
    earlier_id, later_id, a, b = pair
    hashes = merkle.shared_rows(b, a, MIN_DUPLICATE_ROWS)
    salt = os.urandom(32)
    registry.commitChallenge(registry.challengeCommitment(carol, later_id, earlier_id, hashes, salt), sender=carol)
    chain.pending_timestamp += DAY + 3600
    challenge(carol, later_id, earlier_id, b, a, hashes, salt=salt, commit=False)
    assert registry.dataset(later_id).duplicate


def test_challenge__small_dataset__all_its_rows_suffice(registry, register, challenge, alice, bob, carol):
    a, small = table(range(10)), table([4, 5])
    earlier_id, later_id = register(alice, a), register(bob, small)
    challenge(carol, later_id, earlier_id, small, a, merkle.shared_rows(small, a))
    assert registry.dataset(later_id).duplicate


# ---------------------------------------------------------------- stakes


def test_release__after_window_and_finality__credits_the_staker_once(registry, register, chain, alice, attacker, usd):
    register(alice, table(range(4)))
    with ape.reverts(registry.DatasetRegistryStakeLocked):
        registry.releaseStake(1, sender=alice)
    chain.pending_timestamp += 2 * DAY + 10
    chain.mine(SEAL_WINDOW + 1)
    with ape.reverts(registry.DatasetRegistryNotStaker, id=1, caller=attacker):
        registry.releaseStake(1, sender=attacker)
    registry.releaseStake(1, sender=alice)
    with ape.reverts(registry.DatasetRegistryStakeGone, id=1):
        registry.releaseStake(1, sender=alice)
    before = usd.balanceOf(alice)
    registry.withdraw(usd, sender=alice)
    assert usd.balanceOf(alice) - before == STAKE and registry.escrowed(usd) == 0


def test_release__slashed_stake__gone(registry, pair, challenge, chain, carol, bob):
    earlier_id, later_id, a, b = pair
    challenge(carol, later_id, earlier_id, b, a)
    chain.pending_timestamp += 2 * DAY + 10
    chain.mine(SEAL_WINDOW + 1)
    with ape.reverts(registry.DatasetRegistryStakeGone, id=later_id):
        registry.releaseStake(later_id, sender=bob)


def test_terms__window_changed_after_registration__not_applied_retroactively(registry, register, gov, alice):
    register(alice, table(range(4)))
    ends = registry.dataset(1).challengeEnds
    registry.setChallengeWindow(30 * DAY, sender=gov)
    registry.setStakeAmount(STAKE * 2, sender=gov)
    d = registry.dataset(1)
    assert d.challengeEnds == ends and d.stake == STAKE


def test_governance__only_the_timelock_within_bounds(registry, gov, attacker):
    with ape.reverts(registry.OwnableUnauthorizedAccount, account=attacker):
        registry.setStakeAmount(1, sender=attacker)
    with ape.reverts(registry.OwnableUnauthorizedAccount):
        registry.setMinDuplicateRows(1, sender=attacker)
    with ape.reverts(registry.DatasetRegistryOutOfBounds):
        registry.setStakeAmount(10**24 + 1, sender=gov)
    with ape.reverts(registry.DatasetRegistryOutOfBounds):
        registry.setChallengeWindow(1, sender=gov)
    with ape.reverts(registry.DatasetRegistryOutOfBounds):
        registry.setMinDuplicateRows(0, sender=gov)
    with ape.reverts(registry.DatasetRegistryOutOfBounds):
        registry.setMinDuplicateRows(33, sender=gov)


def test_direct_transfer__changes_no_accounting(registry, register, funded, alice, bob, usd):
    register(alice, table(range(4)))
    usd.transfer(registry, 10**18, sender=bob)
    assert registry.escrowed(usd) == STAKE == registry.locked(usd)


def test_copying_a_hunters_pending_challenge__earns_the_copier_nothing(registry, pair, challenge, carol, attacker,
                                                                        usd, chain):
    """Attack (issue 20, 3): carol commits first, her reveal is pending; the attacker copies her evidence from the
    mempool, commits it later and reveals first, becoming the first prover. Credit for evidence follows its
    earliest commitment, whoever revealed first: carol's reveal within the claim period takes the whole
    challenger's half (once), the copier gets nothing (before: a quarter each)."""
    earlier_id, later_id, a, b = pair
    hashes = merkle.shared_rows(b, a, MIN_DUPLICATE_ROWS)
    salt = os.urandom(32)
    challenge(carol, later_id, earlier_id, b, a, hashes, salt=salt, proofs_later=[], proofs_earlier=[], reveal=False)
    challenge(attacker, later_id, earlier_id, b, a, hashes)  # committed later, revealed first
    claim = registry.challengeClaim(later_id)
    assert (claim.challenger, claim.prover) == (attacker.address, attacker.address)
    challenge(carol, later_id, earlier_id, b, a, hashes, salt=salt, commit=False)  # the delayed reveal
    claim = registry.challengeClaim(later_id)
    assert (claim.challenger, claim.prover) == (carol.address, carol.address)
    with ape.reverts(registry.DatasetRegistryNotFirstChallenge):  # a later commitment never takes it back
        challenge(attacker, later_id, earlier_id, b, a, hashes)
    chain.mine(1, deltatime=3601)
    with ape.reverts(registry.DatasetRegistryStakeGone):  # the claim period is over
        challenge(attacker, later_id, earlier_id, b, a, hashes)
    receipt = registry.claimChallengeReward(later_id, sender=attacker)
    assert registry.owed(carol, usd) == STAKE // 2 and registry.owed(attacker, usd) == 0
    assert registry.feesPending(usd) == STAKE // 2
    event = next(iter(receipt.events.filter(registry.DuplicateSlashed)))
    assert (event.challenger, event.reward, event.prover, event.proverReward) == (carol.address, STAKE // 2,
                                                                                  carol.address, 0)
    with ape.reverts(registry.DatasetRegistryNothingToClaim):
        registry.claimChallengeReward(later_id, sender=carol)


def test_challenge__threshold_changed_after_registration__the_registrations_threshold_applies(
        registry, register, pair, challenge, gov, carol, alice, usd):
    """Outside review F2: governance raising minDuplicateRows during a reveal period voided the challenges already
    committed and freed the copy; lowering it made honest datasets in their window slashable with fewer rows. The
    threshold is a term of the registration, like its window."""
    earlier_id, later_id, a, b = pair
    salt = os.urandom(32)
    hashes = merkle.shared_rows(b, a, MIN_DUPLICATE_ROWS)
    challenge(carol, later_id, earlier_id, b, a, hashes, salt=salt, reveal=False)
    registry.setMinDuplicateRows(MIN_DUPLICATE_ROWS + 1, sender=gov)
    assert registry.dataset(later_id).duplicateRows == MIN_DUPLICATE_ROWS
    challenge(carol, later_id, earlier_id, b, a, hashes, salt=salt, commit=False)  # the committed evidence counts
    assert registry.isDuplicate(later_id)
    later = register(alice, table(range(100, 130)))
    assert registry.dataset(later).duplicateRows == MIN_DUPLICATE_ROWS + 1  # new registrations take the new one


def test_challenge__more_rows_than_required__bad_evidence(registry, pair, challenge, carol, usd):
    """Evidence is exactly minDuplicateRows rows: a subset of someone's larger evidence cannot pass for other
    evidence (and earn a prover's share)."""
    earlier_id, later_id, a, b = pair
    shared = merkle.shared_rows(b, a)
    assert len(shared) > MIN_DUPLICATE_ROWS
    with ape.reverts(registry.DatasetRegistryBadEvidence, rows=len(shared), required=MIN_DUPLICATE_ROWS):
        challenge(carol, later_id, earlier_id, b, a, shared)
    assert registry.locked(usd) == 2 * STAKE and not registry.isDuplicate(later_id)


# ---------------------------------------------------------------- second outside review


def test_review2_h1__takeover_of_a_proven_duplicate__refused_the_copy_stays_flagged(project, deployer, gov, vault, usd,
                                                                                   devices, funded, alice, bob, carol,
                                                                                   attacker):
    """A copier seals a copy early, lets a Sybil register it under a later seal, gets it flagged, then takes it
    over with the earlier seal: the takeover would wipe the flag. The root is a copy whoever sealed it."""
    reg = project.DatasetRegistry.deploy(gov, vault, usd, devices, 20, STAKE, MAX_STAKE, DAY, MIN_DUPLICATE_ROWS,
                                         sender=deployer)
    for who in (alice, bob, carol, attacker):
        usd.approve(reg, 2**256 - 1, sender=who)
    zero = "0x0000000000000000000000000000000000000000"

    def seal(who, c, salt):
        reg.commit(reg.seal(who, c.root, salt), sender=who)

    def reveal(who, c, salt):
        reg.register((c.root, c.rows, c.schema_hash, "", zero, 0), salt, sender=who)
        return int(reg.datasetIdOf(c.root))

    original, copy = table(range(20)), table(range(10, 30))
    seal(alice, original, b"\x01" * 32)
    earlier_id = reveal(alice, original, b"\x01" * 32)
    seal(attacker, copy, b"\x02" * 32)  # the copier's earlier seal
    seal(bob, copy, b"\x03" * 32)
    later_id = reveal(bob, copy, b"\x03" * 32)  # its Sybil registers first, under a later seal
    hashes = merkle.shared_rows(copy, original, MIN_DUPLICATE_ROWS)
    reg.commitChallenge(reg.challengeCommitment(carol, later_id, earlier_id, hashes, b"\x04" * 32), sender=carol)
    reg.challengeDuplicate(later_id, earlier_id, hashes, [copy.proof(h) for h in hashes],
                           [original.proof(h) for h in hashes], b"\x04" * 32, sender=carol)
    assert reg.isDuplicate(later_id)
    with ape.reverts(reg.DatasetRegistryDuplicateRoot):
        reveal(attacker, copy, b"\x02" * 32)
    assert reg.isDuplicate(later_id) and reg.ownerOf(later_id) == bob.address


def test_review2_m2__first_prover_shares_the_reward_with_a_precommitted_self_challenge(registry, pair, challenge, chain,
                                                                                       carol, attacker, usd):
    """The copier's Sybil commits a self-challenge right after registering and reveals only once an honest hunter
    proved the copy: the honest prover still receives half of the challenger's part. The hunter's rows are its
    own draw from the overlap (the CLI samples them at random), so they are not the Sybil's evidence."""
    earlier_id, later_id, a, b = pair
    hashes = merkle.shared_rows(b, a, MIN_DUPLICATE_ROWS)
    salt = os.urandom(32)
    challenge(attacker, later_id, earlier_id, b, a, hashes, salt=salt, reveal=False)  # the Sybil's early commitment
    chain.mine(50)
    challenge(carol, later_id, earlier_id, b, a, merkle.shared_rows(b, a)[-MIN_DUPLICATE_ROWS:])  # proven first
    challenge(attacker, later_id, earlier_id, b, a, hashes, salt=salt, commit=False)  # the Sybil takes over
    claim = registry.challengeClaim(later_id)
    assert (claim.challenger, claim.prover) == (attacker.address, carol.address)
    chain.mine(1, deltatime=3601)
    registry.claimChallengeReward(later_id, sender=carol)
    assert registry.owed(carol, usd) == STAKE // 4 == registry.owed(attacker, usd)
    assert registry.feesPending(usd) == STAKE // 2


def test_review2_m2__a_sybil_that_precommitted_the_hunters_very_rows__takes_the_reward_copying_still_loses(
        registry, pair, challenge, chain, carol, attacker, usd):
    """The limit of crediting evidence to its earliest commitment: a Sybil that guessed the exact rows a hunter
    shows takes the challenger's half. The copier still loses the vault's half of its stake; the CLI draws its
    rows at random from the overlap so a guess is unlikely unless the overlap is the minimum itself."""
    earlier_id, later_id, a, b = pair
    hashes = merkle.shared_rows(b, a, MIN_DUPLICATE_ROWS)
    salt = os.urandom(32)
    challenge(attacker, later_id, earlier_id, b, a, hashes, salt=salt, reveal=False)
    chain.mine(5)
    challenge(carol, later_id, earlier_id, b, a, hashes)
    challenge(attacker, later_id, earlier_id, b, a, hashes, salt=salt, commit=False)
    chain.mine(1, deltatime=3601)
    registry.claimChallengeReward(later_id, sender=carol)
    assert registry.owed(attacker, usd) == STAKE // 2 and registry.owed(carol, usd) == 0
    assert registry.feesPending(usd) == STAKE // 2


def test_review2_l3__earlier_commitment_revealed_after_the_reveal_period_during_the_claim_period__wins(
        registry, pair, challenge, chain, carol, attacker, usd):
    """Two challengers found the same copy; the later commitment's reveal lands at the very end of the reveal
    period, the earlier one's a little after it: the claim period keeps reveals open, the earliest commitment wins."""
    earlier_id, later_id, a, b = pair
    hashes = merkle.shared_rows(b, a, MIN_DUPLICATE_ROWS)
    first, second = os.urandom(32), os.urandom(32)
    challenge(carol, later_id, earlier_id, b, a, hashes, salt=first, reveal=False)  # committed first
    challenge(attacker, later_id, earlier_id, b, a, hashes, salt=second, reveal=False)
    chain.pending_timestamp = int(registry.dataset(later_id).challengeEnds) + DAY
    challenge(attacker, later_id, earlier_id, b, a, hashes, salt=second, commit=False)
    chain.pending_timestamp += 60  # past the reveal period, inside the claim period
    challenge(carol, later_id, earlier_id, b, a, hashes, salt=first, commit=False)
    assert registry.challengeClaim(later_id).challenger == carol.address
    chain.pending_timestamp += 3_600
    with ape.reverts(registry.DatasetRegistryChallengeClosed):  # the claim period over: closed for good
        challenge(attacker, later_id, earlier_id, b, a, hashes)


def test_review2_l4__an_attestation_by_an_active_device__cannot_be_replaced(registry, register, devices, gov, alice,
                                                                             attacker, chain):
    from apiary.data import attest

    camera, other = attest.new_device_key(attest.KeyType.P256), attest.new_device_key(attest.KeyType.SECP256K1)
    for key in (camera, other):
        devices.register(int(key.key_type), *key.public, sender=gov)
    c = table(range(8))
    dataset_id = register(alice, c)

    def sign(key):
        digest = attest.attestation_digest(chain.chain_id, registry.address, c.root, c.rows, c.schema_hash)
        return key.sign(digest)

    registry.attest(dataset_id, camera.device_id, sign(camera), sender=alice)
    with ape.reverts(registry.DatasetRegistryAlreadyAttested):
        registry.attest(dataset_id, other.device_id, sign(other), sender=attacker)
    assert bytes(registry.dataset(dataset_id).device) == camera.device_id
    devices.retire(camera.device_id, sender=gov)  # the camera retired: another device may attest now
    registry.attest(dataset_id, other.device_id, sign(other), sender=attacker)
    assert registry.isAttested(dataset_id)
