// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IHalo2Verifier} from "./IHalo2Verifier.sol";

/// @title Compute market: inference of registered models by staked providers
/// @notice A requester escrows a payment for running a **registered model** (ModelRegistry id: its weight
/// commitment) on a committed input (the keccak256 of the input's KZG commitment point, as an inference proof
/// carries it), with a deadline, a collateral the provider must lock and a mode:
///
/// * **Proof**: the provider submits the outputs with a proof of inference (InferenceProofs: input, model and
///   outputs checked against the job) and is paid at once.
/// * **Optimistic**: the provider submits the outputs; nothing is final before the challenge window closes.
///   Anyone may challenge with a bond, committed a block before it is revealed (below). A governance-set share
///   of results is audited (below). A challenged or audited result must be proven within the response window; a
///   valid proof pays the provider and takes the challenger's bond. No proof in time: the provider's collateral
///   is slashed — split between the challenger, the requester and the fee vault by shares fixed when the job was
///   posted — the requester is refunded and the challenger's bond returned.
///
/// Challenges are bound to their author: `commitChallenge(keccak256(abi.encode(jobId, challenger, salt)))` with
/// the bond, then, in a later block and while the window is open, `challenge(jobId, salt)` from that account.
/// The commitment hides the job and is kept under its committer: a copy of it sent first is the copier's own
/// (which it cannot reveal), and a reveal copied from the mempool needs the copier's own earlier commitment. The
/// first reveal holds the job; a commitment revealed after someone else challenged the job (even once settled),
/// or with a bond below the job's, gets its bond back. A commitment never revealed is forfeited to the fee vault
/// once it expires (COMMIT_LIFETIME), so committing to every job in the hope of copying a watchdog's reveal costs
/// a bond per job nobody else challenged. Not closed: a provider's friend may commit to its lies early and
/// reveal before a watchdog; the pair still loses the vault's and the requester's shares (MAX_PAID_SHARE_BPS).
///
/// Audit randomness: the requester commits `auditSeedHash = keccak256(abi.encode(seed))` of a secret seed when
/// posting, and reveals the seed with `revealAudit` after the challenge window, within the response window; the
/// draw mixes the seed, `block.prevrandao` of the result's block and the job id. Nobody who could challenge
/// knows the draw while challenges are open (so nobody picks the audited results to challenge), the provider
/// fixes its result before the draw is known, no block producer can re-roll it (prevrandao cannot be ground
/// by re-sealing a block; the seed is secret), and the requester cannot grind its seed (prevrandao of a later
/// block is mixed in). Its limits: a requester who never reveals gets no audit (a zero hash: never audited),
/// and the provider then waits the response window after the challenge window to be paid; on a chain whose
/// prevrandao is predictable (some L2 sequencers) a requester could grind its seed into an audit, which costs
/// an honest provider one proof.
///
/// Providers should fetch the input and check its commitment *before* accepting: once a job is accepted, a
/// missing input is the provider's risk, so a requester gains nothing by withholding it after acceptance.
///
/// A provider that accepted a job and delivers nothing by the deadline is slashed the same way (no challenger
/// share) and the requester refunded. Providers stake the governance token; collateral is locked from the
/// stake per accepted job, so stake cannot leave while a job could still slash it; withdrawals go through an
/// unbonding period. Every payment pays the protocol fee fixed at posting (Settlement); slashes pay no fee.
///
/// Ledger invariant (Settlement): `locked(stakeToken) == Σ stakes + Σ open challenge bonds (+ open payments in
/// the stake token)`, and for any other token `locked == Σ open payments`. Each job settles exactly once.
interface IComputeMarket {
    enum Mode {
        Proof,
        Optimistic
    }

    enum Status {
        None,
        Open, // posted, waiting for a provider
        Accepted, // a provider locked collateral; result due by the deadline
        Submitted, // optimistic result posted; challenge window open
        Paid, // settled: the provider was paid
        Slashed, // settled: the provider failed; requester refunded
        Refunded // settled: cancelled or never accepted before the deadline
    }

    /// @notice Governance parameters, each within bounds fixed in code (see the constants of ComputeMarket).
    struct Params {
        uint256 minStake; // stake a provider needs to accept jobs
        uint256 minCollateral; // least collateral a job may ask for
        uint256 challengeBond; // a challenger's bond: at least the cost of a proof and its verification
        uint64 unbondingPeriod;
        uint64 challengeWindow;
        uint64 responseWindow;
        uint16 auditBps; // share of optimistic results audited
        uint16 challengerBps; // of a slashed collateral, to the challenger (requester's share when none)
        uint16 requesterBps; // of a slashed collateral, to the requester; the rest to the fee vault
    }

    /// @notice Terms fixed for a job when it is posted: later parameter changes never touch it.
    struct Terms {
        uint64 challengeWindow;
        uint64 responseWindow;
        uint16 auditBps;
        uint16 challengerBps;
        uint16 requesterBps;
        uint16 feeBps;
        uint256 challengeBond;
    }

