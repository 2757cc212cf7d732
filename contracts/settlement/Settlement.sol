// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {ISettlement} from "../interfaces/ISettlement.sol";
import {IFeeVault} from "../interfaces/IFeeVault.sol";

/// @title Settlement
/// @notice See {ISettlement}. Abstract: a market inherits it, calls `_collect` when a payer commits funds,
/// `_payOut`/`_refundLocked`/`_burnLocked` when an item settles, and never transfers tokens itself.
/// @dev Ledger invariant, per token: `_locked + _totalOwed + _feesPending + _burned == escrowed` and `_locked`
/// equals the sum over the market's open items. Every state change below keeps both; the markets' state machines check them.
abstract contract Settlement is ISettlement, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @dev The vault's basis-point denominator (IFeeVault.BPS_DENOMINATOR).
    uint256 internal constant _BPS = 10_000;

    /*//////////////////////////////////////////////////////////////
                          IMMUTABLES AND STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISettlement
    IFeeVault public immutable vault;

    mapping(IERC20 token => uint256) private _locked;
    mapping(IERC20 token => uint256) private _totalOwed;
    mapping(IERC20 token => uint256) private _feesPending;
    mapping(IERC20 token => uint256) private _burned;
    mapping(address account => mapping(IERC20 token => uint256)) private _owed;

    constructor(IFeeVault vault_) {
        if (address(vault_) == address(0)) revert SettlementZeroAddress();
        vault = vault_;
    }

    /*//////////////////////////////////////////////////////////////
                              PAYOUTS (PULL)
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISettlement
    function withdraw(IERC20 token) external nonReentrant returns (uint256 amount) {
        amount = _owed[msg.sender][token];
        if (amount == 0) revert SettlementNothingToWithdraw(msg.sender, token);
        // Effects before the transfer: a re-entering token finds the credit already gone.
        _owed[msg.sender][token] = 0;
        _totalOwed[token] -= amount;
        emit Withdrawn(msg.sender, token, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ISettlement
    function flushFees(IERC20 token) external nonReentrant returns (uint256 amount) {
        amount = _feesPending[token];
        if (amount == 0) revert SettlementNoFeesPending(token);
        _feesPending[token] = 0;
        // The vault pulls exactly `amount` with this allowance; if the token refuses the vault, this whole call
        // reverts and the fees stay pending — no payee or refund depends on it.
        token.forceApprove(address(vault), amount);
        uint256 credited = vault.depositFee(token, amount);
        emit FeesFlushed(token, amount, credited);
    }

    /// @inheritdoc ISettlement
    function sweepSurplus(IERC20 token, uint256 maxAmount) external nonReentrant returns (uint256 amount) {
        // Governance only, through the vault (FeeVault.sweepMarketSurplus, its owner's), and at most what it
        // voted: `balanceOf` is the one number here the ledger does not control (a second entry point of an
        // escrowed token, a rebase inflated for one transaction), so no caller may turn it into fees unchecked.
        if (msg.sender != address(vault)) revert SettlementNotVault(msg.sender);
        uint256 balance = token.balanceOf(address(this));
        uint256 accounted = escrowed(token);
        if (balance <= accounted) revert SettlementNoSurplus(token);
        amount = Math.min(balance - accounted, maxAmount);
        _accrue(token, amount);
        emit SurplusSwept(token, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc ISettlement
    function escrowed(IERC20 token) public view returns (uint256) {
        return _locked[token] + _totalOwed[token] + _feesPending[token] + _burned[token];
    }

    /// @inheritdoc ISettlement
    function locked(IERC20 token) external view returns (uint256) {
        return _locked[token];
    }

    /// @inheritdoc ISettlement
    function owed(address account, IERC20 token) external view returns (uint256) {
        return _owed[account][token];
    }

    /// @inheritdoc ISettlement
    function totalOwed(IERC20 token) external view returns (uint256) {
        return _totalOwed[token];
    }

    /// @inheritdoc ISettlement
    function feesPending(IERC20 token) external view returns (uint256) {
        return _feesPending[token];
    }

    /// @inheritdoc ISettlement
    function burned(IERC20 token) external view returns (uint256) {
        return _burned[token];
    }

    /*//////////////////////////////////////////////////////////////
                          INTERNAL: FOR MARKETS
    //////////////////////////////////////////////////////////////*/

    /// @dev Pulls `amount` from `from` and locks what actually arrived (the balance delta), which it returns.
    function _collect(IERC20 token, address from, uint256 amount) internal returns (uint256 received) {
        if (address(token) == address(0)) revert SettlementZeroAddress();
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(from, address(this), amount);
        received = token.balanceOf(address(this)) - before;
        // slither-disable-next-line incorrect-equality — "nothing arrived" is exactly zero, not a threshold
        if (received == 0) revert SettlementNothingReceived(token, amount);
        _locked[token] += received;
        emit Collected(token, from, amount, received);
    }

    /// @dev The fee rate a market fixes on an item when its funds are committed.
    function _currentFeeBps() internal view returns (uint16) {
        // feeBps ≤ maxFeeBps ≤ 10 000 (FeeVault constructor), so the cast cannot truncate.
        return uint16(vault.feeBps());
    }

    /// @dev Fee on `amount` at `feeBps`: rounded up, in the protocol's favour (the vault's `feeOn` formula).
    function _feeOn(uint256 amount, uint16 feeBps) internal pure returns (uint256) {
        return Math.mulDiv(amount, feeBps, _BPS, Math.Rounding.Ceil);
    }

    /// @dev Settles `gross` locked funds of an item to `payee`: the fee at `feeBps` is accrued for the vault and
    /// the rest credited. Returns (net, fee).
    function _payOut(IERC20 token, address payee, uint256 gross, uint16 feeBps) internal returns (uint256 net, uint256 fee) {
        fee = _feeOn(gross, feeBps);
        net = gross - fee;
        _unlock(token, gross);
        _credit(payee, token, net);
        _accrue(token, fee);
    }

    /// @dev Returns `amount` locked funds of an item to `account` in full (refunds: no fee).
    function _refundLocked(IERC20 token, address account, uint256 amount) internal {
        _unlock(token, amount);
        _credit(account, token, amount);
    }

    /// @dev Burns `amount` locked funds of an item (penalties): nobody can ever receive them, so nobody —
    /// a vault shareholder, a Sybil — profits from causing the penalty.
    function _burnLocked(IERC20 token, uint256 amount) internal {
        _unlock(token, amount);
        _burned[token] += amount;
        emit Burned(token, amount);
    }

    /// @dev Moves `amount` locked funds of an item to the fees pending for the vault (its share of a slash).
    function _forfeitToVault(IERC20 token, uint256 amount) internal {
        _unlock(token, amount);
        _accrue(token, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 PRIVATE
    //////////////////////////////////////////////////////////////*/

    function _unlock(IERC20 token, uint256 amount) private {
        _locked[token] -= amount;
    }

    function _credit(address account, IERC20 token, uint256 amount) private {
        if (amount == 0) return;
        _owed[account][token] += amount;
        _totalOwed[token] += amount;
        emit Credited(account, token, amount);
    }

    function _accrue(IERC20 token, uint256 amount) private {
        // slither-disable-next-line incorrect-equality — zero only skips an empty event; a balance-derived amount (sweepSurplus) is checked above it
        if (amount == 0) return;
        _feesPending[token] += amount;
        emit FeeAccrued(token, amount);
    }
}
