// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title RowMerkle
/// @notice Membership of a row hash at a position of a dataset commitment (apiary/data/merkle.py builds the same
/// tree): leaf = keccak256(0x00 ‖ rowHash), node = keccak256(0x01 ‖ left ‖ right); the distinct leaves sorted
/// ascending (so the root does not depend on row order) fill a complete binary tree padded with zero leaves.
/// The prefixes keep leaves and inner nodes apart, so neither can pass for the other (no second preimages),
/// and a position is exactly the path's left/right bits (no bits beyond the path). OpenZeppelin's MerkleProof
/// hashes commutatively and so cannot prove positions, which licence disputes need; this is the positional fold.
library RowMerkle {
    struct Proof {
        uint256 index;
        bytes32[] siblings;
    }

    function leaf(bytes32 rowHash) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore8(0x00, 0x00)
            mstore(0x01, rowHash)
            h := keccak256(0x00, 0x21)
        }
    }

    function node(bytes32 left, bytes32 right) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 0x01), left)
            mstore(add(p, 0x21), right)
            h := keccak256(p, 0x41)
        }
    }

    /// @notice The root of the tree in which `leafValue` sits at `p.index` with siblings `p.siblings`.
    function rootFrom(bytes32 leafValue, Proof calldata p) internal pure returns (bytes32 acc) {
        acc = leafValue;
        uint256 index = p.index;
        uint256 n = p.siblings.length;
        for (uint256 i; i < n; ++i) {
            acc = index & 1 == 1 ? node(p.siblings[i], acc) : node(acc, p.siblings[i]);
            index >>= 1;
        }
    }

    /// @notice True if the row with hash `rowHash` sits at `p.index` of the dataset committed as `root`.
    function contains(bytes32 root, bytes32 rowHash, Proof calldata p) internal pure returns (bool) {
        // An index with bits beyond the path would name no position; refusing it keeps positions unique.
        if (p.siblings.length < 256 && p.index >> p.siblings.length != 0) return false;
        return rootFrom(leaf(rowHash), p) == root;
    }
}
