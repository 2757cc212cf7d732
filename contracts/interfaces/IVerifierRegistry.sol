// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IHalo2Verifier} from "./IHalo2Verifier.sol";

/// @title Verifier registry
/// @notice Circuit id → deployed ezkl verifier + the hash of its artefacts manifest (verifiers/<id>/manifest.json)
/// + the samples per chunk its proofs cover. Only governance (the timelock, its owner) adds or retires
/// circuits. Anyone can rebuild a verifier from the published artefacts and compare it with the deployed code.
interface IVerifierRegistry {
    /// @notice What a circuit's single public instance measures.
    enum Metric {
        CorrectCount, // correctly classified samples of the chunk: higher is better, at most `samples`
        SquaredError, // sum of squared errors over the chunk (fixed-point): lower is better, unbounded
        Inference // an inference circuit: its public instances are the model's `samples` outputs (ComputeMarket)
    }

    struct Circuit {
        IHalo2Verifier verifier;
        bytes32 manifestHash; // sha256 of the circuit's manifest.json
        uint32 samples; // test samples per chunk proof
        Metric metric;
        bool retired;
    }

    error VerifierRegistryZeroAddress();
    error VerifierRegistryNotAContract(address verifier);
    error VerifierRegistryZeroSamples();
    error VerifierRegistryAlreadyRegistered(bytes32 id);
    error VerifierRegistryUnknownCircuit(bytes32 id);
    error VerifierRegistryRetired(bytes32 id);

    event CircuitRegistered(
        bytes32 indexed id, string name, IHalo2Verifier verifier, bytes32 manifestHash, uint256 samples, Metric metric
    );
    event CircuitRetired(bytes32 indexed id);

    /// @notice Id of a circuit name: keccak256 of its UTF-8 bytes (e.g. "digits-mlp16-n64").
    function circuitId(string calldata name) external pure returns (bytes32);

    /// @notice Registers a circuit. Owner (timelock) only.
    function register(string calldata name, IHalo2Verifier verifier, bytes32 manifestHash, uint256 samples, Metric metric)
        external
        returns (bytes32 id);

    /// @notice Retires a circuit: no new bounty or model can use it; existing bounties keep their verifier.
    function retire(bytes32 id) external;

    function circuit(bytes32 id) external view returns (Circuit memory);

    /// @notice Whether `id` is registered (retired or not).
    function isRegistered(bytes32 id) external view returns (bool);

    /// @notice The circuit, reverting unless it is registered and not retired.
    function activeCircuit(bytes32 id) external view returns (Circuit memory);
}
