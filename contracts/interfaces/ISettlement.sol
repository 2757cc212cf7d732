// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IFeeVault} from "./IFeeVault.sol";

/// @title Settlement base shared by every market (bounties, data licences, compute jobs)
/// @notice How a market holds and pays out money:
///
/// * **Credit what arrives.** Funds enter only through `_collect`, which credits the balance delta, never the
///   nominal amount (fee-on-transfer tokens), and refuses a transfer that delivers nothing.
/// * **Per-token escrow ledgers.** For every token the market keeps four numbers: `locked` (funds of open
///   items), `owed` (credits payees have not withdrawn yet), `feesPending` (protocol fees not yet pushed to
///   the vault) and `burned` (penalties nobody may receive: kept by the market for good, no function moves
///   them). `escrowed(token) = locked + owed + feesPending + burned` is what the market accounts for; it never
///   reads `balanceOf(this)` for accounting, so tokens sent directly change nothing — until governance
///   `sweepSurplus`es them (a donation, a positive rebase) to the fee vault as fees: nothing stays stuck.
/// * **Pull payouts.** Settling an item only moves numbers between the ledgers; every transfer out is a
///   `withdraw` by the payee itself, so a payee that reverts, or that a token blocklists, blocks nobody else.
/// * **Fees credited, pushed separately.** A fee is accrued to `feesPending`; anyone may `flushFees` it to the
///   fee vault later. A token that refuses transfers to the vault (blocklist, pause) makes `flushFees` fail and
///   nothing else: no payee and no refund ever waits for the vault.
/// * **Fee rate fixed per item.** A market reads `vault.feeBps()` when the payer commits funds, stores it
///   with the item and charges `ceil(amount × feeBps / 10 000)` at settlement: raising the rate later never cuts a
///   promised payout.
///
/// * **Penalties burned, not redistributed.** A penalty that would profit whoever receives it (a sponsor who is
///   also a fee-vault shareholder, a committer who is the sponsor's Sybil) is burned: `_burnLocked`.
///
/// Ledger invariant (for every token, after every call): `locked == Σ amounts of open items` and
/// `escrowed == locked + Σ owed + feesPending + burned ≤ token.balanceOf(market)` (the last inequality can only break for
/// tokens that burn or rebase balances they do not own). `tests/invariants/settlement.py` checks it against any market.
interface ISettlement {
    /// @notice Thrown when a zero address is given where a contract or account is required.
    error SettlementZeroAddress();
    /// @notice Thrown when a transfer into the market delivered nothing (`nominal` was asked for).
    error SettlementNothingReceived(IERC20 token, uint256 nominal);
    /// @notice Thrown when `account` has no credit in `token`.
    error SettlementNothingToWithdraw(address account, IERC20 token);
    /// @notice Thrown when there are no pending fees in `token` to push to the vault.
    error SettlementNoFeesPending(IERC20 token);
    /// @notice Thrown when sweeping a token whose balance holds nothing beyond what the market accounts for.
    error SettlementNoSurplus(IERC20 token);
    /// @notice Thrown when anyone but the vault (on its owner's, governance's, call) sweeps a surplus.
    error SettlementNotVault(address caller);

    /// @notice `amount` of `token` arrived from `from` and is locked for an item.
    event Collected(IERC20 indexed token, address indexed from, uint256 nominal, uint256 amount);
    /// @notice `amount` of `token` was credited to `account` (withdraw it with `withdraw`).
    event Credited(address indexed account, IERC20 indexed token, uint256 amount);
    /// @notice `amount` of `token` is owed to the fee vault (push it with `flushFees`).
    event FeeAccrued(IERC20 indexed token, uint256 amount);
    /// @notice `amount` of `token` was burned as a penalty: it stays in the market for good.
    event Burned(IERC20 indexed token, uint256 amount);
    /// @notice Pending fees of `amount` were deposited into the fee vault, which credited `credited` (less for
    /// fee-on-transfer tokens).
    event FeesFlushed(IERC20 indexed token, uint256 amount, uint256 credited);
    /// @notice Tokens the market held beyond its ledger (sent directly, or a positive rebase) became fees.
    event SurplusSwept(IERC20 indexed token, uint256 amount);
    /// @notice `account` withdrew its credit of `amount` in `token`.
    event Withdrawn(address indexed account, IERC20 indexed token, uint256 amount);

    /// @notice The fee vault every fee goes to.
    function vault() external view returns (IFeeVault);

    /// @notice Transfers everything credited to the caller in `token` to the caller.
    function withdraw(IERC20 token) external returns (uint256 amount);

    /// @notice Pushes every pending fee in `token` to the vault. Anyone may call it; if the token refuses the
    /// transfer, the fees stay pending and nothing else is affected.
    function flushFees(IERC20 token) external returns (uint256 amount);

    /// @notice Accrues `token.balanceOf(this) − escrowed(token)` (tokens nobody is owed: sent directly, or a
    /// positive rebase), at most `maxAmount`, to the fees pending for the vault. Called by the vault only, on
    /// governance's `FeeVault.sweepMarketSurplus`: the balance is the one input the ledger does not control (a
    /// token with a second entry point, a rebase inflated for one transaction), so it is swept by a vote, capped
    /// at the amount voted.
    function sweepSurplus(IERC20 token, uint256 maxAmount) external returns (uint256 amount);

    /// @notice What the market accounts for in `token`: locked + owed + feesPending + burned.
    function escrowed(IERC20 token) external view returns (uint256);

    /// @notice Funds of open items in `token`.
    function locked(IERC20 token) external view returns (uint256);

    /// @notice Credit of `account` in `token`, withdrawable now.
    function owed(address account, IERC20 token) external view returns (uint256);

    /// @notice Sum of all accounts' credits in `token`.
    function totalOwed(IERC20 token) external view returns (uint256);

    /// @notice Fees in `token` accrued and not yet pushed to the vault.
    function feesPending(IERC20 token) external view returns (uint256);

    /// @notice Penalties in `token` burned: held by the market for good, payable to nobody.
    function burned(IERC20 token) external view returns (uint256);
}
