"""ApiaryToken: fixed genesis supply, votes without a self-delegation step, explicit delegation, history."""

import ape
import pytest
from eth_account import Account
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from eth_account.messages import encode_typed_data

from apiary.deploy.config import ONE_TOKEN

ZERO = "0x0000000000000000000000000000000000000000"


def test_genesis__mints_fixed_allocation(token, whale, alice):
    assert token.totalSupply() == 7_000 * ONE_TOKEN
    assert token.balanceOf(whale) == 4_000 * ONE_TOKEN
    assert token.balanceOf(alice) == 1_000 * ONE_TOKEN
    assert token.name() == "Apiary" and token.symbol() == "APY" and token.decimals() == 18


def test_genesis__no_mint_function_exists(token):
    assert not any(abi.name.lower().startswith("mint") for abi in token.contract_type.mutable_methods)


def test_genesis__length_mismatch__reverts(project, create_token, alice, bob):
    with ape.reverts(project.ApiaryToken.ApiaryTokenAllocationLengthMismatch, holders=2, amounts=1):
        create_token([alice, bob], [1])


def test_genesis__empty__reverts(project, create_token):
    with ape.reverts(project.ApiaryToken.ApiaryTokenEmptyAllocation):
        create_token([], [])


def test_genesis__zero_amount__reverts(project, create_token, alice, bob):
    with ape.reverts(project.ApiaryToken.ApiaryTokenZeroAllocation, index=1):
        create_token([alice, bob], [1, 0])


def test_genesis__zero_address__reverts(project, create_token, alice):
    with ape.reverts(project.ApiaryToken.ERC20InvalidReceiver, receiver=ZERO):
        create_token([alice, ZERO], [1, 1])


def test_votes__count_without_delegating(token, alice):
    assert token.delegates(alice) == alice.address
    assert token.getVotes(alice) == 1_000 * ONE_TOKEN


def test_votes__follow_transfers_without_delegating(token, alice, attacker):
    token.transfer(attacker, 400 * ONE_TOKEN, sender=alice)
    assert token.getVotes(attacker) == 400 * ONE_TOKEN
    assert token.getVotes(alice) == 600 * ONE_TOKEN


def test_delegate__moves_all_votes_and_transfers_follow(token, alice, bob, carol):
    token.invoke_transaction("delegate", bob, sender=alice)
    assert token.delegates(alice) == bob.address
    assert token.getVotes(bob) == 2_000 * ONE_TOKEN
    assert token.getVotes(alice) == 0
    token.transfer(alice, 100 * ONE_TOKEN, sender=carol)
    assert token.getVotes(bob) == 2_100 * ONE_TOKEN
    assert token.getVotes(carol) == 900 * ONE_TOKEN


def test_delegate__to_zero_returns_votes_to_self(token, alice, bob):
    token.invoke_transaction("delegate", bob, sender=alice)
    token.invoke_transaction("delegate", ZERO, sender=alice)
    assert token.delegates(alice) == alice.address
    assert token.getVotes(alice) == 1_000 * ONE_TOKEN
    assert token.getVotes(bob) == 1_000 * ONE_TOKEN


def test_delegate__self_explicitly_is_a_no_op(token, alice):
    token.invoke_transaction("delegate", alice, sender=alice)
    assert token.getVotes(alice) == 1_000 * ONE_TOKEN


