// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IGovernor, Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {GovernorPreventLateQuorum} from "@openzeppelin/contracts/governance/extensions/GovernorPreventLateQuorum.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Strings} from "@openzeppelin/contracts/utils/Strings.sol";

/// @title Apiary Governor
/// @notice OpenZeppelin Governor composed of: adjustable settings (delay, period, threshold — changed only by
/// governance itself), simple For/Against/Abstain counting, ERC-5805 votes read at the proposal snapshot (no
/// flash-loan voting), a quorum as a fraction of the past total supply, late-quorum protection (reaching quorum
/// at the last minute extends the vote) and a TimelockController that executes — and therefore owns — every
/// admin action in the protocol.
contract ApiaryGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorPreventLateQuorum,
    GovernorTimelockControl
{
    /// @dev "#proposer=" and a 0x-prefixed address: the suffix every description ends in.
    uint256 private constant _SUFFIX_BYTES = 52;

    struct Params {
        uint48 votingDelay; // clock units (blocks) between proposal and snapshot
        uint32 votingPeriod; // clock units the vote stays open
        uint256 proposalThreshold; // votes needed to propose
        uint256 quorumNumerator; // percent of past total supply (denominator 100)
        uint48 lateQuorumExtension; // clock units a vote is extended by when quorum is reached late
    }

    constructor(IVotes token, TimelockController timelock, Params memory params)
        Governor("Apiary Governor")
        GovernorSettings(params.votingDelay, params.votingPeriod, params.proposalThreshold)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(params.quorumNumerator)
        GovernorPreventLateQuorum(params.lateQuorumExtension)
        GovernorTimelockControl(timelock)
    {}

    /// @dev OpenZeppelin's opt-in `#proposer=<address>` suffix, made mandatory: every description ends in its
    /// proposer's address (any letter case), so a copy of a pending `propose` sent from another account is
    /// refused (`GovernorRestrictedProposer`) instead of becoming the proposal — whose proposer could cancel it
    /// and kill its id for good. A copier can only file its own proposal, under its own suffix and id.
    function _isValidDescriptionForProposer(address proposer, string memory description)
        internal
        view
        override
        returns (bool)
    {
        bytes memory text = bytes(description);
        uint256 length = text.length;
        if (length < _SUFFIX_BYTES) return false;
        bytes10 marker;
        assembly ("memory-safe") {
            // the 10 bytes at length - 52 (bytes10 keeps the high-order ones of the word read there)
            marker := mload(add(add(text, 0x20), sub(length, _SUFFIX_BYTES)))
        }
        if (marker != bytes10("#proposer=")) return false;
        (bool parsed, address named) = Strings.tryParseAddress(description, length - 42, length);
        return parsed && named == proposer;
    }

    // The overrides below only resolve the diamond between the modules; none adds behaviour.

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function proposalDeadline(uint256 proposalId)
        public
        view
        override(Governor, GovernorPreventLateQuorum)
        returns (uint256)
    {
        return super.proposalDeadline(proposalId);
    }

    function state(uint256 proposalId) public view override(Governor, GovernorTimelockControl) returns (ProposalState) {
        return super.state(proposalId);
    }

    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    function _tallyUpdated(uint256 proposalId) internal override(Governor, GovernorPreventLateQuorum) {
        super._tallyUpdated(proposalId);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
