"""ApiaryToken: fixed genesis supply, votes without a self-delegation step, explicit delegation, history."""

import ape
from eth_account import Account
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


def test_past_balance__is_fixed_at_each_block(token, alice, attacker, chain):
    before = chain.blocks.height
    chain.mine()
    token.transfer(attacker, 300 * ONE_TOKEN, sender=alice)
    after = chain.blocks.height
    chain.mine()
    assert token.getPastBalance(alice, before) == 1_000 * ONE_TOKEN
    assert token.getPastBalance(attacker, before) == 0
    assert token.getPastBalance(attacker, after) == 300 * ONE_TOKEN
    assert token.getPastBalance(alice, after) == 700 * ONE_TOKEN


def test_past_balance__future_lookup__reverts(token, alice, chain):
    now = token.clock()
    with ape.reverts(token.ERC5805FutureLookup, timepoint=now, clock=now):
        token.getPastBalance(alice, now)
