// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IHalo2DeferredVerifier} from "../interfaces/IHalo2DeferredVerifier.sol";

/// @title Halo2BatchVerifier
/// @notice Verifies several ezkl (halo2, KZG) proofs in one call with one pairing check instead of one each.
///
/// Each proof i goes through its circuit's deferred verifier, which makes every check but the last and returns
/// the G1 points (Lᵢ, Rᵢ) of its final equation e(Lᵢ, [1]₂)·e(Rᵢ, −[s]₂) = 1. All proofs must share the SRS
/// ([1]₂ and −[s]₂). This contract then checks e(Σ rᵢLᵢ, [1]₂)·e(Σ rᵢRᵢ, −[s]₂) = 1 with r₀ = 1 and
/// rᵢ = keccak256(all points, i) mod p: the points are fixed before the rᵢ are known, so if any single equation
/// fails the combination holds with probability at most n/p (Schwartz–Zippel over the random oracle). Saves about
/// one pairing check (~113k gas) per proof beyond the first, at two scalar multiplications (~12k) each.
///
/// Trust: the result says only that each listed verifier accepts its proof. A caller must check that the
/// verifiers are the deferred twins of registered circuits (VerifierRegistry) and the statements (instances and
/// committed points) are the ones it expects, exactly as it would before calling `verifyProof`.
contract Halo2BatchVerifier {
    /// @notice BN254 scalar field modulus.
    uint256 internal constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    error Halo2BatchEmpty();
    error Halo2BatchLengthMismatch(uint256 verifiers, uint256 proofs, uint256 instances);
    /// @notice Proof `index` was made against another SRS than proof 0: its equation cannot join the batch.
    error Halo2BatchSrsMismatch(uint256 index);
    error Halo2BatchPrecompileFailed();
    /// @notice The combined pairing equation does not hold: at least one proof is invalid.
    error Halo2BatchPairingFailed();

    /// @notice True if every proof is accepted by its verifier; reverts otherwise (a failing deferred check
    /// bubbles up as the verifier's empty revert, a failing pairing as {Halo2BatchPairingFailed}).
    function verifyBatch(
        IHalo2DeferredVerifier[] calldata verifiers,
        bytes[] calldata proofs,
        uint256[][] calldata instances
    ) external returns (bool) {
        uint256 n = proofs.length;
        if (n == 0) revert Halo2BatchEmpty();
        if (verifiers.length != n || instances.length != n) {
            revert Halo2BatchLengthMismatch(verifiers.length, n, instances.length);
        }
        uint256[4][] memory points = new uint256[4][](n);
        uint256[8] memory g2 = [uint256(0), 0, 0, 0, 0, 0, 0, 0];
        for (uint256 i; i < n; ++i) {
            // slither-disable-next-line calls-loop — one call per proof is the point; a reverting verifier reverts the batch
            uint256[12] memory out = verifiers[i].verifyProofDeferred(proofs[i], instances[i]);
            points[i] = [out[0], out[1], out[2], out[3]];
            for (uint256 k; k < 8; ++k) {
                if (i == 0) g2[k] = out[4 + k];
                else if (g2[k] != out[4 + k]) revert Halo2BatchSrsMismatch(i);
            }
        }
        bytes32 seed = keccak256(abi.encode(points, g2));
        uint256[2] memory lhs = [points[0][0], points[0][1]];
        uint256[2] memory rhs = [points[0][2], points[0][3]];
        for (uint256 i = 1; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i))) % FIELD_MODULUS;
            _mulAdd(lhs, points[i][0], points[i][1], r);
            _mulAdd(rhs, points[i][2], points[i][3], r);
        }
        if (!_pairing(lhs, rhs, g2)) revert Halo2BatchPairingFailed();
        return true;
    }

    /// @dev acc += s·(x, y) with the ecMul (0x07) and ecAdd (0x06) precompiles.
    function _mulAdd(uint256[2] memory acc, uint256 x, uint256 y, uint256 s) private view {
        bool ok;
        assembly ("memory-safe") {
            let p := mload(0x40)
            mstore(p, x)
            mstore(add(p, 0x20), y)
            mstore(add(p, 0x40), s)
            ok := staticcall(gas(), 0x07, p, 0x60, p, 0x40)
            mstore(add(p, 0x40), mload(acc))
            mstore(add(p, 0x60), mload(add(acc, 0x20)))
            ok := and(ok, staticcall(gas(), 0x06, p, 0x80, acc, 0x40))
        }
        if (!ok) revert Halo2BatchPrecompileFailed();
    }

    /// @dev e(lhs, [1]₂)·e(rhs, −[s]₂) == 1 with the pairing precompile (0x08), inputs in ezkl's order.
    function _pairing(uint256[2] memory lhs, uint256[2] memory rhs, uint256[8] memory g2) private view returns (bool) {
        uint256[12] memory input =
            [lhs[0], lhs[1], g2[0], g2[1], g2[2], g2[3], rhs[0], rhs[1], g2[4], g2[5], g2[6], g2[7]];
        uint256[1] memory result;
        bool ok;
        assembly ("memory-safe") {
            ok := staticcall(gas(), 0x08, input, 0x180, result, 0x20)
        }
        if (!ok) revert Halo2BatchPrecompileFailed();
        return result[0] == 1;
    }
}
