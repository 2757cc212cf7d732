// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title FairExchange
/// @notice The on-chain half of a licence's one-step dispute (apiary/data/exchange.py is the off-chain half):
///
/// * **Key agreement**: ECDH on secp256k1. The buyer's one-time key is `B = b·G`; the seller delivers an
///   ephemeral `R = r·G` and `encKey = k ⊕ HKDF-SHA256(ikm = (b·R).x, salt = ∅, info, 32)`. In a dispute the
///   buyer reveals `b` (it was made for this one purchase) and the point `S = b·R`; both multiplications are
///   checked with the `ecrecover` precompile, which computes `address(s·P)` for any point P and scalar s
///   (`ecrecover(0, v(P), P.x, s·P.x mod n)`), so no curve arithmetic runs in Solidity.
/// * **Piece encryption**: `cᵢ = mᵢ ⊕ HKDF-Expand-SHA256(PRK = k, info = "apiary piece" ‖ uint64 i, |mᵢ|)`.
///   HKDF (RFC 5869) is the standard KDF that `cryptography` implements off chain and that the SHA-256 precompile
///   computes here; an AEAD cipher (AES-GCM, ChaCha20-Poly1305) cannot be decrypted by the EVM, and integrity
///   comes from the Merkle commitments instead of a tag.
library FairExchange {
    /// @notice secp256k1 group order and field prime.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint256 internal constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;
    uint256 internal constant GX = 0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798;
    uint256 internal constant GY = 0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8;
    /// @notice Longest piece HKDF-Expand can mask: 255 blocks of 32 bytes.
    uint256 internal constant MAX_PIECE = 255 * 32;

    bytes32 private constant IPAD = 0x3636363636363636363636363636363636363636363636363636363636363636;
    bytes32 private constant OPAD = 0x5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c5c;

    function onCurve(uint256 x, uint256 y) internal pure returns (bool) {
        if (x >= P || y >= P) return false;
        return mulmod(y, y, P) == addmod(mulmod(x, mulmod(x, x, P), P), 7, P);
    }

    /// @notice A key a dispute can use: on the curve with 0 < x < N, the range the ecrecover precompile takes
    /// (about 2^128 curve points have N ≤ x < P: a delivery with one could never be disputed).
    function usableKey(uint256 x, uint256 y) internal pure returns (bool) {
        return x != 0 && x < N && onCurve(x, y);
    }

    /// @notice The Ethereum address of point (x, y): the last 20 bytes of keccak256(x ‖ y).
    function pointAddress(uint256 x, uint256 y) internal pure returns (address) {
        return address(uint160(uint256(keccak256(abi.encodePacked(x, y)))));
    }

    /// @notice address(s·(x, y)) by the ecrecover precompile; zero when the inputs are out of its range.
    function mulAddress(uint256 x, uint256 y, uint256 s) internal pure returns (address) {
        if (x == 0 || x >= N || s == 0 || s >= N) return address(0);
        return ecrecover(bytes32(0), y & 1 == 0 ? 27 : 28, bytes32(x), bytes32(mulmod(s, x, N)));
    }

    /// @notice HMAC-SHA256 with a 32-byte key (zero-padded to the 64-byte block).
    function hmac(bytes32 key, bytes memory message) internal pure returns (bytes32) {
        bytes32 inner = sha256(abi.encodePacked(key ^ IPAD, IPAD, message));
        return sha256(abi.encodePacked(key ^ OPAD, OPAD, inner));
    }

    /// @notice HKDF-SHA256 of a 32-byte input with no salt, 32 bytes of output (RFC 5869: extract, expand T(1)).
    function hkdf32(bytes32 ikm, bytes memory info) internal pure returns (bytes32) {
        bytes32 prk = hmac(bytes32(0), abi.encodePacked(ikm));
        return hmac(prk, abi.encodePacked(info, uint8(1)));
    }

    /// @notice `data ⊕ HKDF-Expand-SHA256(prk, info, |data|)`: encrypts and decrypts a piece.
    function xorExpand(bytes32 prk, bytes memory info, bytes memory data) internal pure returns (bytes memory out) {
        uint256 length = data.length;
        out = new bytes(length);
        bytes32 t = bytes32(0);
        for (uint256 block_ = 1; (block_ - 1) * 32 < length; ++block_) {
            t = block_ == 1
                ? hmac(prk, abi.encodePacked(info, uint8(block_)))
                : hmac(prk, abi.encodePacked(t, info, uint8(block_)));
            uint256 offset = (block_ - 1) * 32;
            uint256 end = offset + 32 < length ? offset + 32 : length;
            for (uint256 i = offset; i < end; ++i) {
                out[i] = data[i] ^ t[i - offset];
            }
        }
    }

    /// @notice The info string of piece `index`: "apiary piece" ‖ uint64 index.
    function pieceInfo(uint256 index) internal pure returns (bytes memory) {
        return abi.encodePacked("apiary piece", uint64(index));
    }
}
