"""FeeVault: fee schedule, deposits of weird tokens, governance-only spending, pro-rata distributions."""

import ape
import pytest
from eth_abi import encode
from eth_utils import keccak


ZERO = "0x0000000000000000000000000000000000000000"
DAY = 24 * 3600
REENTRANT_CALL = keccak(text="ReentrancyGuardReentrantCall()")[:4]


def route(vault, token, amount, period, gov):
    """Route fees to holders with the record block two blocks ahead (as a proposal announces it), then let it pass."""
    receipt = vault.distribute(token, amount, period, ape.chain.blocks.height + 2, sender=gov)
    ape.chain.mine(2)  # the head is past the record block: views and transactions both see claims open
    vault.openClaims(vault.distributionCount() - 1, sender=gov)  # anyone may; the window starts now
    return receipt


def fund_and_deposit(vault, token, payer, amount):
    token.mint(payer, amount, sender=payer)
    token.approve(vault, amount, sender=payer)
    return vault.depositFee(token, amount, sender=payer)


def ledger_total(vault, token):
    return vault.unallocated(token) + vault.reserved(token)


# ---------------------------------------------------------------- fee schedule


def test_constructor__cap_above_denominator__reverts(project, token, deployer, gov):
    with ape.reverts(project.FeeVault.FeeVaultCapAboveDenominator, maxFeeBps=10_001, denominator=10_000):
        project.FeeVault.deploy(gov, token, 10_001, 0, sender=deployer)


def test_constructor__initial_fee_above_cap__reverts(project, token, deployer, gov):
    with ape.reverts(project.FeeVault.FeeVaultFeeAboveCap, feeBps=501, maxFeeBps=500):
        project.FeeVault.deploy(gov, token, 500, 501, sender=deployer)


def test_constructor__zero_owner__reverts(project, token, deployer):
    with ape.reverts(project.FeeVault.OwnableInvalidOwner, owner=ZERO):
        project.FeeVault.deploy(ZERO, token, 500, 100, sender=deployer)


def test_constructor__zero_share_token__reverts(project, deployer, gov):
    with ape.reverts(project.FeeVault.FeeVaultZeroAddress):
        project.FeeVault.deploy(gov, ZERO, 500, 100, sender=deployer)


def test_set_fee__by_owner__updates_and_emits(vault, gov):
    receipt = vault.setFeeBps(250, sender=gov)
    assert vault.feeBps() == 250
    assert receipt.events == [vault.FeeRateChanged(oldFeeBps=100, newFeeBps=250)]


def test_set_fee__at_cap__ok(vault, gov):
    vault.setFeeBps(1_000, sender=gov)
    assert vault.feeBps() == vault.maxFeeBps() == 1_000


def test_set_fee__above_cap__reverts(vault, gov):
    with ape.reverts(vault.FeeVaultFeeAboveCap, feeBps=1_001, maxFeeBps=1_000):
        vault.setFeeBps(1_001, sender=gov)
    assert vault.feeBps() == 100


@pytest.mark.parametrize("who", ["attacker", "deployer", "alice"])
def test_set_fee__by_non_owner__reverts(vault, request, who):
    account = request.getfixturevalue(who)
    with ape.reverts(vault.OwnableUnauthorizedAccount, account=account.address):
        vault.setFeeBps(0, sender=account)
    assert vault.feeBps() == 100


def test_fee_on__rounds_up_in_protocol_favour(vault, gov):
    assert vault.feeOn(10_000) == 100  # exact
    assert vault.feeOn(1) == 1  # 0.01 rounds up to 1
    assert vault.feeOn(101) == 2  # 1.01 rounds up to 2
    assert vault.feeOn(0) == 0
    assert vault.split(101) == (2, 99)
    vault.setFeeBps(0, sender=gov)
    assert vault.feeOn(10**30) == 0


