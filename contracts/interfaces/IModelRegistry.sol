// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

/// @title Model registry
/// @notice Models as ERC-721 tokens: (circuit id, weight commitment, metadata URI). The weight commitment is
/// `keccak256(commit(W))`, the hash of the KZG commitment of the integer weights that every evaluation proof of
/// this model carries (apiary/zk/pipeline.py). A commitment can be registered once, for one circuit, and whoever
/// registered it (or holds the token now) is paid for its proofs — whoever sends them.
///
/// Registration is commit–reveal so a registration seen in the mempool cannot be front-run: first
/// `commit(seal)` with `seal = keccak256(abi.encode(owner, circuitId, commitment, salt))`, then, at least one block
/// later, `register(circuitId, commitment, salt, uri)` from `owner`. Copying the reveal needs a commit of one's own
/// that is already a block old, by which time the original reveal has landed.
interface IModelRegistry is IERC721 {
    struct Model {
        bytes32 circuitId;
        bytes32 commitment;
        uint64 registeredAt; // block number
        string uri;
    }

    error ModelRegistryZeroCommitment();
    error ModelRegistryUnknownSeal(bytes32 seal);
    error ModelRegistrySealTooNew(bytes32 seal, uint256 committedAt, uint256 currentBlock);
    error ModelRegistrySealExpired(bytes32 seal, uint256 committedAt, uint256 currentBlock);
    error ModelRegistrySealExists(bytes32 seal);
    error ModelRegistryDuplicate(bytes32 circuitId, bytes32 commitment, uint256 existingId);
    error ModelRegistryUnknownModel(uint256 id);

    event RegistrationCommitted(bytes32 indexed seal, address indexed by);
    event ModelRegistered(uint256 indexed id, address indexed owner, bytes32 indexed circuitId, bytes32 commitment, string uri);

    /// @notice Blocks a seal must wait before its reveal (front-running protection).
    function MIN_SEAL_AGE() external view returns (uint256);

    /// @notice Blocks after which a seal can no longer be revealed.
    function MAX_SEAL_AGE() external view returns (uint256);

    function seal(address owner, bytes32 circuitId, bytes32 commitment, bytes32 salt) external pure returns (bytes32);

    function commit(bytes32 seal_) external;

    function register(bytes32 circuitId, bytes32 commitment, bytes32 salt, string calldata uri)
        external
        returns (uint256 id);

    function model(uint256 id) external view returns (Model memory);

    /// @notice Circuit and weight commitment of a model, without copying its URI (what bounties need).
    function commitmentOf(uint256 id) external view returns (bytes32 circuitId, bytes32 commitment);

    /// @notice Token id of a registered (circuit, commitment), 0 if none.
    function modelIdOf(bytes32 circuitId, bytes32 commitment) external view returns (uint256);

    function totalModels() external view returns (uint256);
}
