// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {ISealBook} from "./ISealBook.sol";

/// @title Model registry
/// @notice Models as ERC-721 tokens: (circuit id, weight commitment, metadata URI). The weight commitment is
/// `keccak256(commit(W))`, the hash of the KZG commitment of the integer weights that every evaluation proof of
/// this model carries (apiary/zk/pipeline.py). A commitment belongs to one model, and whoever holds that token is
/// paid for its proofs — whoever sends them.
///
/// Registration is commit–reveal and **the earliest seal wins**: first `commit(seal)` with
/// `seal = keccak256(abi.encode(owner, circuitId, commitment, salt))`, then, at least `MIN_SEAL_AGE` blocks later
/// and at most `sealWindow` blocks later, `register(circuitId, commitment, salt, uri)` from `owner`. Seals are
/// numbered in the order they land. Someone who copies a commitment from a pending `register` can only seal it
/// after the original seal, so if the copy lands first, the original reveal still takes the token over when it
/// lands (`ModelReclaimed`). Once no earlier seal can still be revealed — `sealWindow` blocks after the model's
/// own seal — the registration is final (`isFinal`); markets only pay final models. A model cannot be
/// transferred before it is final, so nobody can sell a token that its seller could still take back with an
/// earlier seal of its own.
///
/// Ledger invariant: every registered commitment maps to exactly one token, and a token's seal number only
/// ever decreases (each takeover is by an earlier seal).
interface IModelRegistry is IERC721, ISealBook {
    struct Model {
        bytes32 circuitId;
        bytes32 commitment;
        uint64 registeredAt; // block number of the (latest) registration
        uint64 sealedAt; // block number of the winning seal
        uint64 sealNumber; // order of the winning seal among all seals (1-based); earlier wins
        string uri;
    }

    /// @notice Thrown when registering the zero commitment.
    error ModelRegistryZeroCommitment();
    /// @notice Thrown when the commitment is registered already under an earlier (or the same) seal.
    error ModelRegistryDuplicate(bytes32 circuitId, bytes32 commitment, uint256 existingId);
    /// @notice Thrown for a token id that was never registered.
    error ModelRegistryUnknownModel(uint256 id);
    /// @notice Thrown when a model is transferred while it can still be taken over (until `contestableUntil`).
    error ModelRegistryNotFinal(uint256 id, uint256 contestableUntil);
    /// @notice Thrown when the constructor's seal window is outside [min, max].
    error ModelRegistryBadSealWindow(uint256 window, uint256 min, uint256 max);

    /// @notice A seal landed; `number` orders it among all seals.
    event RegistrationCommitted(bytes32 indexed seal, address indexed by, uint256 number);
    /// @notice Model `id` was registered for the first time.
    event ModelRegistered(uint256 indexed id, address indexed owner, bytes32 indexed circuitId, bytes32 commitment, string uri);
    /// @notice An earlier seal of the same commitment was revealed: model `id` moved from `from` to `to`.
    event ModelReclaimed(uint256 indexed id, address indexed from, address indexed to, uint256 sealNumber);

    /// @notice Blocks after which a seal can no longer be revealed; also how long a registration stays contestable.
    function sealWindow() external view returns (uint256);

    function seal(address owner, bytes32 circuitId, bytes32 commitment, bytes32 salt) external pure returns (bytes32);

    function commit(bytes32 seal_) external;

    /// @notice Reveals a seal. Registers a new model, or takes over the model of the same commitment when this
    /// seal is earlier than the one it was registered with. Returns the model's token id.
    function register(bytes32 circuitId, bytes32 commitment, bytes32 salt, string calldata uri)
        external
        returns (uint256 id);

    function model(uint256 id) external view returns (Model memory);

    /// @notice Circuit, weight commitment and `contestableUntil` of a model in one call, without copying its URI
    /// (what bounties check on every proof).
    function commitmentOf(uint256 id) external view returns (bytes32 circuitId, bytes32 commitment, uint256 contestableUntil);

    /// @notice The last block at which an earlier seal could still take model `id` over.
    function contestableUntil(uint256 id) external view returns (uint256);

    /// @notice Whether model `id` can no longer be taken over (block.number > contestableUntil(id)).
    function isFinal(uint256 id) external view returns (bool);

    /// @notice Token id of a registered (circuit, commitment), 0 if none.
    function modelIdOf(bytes32 circuitId, bytes32 commitment) external view returns (uint256);

    function totalModels() external view returns (uint256);
}
