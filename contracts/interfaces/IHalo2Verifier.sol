// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The ezkl-generated verifier: returns true or reverts with empty data.
interface IHalo2Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool);
}
