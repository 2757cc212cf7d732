// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC5805} from "@openzeppelin/contracts/interfaces/IERC5805.sol";

/// @title Apiary governance token
/// @notice ERC20 + ERC-2612 permit + ERC-5805 votes, with two additions:
///  - **Votes count from the first block a holder owns tokens.** An account that never called `delegate`
///    is its own delegate, so nobody has to discover self-delegation before voting (the OpenZeppelin
///    "zero votes until `delegate(self)`" trap). Explicit delegation works exactly as in ERC20Votes;
///    `delegate(address(0))` means "back to myself".
///  - **Balances at record blocks.** The fee vault announces each distribution's record block ahead of time
///    (`announceRecordBlock`, only its `recorder`); the token then knows every holder's balance at the end of that
///    block (`getPastBalance`), so the vault pays holders pro rata to what they held then, never to tokens bought
///    (or flash-borrowed) later. Balances are written only on an account's first change after a record block, so
///    transfers cost what an ERC20Votes transfer costs until a distribution is made.
/// The whole supply is minted once, at deployment, to a fixed genesis allocation; nobody can mint afterwards.
interface IApiaryToken is IERC5805 {
    /// @notice The genesis allocation is malformed: `holders` and `amounts` differ in length.
    error ApiaryTokenAllocationLengthMismatch(uint256 holders, uint256 amounts);
    /// @notice The genesis allocation names no holder or only zero amounts.
    error ApiaryTokenEmptyAllocation();
    /// @notice Genesis allocation entry `index` gives zero tokens.
    error ApiaryTokenZeroAllocation(uint256 index);

    /// @notice Only the recorder (the fee vault) announces record blocks; `caller` is not it.
    error ApiaryTokenNotRecorder(address caller);
    /// @notice A record block must lie ahead when it is announced, at most `maxLead` blocks after `current`.
    error ApiaryTokenRecordBlockNotAhead(uint256 recordBlock, uint256 current, uint256 maxLead);
    /// @notice The token's owner names the recorder; ownership cannot be given up.
    error ApiaryTokenCannotRenounceOwnership();
    /// @notice `max` announced record blocks lie ahead already (each transfer looks past them): wait for one.
    error ApiaryTokenTooManyPendingRecords(uint256 max);
    /// @notice Balances are kept at announced record blocks only; `timepoint` is not one.
    error ApiaryTokenNotARecordBlock(uint256 timepoint);

    /// @notice The account allowed to announce record blocks changed (the owner, the timelock, names it).
    event RecorderSet(address indexed previous, address indexed recorder);
    /// @notice Holders' balances at the end of `recordBlock` will be readable once it has passed.
    event RecordBlockAnnounced(uint256 recordBlock);

    /// @notice The account that announces record blocks: the fee vault.
    function recorder() external view returns (address);

    /// @notice Name the recorder (owner only: the deployer until it hands the token to the timelock).
    function setRecorder(address newRecorder) external;

    /// @notice Keep every holder's balance at the end of `recordBlock`, which must lie ahead by at most
    /// MAX_RECORD_LEAD blocks (recorder only; at most MAX_PENDING_RECORDS record blocks ahead at once, so the
    /// distributions of one proposal should share one record block; announcing a block twice is one record).
    function announceRecordBlock(uint48 recordBlock) external;

    /// @notice Whether balances are kept at `timepoint` (an announced record block).
    function isRecordBlock(uint256 timepoint) external view returns (bool);

    /// @notice `account`'s token balance at the end of `timepoint`, an announced record block in the past.
    function getPastBalance(address account, uint256 timepoint) external view returns (uint256);
}