def test_fee_on__never_exceeds_amount_at_full_cap(project, token, deployer, gov):
    full = project.FeeVault.deploy(gov, token, 10_000, 10_000, sender=deployer)
    assert full.split(12345) == (12345, 0)


def test_renounce_ownership__reverts(vault, gov):
    with ape.reverts(vault.FeeVaultCannotRenounceOwnership):
        vault.renounceOwnership(sender=gov)
    assert vault.owner() == gov.address


# ---------------------------------------------------------------- deposits and weird tokens


def test_deposit__credits_unallocated(vault, usd, alice):
    receipt = fund_and_deposit(vault, usd, alice, 500)
    assert vault.unallocated(usd) == 500
    assert usd.balanceOf(vault) == 500
    assert vault.FeeDeposited(token=usd, nominal=500, received=500) in receipt.events


def test_deposit__zero_amount__reverts(vault, usd, alice):
    with ape.reverts(vault.FeeVaultZeroAmount):
        vault.depositFee(usd, 0, sender=alice)


def test_deposit__zero_token__reverts(vault, alice):
    with ape.reverts(vault.FeeVaultZeroAddress):
        vault.depositFee(ZERO, 1, sender=alice)


def test_deposit__fee_on_transfer__credits_only_received(vault, create_erc20, alice):
    fot = create_erc20("FeeOnTransferToken", 300)  # 3% taken on every transfer
    receipt = fund_and_deposit(vault, fot, alice, 10_000)
    assert vault.unallocated(fot) == 9_700
    assert fot.balanceOf(vault) == 9_700
    assert vault.FeeDeposited(token=fot, nominal=10_000, received=9_700) in receipt.events


def test_deposit__returns_false__reverts_and_credits_nothing(vault, create_erc20, alice):
    bad = create_erc20("FalseReturnToken")
    bad.mint(alice, 100, sender=alice)
    bad.approve(vault, 100, sender=alice)
    with ape.reverts(vault.SafeERC20FailedOperation, token=bad.address):
        vault.depositFee(bad, 100, sender=alice)
    assert vault.unallocated(bad) == 0
    assert bad.balanceOf(alice) == 100


def test_deposit__no_return_value__works(vault, create_erc20, alice, gov, bob):
    usdt = create_erc20("NoReturnToken")
    fund_and_deposit(vault, usdt, alice, 700)
    assert vault.unallocated(usdt) == 700
    vault.spend(usdt, bob, 200, sender=gov)
    assert usdt.balanceOf(bob) == 200
    assert vault.unallocated(usdt) == 500 == usdt.balanceOf(vault)


def test_deposit__reverting_token__reverts_and_credits_nothing(vault, create_erc20, alice):
    rev = create_erc20("RevertingToken")
    rev.mint(alice, 100, sender=alice)
    rev.approve(vault, 100, sender=alice)
    rev.setReverting(True, sender=alice)
    with ape.reverts(rev.RevertingTokenBlocked):
        vault.depositFee(rev, 100, sender=alice)
    assert vault.unallocated(rev) == 0


def test_deposit__token_that_delivers_nothing__reverts(vault, create_erc20, alice):
    fot = create_erc20("FeeOnTransferToken", 10_000)  # burns everything in flight
    fot.mint(alice, 100, sender=alice)
    fot.approve(vault, 100, sender=alice)
    with ape.reverts(vault.FeeVaultNothingReceived, token=fot.address, nominal=100):
        vault.depositFee(fot, 100, sender=alice)


def test_direct_transfer__changes_no_accounting(vault, usd, alice, gov, bob):
    fund_and_deposit(vault, usd, alice, 100)
    usd.mint(alice, 55, sender=alice)
    usd.transfer(vault, 55, sender=alice)
    assert vault.unallocated(usd) == 100
    assert vault.surplus(usd) == 55
    # Governance cannot spend the surplus as fees; it can only sweep it explicitly.
    with ape.reverts(vault.FeeVaultInsufficientFees, token=usd.address, requested=101, available=100):
        vault.spend(usd, bob, 101, sender=gov)
    vault.sweepSurplus(usd, bob, sender=gov)
    assert usd.balanceOf(bob) == 55
    assert vault.surplus(usd) == 0
    assert usd.balanceOf(vault) == ledger_total(vault, usd) == 100


