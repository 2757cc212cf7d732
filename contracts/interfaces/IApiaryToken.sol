// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";

/// @title Apiary governance token
/// @notice ERC20 + ERC-2612 permit + ERC-5805 votes, with two additions:
///  - **Votes count from the first block a holder owns tokens.** An account that never called `delegate`
///    is its own delegate, so nobody has to discover self-delegation before voting (the OpenZeppelin
///    "zero votes until `delegate(self)`" trap). Explicit delegation works exactly as in ERC20Votes;
///    `delegate(address(0))` means "back to myself".
///  - **Historical balances.** Every balance change is checkpointed on the token's clock, so the fee vault can
///    pay holders pro rata to what they held at a past timepoint, never to tokens bought (or flash-borrowed)
///    later.
/// The whole supply is minted once, at deployment, to a fixed genesis allocation; nobody can mint afterwards.
interface IApiaryToken is IERC5805 {
    /// @notice The genesis allocation is malformed: `holders` and `amounts` differ in length.
    error ApiaryTokenAllocationLengthMismatch(uint256 holders, uint256 amounts);
    /// @notice The genesis allocation names no holder or only zero amounts.
    error ApiaryTokenEmptyAllocation();
    /// @notice Genesis allocation entry `index` gives zero tokens.
    error ApiaryTokenZeroAllocation(uint256 index);

    /// @notice `account`'s token balance at the end of `timepoint` (which must lie in the past).
    function getPastBalance(address account, uint256 timepoint) external view returns (uint256);
}
