// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IHalo2Verifier} from "../interfaces/IHalo2Verifier.sol";

/// @title EvaluationProofs
/// @notice Checks an evaluation-circuit proof against on-chain state before trusting its score.
///
/// Statement layout (apiary/zk/pipeline.py): the proof's first three G1 points are the KZG commitments of the
/// chunk's features `[0, 64)`, its one-hot labels `[64, 128)` and the model's weights `[128, 192)`; the single
/// public instance is the number of correctly classified samples. A chunk is identified on chain by
/// `keccak256(proof[0:128])`, a model by `keccak256(proof[128:192])`.
///
/// Order of checks: cheap statement checks first (commitments, instance count and range), the verifier last;
/// the verifier's empty revert becomes {EvaluationProofInvalid}.
library EvaluationProofs {
    /// @notice BN254 scalar field modulus: every instance must be below it.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant POINT_BYTES = 64;
    uint256 internal constant STATEMENT_BYTES = 3 * POINT_BYTES;
    uint256 internal constant NUM_INSTANCES = 1;

    /// @notice What a proof must state: which chunk, which model, and the largest score it can honestly have
    /// (the chunk's sample count for correct counts; no bound beyond the field for error sums).
    struct Statement {
        bytes32 chunk;
        bytes32 model;
        uint256 maxScore;
    }

    error EvaluationProofTooShort(uint256 length, uint256 minimum);
    error EvaluationProofWrongChunk(bytes32 expected, bytes32 actual);
    error EvaluationProofWrongModel(bytes32 expected, bytes32 actual);
    error EvaluationProofInstanceCount(uint256 count, uint256 expected);
    error EvaluationProofInstanceOutOfField(uint256 index, uint256 value);
    error EvaluationProofScoreAboveMax(uint256 score, uint256 maxScore);
    error EvaluationProofInvalid(address verifier);

    /// @notice The chunk commitment a proof carries: keccak256 of its features and labels commitments.
    function chunkOf(bytes calldata proof) internal pure returns (bytes32) {
        if (proof.length < STATEMENT_BYTES) revert EvaluationProofTooShort(proof.length, STATEMENT_BYTES);
        return keccak256(proof[0:2 * POINT_BYTES]);
    }

    /// @notice The model commitment a proof carries: keccak256 of its weights commitment.
    function modelOf(bytes calldata proof) internal pure returns (bytes32) {
        if (proof.length < STATEMENT_BYTES) revert EvaluationProofTooShort(proof.length, STATEMENT_BYTES);
        return keccak256(proof[2 * POINT_BYTES:STATEMENT_BYTES]);
    }

    /// @notice Verify that the model committed as `st.model` scores `score` on the chunk committed as `st.chunk`;
    /// a score above `st.maxScore` is impossible and rejected.
    function verify(IHalo2Verifier verifier, bytes calldata proof, uint256[] calldata instances, Statement memory st)
        internal
        returns (uint256 score)
    {
        bytes32 provenChunk = chunkOf(proof);
        if (provenChunk != st.chunk) revert EvaluationProofWrongChunk(st.chunk, provenChunk);
        bytes32 provenModel = modelOf(proof);
        if (provenModel != st.model) revert EvaluationProofWrongModel(st.model, provenModel);
        if (instances.length != NUM_INSTANCES) revert EvaluationProofInstanceCount(instances.length, NUM_INSTANCES);
        score = instances[0];
        if (score >= FIELD_MODULUS) revert EvaluationProofInstanceOutOfField(0, score);
        if (score > st.maxScore) revert EvaluationProofScoreAboveMax(score, st.maxScore);
        // The verifier returns true or reverts with empty data; both failure shapes become one named error.
        try verifier.verifyProof(proof, instances) returns (bool ok) {
            if (!ok) revert EvaluationProofInvalid(address(verifier));
        } catch {
            revert EvaluationProofInvalid(address(verifier));
        }
    }
}
