// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISealBook} from "../interfaces/ISealBook.sol";

/// @title SealBook
/// @notice See {ISealBook}: one numbered sequence of pending commitments per contract.
abstract contract SealBook is ISealBook {
    /// @inheritdoc ISealBook
    uint256 public constant MIN_SEAL_AGE = 1;

    mapping(bytes32 seal => SealRecord) private _seals;
    uint64 private _sealCount;

    /// @inheritdoc ISealBook
    function pendingSeal(bytes32 seal) external view returns (SealRecord memory) {
        return _seals[seal];
    }

    /// @dev Records `seal` as the next commitment; returns its number. A pending one cannot be refreshed.
    function _recordSeal(bytes32 seal) internal returns (uint64 number) {
        if (_seals[seal].number != 0) revert SealExists(seal);
        number = ++_sealCount;
        _seals[seal] = SealRecord(uint64(block.number), uint64(block.timestamp), number);
    }

    /// @dev Consumes the pending commitment `seal`, at least `MIN_SEAL_AGE` and at most `maxAge` blocks old.
    function _takeSeal(bytes32 seal, uint256 maxAge) internal returns (SealRecord memory rec) {
        rec = _seals[seal];
        // slither-disable-next-line incorrect-equality — a sequence number (0: nothing pending), no balance or clock
        if (rec.number == 0) revert SealUnknown(seal);
        if (block.number < rec.blockNumber + MIN_SEAL_AGE) revert SealTooNew(seal, rec.blockNumber, block.number);
        if (block.number - rec.blockNumber > maxAge) revert SealExpired(seal, rec.blockNumber, block.number);
        delete _seals[seal];
    }
}
