// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

import {IDataMarket} from "../interfaces/IDataMarket.sol";
import {IDatasetRegistry} from "../interfaces/IDatasetRegistry.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IProvenance} from "../interfaces/IProvenance.sol";

/// @title Provenance
/// @notice See {IProvenance}. Owned by the timelock, which sets the royalty share under the immutable cap.
contract Provenance is IProvenance, Ownable {
    uint256 public constant MAX_CITATIONS = 8;
    /// @notice Absolute ceiling of any deployment's cap: half of a reward.
    uint16 public constant CAP_LIMIT_BPS = 5_000;

    IModelRegistry public immutable models;
    IDatasetRegistry public immutable datasets;
    IDataMarket public immutable market;
    uint16 public immutable maxRoyaltyBps;
    uint16 public royaltyBps;

    mapping(uint256 modelId => Citation) private _citations;

    constructor(address timelock, IModelRegistry models_, IDatasetRegistry datasets_, IDataMarket market_, uint16 maxRoyaltyBps_,
        uint16 royaltyBps_) Ownable(timelock) {
        if (maxRoyaltyBps_ > CAP_LIMIT_BPS) revert ProvenanceRoyaltyAboveCap(maxRoyaltyBps_, CAP_LIMIT_BPS);
        models = models_;
        datasets = datasets_;
        market = market_;
        maxRoyaltyBps = maxRoyaltyBps_;
        _setRoyalty(royaltyBps_);
    }

    /// @inheritdoc IProvenance
    function cite(uint256 modelId, uint256[] calldata datasetIds) external {
        if (models.ownerOf(modelId) != msg.sender) revert ProvenanceNotModelOwner(modelId, msg.sender);
        // Only a final registration: an earlier seal could still take the model over, and a citation written by
        // a copier would then divert the real owner's winnings for good.
        if (!models.isFinal(modelId)) revert ProvenanceModelNotFinal(modelId);
        if (_citations[modelId].datasetIds.length != 0) revert ProvenanceAlreadyCited(modelId);
        uint256 n = datasetIds.length;
        if (n == 0 || n > MAX_CITATIONS) revert ProvenanceBadCitations(n, MAX_CITATIONS);
        for (uint256 i; i < n; ++i) {
            uint256 id = datasetIds[i];
            // Strictly increasing: each dataset cited once, so no dataset takes two parts.
            if (i > 0 && id <= datasetIds[i - 1]) revert ProvenanceBadCitations(n, MAX_CITATIONS);
            // slither-disable-next-line calls-loop — at most MAX_CITATIONS trusted, immutable registries
            if (datasets.ownerOf(id) != msg.sender && !market.isLicensed(id, msg.sender)) {
                revert ProvenanceNotLicensed(id, msg.sender);
            }
        }
        _citations[modelId] = Citation(royaltyBps, datasetIds);
        emit Cited(modelId, datasetIds, royaltyBps);
    }

    /// @inheritdoc IProvenance
    function setRoyaltyBps(uint16 bps) external onlyOwner {
        _setRoyalty(bps);
    }

    /// @inheritdoc IProvenance
    function citation(uint256 modelId) external view returns (Citation memory) {
        return _citations[modelId];
    }

    /// @inheritdoc IProvenance
    function royaltiesOf(uint256 modelId) external view returns (uint16 bps, address[] memory owners) {
        Citation storage c = _citations[modelId];
        uint256 n = c.datasetIds.length;
        owners = new address[](n);
        uint256 k;
        for (uint256 i; i < n; ++i) {
            uint256 id = c.datasetIds[i];
            // A duplicate earns nothing, and neither does a dataset that can still be proven one: royalties
            // start once its challenges close (a copy cited early is never paid).
            // slither-disable-next-line calls-loop — at most MAX_CITATIONS reads of the immutable registry
            if (datasets.isDuplicate(id) || block.timestamp < datasets.releasableAt(id)) continue;
            // slither-disable-next-line calls-loop — as above
            owners[k++] = datasets.ownerOf(id);
        }
        assembly ("memory-safe") {
            mstore(owners, k) // drop the slots of duplicates
        }
        // The share is per cited dataset: a duplicate's part stays with the winner, the others' parts are unchanged.
        return (k == 0 ? 0 : uint16(uint256(c.royaltyBps) * k / n), owners);
    }

    function _setRoyalty(uint16 bps) private {
        if (bps > maxRoyaltyBps) revert ProvenanceRoyaltyAboveCap(bps, maxRoyaltyBps);
        royaltyBps = bps;
        emit RoyaltySet(bps);
    }
}