def test_direct_eth__is_rejected(vault, alice):
    with ape.reverts():
        alice.transfer(vault, 1)
    assert vault.balance == 0


def test_sweep__nothing__reverts(vault, usd, gov, bob):
    with ape.reverts(vault.FeeVaultNoSurplus, token=usd.address):
        vault.sweepSurplus(usd, bob, sender=gov)


def test_sweep__by_non_owner__reverts(vault, usd, attacker):
    with ape.reverts(vault.OwnableUnauthorizedAccount, account=attacker.address):
        vault.sweepSurplus(usd, attacker, sender=attacker)


# ---------------------------------------------------------------- spending


def test_spend__by_owner__pays_and_debits(vault, usd, alice, gov, bob):
    fund_and_deposit(vault, usd, alice, 1_000)
    receipt = vault.spend(usd, bob, 400, sender=gov)
    assert usd.balanceOf(bob) == 400
    assert vault.unallocated(usd) == 600
    assert vault.FeesSpent(token=usd, to=bob, amount=400) in receipt.events


def test_spend__more_than_unallocated__reverts(vault, usd, alice, gov, bob):
    fund_and_deposit(vault, usd, alice, 1_000)
    with ape.reverts(vault.FeeVaultInsufficientFees, token=usd.address, requested=1_001, available=1_000):
        vault.spend(usd, bob, 1_001, sender=gov)
    assert vault.unallocated(usd) == 1_000


def test_spend__zero_or_to_zero__reverts(vault, usd, alice, gov):
    fund_and_deposit(vault, usd, alice, 1_000)
    with ape.reverts(vault.FeeVaultZeroAmount):
        vault.spend(usd, alice, 0, sender=gov)
    with ape.reverts(vault.FeeVaultZeroAddress):
        vault.spend(usd, ZERO, 1, sender=gov)


@pytest.mark.parametrize("fn,args", [("spend", (1,)), ("distribute", (1, 7 * DAY, 10**6))])
def test_governance_only__direct_call__reverts(vault, usd, alice, attacker, fn, args):
    fund_and_deposit(vault, usd, alice, 1_000)
    if fn == "spend":
        call_args = (usd, attacker, *args)
    else:
        call_args = (usd, *args)
    with ape.reverts(vault.OwnableUnauthorizedAccount, account=attacker.address):
        getattr(vault, fn)(*call_args, sender=attacker)
    assert vault.unallocated(usd) == 1_000


def test_spend__reentrancy_through_token__blocked(vault, create_erc20, alice, gov, bob):
    evil = create_erc20("ReentrantToken")
    fund_and_deposit(vault, evil, alice, 1_000)
    # On the payout transfer the token calls back into the vault to deposit again (any entry point is guarded).
    evil.mint(evil, 10, sender=alice)
    evil.arm(vault, vault.depositFee.encode_input(evil, 10), sender=alice)
    vault.spend(evil, bob, 100, sender=gov)
    assert evil.attempted()
    assert not evil.reentered()
    assert evil.lastReturnData() == REENTRANT_CALL
    assert vault.unallocated(evil) == 900 == evil.balanceOf(vault)


# ---------------------------------------------------------------- distributions


@pytest.fixture
def routed(vault, usd, alice, gov, chain):
    """1_000_000 units of fees routed to holders (whale 4/7, alice/bob/carol 1/7 each)."""
    fund_and_deposit(vault, usd, alice, 1_000_000)
    chain.mine()
    route(vault, usd, 700_000, 7 * DAY, gov)
    return 0


