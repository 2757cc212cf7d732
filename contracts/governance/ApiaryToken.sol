// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IApiaryToken} from "../interfaces/IApiaryToken.sol";

/// @title Apiary governance token (APY)
/// @notice See {IApiaryToken}: fixed genesis supply, votes without a self-delegation step, balances at the fee
/// vault's record blocks.
/// @dev Balance history is written only where a claim can read it (the ERC20Snapshot pattern, keyed to the record
/// blocks the vault announces ahead of time): on an account's first balance change after a record block has
/// passed, its balance before the change is checkpointed under that record block. A transfer with no record block
/// passed since either side's last change writes nothing beyond ERC20Votes.
///
/// Why a lookup is exact, for an announced record block `r` in the past: let `t` be the block of the account's
/// first change after `r`. Every record block is announced before it passes, so at `t` the latest passed record
/// block `R` satisfies `r <= R < t`, and the balance before that change is the balance at the end of `r` (nothing
/// changed in between); it is checkpointed under `R` unless the account already has a checkpoint at or after `R`,
/// which cannot be (any earlier checkpoint was written at a change `t' <= r`, under a key below `t'`). So the first
/// checkpoint at or after `r` holds the balance at `r`, and with none the balance has not changed since.
/// The argument rests on three facts the code keeps: a record block is announced only while ahead, so the latest
/// passed record block never moves back and checkpoint keys only grow (a push never reverts); `_records` stays
/// sorted (an insertion only moves pending entries, at most MAX_PENDING_RECORDS - 1); and every balance change,
/// self-transfers and zero amounts included, goes through `_update`, which reads the balance before the change.
contract ApiaryToken is ERC20, ERC20Permit, ERC20Votes, Ownable, IApiaryToken {
    using Checkpoints for Checkpoints.Trace208;

    /// @notice At most this many announced record blocks may lie ahead at once (each transfer looks past them).
    uint256 public constant MAX_PENDING_RECORDS = 8;
    /// @notice A record block is announced at most this many blocks ahead (the fee vault's own limit): a wrong
    /// recorder can hold the pending slots for a week at most.
    uint256 public constant MAX_RECORD_LEAD = 50_400;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IApiaryToken
    address public recorder;
    /// @dev The latest announced record block, read by every transfer (0: none yet, nothing to checkpoint).
    uint48 private _lastRecord;
    /// @dev Every announced record block, ascending.
    uint48[] private _records;
    mapping(uint256 timepoint => bool) private _isRecord;
    /// @dev Per account: balance at a record block, keyed by the latest record block before the change.
    mapping(address account => Checkpoints.Trace208) private _recordedBalances;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param holders Genesis recipients (typically the timelock treasury plus initial contributors).
    /// @param amounts Tokens (18 decimals) minted to each holder; the sum is the fixed total supply.
    /// @dev The deployer owns the token until it names the recorder (the fee vault) and hands ownership to the
    /// timelock; ownership confers that one power, nothing over balances or supply.
    constructor(address[] memory holders, uint256[] memory amounts)
        ERC20("Apiary", "APY")
        ERC20Permit("Apiary")
        Ownable(msg.sender)
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
                               RECORDS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IApiaryToken
    function setRecorder(address newRecorder) external onlyOwner {
        emit RecorderSet(recorder, newRecorder);
        recorder = newRecorder;
    }

    /// @inheritdoc IApiaryToken
    function announceRecordBlock(uint48 recordBlock) external {
        if (msg.sender != recorder) revert ApiaryTokenNotRecorder(msg.sender);
        uint48 current = clock();
        if (recordBlock <= current || recordBlock > current + MAX_RECORD_LEAD) {
            revert ApiaryTokenRecordBlockNotAhead(recordBlock, current, MAX_RECORD_LEAD);
        }
        if (_isRecord[recordBlock]) return; // two distributions on one record block: one record
        uint256 n = _records.length;
        uint256 pending;
        while (pending < n && _records[n - 1 - pending] >= current) {
            if (++pending >= MAX_PENDING_RECORDS) revert ApiaryTokenTooManyPendingRecords(MAX_PENDING_RECORDS);
        }
        // In order among the pending ones (all ahead, so nothing has been recorded under them yet).
        _records.push(recordBlock);
        uint256 i = n;
        while (i > 0 && _records[i - 1] > recordBlock) {
            _records[i] = _records[i - 1];
            --i;
        }
        _records[i] = recordBlock;
        _isRecord[recordBlock] = true;
        if (recordBlock > _lastRecord) _lastRecord = recordBlock;
        emit RecordBlockAnnounced(recordBlock);
    }

    /// @notice Ownership cannot be renounced: the recorder must stay nameable (a replacement vault).
    function renounceOwnership() public view override onlyOwner {
        revert ApiaryTokenCannotRenounceOwnership();
    }

    /// @inheritdoc IApiaryToken
    function isRecordBlock(uint256 timepoint) external view returns (bool) {
        return _isRecord[timepoint];
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
        if (!_isRecord[timepoint]) revert ApiaryTokenNotARecordBlock(timepoint);
        // The first checkpoint at or after the record block; none: no change since, the balance is today's.
        if (_latestRecordedKey(account) < timepoint) return balanceOf(account);
        return _recordedBalances[account].lowerLookup(SafeCast.toUint48(timepoint));
    }

    function nonces(address account) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(account);
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
        uint48 last = _lastRecord;
        if (last != 0) {
            uint48 record = _latestPassedRecord(last);
            if (record != 0) {
                if (from != address(0)) _record(from, record);
                if (to != address(0) && to != from) _record(to, record);
            }
        }
        super._update(from, to, value);
    }

    /// @dev The latest announced record block before this one (0: none has passed).
    function _latestPassedRecord(uint48 last) private view returns (uint48) {
        uint48 current = clock();
        if (last < current) return last;
        for (uint256 i = _records.length; i > 0; --i) {
            uint48 r = _records[i - 1];
            if (r < current) return r;
        }
        return 0;
    }

    /// @dev Checkpoint `account`'s balance before this change under `record`, unless it has one at or after it.
    function _record(address account, uint48 record) private {
        if (_latestRecordedKey(account) >= record) return;
        // slither-disable-next-line unused-return — Checkpoints.push returns the (previous, new) values, not a status; it reverts on error
        _recordedBalances[account].push(record, SafeCast.toUint208(balanceOf(account)));
    }

    /// @dev The record block of `account`'s latest balance checkpoint (0: none; record blocks are never 0).
    function _latestRecordedKey(address account) private view returns (uint48) {
        uint256 n = _recordedBalances[account].length();
        return n == 0 ? 0 : _recordedBalances[account].at(SafeCast.toUint32(n - 1))._key;
    }
}
