// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test double for the batch verifier: a "deferred verifier" that returns whatever pairing inputs it was
/// given, as an adversary's contract could.
contract MockDeferredVerifier {
    uint256[12] private _out;

    function set(uint256[12] calldata out) external {
        _out = out;
    }

    function verifyProofDeferred(bytes calldata, uint256[] calldata) external view returns (uint256[12] memory) {
        return _out;
    }
}
