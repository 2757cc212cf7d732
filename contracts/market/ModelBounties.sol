// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

import {IModelBounties} from "../interfaces/IModelBounties.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IVerifierRegistry} from "../interfaces/IVerifierRegistry.sol";
import {IFeeVault} from "../interfaces/IFeeVault.sol";
import {IHalo2Verifier} from "../interfaces/IHalo2Verifier.sol";
import {EvaluationProofs} from "../zk/EvaluationProofs.sol";

/// @title ModelBounties
/// @notice See {IModelBounties}. No admin: the rules of a bounty are fixed when it is created.
contract ModelBounties is IModelBounties, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    uint256 public constant MAX_CHUNKS = 64;
    uint256 public constant MAX_COMMITTERS = 256;
    uint256 public constant MAX_DURATION = 365 days;

    /*//////////////////////////////////////////////////////////////
                          IMMUTABLES AND STORAGE
    //////////////////////////////////////////////////////////////*/

    IVerifierRegistry public immutable verifiers;
    IModelRegistry public immutable models;
    IFeeVault public immutable vault;

    Bounty[] private _bounties;
    mapping(uint256 bountyId => bytes32[]) private _chunks;
    mapping(uint256 bountyId => mapping(uint256 modelId => Entry)) private _entries;
    mapping(uint256 bountyId => mapping(uint256 modelId => uint256 bitmap)) private _proven;
    mapping(address account => mapping(IERC20 token => uint256)) private _owed;
    mapping(IERC20 token => uint256) private _escrowed;

    constructor(IVerifierRegistry verifiers_, IModelRegistry models_, IFeeVault vault_) {
        if (address(verifiers_) == address(0) || address(models_) == address(0) || address(vault_) == address(0)) {
            revert BountyZeroAddress();
        }
        verifiers = verifiers_;
        models = models_;
        vault = vault_;
    }

    /*//////////////////////////////////////////////////////////////
                                CREATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelBounties
    function createOpen(OpenParams calldata p) external nonReentrant returns (uint256 bountyId) {
        _checkDeadlines(block.timestamp, block.timestamp, p.deadline);
        _checkChunks(p.chunks, p.chunks.length);
        bountyId = _create(p.token, p.amount, p.circuitId, p.chunks.length, p.threshold, p.direction);
        Bounty storage b = _bounties[bountyId];
        b.mode = Mode.Open;
        b.revealed = true;
        b.deadline = p.deadline;
        b.testSetCommitment = testSetCommitment(p.chunks, bytes32(0));
        _chunks[bountyId] = p.chunks;
        emit BountyCreated(bountyId, msg.sender, Mode.Open, p.circuitId, p.token, b.reward, p.threshold);
        emit TestSetRevealed(bountyId, p.chunks, "");
    }

    /// @inheritdoc IModelBounties
    function createSealed(SealedParams calldata p) external nonReentrant returns (uint256 bountyId) {
        if (p.numChunks == 0 || p.numChunks > MAX_CHUNKS) revert BountyBadChunkCount(p.numChunks, MAX_CHUNKS);
        if (p.testSetCommitment == bytes32(0)) revert BountyBadChunk(0);
        if (!(block.timestamp < p.commitDeadline && p.commitDeadline < p.revealDeadline)) {
            revert BountyBadDeadlines(block.timestamp, p.commitDeadline, p.revealDeadline, p.deadline);
        }
        _checkDeadlines(p.commitDeadline, p.revealDeadline, p.deadline);
        bountyId = _create(p.token, p.amount, p.circuitId, p.numChunks, p.threshold, p.direction);
        Bounty storage b = _bounties[bountyId];
        b.mode = Mode.Sealed;
        b.commitDeadline = p.commitDeadline;
        b.revealDeadline = p.revealDeadline;
        b.deadline = p.deadline;
        b.testSetCommitment = p.testSetCommitment;
        emit BountyCreated(bountyId, msg.sender, Mode.Sealed, p.circuitId, p.token, b.reward, p.threshold);
    }

    function _create(IERC20 token, uint256 amount, bytes32 circuitId, uint256 numChunks, uint256 threshold, Direction direction)
        private
        returns (uint256 bountyId)
    {
        if (address(token) == address(0)) revert BountyZeroAddress();
        if (amount == 0) revert BountyZeroAmount();
        IVerifierRegistry.Circuit memory c = verifiers.activeCircuit(circuitId);
        Direction required =
            c.metric == IVerifierRegistry.Metric.CorrectCount ? Direction.AtLeast : Direction.AtMost;
        if (direction != required) revert BountyWrongDirection(direction, required);
        if (direction == Direction.AtLeast) {
            // 0 would pay any model; above numChunks × samples nobody can ever qualify.
            uint256 maxScore = numChunks * c.samples;
            if (threshold == 0 || threshold > maxScore) revert BountyUnreachableThreshold(threshold, maxScore, direction);
        }

        // Credit what arrives, not the nominal amount (fee-on-transfer tokens).
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = token.balanceOf(address(this)) - before;
        if (received == 0) revert BountyNothingReceived(token, amount);
        _escrowed[token] += received;

        bountyId = _bounties.length;
        Bounty storage b = _bounties.push();
        b.sponsor = msg.sender;
        b.token = token;
        b.direction = direction;
        b.numChunks = uint32(numChunks);
        b.samples = c.samples;
        b.verifier = address(c.verifier); // snapshot: retiring the circuit later does not strand this bounty
        b.circuitId = circuitId;
        b.reward = received;
        b.threshold = threshold;
    }

    /*//////////////////////////////////////////////////////////////
                              SEALED FLOW
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelBounties
    function commitModel(uint256 bountyId, uint256 modelId) external nonReentrant {
        Bounty storage b = _active(bountyId);
        if (b.mode != Mode.Sealed) revert BountyWrongMode(bountyId, b.mode);
        if (block.timestamp > b.commitDeadline) revert BountyCommitClosed(bountyId, b.commitDeadline);
        _checkModel(b, modelId);
        address owner = models.ownerOf(modelId);
        if (msg.sender != owner) revert BountyNotModelOwner(modelId, msg.sender, owner);
        Entry storage e = _entries[bountyId][modelId];
        if (e.commitIndex != 0) revert BountyAlreadyCommitted(bountyId, modelId);
        if (b.committed >= MAX_COMMITTERS) revert BountyTooManyCommitments(bountyId, MAX_COMMITTERS);
        e.commitIndex = ++b.committed;
        emit ModelCommitted(bountyId, modelId, e.commitIndex);
    }

    /// @inheritdoc IModelBounties
    function reveal(uint256 bountyId, bytes32[] calldata chunks, bytes32 salt, string calldata dataUri) external nonReentrant {
        Bounty storage b = _active(bountyId);
        if (b.mode != Mode.Sealed) revert BountyWrongMode(bountyId, b.mode);
        if (msg.sender != b.sponsor) revert BountyNotSponsor(bountyId, msg.sender);
        if (b.revealed) revert BountyAlreadyRevealed(bountyId);
        // Revealing before commitments close would let submitters train on the test set.
        if (block.timestamp <= b.commitDeadline) revert BountyRevealTooEarly(bountyId, b.commitDeadline);
        if (block.timestamp > b.revealDeadline) revert BountyRevealClosed(bountyId, b.revealDeadline);
        bytes32 actual = testSetCommitment(chunks, salt);
        if (actual != b.testSetCommitment) revert BountyRevealMismatch(bountyId, b.testSetCommitment, actual);
        _checkChunks(chunks, b.numChunks);
        b.revealed = true;
        _chunks[bountyId] = chunks;
        emit TestSetRevealed(bountyId, chunks, dataUri);
    }

    /*//////////////////////////////////////////////////////////////
                                 PROOFS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelBounties
    function submitChunk(uint256 bountyId, uint256 modelId, uint256 chunkIndex, bytes calldata proof, uint256[] calldata instances)
        external
        nonReentrant
    {
        Bounty storage b = _active(bountyId);
        EvaluationProofs.Statement memory st = _statement(b, bountyId, modelId, chunkIndex);
        uint256 score = EvaluationProofs.verify(IHalo2Verifier(b.verifier), proof, instances, st);
        _record(b, bountyId, modelId, chunkIndex, score);
    }

    /// @dev Adds a verified chunk score; a model that completes every chunk and meets the threshold wins (open)
    /// or takes the lead when it beats the current leader (sealed).
    function _record(Bounty storage b, uint256 bountyId, uint256 modelId, uint256 chunkIndex, uint256 score) private {
        Entry storage e = _entries[bountyId][modelId];
        _proven[bountyId][modelId] |= 1 << chunkIndex;
        e.score += score;
        e.chunksProven += 1;
        emit ChunkScored(bountyId, modelId, chunkIndex, score, e.score, e.chunksProven);

        if (e.chunksProven == b.numChunks && _meets(b, e.score)) {
            if (b.mode == Mode.Open) {
                // First complete qualifying model wins at once.
                b.best = modelId;
                b.bestScore = e.score;
                emit ModelQualified(bountyId, modelId, e.score, true);
                _payWinner(bountyId, b);
            } else {
                bool leading = b.best == 0 || _better(b, e, _entries[bountyId][b.best]);
                if (leading) {
                    b.best = modelId;
                    b.bestScore = e.score;
                }
                emit ModelQualified(bountyId, modelId, e.score, leading);
            }
        }
    }

    /*//////////////////////////////////////////////////////////////
                               SETTLEMENT
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelBounties
    function finalize(uint256 bountyId) external nonReentrant {
        Bounty storage b = _active(bountyId);
        if (b.mode == Mode.Sealed && !b.revealed) {
            if (block.timestamp <= b.revealDeadline) revert BountyTooEarlyToFinalize(bountyId, b.revealDeadline);
            if (b.committed > 0) return _forfeit(bountyId, b);
            return _refund(bountyId, b);
        }
        if (block.timestamp <= b.deadline) revert BountyTooEarlyToFinalize(bountyId, b.deadline);
        if (b.best != 0) return _payWinner(bountyId, b); // sealed: best qualifying model (open wins pay at once)
        _refund(bountyId, b);
    }

    /// @inheritdoc IModelBounties
    function claimCompensation(uint256 bountyId, uint256 modelId) external nonReentrant {
        Bounty storage b = _known(bountyId);
        if (b.status != Status.Forfeited) revert BountyNotForfeited(bountyId);
        Entry storage e = _entries[bountyId][modelId];
        if (e.commitIndex == 0) revert BountyModelNotCommitted(bountyId, modelId);
        if (e.compensated) revert BountyAlreadyCompensated(bountyId, modelId);
        e.compensated = true;
        address owner = models.ownerOf(modelId);
        _owed[owner][b.token] += b.forfeitShare;
        emit CompensationClaimed(bountyId, modelId, owner, b.forfeitShare);
    }

    /// @inheritdoc IModelBounties
    function withdraw(IERC20 token) external nonReentrant returns (uint256 amount) {
        amount = _owed[msg.sender][token];
        if (amount == 0) revert BountyNothingToWithdraw(msg.sender, token);
        _owed[msg.sender][token] = 0;
        _escrowed[token] -= amount;
        emit Withdrawn(msg.sender, token, amount);
        token.safeTransfer(msg.sender, amount);
    }

    function _payWinner(uint256 bountyId, Bounty storage b) private {
        b.status = Status.Won;
        address owner = models.ownerOf(b.best);
        uint256 fee = _takeFee(b.token, b.reward);
        uint256 payout = b.reward - fee;
        _owed[owner][b.token] += payout;
        emit BountyWon(bountyId, b.best, owner, payout, fee);
    }

    function _refund(uint256 bountyId, Bounty storage b) private {
        b.status = Status.Refunded;
        _owed[b.sponsor][b.token] += b.reward;
        emit BountyRefunded(bountyId, b.sponsor, b.reward);
    }

    function _forfeit(uint256 bountyId, Bounty storage b) private {
        b.status = Status.Forfeited;
        uint256 fee = vault.feeOn(b.reward);
        uint256 share = (b.reward - fee) / b.committed;
        // Rounding dust goes with the fee: the protocol, not a committer, absorbs the remainder.
        fee = b.reward - share * b.committed;
        b.forfeitShare = share;
        _depositFee(b.token, fee);
        emit BountyForfeited(bountyId, b.committed, share, fee);
    }

    /// @dev Sends the protocol fee on `gross` to the vault and returns it; the rest stays escrowed for the payee.
    function _takeFee(IERC20 token, uint256 gross) private returns (uint256 fee) {
        fee = vault.feeOn(gross);
        _depositFee(token, fee);
    }

    function _depositFee(IERC20 token, uint256 fee) private {
        if (fee == 0) return;
        // Ledger first (checks-effects-interactions); the vault pulls exactly `fee` with the allowance below.
        _escrowed[token] -= fee;
        token.forceApprove(address(vault), fee);
        vault.depositFee(token, fee);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelBounties
    function bounty(uint256 bountyId) external view returns (Bounty memory) {
        return _known(bountyId);
    }

    /// @inheritdoc IModelBounties
    function chunksOf(uint256 bountyId) external view returns (bytes32[] memory) {
        _known(bountyId);
        return _chunks[bountyId];
    }

    /// @inheritdoc IModelBounties
    function entry(uint256 bountyId, uint256 modelId) external view returns (Entry memory) {
        return _entries[bountyId][modelId];
    }

    /// @inheritdoc IModelBounties
    function chunkProven(uint256 bountyId, uint256 modelId, uint256 chunkIndex) external view returns (bool) {
        return chunkIndex < 256 && _proven[bountyId][modelId] & (1 << chunkIndex) != 0;
    }

    /// @inheritdoc IModelBounties
    function owed(address account, IERC20 token) external view returns (uint256) {
        return _owed[account][token];
    }

    /// @inheritdoc IModelBounties
    function escrowed(IERC20 token) external view returns (uint256) {
        return _escrowed[token];
    }

    /// @inheritdoc IModelBounties
    function bountyCount() external view returns (uint256) {
        return _bounties.length;
    }

    /// @inheritdoc IModelBounties
    function testSetCommitment(bytes32[] calldata chunks, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(chunks, salt));
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Every check on a chunk submission that does not need the proof, and what the proof must state.
    function _statement(Bounty storage b, uint256 bountyId, uint256 modelId, uint256 chunkIndex)
        private
        view
        returns (EvaluationProofs.Statement memory)
    {
        if (block.timestamp > b.deadline) revert BountyProvingClosed(bountyId, b.deadline);
        if (!b.revealed) revert BountyNotRevealed(bountyId);
        bytes32 commitment = _checkModel(b, modelId);
        if (b.mode == Mode.Sealed && _entries[bountyId][modelId].commitIndex == 0) {
            revert BountyModelNotCommitted(bountyId, modelId);
        }
        if (chunkIndex >= b.numChunks) revert BountyChunkOutOfRange(chunkIndex, b.numChunks);
        if (_proven[bountyId][modelId] & (1 << chunkIndex) != 0) {
            revert BountyChunkAlreadyProven(bountyId, modelId, chunkIndex);
        }
        // Error sums have no bound but the field (checked in EvaluationProofs); counts cannot exceed the samples.
        uint256 maxScore = b.direction == Direction.AtLeast ? b.samples : type(uint256).max;
        return EvaluationProofs.Statement(_chunks[bountyId][chunkIndex], commitment, maxScore);
    }

    function _known(uint256 bountyId) private view returns (Bounty storage) {
        if (bountyId >= _bounties.length) revert BountyUnknown(bountyId);
        return _bounties[bountyId];
    }

    function _active(uint256 bountyId) private view returns (Bounty storage b) {
        b = _known(bountyId);
        if (b.status != Status.Active) revert BountyNotActive(bountyId, b.status);
    }

    /// @dev The model's weight commitment, after checking it belongs to the bounty's circuit.
    function _checkModel(Bounty storage b, uint256 modelId) private view returns (bytes32 commitment) {
        bytes32 circuitId;
        (circuitId, commitment) = models.commitmentOf(modelId); // reverts for unknown models
        if (circuitId != b.circuitId) revert BountyWrongCircuit(modelId, circuitId, b.circuitId);
    }

    function _checkChunks(bytes32[] calldata chunks, uint256 expected) private pure {
        if (chunks.length == 0 || chunks.length > MAX_CHUNKS || chunks.length != expected) {
            revert BountyBadChunkCount(chunks.length, expected == 0 ? MAX_CHUNKS : expected);
        }
        // Quadratic, bounded by MAX_CHUNKS: a duplicated chunk would let one proof count twice.
        for (uint256 i = 0; i < chunks.length; ++i) {
            if (chunks[i] == bytes32(0)) revert BountyBadChunk(i);
            for (uint256 j = 0; j < i; ++j) {
                if (chunks[i] == chunks[j]) revert BountyDuplicateChunk(i, j);
            }
        }
    }

    function _checkDeadlines(uint256 commitDeadline, uint256 revealDeadline, uint256 deadline) private view {
        if (deadline <= revealDeadline || deadline <= block.timestamp || deadline > block.timestamp + MAX_DURATION) {
            revert BountyBadDeadlines(block.timestamp, commitDeadline, revealDeadline, deadline);
        }
    }

    function _meets(Bounty storage b, uint256 total) private view returns (bool) {
        return b.direction == Direction.AtLeast ? total >= b.threshold : total <= b.threshold;
    }

    /// @dev Strictly better total, or an equal total committed earlier.
    function _better(Bounty storage b, Entry storage challenger, Entry storage leader) private view returns (bool) {
        if (challenger.score == leader.score) return challenger.commitIndex < leader.commitIndex;
        return b.direction == Direction.AtLeast ? challenger.score > leader.score : challenger.score < leader.score;
    }
}
