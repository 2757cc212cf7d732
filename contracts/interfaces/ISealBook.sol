// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Seal book
/// @notice The commit–reveal sequence that registries share: a commitment (a registration seal, a challenge)
/// lands first as a bare hash and is numbered in the order hashes land, so when two parties reveal the same claim
/// the earlier commitment wins, however their reveals were ordered. A pending commitment can be read
/// (`pendingSeal`), cannot be refreshed (nobody can push someone else's later in the order or past its window)
/// and is consumed by its reveal. Copying a hash from the mempool only records it earlier, in its owner's
/// favour: every commitment binds the address that may reveal it, and a client that finds its own hash already
/// pending reveals that one.
interface ISealBook {
    struct SealRecord {
        uint64 blockNumber; // block the commitment landed in; 0 when none is pending
        uint64 timestamp; // that block's timestamp
        uint64 number; // order among all commitments (1-based); earlier wins
    }

    /// @notice Thrown when committing a hash that is already pending.
    error SealExists(bytes32 seal);
    /// @notice Thrown when no pending commitment matches a reveal (wrong sender, salt or fields, or reused).
    error SealUnknown(bytes32 seal);
    /// @notice Thrown when the commitment landed fewer than `MIN_SEAL_AGE` blocks ago.
    error SealTooNew(bytes32 seal, uint256 committedAt, uint256 currentBlock);
    /// @notice Thrown when the commitment is older than the reveal allows.
    error SealExpired(bytes32 seal, uint256 committedAt, uint256 currentBlock);

    /// @notice Blocks a commitment must wait before its reveal (a reveal never lands with its own commitment).
    function MIN_SEAL_AGE() external view returns (uint256);

    /// @notice The pending commitment `seal` (all zero when none is pending: never sent, or revealed).
    function pendingSeal(bytes32 seal) external view returns (SealRecord memory);
}