def test_distribute__reserves_and_snapshots(vault, usd, routed, token, alice):
    d = vault.distribution(routed)
    assert d.amount == 700_000 and d.claimed == 0 and not d.reclaimed
    assert d.supply == 0  # read at the first claim, once the record block has passed
    assert vault.reserved(usd) == 700_000
    assert vault.unallocated(usd) == 300_000
    vault.claim(routed, sender=alice)
    assert vault.distribution(routed).supply == token.getPastTotalSupply(d.snapshot) == token.totalSupply()


def test_claim__pays_pro_rata_once(vault, usd, routed, alice, whale):
    assert vault.claimable(routed, alice) == 100_000
    vault.claim(routed, sender=alice)
    vault.claim(routed, sender=whale)
    assert usd.balanceOf(whale) == 400_000
    assert usd.balanceOf(alice) == 100_000
    assert vault.reserved(usd) == 200_000
    assert vault.claimable(routed, alice) == 0


def test_claim__twice__reverts(vault, usd, routed, alice):
    vault.claim(routed, sender=alice)
    with ape.reverts(vault.FeeVaultAlreadyClaimed, id=routed, account=alice.address):
        vault.claim(routed, sender=alice)
    assert usd.balanceOf(alice) == 100_000


def test_claim__after_transfer__new_owner_gets_nothing(vault, usd, routed, token, alice, attacker):
    # Alice sells after the routing; the buyer earns nothing, Alice keeps her share.
    token.transfer(attacker, token.balanceOf(alice), sender=alice)
    with ape.reverts(vault.FeeVaultNothingToClaim, id=routed, account=attacker.address):
        vault.claim(routed, sender=attacker)
    vault.claim(routed, sender=alice)
    assert usd.balanceOf(alice) == 100_000


def test_claim__before_the_record_block_passed__reverts(vault, usd, alice, gov, chain):
    fund_and_deposit(vault, usd, alice, 1_000)
    record = chain.blocks.height + 3
    vault.distribute(usd, 1_000, 7 * DAY, record, sender=gov)
    assert vault.claimable(0, alice) == 0
    with ape.reverts(vault.FeeVaultRecordBlockNotPassed, id=0, recordBlock=record):
        vault.claim(0, sender=alice)  # before the record block: balances there may still change
    chain.mine(max(0, record - chain.blocks.height))
    vault.claim(0, sender=alice)  # lands after it
    assert usd.balanceOf(alice) == 1_000 // 7


def test_claim__tokens_bought_after_the_record_block__earn_nothing(vault, usd, token, alice, gov, attacker, chain):
    fund_and_deposit(vault, usd, alice, 7_000)
    record = chain.blocks.height + 2
    vault.distribute(usd, 7_000, 7 * DAY, record, sender=gov)
    chain.mine(max(0, record - chain.blocks.height))
    token.transfer(attacker, token.balanceOf(alice), sender=alice)  # the block after the record block
    assert vault.distribution(0).snapshot == record
    with ape.reverts(vault.FeeVaultNothingToClaim, id=0, account=attacker.address):
        vault.claim(0, sender=attacker)
    vault.claim(0, sender=alice)  # alice held at the record block, and is paid although she sold since
    assert usd.balanceOf(alice) == 1_000


