// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

import {SealBook} from "../common/SealBook.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IVerifierRegistry} from "../interfaces/IVerifierRegistry.sol";

/// @title ModelRegistry
/// @notice See {IModelRegistry}. No admin: registration rules are fixed at deployment.
contract ModelRegistry is ERC721, SealBook, IModelRegistry {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Shortest seal window a deployment may choose: a reveal must be able to wait a few blocks.
    uint256 public constant MIN_SEAL_WINDOW = 4;
    /// @notice Longest seal window: about a week of 12 s blocks.
    uint256 public constant MAX_SEAL_WINDOW = 50_400;

    /*//////////////////////////////////////////////////////////////
                          IMMUTABLES AND STORAGE
    //////////////////////////////////////////////////////////////*/

    IVerifierRegistry public immutable verifiers;
    /// @inheritdoc IModelRegistry
    uint256 public immutable sealWindow;

    // Global, not per circuit: circuits with the same parameter layout give the same weight commitment, so a
    // commitment seen in someone's reveal must not be registrable again under a sibling circuit.
    mapping(bytes32 commitment => uint256 id) private _byCommitment;
    mapping(uint256 id => Model) private _models;
    uint256 private _count;

    /// @param sealWindow_ Blocks a seal stays revealable (and a registration contestable), within
    /// [MIN_SEAL_WINDOW, MAX_SEAL_WINDOW]: a day of blocks on public networks, a few blocks on dev chains.
    constructor(IVerifierRegistry verifiers_, uint256 sealWindow_) ERC721("Apiary Model", "APYM") {
        if (sealWindow_ < MIN_SEAL_WINDOW || sealWindow_ > MAX_SEAL_WINDOW) {
            revert ModelRegistryBadSealWindow(sealWindow_, MIN_SEAL_WINDOW, MAX_SEAL_WINDOW);
        }
        verifiers = verifiers_;
        sealWindow = sealWindow_;
    }

    /*//////////////////////////////////////////////////////////////
                              REGISTRATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelRegistry
    function seal(address owner, bytes32 circuitId, bytes32 commitment, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, circuitId, commitment, salt));
    }

    /// @inheritdoc IModelRegistry
    function commit(bytes32 seal_) external {
        // Copying a seal hash from the mempool only records it earlier, in its owner's favour (see {ISealBook}).
        uint64 number = _recordSeal(seal_);
        emit RegistrationCommitted(seal_, msg.sender, number);
    }

    /// @inheritdoc IModelRegistry
    function register(bytes32 circuitId, bytes32 commitment, bytes32 salt, string calldata uri)
        external
        returns (uint256 id)
    {
        if (commitment == bytes32(0)) revert ModelRegistryZeroCommitment();
        SealRecord memory rec = _takeSeal(seal(msg.sender, circuitId, commitment, salt), sealWindow);
        // slither-disable-next-line unused-return — called for its revert on unknown or retired circuits only
        verifiers.activeCircuit(circuitId);

        id = _byCommitment[commitment];
        if (id != 0) {
            Model storage existing = _models[id];
            // The earliest seal wins; an equal or later one is a duplicate.
            if (rec.number >= existing.sealNumber) revert ModelRegistryDuplicate(circuitId, commitment, id);
            address from = _ownerOf(id);
            existing.circuitId = circuitId;
            existing.registeredAt = uint64(block.number);
            existing.sealedAt = rec.blockNumber;
            existing.sealNumber = rec.number;
            existing.uri = uri;
            // auth = 0: a takeover by an earlier seal needs no approval of the current holder.
            _update(msg.sender, id, address(0));
            emit ModelReclaimed(id, from, msg.sender, rec.number);
            return id;
        }

        id = ++_count;
        _byCommitment[commitment] = id;
        _models[id] = Model({
            circuitId: circuitId,
            commitment: commitment,
            registeredAt: uint64(block.number),
            sealedAt: rec.blockNumber,
            sealNumber: rec.number,
            uri: uri
        });
        // _mint, not _safeMint: no receiver callback, so registration cannot be re-entered.
        _mint(msg.sender, id);
        emit ModelRegistered(id, msg.sender, circuitId, commitment, uri);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IModelRegistry
    function model(uint256 id) external view returns (Model memory) {
        return _model(id);
    }

    /// @inheritdoc IModelRegistry
    function commitmentOf(uint256 id) external view returns (bytes32 circuitId, bytes32 commitment, uint256 until) {
        Model storage m = _model(id);
        return (m.circuitId, m.commitment, uint256(m.sealedAt) + sealWindow);
    }

    /// @inheritdoc IModelRegistry
    function contestableUntil(uint256 id) public view returns (uint256) {
        // Any earlier seal landed at or before this model's seal block, so it expires by this block.
        return uint256(_model(id).sealedAt) + sealWindow;
    }

    /// @inheritdoc IModelRegistry
    function isFinal(uint256 id) external view returns (bool) {
        return block.number > contestableUntil(id);
    }

    /// @inheritdoc IModelRegistry
    function modelIdOf(bytes32 circuitId, bytes32 commitment) external view returns (uint256) {
        uint256 id = _byCommitment[commitment];
        // slither-disable-next-line incorrect-equality — compares two bytes32 circuit ids, no balance or clock
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

    /// @dev Transfers wait for finality (mint and takeovers pass `auth == 0`): a token still contestable could be
    /// sold and then taken back by its seller's own earlier seal.
    function _update(address to, uint256 id, address auth) internal override returns (address from) {
        from = _ownerOf(id);
        if (from != address(0) && auth != address(0)) {
            uint256 until = contestableUntil(id);
            if (block.number <= until) revert ModelRegistryNotFinal(id, until);
        }
        return super._update(to, id, auth);
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, IERC165) returns (bool) {
        return interfaceId == type(IModelRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    function _model(uint256 id) private view returns (Model storage) {
        if (id == 0 || id > _count) revert ModelRegistryUnknownModel(id);
        return _models[id];
    }
}
