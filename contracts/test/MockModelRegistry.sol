// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only: a model registry where every id exists, is final, belongs to one circuit and is owned by
/// `owner` — what ModelBounties reads, without registering hundreds of models (commitment-flood tests).
contract MockModelRegistry {
    bytes32 public immutable circuit;
    address public immutable owner;

    constructor(bytes32 circuit_, address owner_) {
        circuit = circuit_;
        owner = owner_;
    }

    function commitmentOf(uint256 id) external view returns (bytes32, bytes32, uint256) {
        return (circuit, keccak256(abi.encode(id)), 0);
    }

    function ownerOf(uint256) external view returns (address) {
        return owner;
    }
}
