// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Model bounties
/// @notice "A contract that embeds a test; whoever proves with ZKML that their model passes it gets paid."
///
/// A sponsor escrows a reward (any ERC20; only what arrives is credited) with an embedded test: a registered
/// evaluation circuit, the test set as an ordered list of chunk commitments, a threshold on the total score and
/// its direction (AtLeast for correct counts, AtMost for error sums), and deadlines.
///
/// * **Open** mode: the chunks are public at creation. Anyone submits chunk proofs for a registered model of the
///   bounty's circuit; a model's score is the sum of its verified chunk scores (each chunk counted once per model);
///   the first model with every chunk proven and the threshold met wins at once.
/// * **Sealed** mode: at creation only `keccak256(abi.encode(chunks, salt))` is public. Model owners commit
///   registered models before `commitDeadline`; the sponsor then reveals chunks + salt (and where the data lives)
///   by `revealDeadline`; committed models are proven until `proveDeadline`; `finalize` pays the best qualifying
///   total, ties to the earliest commitment. A sponsor who does not reveal in time loses the reward: after
///   `revealDeadline` it is split equally among the committed models (minus the protocol fee), or refunded only
///   if nobody committed.
///
/// Known limit: the reveal publishes chunk *commitments*; the data itself travels off chain (`dataUri`). A sponsor
/// who reveals the right commitments but withholds the data leaves nobody able to prove and is refunded. Making
/// data availability enforceable (posting the data with a hash bound into the sealed commitment, plus a
/// challenge for data that does not match its KZG commitment) is future work.
///
/// Proofs pay the model's owner (the ERC-721 holder at settlement), never the sender, so a proof copied from the
/// mempool pays its rightful owner. Payouts are credited and withdrawn (pull): a payee that cannot receive
/// blocks nobody. Every payout pays the fee vault `vault.feeOn(reward)` first. Expired bounties without a winner
/// refund the sponsor exactly once.
interface IModelBounties {
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
        Forfeited // sealed, not revealed in time: the reward went to the committers
    }

    struct Bounty {
        address sponsor;
        IERC20 token;
        Mode mode;
        Direction direction;
        Status status;
        bool revealed;
        uint32 numChunks;
        uint32 samples;
        uint32 committed;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint64 deadline; // last moment chunk proofs are accepted
        address verifier;
        bytes32 circuitId;
        bytes32 testSetCommitment;
        uint256 reward;
        uint256 threshold;
        uint256 best; // model id leading (sealed) or winner (open); 0 = none
        uint256 bestScore;
        uint256 forfeitShare; // per committer, when Forfeited
    }

    struct Entry {
        uint32 commitIndex; // 1-based order of commitment (sealed); 0 = not committed
        uint32 chunksProven;
        bool compensated;
        uint256 score;
    }

    struct OpenParams {
        IERC20 token;
        uint256 amount;
        bytes32 circuitId;
        bytes32[] chunks;
        uint256 threshold;
        Direction direction;
        uint64 deadline;
    }

    struct SealedParams {
        IERC20 token;
        uint256 amount;
        bytes32 circuitId;
        bytes32 testSetCommitment;
        uint32 numChunks;
        uint256 threshold;
        Direction direction;
        uint64 commitDeadline;
        uint64 revealDeadline;
        uint64 deadline;
    }

    error BountyZeroAddress();
    error BountyZeroAmount();
    error BountyNothingReceived(IERC20 token, uint256 nominal);
    error BountyBadChunkCount(uint256 count, uint256 max);
    error BountyBadChunk(uint256 index);
    error BountyDuplicateChunk(uint256 index, uint256 earlierIndex);
    error BountyUnreachableThreshold(uint256 threshold, uint256 maxScore, Direction direction);
    /// @notice Correct-count circuits take AtLeast thresholds, error-sum circuits AtMost.
    error BountyWrongDirection(Direction given, Direction required);
    error BountyBadDeadlines(uint256 now_, uint256 commitDeadline, uint256 revealDeadline, uint256 deadline);
    error BountyUnknown(uint256 bountyId);
    error BountyNotActive(uint256 bountyId, Status status);
    error BountyWrongMode(uint256 bountyId, Mode mode);
    error BountyNotSponsor(uint256 bountyId, address caller);
    error BountyNotModelOwner(uint256 modelId, address caller, address owner);
    error BountyWrongCircuit(uint256 modelId, bytes32 modelCircuit, bytes32 bountyCircuit);
    error BountyCommitClosed(uint256 bountyId, uint256 commitDeadline);
    error BountyAlreadyCommitted(uint256 bountyId, uint256 modelId);
    error BountyTooManyCommitments(uint256 bountyId, uint256 max);
    error BountyRevealTooEarly(uint256 bountyId, uint256 commitDeadline);
    error BountyRevealClosed(uint256 bountyId, uint256 revealDeadline);
    error BountyAlreadyRevealed(uint256 bountyId);
    error BountyRevealMismatch(uint256 bountyId, bytes32 expected, bytes32 actual);
    error BountyNotRevealed(uint256 bountyId);
    error BountyModelNotCommitted(uint256 bountyId, uint256 modelId);
    error BountyProvingClosed(uint256 bountyId, uint256 deadline);
    error BountyChunkOutOfRange(uint256 chunkIndex, uint256 numChunks);
    error BountyChunkAlreadyProven(uint256 bountyId, uint256 modelId, uint256 chunkIndex);
    error BountyTooEarlyToFinalize(uint256 bountyId, uint256 at);
    error BountyNotForfeited(uint256 bountyId);
    error BountyAlreadyCompensated(uint256 bountyId, uint256 modelId);
    error BountyNothingToWithdraw(address account, IERC20 token);

    event BountyCreated(uint256 indexed bountyId, address indexed sponsor, Mode mode, bytes32 indexed circuitId, IERC20 token, uint256 reward, uint256 threshold);
    event ModelCommitted(uint256 indexed bountyId, uint256 indexed modelId, uint256 commitIndex);
    event TestSetRevealed(uint256 indexed bountyId, bytes32[] chunks, string dataUri);
    event ChunkScored(uint256 indexed bountyId, uint256 indexed modelId, uint256 chunkIndex, uint256 score, uint256 total, uint256 chunksProven);
    event ModelQualified(uint256 indexed bountyId, uint256 indexed modelId, uint256 total, bool leading);
    event BountyWon(uint256 indexed bountyId, uint256 indexed modelId, address indexed owner, uint256 payout, uint256 fee);
    event BountyRefunded(uint256 indexed bountyId, address indexed sponsor, uint256 amount);
    event BountyForfeited(uint256 indexed bountyId, uint256 committers, uint256 sharePerCommitter, uint256 fee);
    event CompensationClaimed(uint256 indexed bountyId, uint256 indexed modelId, address indexed owner, uint256 amount);
    event Withdrawn(address indexed account, IERC20 indexed token, uint256 amount);

    function createOpen(OpenParams calldata p) external returns (uint256 bountyId);

    function createSealed(SealedParams calldata p) external returns (uint256 bountyId);

    function commitModel(uint256 bountyId, uint256 modelId) external;

    function reveal(uint256 bountyId, bytes32[] calldata chunks, bytes32 salt, string calldata dataUri) external;

    /// @notice Verify one chunk proof of `modelId` and add its score. Anyone may send it; the owner is paid.
    function submitChunk(uint256 bountyId, uint256 modelId, uint256 chunkIndex, bytes calldata proof, uint256[] calldata instances)
        external;

    /// @notice Settle an expired bounty: sealed → pay the best, or forfeit to committers, or refund; open → refund.
    function finalize(uint256 bountyId) external;

    /// @notice A committer's share of a forfeited sealed bounty, credited to the model's owner.
    function claimCompensation(uint256 bountyId, uint256 modelId) external;

    /// @notice Withdraw everything credited to the caller in `token`.
    function withdraw(IERC20 token) external returns (uint256 amount);

    function bounty(uint256 bountyId) external view returns (Bounty memory);

    function chunksOf(uint256 bountyId) external view returns (bytes32[] memory);

    function entry(uint256 bountyId, uint256 modelId) external view returns (Entry memory);

    function chunkProven(uint256 bountyId, uint256 modelId, uint256 chunkIndex) external view returns (bool);

    function owed(address account, IERC20 token) external view returns (uint256);

    /// @notice Tokens the contract accounts for: open rewards plus credits not yet withdrawn.
    function escrowed(IERC20 token) external view returns (uint256);

    function bountyCount() external view returns (uint256);

    /// @notice keccak256(abi.encode(chunks, salt)): what a sealed bounty commits to.
    function testSetCommitment(bytes32[] calldata chunks, bytes32 salt) external pure returns (bytes32);
}
