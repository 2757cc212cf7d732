// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {ISettlement} from "./ISettlement.sol";

/// @title Model bounties
/// @notice "A contract that embeds a test; whoever proves with ZKML that their model passes it gets paid."
///
/// A sponsor escrows a reward (any ERC20; only what arrives is credited) with an embedded test: a registered
/// evaluation circuit, the test set as an ordered list of chunk commitments **and the test data itself**
/// (`testData`, the encoded chunks of apiary/zk/testdata.py, published on chain so that nobody depends on the
/// sponsor to serve it), a threshold on the total score and its direction (AtLeast for correct counts, AtMost for
/// error sums), and deadlines. The protocol fee rate is fixed when the reward is escrowed.
///
/// * **Open**: chunks and data are public at creation; anyone can check that the data matches the chunk
///   commitments before spending any work. Chunk proofs of any *final* registered model of the circuit add up
///   (each chunk once per model); the first model with every chunk proven and the threshold met wins at once.
///   Nobody qualifies by the deadline: the sponsor is refunded.
/// * **Sealed**: at creation only `keccak256(abi.encode(chunks, keccak256(testData), salt))` is public. Owners
///   commit registered models until `commitDeadline` (no cap, no slots: one party cannot lock others out; a
///   model need not be final yet to be committed). The sponsor then reveals chunks, salt and the test data by
///   `revealDeadline`; committed models are proven until `deadline`; `finalize` pays the best qualifying total
///   (ties: earliest commitment) once that model's registration is final.
///   **Once any model is committed, the reward never returns to the sponsor**: it goes to the best qualifying
///   model, or — if the sponsor does not reveal, or nobody qualifies — it is **burned** (kept by the contract
///   for good). Withholding, falsifying and honest revealing therefore all cost the sponsor the whole reward;
///   none pays better than honesty, and nobody — committers, the sponsor's Sybils, fee-vault shareholders,
///   the sponsor itself as one — gains anything from a forfeit. With no commitment at all the sponsor is
///   refunded after the reveal deadline.
///
/// Residual trust (stated, not enforced): the contract cannot check that the published test data matches the
/// KZG chunk commitments, so a sponsor can make a sealed bounty unwinnable by publishing wrong data — at the
/// cost of the whole reward, which is burned; provers detect it off chain (`apiary zk testset
/// --from-data`). A sponsor knows its own test set, so it could enter a model trained on it through another
/// address; hidden-test competitions trust the sponsor not to do that.
///
/// Proofs pay the model's owner (the ERC-721 holder at settlement), never the sender, so a proof copied from the
/// mempool pays its rightful owner. Payouts go through the settlement base (`ISettlement`): credited, then
/// withdrawn by the payee; fees accrue and are pushed to the vault separately.
///
/// Ledger invariant: `locked(token) == Σ reward of Active bounties in token` (plus the settlement base's).
interface IModelBounties is ISettlement {
    enum Mode {
        Open,
        Sealed
    }

    enum Direction {
        AtLeast,
        AtMost
    }

    enum Status {
        Active,
        Won,
        Refunded,
        Forfeited // sealed with commitments and no winner, or not revealed: the reward was burned
    }

    /// @notice The lifecycle phase, derived from the status and the clock (`phase(id)`).
    enum Phase {
        Commit, // sealed: models are committed
        Reveal, // sealed: commitments closed, the sponsor must reveal
        Prove, // chunk proofs are accepted
        Settle, // deadline passed (or reveal missed): `finalize`
        Closed // won, refunded or forfeited
    }

    /// @notice A window whose length is checked at creation.
    enum Window {
        Commit, // creation → commitDeadline
        Reveal, // commitDeadline → revealDeadline
        Prove // revealDeadline (open: creation) → deadline
    }

