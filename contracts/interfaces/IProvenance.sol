// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Provenance: models cite the datasets they were trained on, and share their bounty winnings
/// @notice A model's owner cites up to `MAX_CITATIONS` datasets, once, each of which it owns or holds a settled
/// licence for (DataMarket). The royalty share in force at that moment (`royaltyBps`, set by governance under the
/// immutable `maxRoyaltyBps`) is fixed with the citation. ModelBounties then pays that share of every reward
/// the model wins to the current owners of the cited datasets, in equal parts, through the settlement base
/// (pull payouts, fee as for the winner); a dataset flagged duplicate, or that can still be proven one (its
/// challenges close at `DatasetRegistry.releasableAt`), earns nothing and its part stays with the winner.
interface IProvenance {
    struct Citation {
        uint16 royaltyBps;
        uint256[] datasetIds;
    }

    error ProvenanceNotModelOwner(uint256 modelId, address caller);
    error ProvenanceAlreadyCited(uint256 modelId);
    /// @notice Thrown when citing for a model an earlier seal could still take over (ModelRegistry.isFinal).
    error ProvenanceModelNotFinal(uint256 modelId);
    error ProvenanceBadCitations(uint256 count, uint256 max);
    /// @notice Thrown when the caller neither owns `datasetId` nor holds a settled licence of it.
    error ProvenanceNotLicensed(uint256 datasetId, address caller);
    error ProvenanceRoyaltyAboveCap(uint256 bps, uint256 cap);

    event Cited(uint256 indexed modelId, uint256[] datasetIds, uint16 royaltyBps);
    event RoyaltySet(uint16 bps);

    function MAX_CITATIONS() external view returns (uint256);

    function maxRoyaltyBps() external view returns (uint16);

    function royaltyBps() external view returns (uint16);

    function cite(uint256 modelId, uint256[] calldata datasetIds) external;

    function setRoyaltyBps(uint16 bps) external;

    function citation(uint256 modelId) external view returns (Citation memory);

    /// @notice What a win of `modelId` owes: the share fixed at citation and the owners to pay (one per cited
    /// dataset neither flagged duplicate nor still open to a duplicate challenge; an owner may appear more than
    /// once). `bps` is the citation's share scaled by the part of the cited datasets paid: each keeps the same part.
    function royaltiesOf(uint256 modelId) external view returns (uint16 bps, address[] memory owners);
}
