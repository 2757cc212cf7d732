// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @notice Benchmark anchor: OpenZeppelin's ERC20Votes as shipped (holders delegate to vote), so the token
/// report's ratios are measured on the same chain in the same run (scripts/bench_market.py).
contract AnchorVotes is ERC20, ERC20Permit, ERC20Votes {
    constructor(address[] memory holders, uint256 amount) ERC20("Anchor Votes", "AV") ERC20Permit("Anchor Votes") {
        for (uint256 i = 0; i < holders.length; ++i) _mint(holders[i], amount);
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}

/// @notice Benchmark anchor: OpenZeppelin's ERC721 with an open mint.
contract AnchorNFT is ERC721 {
    constructor() ERC721("Anchor NFT", "ANFT") {}

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}