def test_finding8__nobody_chooses_the_record_block_after_the_fact(vault, usd, token, alice, gov, attacker, chain):
    """Finding 8: the snapshot used to be the block before `execute`, so whoever ran the permissionless execute
    could buy one block earlier and take a share; a snapshot named by the proposal but in the past would let the
    proposer name a block where only it knew to hold. Now the record block is announced in the proposal and must
    still lie ahead when it executes: a past block is refused, and the executor's timing changes nothing."""
    fund_and_deposit(vault, usd, alice, 7_000)
    lent = token.balanceOf(alice)
    token.transfer(attacker, lent, sender=alice)  # block X: the attacker holds for one block
    held_at = chain.blocks.height
    token.transfer(alice, lent, sender=attacker)
    chain.mine(30)  # vote, queue, timelock delay
    with ape.reverts(vault.FeeVaultBadRecordBlock, recordBlock=held_at, maxLead=50_400):
        vault.distribute(usd, 7_000, 7 * DAY, held_at, sender=gov)
    record = chain.blocks.height + 5  # what the proposal announced, ahead of its execution
    chain.mine(2)  # executed later by anyone: the record block is the same whoever executes, whenever
    vault.distribute(usd, 7_000, 7 * DAY, record, sender=gov)
    chain.mine(record - chain.blocks.height + 1)
    assert vault.claimable(0, attacker) == 0 and vault.claimable(0, alice) == 1_000


def test_claim_window__opens_after_a_far_record_block__not_at_routing(vault, usd, alice, bob, gov, chain):
    """Attack review A6: with the window counted from routing, a record block further ahead than the claim
    period voided the distribution. The window now opens after the record block."""
    fund_and_deposit(vault, usd, alice, 7_000)
    record = chain.blocks.height + 100
    vault.distribute(usd, 7_000, DAY, record, sender=gov)
    assert vault.distribution(0).deadline == 0
    with ape.reverts(vault.FeeVaultRecordBlockNotPassed, id=0, recordBlock=record):
        vault.openClaims(0, sender=bob)
    with ape.reverts(vault.FeeVaultClaimsNotOpened, id=0):
        vault.reclaim(0, sender=bob)
    chain.mine(100, timestamp=chain.pending_timestamp + 3 * DAY)  # further than the 1-day claim period
    receipt = vault.openClaims(0, sender=bob)
    deadline = vault.distribution(0).deadline
    assert deadline == receipt.timestamp + DAY
    assert vault.ClaimsOpened(id=0, deadline=deadline) in receipt.events
    assert vault.openClaims(0, sender=bob).return_value == deadline  # idempotent
    vault.claim(0, sender=alice)
    assert usd.balanceOf(alice) == 1_000


@pytest.mark.parametrize("where", ["now", "past", "too_far"])
def test_distribute__record_block_not_ahead_or_too_far__reverts(vault, usd, alice, gov, chain, where):
    fund_and_deposit(vault, usd, alice, 100)
    clock = chain.blocks.height + 1  # the clock value the distribute transaction runs at
    record = {"now": clock, "past": clock - 1, "too_far": clock + 50_401}[where]
    with ape.reverts(vault.FeeVaultBadRecordBlock, recordBlock=record, clock=clock, maxLead=50_400):
        vault.distribute(usd, 100, DAY, record, sender=gov)


def test_claim__flash_loan__earns_nothing(project, vault, usd, token, routed, whale, attacker, deployer):
    lender = project.FlashLender.deploy(sender=deployer)
    token.transfer(lender, token.balanceOf(whale), sender=whale)
    borrower = project.FlashBorrower.deploy(lender, sender=attacker)
    data = encode(["address", "bytes"], [vault.address, bytes(vault.claim.encode_input(routed))])
    lender.flashLoan(token, token.balanceOf(lender), borrower, data, sender=attacker)
    assert not borrower.innerOk()
    assert usd.balanceOf(borrower) == 0
    assert vault.reserved(usd) == 700_000


def test_claim__after_deadline__reverts(vault, usd, routed, alice, chain):
    deadline = vault.distribution(routed).deadline
    chain.mine(1, timestamp=deadline + 1)
    with ape.reverts(vault.FeeVaultClaimPeriodOver, id=routed, deadline=deadline):
        vault.claim(routed, sender=alice)


def test_claim__unknown_id__reverts(vault, alice):
    with ape.reverts(vault.FeeVaultUnknownDistribution, id=3):
        vault.claim(3, sender=alice)


