// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Test-only provenance contracts for ModelBounties' royalty path: one that reverts (the winner is paid in
/// full) and one whose lookup burns all the gas it gets (a caller must not skip royalties by starving it).
contract RevertingProvenance {
    error RevertingProvenanceDown();

    function royaltiesOf(uint256) external pure returns (uint16, address[] memory) {
        revert RevertingProvenanceDown();
    }
}

contract GasBurningProvenance {
    uint256 public sink;

    function royaltiesOf(uint256) external view returns (uint16, address[] memory owners) {
        uint256 x = sink;
        while (true) {
            x = uint256(keccak256(abi.encode(x)));
        }
        owners = new address[](x);
    }
}
