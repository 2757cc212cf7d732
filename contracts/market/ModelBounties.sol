// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IModelBounties} from "../interfaces/IModelBounties.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IVerifierRegistry} from "../interfaces/IVerifierRegistry.sol";
import {IFeeVault} from "../interfaces/IFeeVault.sol";
import {IHalo2Verifier} from "../interfaces/IHalo2Verifier.sol";
import {IProvenance} from "../interfaces/IProvenance.sol";
import {EvaluationProofs} from "../zk/EvaluationProofs.sol";
import {Settlement} from "../settlement/Settlement.sol";

/// @title ModelBounties
/// @notice See {IModelBounties}. No admin: the rules of a bounty are fixed when it is created.
/// @dev Ledger invariant (checked by tests/invariants): for every token, `locked(token)` equals the sum of
/// `reward` over Active bounties in that token; a bounty leaves Active exactly once, moving its whole reward to
/// the winner (minus the fee fixed at creation), back to the sponsor, or to the burned ledger.
contract ModelBounties is IModelBounties, Settlement {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelBounties
    uint256 public constant MAX_CHUNKS = 64;
    /// @inheritdoc IModelBounties
    uint256 public constant MAX_TEST_DATA = 96 * 1024; // bytes of calldata; well inside a node's 128 KiB tx limit
    /// @inheritdoc IModelBounties
    uint256 public constant MIN_COMMIT_WINDOW = 1 hours;
    /// @inheritdoc IModelBounties
    uint256 public constant MIN_REVEAL_WINDOW = 1 hours;
    /// @inheritdoc IModelBounties
    uint256 public constant MIN_PROVE_WINDOW = 1 days; // a 64-chunk test set takes ~30 min to prove on 2 cores
    /// @inheritdoc IModelBounties
    uint256 public constant MAX_DURATION = 365 days;

    /*//////////////////////////////////////////////////////////////
                          IMMUTABLES AND STORAGE
    //////////////////////////////////////////////////////////////*/

    IVerifierRegistry public immutable verifiers;
    IModelRegistry public immutable models;
    /// @notice Where models cite their training data (zero: no royalties on this deployment).
    IProvenance public immutable provenance;

    Bounty[] private _bounties;
    mapping(uint256 bountyId => bytes32[]) private _chunks;
    mapping(uint256 bountyId => mapping(uint256 modelId => Entry)) private _entries;
    mapping(uint256 bountyId => mapping(uint256 modelId => uint256 bitmap)) private _proven;

    constructor(IVerifierRegistry verifiers_, IModelRegistry models_, IFeeVault vault_, IProvenance provenance_)
        Settlement(vault_)
    {
        if (address(verifiers_) == address(0) || address(models_) == address(0)) revert BountyZeroAddress();
        verifiers = verifiers_;
        models = models_;
        provenance = provenance_;
    }

    /*//////////////////////////////////////////////////////////////
                                CREATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelBounties
    function createOpen(OpenParams calldata p) external nonReentrant returns (uint256 bountyId) {
        _checkWindow(Window.Prove, p.deadline, block.timestamp, MIN_PROVE_WINDOW);
        _checkChunks(p.chunks, p.chunks.length);
        bytes32 dataHash = _checkTestData(p.testData);
        bountyId = _create(p.token, p.amount, p.circuitId, p.chunks.length, p.threshold, p.direction);
        Bounty storage b = _bounties[bountyId];
        b.mode = Mode.Open;
        b.revealed = true;
        b.deadline = p.deadline;
        b.testDataHash = dataHash;
        b.testSetCommitment = testSetCommitment(p.chunks, dataHash, bytes32(0));
        _chunks[bountyId] = p.chunks;
        emit BountyCreated(bountyId, msg.sender, Mode.Open, p.circuitId, p.token, b.reward, p.threshold, b.feeBps);
        emit TestSetRevealed(bountyId, p.chunks, p.testData);
    }

    /// @inheritdoc IModelBounties
    function createSealed(SealedParams calldata p) external nonReentrant returns (uint256 bountyId) {
        if (p.numChunks == 0 || p.numChunks > MAX_CHUNKS) revert BountyBadChunkCount(p.numChunks, MAX_CHUNKS);
        if (p.testSetCommitment == bytes32(0)) revert BountyBadChunk(0);
        _checkWindow(Window.Commit, p.commitDeadline, block.timestamp, MIN_COMMIT_WINDOW);
        _checkWindow(Window.Reveal, p.revealDeadline, p.commitDeadline, MIN_REVEAL_WINDOW);
        _checkWindow(Window.Prove, p.deadline, p.revealDeadline, MIN_PROVE_WINDOW);
        bountyId = _create(p.token, p.amount, p.circuitId, p.numChunks, p.threshold, p.direction);
        Bounty storage b = _bounties[bountyId];
        b.mode = Mode.Sealed;
        b.commitDeadline = p.commitDeadline;
        b.revealDeadline = p.revealDeadline;
        b.deadline = p.deadline;
        b.testSetCommitment = p.testSetCommitment;
        emit BountyCreated(bountyId, msg.sender, Mode.Sealed, p.circuitId, p.token, b.reward, p.threshold, b.feeBps);
    }

    function _create(IERC20 token, uint256 amount, bytes32 circuitId, uint256 numChunks, uint256 threshold, Direction direction)
        private
        returns (uint256 bountyId)
    {
        if (address(token) == address(0)) revert BountyZeroAddress();
        if (amount == 0) revert BountyZeroAmount();
        IVerifierRegistry.Circuit memory c = verifiers.activeCircuit(circuitId);
        // An inference circuit proves outputs, not a score: no bounty can be judged by it.
        if (c.metric == IVerifierRegistry.Metric.Inference) revert BountyNotEvaluationCircuit(circuitId);
        Direction required =
            c.metric == IVerifierRegistry.Metric.CorrectCount ? Direction.AtLeast : Direction.AtMost;
        if (direction != required) revert BountyWrongDirection(direction, required);
        if (direction == Direction.AtLeast) {
            // 0 would pay any model; above numChunks × samples nobody can ever qualify.
            uint256 maxScore = numChunks * c.samples;
            if (threshold == 0 || threshold > maxScore) revert BountyUnreachableThreshold(threshold, maxScore, direction);
        }

        // Credits the balance delta, not the nominal amount (fee-on-transfer tokens).
        uint256 received = _collect(token, msg.sender, amount);

        bountyId = _bounties.length;
        Bounty storage b = _bounties.push();
        b.sponsor = msg.sender;
        b.token = token;
        b.direction = direction;
        b.feeBps = _currentFeeBps(); // the terms promised now: later fee changes do not touch this bounty
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
        Bounty storage b = _inPhase(bountyId, Phase.Commit);
        // Not final yet is fine: the entry follows the token, and payment waits for finality (`finalize`).
        _checkCircuit(b, modelId);
        address owner = models.ownerOf(modelId);
        if (msg.sender != owner) revert BountyNotModelOwner(modelId, msg.sender, owner);
        Entry storage e = _entries[bountyId][modelId];
        if (e.commitIndex != 0) revert BountyAlreadyCommitted(bountyId, modelId);
        // No cap: a commitment costs its sender gas and earns nothing by itself, so flooding locks nobody out.
        e.commitIndex = ++b.committed;
        emit ModelCommitted(bountyId, modelId, e.commitIndex);
    }

    /// @inheritdoc IModelBounties
    function reveal(uint256 bountyId, bytes32[] calldata chunks, bytes32 salt, bytes calldata testData)
        external
        nonReentrant
    {
        // Phase Reveal: commitments closed (revealing earlier would let submitters train on the test set).
        Bounty storage b = _inPhase(bountyId, Phase.Reveal);
        if (msg.sender != b.sponsor) revert BountyNotSponsor(bountyId, msg.sender);
        bytes32 dataHash = _checkTestData(testData);
        bytes32 actual = testSetCommitment(chunks, dataHash, salt);
        if (actual != b.testSetCommitment) revert BountyRevealMismatch(bountyId, b.testSetCommitment, actual);
        _checkChunks(chunks, b.numChunks);
        b.revealed = true;
        b.testDataHash = dataHash;
        _chunks[bountyId] = chunks;
        emit TestSetRevealed(bountyId, chunks, testData);
    }

    /*//////////////////////////////////////////////////////////////
                                 PROOFS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelBounties
    function submitChunk(uint256 bountyId, uint256 modelId, uint256 chunkIndex, bytes calldata proof, uint256[] calldata instances)
        external
        nonReentrant
    {
        Bounty storage b = _inPhase(bountyId, Phase.Prove);
        EvaluationProofs.Statement memory st = _statement(b, bountyId, modelId, chunkIndex);
        uint256 score = EvaluationProofs.verify(IHalo2Verifier(b.verifier), proof, instances, st);
        // slither-disable-next-line reentrancy-no-eth — nonReentrant; b.verifier is timelock-registered and snapshotted at creation
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
        Bounty storage b = _inPhase(bountyId, Phase.Settle);
        if (b.best != 0) {
            // Sealed: the best qualifying model, paid only once no earlier seal can take it over (open wins pay
            // at once, and only final models can prove on open bounties).
            _requireFinal(b.best);
            return _payWinner(bountyId, b);
        }
        // Nobody won. Once a model is committed, the sponsor's reward is spent whatever it did with the test
        // data: withholding or falsifying it can never pay better than revealing honestly.
        if (b.committed > 0) return _forfeit(bountyId, b);
        _refund(bountyId, b);
    }

    function _requireFinal(uint256 modelId) private view {
        // slither-disable-next-line unused-return — only the finality bound is needed; the circuit was checked at commit
        (,, uint256 until) = models.commitmentOf(modelId);
        if (block.number <= until) revert BountyModelNotFinal(modelId, until);
    }

    function _payWinner(uint256 bountyId, Bounty storage b) private {
        b.status = Status.Won;
        address owner = models.ownerOf(b.best);
        uint256 winnerGross = b.reward - _payRoyalties(bountyId, b);
        (uint256 payout, uint256 fee) = _payOut(b.token, owner, winnerGross, b.feeBps);
        emit BountyWon(bountyId, b.best, owner, payout, fee);
    }

    /// @dev The cited datasets' share of the reward (IProvenance), equal parts rounded down (the remainder stays
    /// with the winner), each charged the bounty's fee like the winner's part. A provenance contract that fails
    /// pays no royalty rather than block the winner.
    function _payRoyalties(uint256 bountyId, Bounty storage b) private returns (uint256 total) {
        if (address(provenance) == address(0)) return 0;
        uint256 gasBefore = gasleft();
        try provenance.royaltiesOf(b.best) returns (uint16 bps, address[] memory owners) {
            uint256 k = owners.length;
            if (bps == 0 || k == 0 || bps > _BPS) return 0;
            // slither-disable-next-line divide-before-multiply — equal parts rounded down: part·k never exceeds the share
            uint256 part = b.reward * bps / _BPS / k;
            for (uint256 i; i < k; ++i) {
                (uint256 net,) = _payOut(b.token, owners[i], part, b.feeBps);
                emit RoyaltyPaid(bountyId, owners[i], net);
            }
            total = part * k;
        } catch {
            // Out of gas inside the call leaves at most 1/64 of the gas: a caller starving it on purpose to skip
            // the royalties gets a revert instead.
            if (gasleft() <= gasBefore / 63) revert BountyRoyaltyOutOfGas();
            return 0;
        }
    }

    function _refund(uint256 bountyId, Bounty storage b) private {
        b.status = Status.Refunded;
        _refundLocked(b.token, b.sponsor, b.reward);
        emit BountyRefunded(bountyId, b.sponsor, b.reward);
    }

    function _forfeit(uint256 bountyId, Bounty storage b) private {
        b.status = Status.Forfeited;
        // Burned: a per-committer share would pay Sybils and self-committing sponsors, and the fee vault would pay
        // the sponsor back its share as a holder. Only a sink nobody owns keeps withholding from paying.
        _burnLocked(b.token, b.reward);
        emit BountyForfeited(bountyId, b.committed, b.reward);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelBounties
    function phase(uint256 bountyId) public view returns (Phase) {
        return _phase(_known(bountyId));
    }

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
    function bountyCount() external view returns (uint256) {
        return _bounties.length;
    }

    /// @inheritdoc IModelBounties
    function testSetCommitment(bytes32[] calldata chunks, bytes32 testDataHash, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(chunks, testDataHash, salt));
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev The one place the lifecycle is derived from status and clock.
    function _phase(Bounty storage b) private view returns (Phase) {
        if (b.status != Status.Active) return Phase.Closed;
        if (!b.revealed) {
            if (block.timestamp <= b.commitDeadline) return Phase.Commit;
            if (block.timestamp <= b.revealDeadline) return Phase.Reveal;
            return Phase.Settle; // sealed and not revealed in time
        }
        return block.timestamp <= b.deadline ? Phase.Prove : Phase.Settle;
    }

    function _inPhase(uint256 bountyId, Phase required) private view returns (Bounty storage b) {
        b = _known(bountyId);
        Phase current = _phase(b);
        if (current != required) revert BountyWrongPhase(bountyId, current, required);
    }

    /// @dev Every check on a chunk submission that does not need the proof, and what the proof must state.
    function _statement(Bounty storage b, uint256 bountyId, uint256 modelId, uint256 chunkIndex)
        private
        view
        returns (EvaluationProofs.Statement memory)
    {
        (bytes32 commitment, uint256 until) = _checkCircuit(b, modelId);
        if (b.mode == Mode.Sealed) {
            if (_entries[bountyId][modelId].commitIndex == 0) revert BountyModelNotCommitted(bountyId, modelId);
        } else if (block.number <= until) {
            // Open bounties pay the first qualifying model at once: only a registration nobody can take over.
            revert BountyModelNotFinal(modelId, until);
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

    /// @dev The model's weight commitment and the last block it can be taken over, after checking that it was
    /// registered for the bounty's circuit.
    function _checkCircuit(Bounty storage b, uint256 modelId) private view returns (bytes32 commitment, uint256 until) {
        bytes32 circuitId;
        (circuitId, commitment, until) = models.commitmentOf(modelId); // reverts for unknown models
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

    function _checkTestData(bytes calldata testData) private pure returns (bytes32) {
        if (testData.length == 0 || testData.length > MAX_TEST_DATA) revert BountyBadTestData(testData.length, MAX_TEST_DATA);
        return keccak256(testData);
    }

    /// @dev `end - start` must be at least `min`, and `end` at most MAX_DURATION from now (so the whole bounty,
    /// every window included, ends within MAX_DURATION).
    function _checkWindow(Window window, uint256 end, uint256 start, uint256 min) private view {
        uint256 length = end > start ? end - start : 0;
        uint256 max = block.timestamp + MAX_DURATION > start ? block.timestamp + MAX_DURATION - start : 0;
        if (length < min || length > max) revert BountyBadWindow(window, length, min, max);
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