def test_delegate_by_sig__works(token, alice, bob, chain):
    signer = Account.create()
    token.transfer(signer.address, 10 * ONE_TOKEN, sender=alice)
    expiry = chain.pending_timestamp + 3600
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Delegation": [
                {"name": "delegatee", "type": "address"},
                {"name": "nonce", "type": "uint256"},
                {"name": "expiry", "type": "uint256"},
            ],
        },
        "primaryType": "Delegation",
        "domain": {"name": "Apiary", "version": "1", "chainId": chain.chain_id, "verifyingContract": token.address},
        "message": {"delegatee": bob.address, "nonce": 0, "expiry": expiry},
    }
    sig = Account.sign_message(encode_typed_data(full_message=typed), signer.key)
    token.delegateBySig(bob, 0, expiry, sig.v, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big"), sender=alice)
    assert token.delegates(signer.address) == bob.address
    assert token.getVotes(bob) == 1_010 * ONE_TOKEN


def test_permit__sets_allowance(token, alice, bob, chain):
    owner = Account.create()
    token.transfer(owner.address, 5 * ONE_TOKEN, sender=alice)
    deadline = chain.pending_timestamp + 3600
    typed = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": "Apiary", "version": "1", "chainId": chain.chain_id, "verifyingContract": token.address},
        "message": {"owner": owner.address, "spender": bob.address, "value": 5 * ONE_TOKEN, "nonce": 0, "deadline": deadline},
    }
    sig = Account.sign_message(encode_typed_data(full_message=typed), owner.key)
    token.permit(owner.address, bob, 5 * ONE_TOKEN, deadline, sig.v, sig.r.to_bytes(32, "big"), sig.s.to_bytes(32, "big"), sender=bob)
    assert token.allowance(owner.address, bob) == 5 * ONE_TOKEN


@pytest.fixture
def recorder(token, deployer, gov):
    """`gov` stands in for the fee vault: it announces record blocks (the token's owner names it)."""
    previous = token.recorder()
    token.setRecorder(gov, sender=deployer)
    yield gov
    token.setRecorder(previous, sender=deployer)


def test_past_balance__exact_at_each_announced_record_block(token, alice, bob, attacker, recorder, chain):
    first = chain.blocks.height + 3
    token.announceRecordBlock(first, sender=recorder)
    token.transfer(attacker, 100 * ONE_TOKEN, sender=alice)  # before the record block: counts
    chain.mine(first - chain.blocks.height - 1)
    token.transfer(attacker, 50 * ONE_TOKEN, sender=alice)  # in the record block itself: counts
    assert chain.blocks.height == first
    token.transfer(attacker, 200 * ONE_TOKEN, sender=alice)  # after it: does not
    token.transfer(bob, 10 * ONE_TOKEN, sender=attacker)
    second = chain.blocks.height + 5
    token.announceRecordBlock(second, sender=recorder)
    chain.mine(6)
    assert token.getPastBalance(alice, first) == 850 * ONE_TOKEN
    assert token.getPastBalance(attacker, first) == 150 * ONE_TOKEN
    assert token.getPastBalance(bob, first) == 1_000 * ONE_TOKEN
    # nothing changed between the two record blocks: the second reads today's balances
    assert token.getPastBalance(alice, second) == token.balanceOf(alice) == 650 * ONE_TOKEN
    assert token.getPastBalance(attacker, second) == 340 * ONE_TOKEN
    assert token.getPastBalance(bob, second) == 1_010 * ONE_TOKEN
    token.transfer(bob, 340 * ONE_TOKEN, sender=attacker)
    chain.mine()
    assert token.getPastBalance(attacker, second) == 340 * ONE_TOKEN and token.balanceOf(attacker) == 0
    assert token.getPastBalance(attacker, first) == 150 * ONE_TOKEN


def test_past_balance__out_of_order_announcements__each_exact(token, alice, bob, recorder, chain):
    now = chain.blocks.height
    token.announceRecordBlock(now + 10, sender=recorder)
    token.announceRecordBlock(now + 4, sender=recorder)  # a later proposal with an earlier record block
    token.announceRecordBlock(now + 4, sender=recorder)  # twice: one record
    chain.mine(now + 5 - chain.blocks.height)
    token.transfer(bob, 1 * ONE_TOKEN, sender=alice)  # after the earlier one, before the later one
    chain.mine(10)
    assert token.getPastBalance(alice, now + 4) == 1_000 * ONE_TOKEN
    assert token.getPastBalance(alice, now + 10) == 999 * ONE_TOKEN
    assert token.isRecordBlock(now + 4) and token.isRecordBlock(now + 10) and not token.isRecordBlock(now + 5)


