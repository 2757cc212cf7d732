// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {IComputeMarket} from "../interfaces/IComputeMarket.sol";
import {IFeeVault} from "../interfaces/IFeeVault.sol";
import {IHalo2Verifier} from "../interfaces/IHalo2Verifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IVerifierRegistry} from "../interfaces/IVerifierRegistry.sol";
import {Settlement} from "../settlement/Settlement.sol";
import {InferenceProofs} from "../zk/InferenceProofs.sol";

/// @title ComputeMarket
/// @notice See {IComputeMarket}. Owned by the timelock, which sets the parameters within the bounds below and
/// maps evaluation circuits to the inference circuits that share their weight commitment.
contract ComputeMarket is IComputeMarket, Ownable, Settlement {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    uint64 public constant MIN_UNBONDING = 1 hours;
    uint64 public constant MAX_UNBONDING = 60 days;
    uint64 public constant MIN_CHALLENGE_WINDOW = 1 minutes;
    uint64 public constant MAX_CHALLENGE_WINDOW = 7 days;
    uint64 public constant MIN_RESPONSE_WINDOW = 5 minutes;
    uint64 public constant MAX_RESPONSE_WINDOW = 7 days;
    uint64 public constant MIN_JOB_TIME = 1 minutes;
    uint64 public constant MAX_JOB_TIME = 30 days;
    uint16 public constant MAX_AUDIT_BPS = 5_000;
    /// @notice Challenger's plus requester's share of a slashed collateral: at least 10% always goes to the fee
    /// vault, so a provider who slashes itself through a friendly challenger or requester always loses.
    uint16 public constant MAX_PAID_SHARE_BPS = 9_000;
    /// @notice An unrevealed challenge commitment may be forfeited to the fee vault this long after it was made.
    uint64 public constant COMMIT_LIFETIME = 7 days;
    uint256 public constant MAX_URI_BYTES = 512;

    /*//////////////////////////////////////////////////////////////
                          IMMUTABLES AND STORAGE
    //////////////////////////////////////////////////////////////*/

    IVerifierRegistry public immutable verifiers;
    IModelRegistry public immutable models;
    /// @notice The token providers stake and challengers bond (the governance token).
    IERC20 public immutable stakeToken;
    /// @notice Ceiling of the amounts governance may ask (minimum stake, minimum collateral, challenge bond).
    uint256 public immutable maxAmount;

    Params private _params;
    mapping(bytes32 evaluationCircuitId => bytes32) public inferenceCircuitOf;
    mapping(bytes32 evaluationCircuitId => bytes32) public batchCircuitOf;
    mapping(bytes32 evaluationCircuitId => uint64) private _batchSetAt;
    mapping(uint256 id => Job) private _jobs;
    mapping(address account => Provider) private _providers;
    mapping(bytes32 commitmentAndCommitter => ChallengeCommit) private _commits;
    uint256 private _jobCount;

    constructor(
        address timelock,
        IFeeVault vault_,
        IVerifierRegistry verifiers_,
        IModelRegistry models_,
        IERC20 stakeToken_,
        uint256 maxAmount_,
        Params memory params_
    ) Ownable(timelock) Settlement(vault_) {
        if (address(verifiers_) == address(0) || address(models_) == address(0) || address(stakeToken_) == address(0)) {
            revert SettlementZeroAddress();
        }
        verifiers = verifiers_;
        models = models_;
        stakeToken = stakeToken_;
        maxAmount = maxAmount_;
        _setParams(params_);
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IComputeMarket
    function setParams(Params calldata p) external onlyOwner {
        _setParams(p);
    }

    /// @inheritdoc IComputeMarket
    function setInferenceCircuit(bytes32 evaluationCircuitId, bytes32 inferenceCircuitId) external onlyOwner {
        if (inferenceCircuitId != bytes32(0)) {
            IVerifierRegistry.Circuit memory c = verifiers.activeCircuit(inferenceCircuitId);
            if (c.metric != IVerifierRegistry.Metric.Inference) revert ComputeMarketNoInferenceCircuit(inferenceCircuitId);
        }
        inferenceCircuitOf[evaluationCircuitId] = inferenceCircuitId;
        emit InferenceCircuitSet(evaluationCircuitId, inferenceCircuitId);
    }

    /// @inheritdoc IComputeMarket
    function setBatchCircuit(bytes32 evaluationCircuitId, bytes32 batchCircuitId) external onlyOwner {
        if (batchCircuitId != bytes32(0)) {
            bytes32 single = inferenceCircuitOf[evaluationCircuitId];
            if (single == bytes32(0)) revert ComputeMarketNoInferenceCircuit(evaluationCircuitId);
            uint256 outputs = verifiers.activeCircuit(single).samples;
            IVerifierRegistry.Circuit memory c = verifiers.activeCircuit(batchCircuitId);
            // k slots of the single circuit's outputs each, k ≥ 2.
            if (c.metric != IVerifierRegistry.Metric.Inference || c.samples % outputs != 0 || c.samples < 2 * outputs) {
                revert ComputeMarketNoInferenceCircuit(batchCircuitId);
            }
        }
        batchCircuitOf[evaluationCircuitId] = batchCircuitId;
        _batchSetAt[evaluationCircuitId] = uint64(block.timestamp);
        emit BatchCircuitSet(evaluationCircuitId, batchCircuitId);
    }

    /*//////////////////////////////////////////////////////////////
                               PROVIDERS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IComputeMarket
    function stake(uint256 amount) external nonReentrant {
        if (amount == 0) revert ComputeMarketZeroAmount();
        uint256 received = _collect(stakeToken, msg.sender, amount);
        Provider storage p = _providers[msg.sender];
        p.stake += received;
        emit Staked(msg.sender, received, p.stake);
    }

    /// @inheritdoc IComputeMarket
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert ComputeMarketZeroAmount();
        uint256 free = freeStake(msg.sender);
        if (amount > free) revert ComputeMarketInsufficientStake(msg.sender, free, amount);
        Provider storage p = _providers[msg.sender];
        p.unbonding += amount;
        // One queue per provider: adding to it restarts the period for all of it.
        p.unbondingEnds = uint64(block.timestamp) + _params.unbondingPeriod;
        emit UnstakeRequested(msg.sender, amount, p.unbonding, p.unbondingEnds);
    }

    /// @inheritdoc IComputeMarket
    function completeUnstake() external nonReentrant returns (uint256 amount) {
        Provider storage p = _providers[msg.sender];
        amount = p.unbonding;
        if (amount == 0) revert ComputeMarketNothingUnbonding(msg.sender);
        if (block.timestamp < p.unbondingEnds) revert ComputeMarketStillUnbonding(msg.sender, p.unbondingEnds);
        p.unbonding = 0;
        p.stake -= amount;
        _refundLocked(stakeToken, msg.sender, amount);
        emit Unstaked(msg.sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                  JOBS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IComputeMarket
    function postJob(JobRequest calldata r) external nonReentrant returns (uint256 jobId) {
        Params memory p = _params;
        if (r.price == 0) revert ComputeMarketZeroAmount();
        if (r.inputCommitment == bytes32(0) || bytes(r.inputUri).length > MAX_URI_BYTES) {
            revert ComputeMarketBadInput(r.inputCommitment, bytes(r.inputUri).length);
        }
        if (r.provider == msg.sender) revert ComputeMarketRequesterIsProvider(msg.sender);
        if (r.collateral < p.minCollateral) revert ComputeMarketBadParam("collateral", r.collateral, p.minCollateral, type(uint256).max);
        if (r.deadline < block.timestamp + MIN_JOB_TIME || r.deadline > block.timestamp + MAX_JOB_TIME) {
            revert ComputeMarketBadParam("deadline", r.deadline, block.timestamp + MIN_JOB_TIME, block.timestamp + MAX_JOB_TIME);
        }
        (bytes32 circuitId, bytes32 commitment, uint256 contestableUntil) = models.commitmentOf(r.modelId);
        // Final: no earlier seal can take the id over (ModelRegistry.isFinal).
        if (block.number <= contestableUntil) revert ComputeMarketModelNotFinal(r.modelId);
        bytes32 inference = inferenceCircuitOf[circuitId];
        if (inference == bytes32(0)) revert ComputeMarketNoInferenceCircuit(circuitId);
        IVerifierRegistry.Circuit memory c = verifiers.activeCircuit(inference);

        jobId = ++_jobCount;
        Job storage j = _jobs[jobId];
        j.requester = msg.sender;
        j.mode = r.mode;
        j.status = Status.Open;
        j.provider = r.provider;
        j.deadline = r.deadline;
        j.token = r.token;
        j.verifier = c.verifier;
        j.numOutputs = c.samples;
        j.postedAt = uint64(block.timestamp);
        j.modelId = r.modelId;
        j.modelCommitment = commitment;
        j.inputCommitment = r.inputCommitment;
        j.collateral = r.collateral;
        if (r.auditSeedHash != bytes32(0)) j.auditSeedHash = r.auditSeedHash;
        j.terms = Terms({
            challengeWindow: p.challengeWindow,
            responseWindow: p.responseWindow,
            auditBps: p.auditBps,
            challengerBps: p.challengerBps,
            requesterBps: p.requesterBps,
            feeBps: _currentFeeBps(),
            challengeBond: p.challengeBond
        });
        j.price = _collect(r.token, msg.sender, r.price);
        _emitPosted(jobId, r, j.price);
    }

    /// @inheritdoc IComputeMarket
    function cancel(uint256 jobId) external nonReentrant {
        Job storage j = _expect(jobId, Status.Open);
        if (msg.sender != j.requester) revert ComputeMarketNotRequester(jobId, msg.sender);
        // A job for a named provider may be taken with its result in one call: cancelling it in front of that
        // call would hand the requester the outputs for nothing. It can only expire.
        if (j.provider != address(0)) revert ComputeMarketNamedJob(jobId, j.provider);
        _refund(jobId, j, Status.Refunded);
        emit JobCancelled(jobId);
    }

    /// @inheritdoc IComputeMarket
    function accept(uint256 jobId) external {
        _accept(jobId, _expect(jobId, Status.Open));
    }

    /// @inheritdoc IComputeMarket
    function submitProof(uint256 jobId, bytes calldata proof, uint256[] calldata outputs) external nonReentrant {
        Job storage j = _accepted(jobId, Mode.Proof);
        // slither-disable-next-line reentrancy-no-eth — nonReentrant, and the callee is the registered verifier fixed at posting
        j.outputHash = InferenceProofs.verify(j.verifier, proof, outputs, _statement(j, bytes32(0)));
        emit ResultPosted(jobId, msg.sender, outputs);
        emit JobProven(jobId, j.outputHash);
        _pay(jobId, j);
    }

    /// @inheritdoc IComputeMarket
    function submitProofBatch(uint256[] calldata jobIds, bytes calldata proof, uint256[] calldata instances)
        external
        nonReentrant
    {
        uint256 outs;
        {
            (bytes32[] memory inputs, Job storage first, uint64 oldest) = _batchJobs(jobIds);
            outs = first.numOutputs;
            (IHalo2Verifier verifier, uint256 slots) = _batchCircuit(first.modelId, outs, oldest);
            // slither-disable-next-line reentrancy-no-eth — nonReentrant, and the callee is the governance-registered batch verifier
            InferenceProofs.verifyBatch(verifier, proof, instances, inputs, first.modelCommitment, slots, outs);
        }
        for (uint256 i; i < jobIds.length; ++i) {
            Job storage j = _jobs[jobIds[i]];
            uint256[] calldata outputs = instances[i * outs:(i + 1) * outs];
            j.outputHash = keccak256(abi.encodePacked(outputs));
            emit ResultPosted(jobIds[i], msg.sender, outputs);
            emit JobProven(jobIds[i], j.outputHash);
            _pay(jobIds[i], j);
        }
    }

    /// @inheritdoc IComputeMarket
    function submitResult(uint256 jobId, uint256[] calldata outputs) external {
        Job storage j = _accepted(jobId, Mode.Optimistic);
        j.outputHash = InferenceProofs.checkOutputs(outputs, j.numOutputs);
        j.resultAt = uint64(block.timestamp);
        // One input of the audit draw, beside the requester's secret seed (IComputeMarket)
        j.resultRandao = uint64(block.prevrandao);
        j.status = Status.Submitted;
        emit ResultPosted(jobId, msg.sender, outputs);
    }

    /// @inheritdoc IComputeMarket
    function commitChallenge(bytes32 commitment, uint256 bond) external nonReentrant {
        // Kept under the committer's own key: a copy of the hash sent first by someone else takes nothing from
        // its author (it is the copier's, and only the author can reveal that hash).
        bytes32 key = _commitKey(commitment, msg.sender);
        if (_commits[key].atBlock != 0) revert ComputeMarketCommitmentTaken(commitment);
        uint256 received = _collect(stakeToken, msg.sender, bond);
        // (_collect refuses a transfer that delivered nothing)
        if (received > type(uint128).max) revert ComputeMarketBadParam("bond received", received, 1, type(uint128).max);
        _commits[key] = ChallengeCommit(uint64(block.number), uint64(block.timestamp), uint128(received));
        emit ChallengeCommitted(commitment, msg.sender, received);
    }

    /// @inheritdoc IComputeMarket
    function challenge(uint256 jobId, bytes32 salt) external nonReentrant {
        Job storage j = _job(jobId);
        bytes32 commitment = keccak256(abi.encode(jobId, msg.sender, salt));
        bytes32 key = _commitKey(commitment, msg.sender);
        ChallengeCommit memory k = _commits[key];
        // Committed in an earlier block: a reveal copied from the mempool needs the copier's own commitment.
        if (k.atBlock == 0 || k.atBlock >= block.number) revert ComputeMarketNoCommitment(commitment);
        if (j.challenger != address(0) || k.bond < j.terms.challengeBond) {
            // Someone challenged first (whatever became of the job since), or a bond too small for this job: the
            // bond goes back, nothing else happens. A job nobody challenged refunds nothing: committing to every
            // result to copy a watchdog's reveal costs a bond per result.
            delete _commits[key];
            _refundLocked(stakeToken, msg.sender, k.bond);
            emit ChallengeCommitRefunded(commitment, jobId, msg.sender, k.bond);
            return;
        }
        if (j.status != Status.Submitted) revert ComputeMarketWrongStatus(jobId, j.status, Status.Submitted);
        uint256 closes = uint256(j.resultAt) + j.terms.challengeWindow;
        if (block.timestamp > closes) revert ComputeMarketWindowClosed(jobId, closes);
        if (msg.sender == j.provider) revert ComputeMarketSelfChallenge(jobId);
        delete _commits[key];
        j.challenger = msg.sender;
        j.bond = k.bond;
        _requireProof(j);
        emit Challenged(jobId, msg.sender, k.bond, j.proofDue);
    }

    /// @inheritdoc IComputeMarket
    function forfeitChallengeCommit(bytes32 commitment, address committer) external nonReentrant {
        bytes32 key = _commitKey(commitment, committer);
        ChallengeCommit memory k = _commits[key];
        if (k.atBlock == 0) revert ComputeMarketNoCommitment(commitment);
        uint256 expires = uint256(k.at) + COMMIT_LIFETIME;
        if (block.timestamp <= expires) revert ComputeMarketCommitmentLive(commitment, expires);
        delete _commits[key];
        _forfeitToVault(stakeToken, k.bond);
        emit ChallengeCommitForfeited(commitment, k.bond);
    }

    /// @inheritdoc IComputeMarket
    function revealAudit(uint256 jobId, bytes32 seed) external returns (bool audited) {
        Job storage j = _expect(jobId, Status.Submitted);
        if (j.auditSeedHash == bytes32(0) || keccak256(abi.encode(seed)) != j.auditSeedHash) revert ComputeMarketBadSeed(jobId);
        if (j.drawn) return j.audited;
        // After the challenge window, so that nobody who could still challenge knows the draw.
        uint256 closes = uint256(j.resultAt) + j.terms.challengeWindow;
        if (block.timestamp <= closes) revert ComputeMarketTooEarly(jobId, closes + 1);
        if (block.timestamp > closes + j.terms.responseWindow) revert ComputeMarketWindowClosed(jobId, closes + j.terms.responseWindow);
        // A secret seed committed before the result, mixed with a later prevrandao (IComputeMarket)
        audited = uint256(keccak256(abi.encode(seed, j.resultRandao, jobId))) % _BPS < j.terms.auditBps;
        j.drawn = true;
        j.audited = audited;
        if (audited) _requireProof(j);
        emit AuditDrawn(jobId, audited, j.proofDue);
    }

    /// @inheritdoc IComputeMarket
    function proveResult(uint256 jobId, bytes calldata proof, uint256[] calldata outputs) external nonReentrant {
        Job storage j = _expect(jobId, Status.Submitted);
        if (j.proofDue != 0 && block.timestamp > j.proofDue) revert ComputeMarketWindowClosed(jobId, j.proofDue);
        // The statement pins the outputs posted: the hash returned is the one stored.
        // slither-disable-next-line reentrancy-no-eth — nonReentrant, and the callee is the registered verifier fixed at posting
        j.outputHash = InferenceProofs.verify(j.verifier, proof, outputs, _statement(j, j.outputHash));
        emit JobProven(jobId, j.outputHash);
        if (j.challenger != address(0)) {
            // A valid proof takes the challenger's bond: it pays for the proof the challenge forced.
            uint256 bond = j.bond;
            j.bond = 0;
            _refundLocked(stakeToken, j.provider, bond);
        }
        _pay(jobId, j);
    }

    /// @inheritdoc IComputeMarket
    function finalize(uint256 jobId) external nonReentrant {
        Job storage j = _expect(jobId, Status.Submitted);
        uint256 closes = uint256(j.resultAt) + j.terms.challengeWindow;
        if (block.timestamp <= closes) revert ComputeMarketTooEarly(jobId, closes + 1);
        if (j.challenger != address(0) || j.audited) revert ComputeMarketProofRequired(jobId, j.proofDue);
        // A committed seed not yet revealed: the requester has the response window to reveal it.
        uint256 revealBy = closes + j.terms.responseWindow;
        if (j.auditSeedHash != bytes32(0) && !j.drawn && block.timestamp <= revealBy) revert ComputeMarketTooEarly(jobId, revealBy + 1);
        _pay(jobId, j);
    }

    /// @inheritdoc IComputeMarket
    function slashUnproven(uint256 jobId) external nonReentrant {
        Job storage j = _expect(jobId, Status.Submitted);
        if (j.proofDue == 0) revert ComputeMarketProofNotRequired(jobId);
        if (block.timestamp <= j.proofDue) revert ComputeMarketTooEarly(jobId, uint256(j.proofDue) + 1);
        _slash(jobId, j);
    }

    /// @inheritdoc IComputeMarket
    function expire(uint256 jobId) external nonReentrant {
        Job storage j = _job(jobId);
        if (j.status != Status.Open && j.status != Status.Accepted) revert ComputeMarketWrongStatus(jobId, j.status, Status.Accepted);
        if (block.timestamp <= j.deadline) revert ComputeMarketTooEarly(jobId, uint256(j.deadline) + 1);
        if (j.status == Status.Open) _refund(jobId, j, Status.Refunded);
        else _slash(jobId, j);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IComputeMarket
    function params() external view returns (Params memory) {
        return _params;
    }

    /// @inheritdoc IComputeMarket
    function job(uint256 jobId) external view returns (Job memory) {
        return _job(jobId);
    }

    /// @inheritdoc IComputeMarket
    function providerOf(address account) external view returns (Provider memory) {
        return _providers[account];
    }

    /// @inheritdoc IComputeMarket
    function freeStake(address account) public view returns (uint256) {
        Provider storage p = _providers[account];
        return p.stake - p.locked - p.unbonding;
    }

    /// @inheritdoc IComputeMarket
    function totalJobs() external view returns (uint256) {
        return _jobCount;
    }

    /// @inheritdoc IComputeMarket
    function challengeCommit(bytes32 commitment, address committer) external view returns (ChallengeCommit memory) {
        return _commits[_commitKey(commitment, committer)];
    }

    /*//////////////////////////////////////////////////////////////
                                PRIVATE
    //////////////////////////////////////////////////////////////*/

    function _commitKey(bytes32 commitment, address committer) private pure returns (bytes32) {
        return keccak256(abi.encode(commitment, committer));
    }

    function _job(uint256 jobId) private view returns (Job storage j) {
        j = _jobs[jobId];
        if (j.status == Status.None) revert ComputeMarketUnknownJob(jobId);
    }

    function _expect(uint256 jobId, Status required) private view returns (Job storage j) {
        j = _job(jobId);
        if (j.status != required) revert ComputeMarketWrongStatus(jobId, j.status, required);
    }

    /// @dev The caller takes an open job: before its deadline, named or open to all, not its requester, with the
    /// collateral free and the minimum stake (unbonding excluded); the collateral is locked.
    function _accept(uint256 jobId, Job storage j) private {
        if (block.timestamp > j.deadline) revert ComputeMarketDeadlinePassed(jobId, j.deadline);
        if (j.provider != address(0) && j.provider != msg.sender) revert ComputeMarketNotProvider(jobId, msg.sender);
        if (msg.sender == j.requester) revert ComputeMarketRequesterIsProvider(msg.sender);
        Provider storage p = _providers[msg.sender];
        uint256 free = freeStake(msg.sender);
        if (free < j.collateral || p.stake - p.unbonding < _params.minStake) {
            revert ComputeMarketInsufficientStake(msg.sender, free, Math.max(j.collateral, _params.minStake));
        }
        p.locked += j.collateral;
        j.provider = msg.sender;
        j.status = Status.Accepted;
        emit JobAccepted(jobId, msg.sender);
    }

    /// @dev The job in `mode`, accepted by the caller — or open, and then taken by the caller in the same call (a
    /// provider that has its result need not accept first) — and the deadline not passed.
    function _accepted(uint256 jobId, Mode mode) private returns (Job storage j) {
        j = _job(jobId);
        // Only the named provider may take a job with its result: on a job open to all, a result in the mempool
        // could be copied by anyone staked (accept first, then submit: only the acceptor may submit).
        if (j.status == Status.Open && j.provider == msg.sender) _accept(jobId, j);
        else if (j.status != Status.Accepted) revert ComputeMarketWrongStatus(jobId, j.status, Status.Accepted);
        if (j.mode != mode) revert ComputeMarketWrongMode(jobId, j.mode);
        if (msg.sender != j.provider) revert ComputeMarketNotProvider(jobId, msg.sender);
        if (block.timestamp > j.deadline) revert ComputeMarketDeadlinePassed(jobId, j.deadline);
    }

    /// @dev The batch's jobs, each taken by the caller as `submitProof` takes one, all for one model, ids strictly
    /// increasing (no job twice, so none is paid twice); returns their input commitments, the first job and the
    /// earliest posting time.
    function _batchJobs(uint256[] calldata jobIds)
        private
        returns (bytes32[] memory inputs, Job storage first, uint64 oldest)
    {
        uint256 n = jobIds.length;
        if (n == 0) revert ComputeMarketBadBatch(0, 0);
        first = _accepted(jobIds[0], Mode.Proof);
        oldest = first.postedAt;
        inputs = new bytes32[](n);
        inputs[0] = first.inputCommitment;
        for (uint256 i = 1; i < n; ++i) {
            if (jobIds[i] <= jobIds[i - 1]) revert ComputeMarketBadBatch(i, jobIds[i]);
            Job storage j = _accepted(jobIds[i], Mode.Proof);
            if (j.modelId != first.modelId) revert ComputeMarketBadBatch(i, jobIds[i]);
            if (j.postedAt < oldest) oldest = j.postedAt;
            inputs[i] = j.inputCommitment;
        }
    }

    /// @dev The batch circuit of the model's evaluation circuit, enabled before the oldest job was posted: its
    /// verifier and slot count (its outputs a whole number of slots).
    function _batchCircuit(uint256 modelId, uint256 outputs, uint64 oldest)
        private
        view
        returns (IHalo2Verifier, uint256 slots)
    {
        // slither-disable-next-line unused-return — only the circuit id is needed; finality was checked at posting
        (bytes32 circuitId,,) = models.commitmentOf(modelId);
        bytes32 batch = batchCircuitOf[circuitId];
        if (batch == bytes32(0)) revert ComputeMarketNoInferenceCircuit(circuitId);
        if (_batchSetAt[circuitId] >= oldest) revert ComputeMarketBadBatch(type(uint256).max, oldest);
        IVerifierRegistry.Circuit memory c = verifiers.activeCircuit(batch);
        if (c.samples % outputs != 0 || c.samples < 2 * outputs) revert ComputeMarketNoInferenceCircuit(batch);
        slots = c.samples / outputs;
        return (c.verifier, slots);
    }

    function _statement(Job storage j, bytes32 outputHash) private view returns (InferenceProofs.Statement memory) {
        return InferenceProofs.Statement({
            input: j.inputCommitment, model: j.modelCommitment, outputHash: outputHash, numOutputs: j.numOutputs
        });
    }

    /// @dev The first challenge or positive audit starts the response window; later ones never extend it.
    function _requireProof(Job storage j) private {
        if (j.proofDue == 0) j.proofDue = uint64(block.timestamp) + j.terms.responseWindow;
    }

    function _pay(uint256 jobId, Job storage j) private {
        j.status = Status.Paid;
        _providers[j.provider].locked -= j.collateral;
        (uint256 net, uint256 fee) = _payOut(j.token, j.provider, j.price, j.terms.feeBps);
        emit JobPaid(jobId, j.provider, net, fee);
    }

    function _refund(uint256 jobId, Job storage j, Status status) private {
        j.status = status;
        _refundLocked(j.token, j.requester, j.price);
        emit JobRefunded(jobId, j.requester, j.price);
    }

    /// @dev The provider failed to act: its collateral is split (challenger, requester, vault), the requester
    /// refunded in full and a challenger's bond returned. One job, one slash: the status leaves Accepted/Submitted.
    function _slash(uint256 jobId, Job storage j) private {
        uint256 amount = j.collateral;
        Provider storage p = _providers[j.provider];
        p.locked -= amount;
        p.stake -= amount;
        address challenger = j.challenger;
        uint256 toChallenger = challenger == address(0) ? 0 : amount * j.terms.challengerBps / _BPS;
        uint256 requesterBps = j.terms.requesterBps + (challenger == address(0) ? j.terms.challengerBps : 0);
        uint256 toRequester = amount * requesterBps / _BPS;
        uint256 toVault = amount - toChallenger - toRequester;
        if (challenger != address(0)) {
            uint256 bond = j.bond;
            j.bond = 0;
            _refundLocked(stakeToken, challenger, bond + toChallenger);
        }
        _refundLocked(stakeToken, j.requester, toRequester);
        _forfeitToVault(stakeToken, toVault);
        emit ProviderSlashed(jobId, j.provider, amount, toChallenger, toRequester, toVault);
        _refund(jobId, j, Status.Slashed);
    }

    function _emitPosted(uint256 jobId, JobRequest calldata r, uint256 price) private {
        emit JobPosted(
            jobId, msg.sender, r.modelId, r.inputCommitment, r.inputUri, r.mode, r.token, price, r.collateral, r.deadline, r.provider
        );
    }

    function _setParams(Params memory p) private {
        _bound("minStake", p.minStake, 1, maxAmount);
        _bound("minCollateral", p.minCollateral, 1, maxAmount);
        _bound("challengeBond", p.challengeBond, 1, maxAmount);
        _bound("unbondingPeriod", p.unbondingPeriod, MIN_UNBONDING, MAX_UNBONDING);
        _bound("challengeWindow", p.challengeWindow, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        _bound("responseWindow", p.responseWindow, MIN_RESPONSE_WINDOW, MAX_RESPONSE_WINDOW);
        _bound("auditBps", p.auditBps, 0, MAX_AUDIT_BPS);
        _bound("challengerBps", p.challengerBps, 0, MAX_PAID_SHARE_BPS);
        _bound("requesterBps", p.requesterBps, 0, MAX_PAID_SHARE_BPS - p.challengerBps);
        _params = p;
        emit ParamsSet(p);
    }

    function _bound(string memory name, uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert ComputeMarketBadParam(name, value, min, max);
    }
}