    struct JobRequest {
        uint256 modelId;
        bytes32 inputCommitment; // keccak256 of the input's KZG commitment point (64 bytes)
        string inputUri; // where providers fetch the input
        IERC20 token; // payment token
        uint256 price; // payment (the most the requester pays: fee-on-transfer tokens credit what arrived)
        uint256 collateral; // stake the provider locks for this job (≥ params.minCollateral)
        uint64 deadline; // result (proof mode: proof) due by this time
        Mode mode;
        address provider; // zero: any staked provider may accept
        bytes32 auditSeedHash; // optimistic: keccak256(abi.encode(seed)) of the requester's secret seed (zero: no audit)
    }

    struct Job {
        address requester;
        Mode mode;
        Status status;
        bool drawn; // optimistic: audit revealed
        bool audited; // optimistic: must be proven
        address provider;
        uint64 deadline;
        uint64 resultAt; // optimistic: when the outputs were posted
        uint64 resultRandao; // optimistic: block.prevrandao (low 64 bits) of the result's block, mixed into the draw
        uint64 proofDue; // challenged or audited: proof due by this time (0: no proof required)
        address challenger;
        IERC20 token;
        IHalo2Verifier verifier; // the inference circuit's verifier when the job was posted
        uint32 numOutputs;
        uint64 postedAt; // a batch circuit settles the job only if governance enabled it before this time
        uint256 modelId;
        bytes32 modelCommitment;
        bytes32 inputCommitment;
        bytes32 outputHash; // keccak256(abi.encodePacked(outputs)) once posted
        uint256 price; // what arrived
        uint256 collateral;
        uint256 bond; // the challenger's bond, while a challenge is open
        bytes32 auditSeedHash;
        Terms terms;
    }

    /// @notice A challenge committed but not yet revealed: its block, its time and the bond it holds.
    struct ChallengeCommit {
        uint64 atBlock;
        uint64 at;
        uint128 bond;
    }

    struct Provider {
        uint256 stake; // all of it, unbonding included: slashable until it leaves
        uint256 locked; // collateral of accepted, unsettled jobs
        uint256 unbonding; // requested to leave; not usable for new jobs
        uint64 unbondingEnds;
    }

    error ComputeMarketBadParam(string name, uint256 value, uint256 min, uint256 max);
    error ComputeMarketNoInferenceCircuit(bytes32 evaluationCircuitId);
    error ComputeMarketModelNotFinal(uint256 modelId);
    /// @notice A zero input commitment, or an input URI longer than MAX_URI_BYTES.
    error ComputeMarketBadInput(bytes32 inputCommitment, uint256 uriBytes);
    error ComputeMarketRequesterIsProvider(address account);
    /// @notice A job for a named provider cannot be cancelled (it may be taken with its result in one call), only expire.
    error ComputeMarketNamedJob(uint256 jobId, address provider);
    /// @notice A batch whose job at `index` repeats or precedes the one before it, or is for another model (an
    /// empty batch: index 0, job 0); index 2^256 − 1: a job posted at `jobId` (a time) before the batch circuit.
    error ComputeMarketBadBatch(uint256 index, uint256 jobId);
    error ComputeMarketUnknownJob(uint256 jobId);
    error ComputeMarketWrongStatus(uint256 jobId, Status current, Status required);
    error ComputeMarketNotProvider(uint256 jobId, address caller);
    error ComputeMarketNotRequester(uint256 jobId, address caller);
    error ComputeMarketWrongMode(uint256 jobId, Mode mode);
    error ComputeMarketDeadlinePassed(uint256 jobId, uint256 deadline);
    error ComputeMarketTooEarly(uint256 jobId, uint256 at);
    error ComputeMarketWindowClosed(uint256 jobId, uint256 closedAt);
    error ComputeMarketSelfChallenge(uint256 jobId);
    error ComputeMarketProofNotRequired(uint256 jobId);
    error ComputeMarketProofRequired(uint256 jobId, uint64 proofDue);
    error ComputeMarketInsufficientStake(address provider, uint256 free, uint256 needed);
    error ComputeMarketNothingUnbonding(address provider);
    error ComputeMarketStillUnbonding(address provider, uint256 endsAt);
    error ComputeMarketZeroAmount();
    error ComputeMarketCommitmentTaken(bytes32 commitment);
    error ComputeMarketNoCommitment(bytes32 commitment);
    error ComputeMarketCommitmentLive(bytes32 commitment, uint256 expiresAt);
    error ComputeMarketBadSeed(uint256 jobId);