def test_reclaim__returns_unclaimed_once(vault, usd, routed, alice, attacker, chain):
    vault.claim(routed, sender=alice)
    with ape.reverts(vault.FeeVaultClaimPeriodRunning, id=routed, deadline=vault.distribution(routed).deadline):
        vault.reclaim(routed, sender=attacker)
    chain.mine(1, timestamp=vault.distribution(routed).deadline + 1)
    vault.reclaim(routed, sender=attacker)  # permissionless: it only moves ledger entries back to governance
    assert vault.reserved(usd) == 0
    assert vault.unallocated(usd) == 300_000 + 600_000
    with ape.reverts(vault.FeeVaultAlreadyReclaimed, id=routed):
        vault.reclaim(routed, sender=attacker)
    assert ledger_total(vault, usd) == usd.balanceOf(vault)


def test_reclaim__rounding_dust_is_not_lost(vault, usd, alice, bob, carol, whale, gov, chain):
    fund_and_deposit(vault, usd, alice, 10)
    chain.mine()
    route(vault, usd, 10, DAY, gov)  # 10 * 1/7 and 10 * 4/7 do not divide evenly
    for holder in (alice, bob, carol, whale):
        vault.claim(0, sender=holder)
    paid = sum(usd.balanceOf(h) for h in (alice, bob, carol, whale))
    assert paid == 1 + 1 + 1 + 5  # floor of each share
    chain.mine(1, timestamp=vault.distribution(0).deadline + 1)
    vault.reclaim(0, sender=alice)
    assert vault.unallocated(usd) == 10 - paid


def test_distribute__more_than_unallocated__reverts(vault, usd, alice, gov):
    fund_and_deposit(vault, usd, alice, 100)
    with ape.reverts(vault.FeeVaultInsufficientFees, token=usd.address, requested=101, available=100):
        vault.distribute(usd, 101, DAY, ape.chain.blocks.height + 2, sender=gov)


@pytest.mark.parametrize("period", [0, 24 * 3600 - 1, 365 * 24 * 3600 + 1, 2**200])
def test_distribute__absurd_claim_period__reverts(vault, usd, alice, gov, period):
    fund_and_deposit(vault, usd, alice, 100)
    with ape.reverts(vault.FeeVaultInvalidClaimPeriod, claimPeriod=period, minPeriod=DAY, maxPeriod=365 * DAY):
        vault.distribute(usd, 100, period, ape.chain.blocks.height + 2, sender=gov)


def test_claim__reentrancy_through_token__blocked(vault, create_erc20, alice, gov, chain):
    evil = create_erc20("ReentrantToken")
    fund_and_deposit(vault, evil, alice, 7_000)
    chain.mine()
    route(vault, evil, 7_000, DAY, gov)
    # Alice's payout transfer calls back into claim for the same distribution.
    evil.arm(vault, vault.claim.encode_input(0), sender=alice)
    vault.claim(0, sender=alice)
    assert evil.attempted() and not evil.reentered()
    assert evil.lastReturnData() == REENTRANT_CALL
    assert evil.balanceOf(alice) == 1_000
    assert vault.distribution(0).claimed == 1_000
    assert vault.reserved(evil) == 6_000 == evil.balanceOf(vault)


def test_claim__reverting_payee_token_blocks_only_itself(vault, create_erc20, alice, bob, gov, chain):
    rev = create_erc20("RevertingToken")
    fund_and_deposit(vault, rev, alice, 7_000)
    chain.mine()
    route(vault, rev, 7_000, DAY, gov)
    rev.setReverting(True, sender=alice)
    with ape.reverts(rev.RevertingTokenBlocked):
        vault.claim(0, sender=bob)
    assert not vault.hasClaimed(0, bob)
    rev.setReverting(False, sender=alice)
    vault.claim(0, sender=bob)  # nothing was lost while the token was blocked
    assert rev.balanceOf(bob) == 1_000