    struct Bounty {
        address sponsor;
        Mode mode;
        Direction direction;
        Status status;
        bool revealed;
        uint16 feeBps; // fee rate fixed at creation
        uint32 numChunks;
        IERC20 token;
        uint32 samples;
        uint32 committed;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint64 deadline; // last moment chunk proofs are accepted
        address verifier;
        bytes32 circuitId;
        bytes32 testSetCommitment;
        bytes32 testDataHash; // keccak256 of the published test data (set at creation or reveal)
        uint256 reward;
        uint256 threshold;
        uint256 best; // model id leading (sealed) or winner (open); 0 = none
        uint256 bestScore;
    }

    struct Entry {
        uint32 commitIndex; // 1-based order of commitment (sealed); 0 = not committed
        uint32 chunksProven;
        uint256 score;
    }

    struct OpenParams {
        IERC20 token;
        uint256 amount;
        bytes32 circuitId;
        bytes32[] chunks;
        bytes testData;
        uint256 threshold;
        Direction direction;
        uint64 deadline;
    }

    struct SealedParams {
        IERC20 token;
        uint256 amount;
        bytes32 circuitId;
        bytes32 testSetCommitment; // testSetCommitment(chunks, keccak256(testData), salt)
        uint32 numChunks;
        uint256 threshold;
        Direction direction;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint64 deadline;
    }

    /// @notice Thrown when a required address (token, registry) is zero.
    error BountyZeroAddress();
    /// @notice Thrown when the reward is zero.
    error BountyZeroAmount();
    /// @notice Thrown when the chunk list is empty, longer than MAX_CHUNKS, or not `expected` long.
    error BountyBadChunkCount(uint256 count, uint256 expected);
    /// @notice Thrown when chunk `index` is the zero commitment.
    error BountyBadChunk(uint256 index);
    /// @notice Thrown when chunk `index` repeats chunk `earlierIndex` (one proof would count twice).
    error BountyDuplicateChunk(uint256 index, uint256 earlierIndex);
    /// @notice Thrown when the test data is empty or longer than MAX_TEST_DATA bytes.
    error BountyBadTestData(uint256 length, uint256 max);
    /// @notice Thrown when an AtLeast threshold is 0 (pays anyone) or above what the chunks can score.
    error BountyUnreachableThreshold(uint256 threshold, uint256 maxScore, Direction direction);
    /// @notice Thrown when the direction does not match the circuit's metric (counts: AtLeast, errors: AtMost).
    error BountyWrongDirection(Direction given, Direction required);
    /// @notice Thrown when creating a bounty on an inference circuit (it proves outputs, not a score).
    error BountyNotEvaluationCircuit(bytes32 circuitId);
    /// @notice Thrown when the royalty lookup ran out of gas because the caller sent too little (griefing).
    error BountyRoyaltyOutOfGas();
    /// @notice Thrown when a window is shorter than its minimum or the bounty runs longer than MAX_DURATION.
    error BountyBadWindow(Window window, uint256 length, uint256 min, uint256 max);
    /// @notice Thrown for a bounty id that does not exist.
    error BountyUnknown(uint256 bountyId);
    /// @notice Thrown when an action needs phase `required` and the bounty is in `current`.
    error BountyWrongPhase(uint256 bountyId, Phase current, Phase required);
    /// @notice Thrown when someone other than the sponsor reveals.
    error BountyNotSponsor(uint256 bountyId, address caller);
    /// @notice Thrown when someone other than the model's owner commits it.
    error BountyNotModelOwner(uint256 modelId, address caller, address owner);
    /// @notice Thrown when the model was registered for another circuit.
    error BountyWrongCircuit(uint256 modelId, bytes32 modelCircuit, bytes32 bountyCircuit);
    /// @notice Thrown when the model's registration can still be taken over by an earlier seal.
    error BountyModelNotFinal(uint256 modelId, uint256 contestableUntil);
    /// @notice Thrown when a model is committed twice to the same bounty.
    error BountyAlreadyCommitted(uint256 bountyId, uint256 modelId);
    /// @notice Thrown when the reveal does not hash to the sealed commitment.
    error BountyRevealMismatch(uint256 bountyId, bytes32 expected, bytes32 actual);
    /// @notice Thrown when a proof is submitted for a model not committed to a sealed bounty.
    error BountyModelNotCommitted(uint256 bountyId, uint256 modelId);
    /// @notice Thrown when the chunk index is outside the test set.
    error BountyChunkOutOfRange(uint256 chunkIndex, uint256 numChunks);
    /// @notice Thrown when this model's proof for this chunk was counted already.
    error BountyChunkAlreadyProven(uint256 bountyId, uint256 modelId, uint256 chunkIndex);

