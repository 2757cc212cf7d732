// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice An ezkl verifier whose final pairing check is deferred to a batch (apiary/zk/verifier.py,
/// `defer_pairing`): it makes every other check of `verifyProof` and reverts with empty data if one fails, then
/// returns the pairing's inputs instead of checking them: [lhs.x, lhs.y, rhs.x, rhs.y] in G1, then [1]₂ and −[s]₂
/// as (x₁, x₂, y₁, y₂) each. On its own a successful call proves nothing.
interface IHalo2DeferredVerifier {
    function verifyProofDeferred(bytes calldata proof, uint256[] calldata instances)
        external
        returns (uint256[12] memory pairingInputs);
}