    event ParamsSet(Params params);
    event InferenceCircuitSet(bytes32 indexed evaluationCircuitId, bytes32 indexed inferenceCircuitId);
    event BatchCircuitSet(bytes32 indexed evaluationCircuitId, bytes32 indexed batchCircuitId);
    event Staked(address indexed provider, uint256 amount, uint256 stake);
    event UnstakeRequested(address indexed provider, uint256 amount, uint256 unbonding, uint64 endsAt);
    event Unstaked(address indexed provider, uint256 amount);
    event JobPosted(
        uint256 indexed jobId,
        address indexed requester,
        uint256 indexed modelId,
        bytes32 inputCommitment,
        string inputUri,
        Mode mode,
        IERC20 token,
        uint256 price,
        uint256 collateral,
        uint64 deadline,
        address provider
    );
    event JobCancelled(uint256 indexed jobId);
    event JobAccepted(uint256 indexed jobId, address indexed provider);
    event ResultPosted(uint256 indexed jobId, address indexed provider, uint256[] outputs);
    event JobProven(uint256 indexed jobId, bytes32 outputHash);
    event Challenged(uint256 indexed jobId, address indexed challenger, uint256 bond, uint64 proofDue);
    event ChallengeCommitted(bytes32 indexed commitment, address indexed committer, uint256 bond);
    event ChallengeCommitRefunded(bytes32 indexed commitment, uint256 indexed jobId, address indexed committer, uint256 bond);
    event ChallengeCommitForfeited(bytes32 indexed commitment, uint256 bond);
    event AuditDrawn(uint256 indexed jobId, bool audited, uint64 proofDue);
    event JobPaid(uint256 indexed jobId, address indexed provider, uint256 net, uint256 fee);
    event ProviderSlashed(
        uint256 indexed jobId, address indexed provider, uint256 amount, uint256 toChallenger, uint256 toRequester, uint256 toVault
    );
    event JobRefunded(uint256 indexed jobId, address indexed requester, uint256 amount);

    // ---- governance (the timelock)
    function setParams(Params calldata params) external;
    function setInferenceCircuit(bytes32 evaluationCircuitId, bytes32 inferenceCircuitId) external;
    /// @notice The batch inference circuit of an evaluation circuit (zero: none): the same network over k inputs,
    /// each its own committed point, so one proof settles up to k proof-mode jobs of one model. Its registry entry
    /// has metric Inference and `samples` = k × the single circuit's outputs (k ≥ 2).
    function setBatchCircuit(bytes32 evaluationCircuitId, bytes32 batchCircuitId) external;

    // ---- providers
    function stake(uint256 amount) external;
    function requestUnstake(uint256 amount) external;
    function completeUnstake() external returns (uint256 amount);

    // ---- jobs
    function postJob(JobRequest calldata request) external returns (uint256 jobId);
    function cancel(uint256 jobId) external;
    /// @notice Take an open job (lock its collateral). The job's named provider may instead take it with its result
    /// in one call (`submitProof`/`submitResult`); a job open to all must be accepted first, so that a result seen
    /// in the mempool cannot be copied. A named provider's job cannot be cancelled, only expire.
    function accept(uint256 jobId) external;
    function submitProof(uint256 jobId, bytes calldata proof, uint256[] calldata outputs) external;
    /// @notice Settles proof-mode jobs of one model (ids strictly increasing, each taken by the caller as in
    /// `submitProof`) with one proof of the model's batch circuit: job i's input is slot i, its outputs
    /// `instances[i·c, (i+1)·c)`; unused slots are ignored. The batch circuit is the one registered now, and only
    /// if it was enabled before every job of the batch was posted: governance cannot change how an escrowed job
    /// is verified (a job keeps the single verifier it was posted with, and batch circuits that existed then).
    function submitProofBatch(uint256[] calldata jobIds, bytes calldata proof, uint256[] calldata instances) external;
    function submitResult(uint256 jobId, uint256[] calldata outputs) external;
    /// @notice Lock a challenge bond (at least the bond of the job it is for) behind
    /// `commitment = keccak256(abi.encode(jobId, challenger, salt))`; reveal it with `challenge` in a later block.
    function commitChallenge(bytes32 commitment, uint256 bond) external;
    /// @notice Reveal the caller's commitment: the job is challenged (a proof is due), or, if someone already
    /// challenged it (settled since or not) or the commitment's bond is below the job's, the bond is returned.
    function challenge(uint256 jobId, bytes32 salt) external;
    /// @notice Send an expired, unrevealed commitment's bond to the fee vault (anyone).
    function forfeitChallengeCommit(bytes32 commitment, address committer) external;
    /// @notice The requester's seed (whoever sends it): draws the audit, after the challenge window and within
    /// the response window that follows it. Later, an unrevealed seed counts as no audit.
    function revealAudit(uint256 jobId, bytes32 seed) external returns (bool audited);
    function proveResult(uint256 jobId, bytes calldata proof, uint256[] calldata outputs) external;
    function finalize(uint256 jobId) external;
    function slashUnproven(uint256 jobId) external;
    function expire(uint256 jobId) external;

    // ---- views
    function params() external view returns (Params memory);
    function job(uint256 jobId) external view returns (Job memory);
    function providerOf(address account) external view returns (Provider memory);
    function freeStake(address account) external view returns (uint256);
    function totalJobs() external view returns (uint256);
    function challengeCommit(bytes32 commitment, address committer) external view returns (ChallengeCommit memory);
}