    event BountyCreated(uint256 indexed bountyId, address indexed sponsor, Mode mode, bytes32 indexed circuitId, IERC20 token, uint256 reward, uint256 threshold, uint16 feeBps);
    event ModelCommitted(uint256 indexed bountyId, uint256 indexed modelId, uint256 commitIndex);
    /// @notice The test set is public: chunk commitments and the encoded test data (open: at creation).
    event TestSetRevealed(uint256 indexed bountyId, bytes32[] chunks, bytes testData);
    event ChunkScored(uint256 indexed bountyId, uint256 indexed modelId, uint256 chunkIndex, uint256 score, uint256 total, uint256 chunksProven);
    event ModelQualified(uint256 indexed bountyId, uint256 indexed modelId, uint256 total, bool leading);
    /// @notice A cited dataset's owner was credited `net` of bounty `bountyId`'s reward (IProvenance).
    event RoyaltyPaid(uint256 indexed bountyId, address indexed datasetOwner, uint256 net);
    event BountyWon(uint256 indexed bountyId, uint256 indexed modelId, address indexed owner, uint256 payout, uint256 fee);
    event BountyRefunded(uint256 indexed bountyId, address indexed sponsor, uint256 amount);
    /// @notice A sealed bounty with commitments ended without a winner: `amount` was burned.
    event BountyForfeited(uint256 indexed bountyId, uint256 committed, uint256 amount);

    function MAX_CHUNKS() external view returns (uint256);

    function MAX_TEST_DATA() external view returns (uint256);

    function MIN_COMMIT_WINDOW() external view returns (uint256);

    function MIN_REVEAL_WINDOW() external view returns (uint256);

    function MIN_PROVE_WINDOW() external view returns (uint256);

    function MAX_DURATION() external view returns (uint256);

    function createOpen(OpenParams calldata p) external returns (uint256 bountyId);

    function createSealed(SealedParams calldata p) external returns (uint256 bountyId);

    /// @notice Commit a registered model of the bounty's circuit (owner only; phase Commit).
    function commitModel(uint256 bountyId, uint256 modelId) external;

    /// @notice Reveal a sealed bounty's chunks, salt and test data (sponsor only; phase Reveal).
    function reveal(uint256 bountyId, bytes32[] calldata chunks, bytes32 salt, bytes calldata testData) external;

    /// @notice Verify one chunk proof of `modelId` and add its score (phase Prove). Anyone may send it; the
    /// model's owner is paid.
    function submitChunk(uint256 bountyId, uint256 modelId, uint256 chunkIndex, bytes calldata proof, uint256[] calldata instances)
        external;

    /// @notice Settle a bounty in phase Settle: pay the best (once its registration is final), refund, or burn.
    function finalize(uint256 bountyId) external;

    function phase(uint256 bountyId) external view returns (Phase);

    function bounty(uint256 bountyId) external view returns (Bounty memory);

    function chunksOf(uint256 bountyId) external view returns (bytes32[] memory);

    function entry(uint256 bountyId, uint256 modelId) external view returns (Entry memory);

    function chunkProven(uint256 bountyId, uint256 modelId, uint256 chunkIndex) external view returns (bool);

    function bountyCount() external view returns (uint256);

    /// @notice keccak256(abi.encode(chunks, testDataHash, salt)): what a bounty commits to (open: salt 0).
    function testSetCommitment(bytes32[] calldata chunks, bytes32 testDataHash, bytes32 salt) external pure returns (bytes32);
}