def test_past_balance__not_a_record_block__reverts(token, alice, chain):
    chain.mine(2)
    past = chain.blocks.height - 1
    with ape.reverts(token.ApiaryTokenNotARecordBlock, timepoint=past):
        token.getPastBalance(alice, past)


def test_records__only_the_recorder_announces__only_ahead__at_most_eight_ahead(token, deployer, attacker, recorder,
                                                                                 chain):
    now = chain.blocks.height
    with ape.reverts(token.ApiaryTokenNotRecorder, caller=attacker.address):
        token.announceRecordBlock(now + 5, sender=attacker)
    here = chain.blocks.height + 1  # the block the next transaction lands in
    with ape.reverts(token.ApiaryTokenRecordBlockNotAhead, recordBlock=here, current=here, maxLead=50_400):
        token.announceRecordBlock(here, sender=recorder)
    here = chain.blocks.height + 1
    with ape.reverts(token.ApiaryTokenRecordBlockNotAhead, recordBlock=here + 50_401, current=here):
        token.announceRecordBlock(here + 50_401, sender=recorder)  # a wrong recorder holds slots a week at most
    for i in range(token.MAX_PENDING_RECORDS()):
        token.announceRecordBlock(now + 100 + i, sender=recorder)
    with ape.reverts(token.ApiaryTokenTooManyPendingRecords, max=8):
        token.announceRecordBlock(now + 200, sender=recorder)
    with ape.reverts(token.OwnableUnauthorizedAccount, account=attacker.address):
        token.setRecorder(attacker, sender=attacker)
    with ape.reverts(token.ApiaryTokenCannotRenounceOwnership):
        token.renounceOwnership(sender=deployer)


def test_deployed__timelock_owns_the_token__the_vault_records(core):
    assert core.token.owner() == core.timelock.address and core.token.recorder() == core.vault.address


ACTORS = 4


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(st.one_of(
    st.tuples(st.just("transfer"), st.integers(0, ACTORS - 1), st.integers(0, ACTORS - 1), st.integers(0, 100)),
    st.tuples(st.just("announce"), st.integers(1, 4)),
    st.tuples(st.just("mine"), st.integers(1, 3)),
), min_size=1, max_size=30))
def test_past_balance__equals_a_naive_history_at_every_record_block(token, whale, alice, bob, carol, recorder, chain,
                                                                     steps):
    """Property: against a model that keeps every account's balance at the end of every block, getPastBalance
    at every announced record block that has passed is exact, whatever the order of transfers (in the record
    block itself, right after it, self-transfers, none), announcements (out of order too) and empty blocks."""
    actors = [whale, alice, bob, carol]
    snap = chain.snapshot()
    try:
        balances = {a.address: token.balanceOf(a) for a in actors}
        at_end = {chain.blocks.height: dict(balances)}  # block -> balances at its end (blocks with a change)
        records: set[int] = set()
        pending = lambda: sum(1 for r in records if r >= chain.blocks.height + 1)  # noqa: E731

        def landed(receipt):
            at_end[receipt.block_number] = dict(balances)

        for step in steps:
            if step[0] == "transfer":
                _, i, j, percent = step
                sender, receiver = actors[i], actors[j]
                amount = balances[sender.address] * percent // 100
                balances[sender.address] -= amount
                balances[receiver.address] += amount
                landed(token.transfer(receiver, amount, sender=sender))
            elif step[0] == "announce":
                block = chain.blocks.height + 1 + step[1]
                if block in records or pending() < 8:
                    landed(token.announceRecordBlock(block, sender=recorder))
                    records.add(block)
            else:
                chain.mine(step[1])
        chain.mine(6)
        height = chain.blocks.height
        for record in sorted(records):
            assert record < height
            state = at_end[max(b for b in at_end if b <= record)]
            for a in actors:
                assert token.getPastBalance(a, record) == state[a.address], (a, record)
    finally:
        chain.restore(snap)


def test_past_balance__future_lookup__reverts(token, alice, chain):
    now = token.clock()
    with ape.reverts(token.ERC5805FutureLookup, timepoint=now, clock=now):
        token.getPastBalance(alice, now)
