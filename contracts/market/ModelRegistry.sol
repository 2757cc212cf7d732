// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IVerifierRegistry} from "../interfaces/IVerifierRegistry.sol";

/// @title ModelRegistry
/// @notice See {IModelRegistry}. No admin: registration rules are fixed.
contract ModelRegistry is ERC721, IModelRegistry {
    /// @inheritdoc IModelRegistry
    uint256 public constant MIN_SEAL_AGE = 1;
    /// @inheritdoc IModelRegistry
    uint256 public constant MAX_SEAL_AGE = 50_400; // about a week of 12 s blocks

    IVerifierRegistry public immutable verifiers;

    mapping(bytes32 seal => uint256 blockNumber) private _seals;
    // Global, not per circuit: circuits with the same parameter layout give the same weight commitment, so a
    // commitment seen in someone's reveal must not be registrable again under a sibling circuit.
    mapping(bytes32 commitment => uint256 id) private _byCommitment;
    mapping(uint256 id => Model) private _models;
    uint256 private _count;

    constructor(IVerifierRegistry verifiers_) ERC721("Apiary Model", "APYM") {
        verifiers = verifiers_;
    }

    /// @inheritdoc IModelRegistry
    function seal(address owner, bytes32 circuitId, bytes32 commitment, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, circuitId, commitment, salt));
    }

    /// @inheritdoc IModelRegistry
    function commit(bytes32 seal_) external {
        // A seal already pending cannot be refreshed: nobody can push someone else's seal past MAX_SEAL_AGE.
        if (_seals[seal_] != 0) revert ModelRegistrySealExists(seal_);
        _seals[seal_] = block.number;
        emit RegistrationCommitted(seal_, msg.sender);
    }

    /// @inheritdoc IModelRegistry
    function register(bytes32 circuitId, bytes32 commitment, bytes32 salt, string calldata uri)
        external
        returns (uint256 id)
    {
        if (commitment == bytes32(0)) revert ModelRegistryZeroCommitment();
        bytes32 s = seal(msg.sender, circuitId, commitment, salt);
        uint256 committedAt = _seals[s];
        if (committedAt == 0) revert ModelRegistryUnknownSeal(s);
        if (block.number < committedAt + MIN_SEAL_AGE) revert ModelRegistrySealTooNew(s, committedAt, block.number);
        if (block.number > committedAt + MAX_SEAL_AGE) revert ModelRegistrySealExpired(s, committedAt, block.number);
        verifiers.activeCircuit(circuitId); // reverts for unknown or retired circuits
        uint256 existing = _byCommitment[commitment];
        if (existing != 0) revert ModelRegistryDuplicate(circuitId, commitment, existing);

        delete _seals[s];
        id = ++_count;
        _byCommitment[commitment] = id;
        _models[id] = Model({circuitId: circuitId, commitment: commitment, registeredAt: uint64(block.number), uri: uri});
        // _mint, not _safeMint: no receiver callback, so registration cannot be re-entered.
        _mint(msg.sender, id);
        emit ModelRegistered(id, msg.sender, circuitId, commitment, uri);
    }

    /// @inheritdoc IModelRegistry
    function model(uint256 id) external view returns (Model memory) {
        if (id == 0 || id > _count) revert ModelRegistryUnknownModel(id);
        return _models[id];
    }

    /// @inheritdoc IModelRegistry
    function commitmentOf(uint256 id) external view returns (bytes32 circuitId, bytes32 commitment) {
        if (id == 0 || id > _count) revert ModelRegistryUnknownModel(id);
        Model storage m = _models[id];
        return (m.circuitId, m.commitment);
    }

    /// @inheritdoc IModelRegistry
    function modelIdOf(bytes32 circuitId, bytes32 commitment) external view returns (uint256) {
        uint256 id = _byCommitment[commitment];
        return id != 0 && _models[id].circuitId == circuitId ? id : 0;
    }

    /// @inheritdoc IModelRegistry
    function totalModels() external view returns (uint256) {
        return _count;
    }

    function tokenURI(uint256 id) public view override returns (string memory) {
        _requireOwned(id);
        return _models[id].uri;
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, IERC165) returns (bool) {
        return interfaceId == type(IModelRegistry).interfaceId || super.supportsInterface(interfaceId);
    }
}
