// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title Apiary Timelock
/// @notice OpenZeppelin TimelockController, unchanged. It owns every admin knob of the protocol and holds the
/// treasury. Deployment grants PROPOSER and CANCELLER to the Governor, EXECUTOR to everyone (address(0)), and
/// ends with the deployer renouncing the temporary DEFAULT_ADMIN role: the timelock then administers itself.
contract ApiaryTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
