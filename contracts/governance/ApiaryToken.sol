// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IApiaryToken} from "../interfaces/IApiaryToken.sol";

/// @title Apiary governance token (APY)
/// @notice See {IApiaryToken}: fixed genesis supply, votes without a self-delegation step, balance history.
contract ApiaryToken is ERC20, ERC20Permit, ERC20Votes, IApiaryToken {
    using Checkpoints for Checkpoints.Trace208;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    mapping(address account => Checkpoints.Trace208) private _balanceCheckpoints;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param holders Genesis recipients (typically the timelock treasury plus initial contributors).
    /// @param amounts Tokens (18 decimals) minted to each holder; the sum is the fixed total supply.
    constructor(address[] memory holders, uint256[] memory amounts)
        ERC20("Apiary", "APY")
        ERC20Permit("Apiary")
    {
        if (holders.length != amounts.length) {
            revert ApiaryTokenAllocationLengthMismatch(holders.length, amounts.length);
        }
        if (holders.length == 0) revert ApiaryTokenEmptyAllocation();
        for (uint256 i = 0; i < holders.length; ++i) {
            if (amounts[i] == 0) revert ApiaryTokenZeroAllocation(i);
            // _mint rejects address(0) with ERC20InvalidReceiver and the votes supply cap with ERC20ExceededSafeSupply.
            _mint(holders[i], amounts[i]);
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The delegate of `account`: the account itself until it delegates elsewhere.
    function delegates(address account) public view override(IVotes, Votes) returns (address) {
        address chosen = super.delegates(account);
        return chosen == address(0) ? account : chosen;
    }

    /// @inheritdoc IApiaryToken
    function getPastBalance(address account, uint256 timepoint) external view returns (uint256) {
        uint48 currentTimepoint = clock();
        if (timepoint >= currentTimepoint) revert ERC5805FutureLookup(timepoint, currentTimepoint);
        return _balanceCheckpoints[account].upperLookupRecent(SafeCast.toUint48(timepoint));
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Delegating to address(0) returns the votes to the holder: with implicit self-delegation an
    /// "undelegated" state would silently burn voting power from the checkpoints.
    function _delegate(address account, address delegatee) internal override {
        super._delegate(account, delegatee == address(0) ? account : delegatee);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
        uint48 timepoint = clock();
        // slither-disable-next-line unused-return — Checkpoints.push returns the (previous, new) values, not a status; it reverts on error
        if (from != address(0)) _balanceCheckpoints[from].push(timepoint, SafeCast.toUint208(balanceOf(from)));
        // slither-disable-next-line unused-return — Checkpoints.push returns the (previous, new) values, not a status; it reverts on error
        if (to != address(0)) _balanceCheckpoints[to].push(timepoint, SafeCast.toUint208(balanceOf(to)));
    }
}
