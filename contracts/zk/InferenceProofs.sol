// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IHalo2Verifier} from "../interfaces/IHalo2Verifier.sol";

/// @title InferenceProofs
/// @notice Checks an inference-circuit proof against a compute job before trusting its output.
///
/// Statement layout (the inference circuits of apiary/zk): the proof's first two G1 points are the KZG
/// commitments of the input `[0, 64)` and of the model's weights `[64, 128)`; the public instances are the
/// model's outputs. An input is identified on chain by `keccak256(proof[0:64])`, a model by
/// `keccak256(proof[64:128])` — the same weights point, in the same column of the same domain, as in the model's
/// evaluation circuit, so the model hired is the model registered (and that won its bounty).
library InferenceProofs {
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant POINT_BYTES = 64;
    uint256 internal constant STATEMENT_BYTES = 2 * POINT_BYTES;

    struct Statement {
        bytes32 input;
        bytes32 model;
        bytes32 outputHash; // keccak256(abi.encodePacked(outputs)); zero: any outputs
        uint256 numOutputs;
    }

    error InferenceProofTooShort(uint256 length, uint256 minimum);
    error InferenceProofWrongInput(bytes32 expected, bytes32 actual);
    error InferenceProofWrongModel(bytes32 expected, bytes32 actual);
    error InferenceProofWrongOutputs(bytes32 expected, bytes32 actual);
    error InferenceProofInvalid(address verifier);
    error InferenceProofOutputCount(uint256 count, uint256 expected);
    error InferenceProofOutputOutOfField(uint256 index, uint256 value);

    /// @notice Reverts unless `outputs` has `count` entries, each a field element.
    function checkOutputs(uint256[] calldata outputs, uint256 count) internal pure returns (bytes32) {
        if (outputs.length != count) revert InferenceProofOutputCount(outputs.length, count);
        for (uint256 i; i < count; ++i) {
            if (outputs[i] >= FIELD_MODULUS) revert InferenceProofOutputOutOfField(i, outputs[i]);
        }
        return keccak256(abi.encodePacked(outputs));
    }

    /// @notice Verify a batch proof: `slots` inputs, the first `inputs.length` of them the jobs' (slot i at
    /// `[64i, 64i + 64)`), the weights point after the last slot, exactly `slots × perSlot` outputs.
    function verifyBatch(
        IHalo2Verifier verifier,
        bytes calldata proof,
        uint256[] calldata instances,
        bytes32[] memory inputs,
        bytes32 modelCommitment,
        uint256 slots,
        uint256 perSlot
    ) internal {
        if (inputs.length > slots) revert InferenceProofOutputCount(inputs.length, slots);
        uint256 weightsAt = slots * POINT_BYTES;
        if (proof.length < weightsAt + POINT_BYTES) revert InferenceProofTooShort(proof.length, weightsAt + POINT_BYTES);
        bytes32 model = keccak256(proof[weightsAt:weightsAt + POINT_BYTES]);
        if (model != modelCommitment) revert InferenceProofWrongModel(modelCommitment, model);
        for (uint256 i; i < inputs.length; ++i) {
            bytes32 input = keccak256(proof[i * POINT_BYTES:(i + 1) * POINT_BYTES]);
            if (input != inputs[i]) revert InferenceProofWrongInput(inputs[i], input);
        }
        checkOutputs(instances, slots * perSlot);
        _verify(verifier, proof, instances);
    }

    /// @notice Verify that the model committed as `st.model` maps the input committed as `st.input` to
    /// `outputs` (and, when `st.outputHash` is set, that these are the outputs claimed before). Returns their hash.
    function verify(IHalo2Verifier verifier, bytes calldata proof, uint256[] calldata outputs, Statement memory st)
        internal
        returns (bytes32 outputHash)
    {
        if (proof.length < STATEMENT_BYTES) revert InferenceProofTooShort(proof.length, STATEMENT_BYTES);
        bytes32 input = keccak256(proof[0:POINT_BYTES]);
        if (input != st.input) revert InferenceProofWrongInput(st.input, input);
        bytes32 model = keccak256(proof[POINT_BYTES:STATEMENT_BYTES]);
        if (model != st.model) revert InferenceProofWrongModel(st.model, model);
        outputHash = checkOutputs(outputs, st.numOutputs);
        if (st.outputHash != bytes32(0) && outputHash != st.outputHash) {
            revert InferenceProofWrongOutputs(st.outputHash, outputHash);
        }
        _verify(verifier, proof, outputs);
    }

    function _verify(IHalo2Verifier verifier, bytes calldata proof, uint256[] calldata instances) private {
        // The verifier returns true or reverts with empty data; both failure shapes become one named error.
        try verifier.verifyProof(proof, instances) returns (bool ok) {
            if (!ok) revert InferenceProofInvalid(address(verifier));
        } catch {
            revert InferenceProofInvalid(address(verifier));
        }
    }
}
