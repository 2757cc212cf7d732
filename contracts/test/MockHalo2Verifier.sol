// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only: an ezkl-shaped verifier whose verdict the test sets. Like the real one it returns true or
/// reverts with empty data; it also records calls so tests can see whether verification was reached.
contract MockHalo2Verifier {
    bool public accept = true;
    uint256 public calls;

    function setAccept(bool accept_) external {
        accept = accept_;
    }

    function verifyProof(bytes calldata, uint256[] calldata) external returns (bool) {
        calls += 1;
        if (!accept) {
            assembly {
                revert(0, 0)
            }
        }
        return true;
    }
}
