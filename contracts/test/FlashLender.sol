// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

interface IFlashBorrower {
    function onFlashLoan(IERC20 token, uint256 amount, bytes calldata data) external;
}

/// @notice Test-only: lends its whole balance of a token for the duration of one call.
contract FlashLender {
    error FlashLenderNotRepaid(uint256 expected, uint256 actual);

    function flashLoan(IERC20 token, uint256 amount, IFlashBorrower borrower, bytes calldata data) external {
        uint256 before = token.balanceOf(address(this));
        token.transfer(address(borrower), amount);
        borrower.onFlashLoan(token, amount, data);
        uint256 afterwards = token.balanceOf(address(this));
        if (afterwards < before) revert FlashLenderNotRepaid(before, afterwards);
    }
}

/// @notice Test-only: borrows governance tokens and, holding them, calls `target` with `data` (vote, claim, ...),
/// then repays. Records the outcome of the inner call instead of bubbling it up.
contract FlashBorrower is IFlashBorrower {
    address public immutable lender;
    bool public innerOk;
    bytes public innerReturn;

    constructor(address lender_) {
        lender = lender_;
    }

    function onFlashLoan(IERC20 token, uint256 amount, bytes calldata data) external {
        (address target, bytes memory call) = abi.decode(data, (address, bytes));
        (innerOk, innerReturn) = target.call(call);
        token.transfer(lender, amount);
    }
}
