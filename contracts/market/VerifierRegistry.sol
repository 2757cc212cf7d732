// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {IHalo2Verifier} from "../interfaces/IHalo2Verifier.sol";
import {IVerifierRegistry} from "../interfaces/IVerifierRegistry.sol";

/// @title VerifierRegistry
/// @notice See {IVerifierRegistry}. Owned by the timelock.
contract VerifierRegistry is IVerifierRegistry, Ownable {
    mapping(bytes32 id => Circuit) private _circuits;

    constructor(address timelock) Ownable(timelock) {}

    /// @inheritdoc IVerifierRegistry
    function circuitId(string calldata name) public pure returns (bytes32) {
        return keccak256(bytes(name));
    }

    /// @inheritdoc IVerifierRegistry
    function register(string calldata name, IHalo2Verifier verifier, bytes32 manifestHash, uint256 samples, Metric metric)
        external
        onlyOwner
        returns (bytes32 id)
    {
        if (address(verifier) == address(0)) revert VerifierRegistryZeroAddress();
        if (address(verifier).code.length == 0) revert VerifierRegistryNotAContract(address(verifier));
        if (samples == 0 || samples > type(uint32).max) revert VerifierRegistryZeroSamples();
        id = circuitId(name);
        if (address(_circuits[id].verifier) != address(0)) revert VerifierRegistryAlreadyRegistered(id);
        _circuits[id] =
            Circuit({verifier: verifier, manifestHash: manifestHash, samples: uint32(samples), metric: metric, retired: false});
        emit CircuitRegistered(id, name, verifier, manifestHash, samples, metric);
    }

    /// @inheritdoc IVerifierRegistry
    function retire(bytes32 id) external onlyOwner {
        Circuit storage c = _known(id);
        if (c.retired) revert VerifierRegistryRetired(id);
        c.retired = true;
        emit CircuitRetired(id);
    }

    /// @inheritdoc IVerifierRegistry
    function circuit(bytes32 id) external view returns (Circuit memory) {
        return _known(id);
    }

    /// @inheritdoc IVerifierRegistry
    function isRegistered(bytes32 id) external view returns (bool) {
        return address(_circuits[id].verifier) != address(0);
    }

    /// @inheritdoc IVerifierRegistry
    function activeCircuit(bytes32 id) external view returns (Circuit memory) {
        Circuit storage c = _known(id);
        if (c.retired) revert VerifierRegistryRetired(id);
        return c;
    }

    function _known(bytes32 id) private view returns (Circuit storage c) {
        c = _circuits[id];
        if (address(c.verifier) == address(0)) revert VerifierRegistryUnknownCircuit(id);
    }
}
