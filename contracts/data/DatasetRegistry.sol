// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {SealBook} from "../common/SealBook.sol";
import {IDatasetRegistry} from "../interfaces/IDatasetRegistry.sol";
import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";
import {IFeeVault} from "../interfaces/IFeeVault.sol";
import {Settlement} from "../settlement/Settlement.sol";
import {RowMerkle} from "./RowMerkle.sol";

/// @title DatasetRegistry
/// @notice See {IDatasetRegistry}. Owned by the timelock, which sets the stake amount and the challenge window
/// within bounds fixed here; terms promised at registration (stake, window) never change afterwards.
contract DatasetRegistry is IDatasetRegistry, ERC721, EIP712, Ownable, Settlement, SealBook {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    uint256 public constant MIN_SEAL_WINDOW = 4;
    uint256 public constant MAX_SEAL_WINDOW = 50_400;
    uint256 public constant MIN_CHALLENGE_WINDOW = 1 hours;
    uint256 public constant MAX_CHALLENGE_WINDOW = 90 days;
    /// @notice After a dataset's challenge window, how long a challenge committed inside it may still be revealed.
    uint256 public constant REVEAL_PERIOD = 1 days;
    /// @notice Longest metadata URI: every reader of a dataset (buyers, royalties) copies it.
    uint256 public constant MAX_URI_BYTES = 512;
    /// @notice How long a proven duplicate's stake waits for an earlier-committed challenge before it is paid.
    uint256 public constant CLAIM_PERIOD = 1 hours;
    /// @notice Most rows governance may require as evidence of a duplicate (each costs a Merkle proof pair).
    uint256 public constant MAX_EVIDENCE_ROWS = 32;
    /// @notice Upper bound governance can set the stake to, in the stake token's smallest unit.
    uint256 public immutable maxStake;
    /// @notice Share of a slashed stake paid to whoever proved the duplicate (or reclaimed the root); the rest
    /// goes to the fee vault. Half: a registrant slashing itself through a Sybil still loses half its stake.
    uint16 public constant CHALLENGER_SHARE_BPS = 5_000;
    uint16 internal constant _VAULT_SHARE_BPS = uint16(_BPS) - CHALLENGER_SHARE_BPS;
    bytes32 public constant ATTESTATION_TYPEHASH =
        keccak256("DatasetAttestation(bytes32 root,uint64 rows,bytes32 schemaHash)");

    /*//////////////////////////////////////////////////////////////
                          IMMUTABLES AND STORAGE
    //////////////////////////////////////////////////////////////*/

    IERC20 public immutable stakeToken;
    IDeviceRegistry public immutable devices;
    uint256 public immutable sealWindow;
    uint256 public stakeAmount;
    uint256 public challengeWindow;
    uint256 public minDuplicateRows;

    mapping(uint256 laterId => Claim) private _claims;
    mapping(bytes32 root => uint256 id) private _byRoot;
    mapping(uint256 id => Dataset) private _datasets;
    uint256 private _count;

    constructor(
        address timelock,
        IFeeVault vault_,
        IERC20 stakeToken_,
        IDeviceRegistry devices_,
        uint256 sealWindow_,
        uint256 stakeAmount_,
        uint256 maxStake_,
        uint256 challengeWindow_,
        uint256 minDuplicateRows_
    ) ERC721("Apiary Dataset", "APYD") EIP712("Apiary DatasetRegistry", "1") Ownable(timelock) Settlement(vault_) {
        if (address(stakeToken_) == address(0) || address(devices_) == address(0)) revert SettlementZeroAddress();
        _bounded(sealWindow_, MIN_SEAL_WINDOW, MAX_SEAL_WINDOW);
        stakeToken = stakeToken_;
        devices = devices_;
        sealWindow = sealWindow_;
        maxStake = maxStake_;
        _setStakeAmount(stakeAmount_);
        _setChallengeWindow(challengeWindow_);
        _setMinDuplicateRows(minDuplicateRows_);
    }

    /*//////////////////////////////////////////////////////////////
                              REGISTRATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDatasetRegistry
    function seal(address owner, bytes32 root, bytes32 salt) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, root, salt));
    }

    /// @inheritdoc IDatasetRegistry
    function commit(bytes32 seal_) external {
        uint64 number = _recordSeal(seal_);
        emit RegistrationCommitted(seal_, msg.sender, number);
    }

    /// @inheritdoc IDatasetRegistry
    function register(Registration calldata r, bytes32 salt) external nonReentrant returns (uint256 id) {
        if (r.root == bytes32(0) || r.rows == 0) revert DatasetRegistryEmpty();
        if (bytes(r.uri).length > MAX_URI_BYTES) revert DatasetRegistryUriTooLong(bytes(r.uri).length, MAX_URI_BYTES);
        SealRecord memory rec = _takeSeal(seal(msg.sender, r.root, salt), sealWindow);

        id = _byRoot[r.root];
        address from = address(0);
        uint256 copierStake = 0;
        if (id != 0) {
            Dataset storage existing = _datasets[id];
            // The earliest seal wins; an equal or later one is a duplicate.
            if (rec.number >= existing.sealNumber) revert DatasetRegistryDuplicateRoot(r.root, id);
            // Proven a copy of an earlier dataset: so is this root whoever sealed it first. A takeover would wipe
            // the flag and leave a claim that blocks every later challenge.
            if (existing.duplicate) revert DatasetRegistryDuplicateRoot(r.root, id);
            from = _ownerOf(id);
            copierStake = existing.stakeReleased ? 0 : existing.stake;
            // The copier's stake: slashed below, once the new one is in (a copy registered under a later seal).
        } else {
            id = ++_count;
            _byRoot[r.root] = id;
        }
        // Effects before the stake transfer (nonReentrant besides): the record is complete when tokens move.
        _datasets[id] = Dataset({
            root: r.root,
            schemaHash: r.schemaHash,
            rows: r.rows,
            sealedAt: rec.blockNumber,
            sealNumber: rec.number,
            challengeEnds: uint64(block.timestamp + challengeWindow),
            staker: msg.sender,
            duplicate: false,
            stakeReleased: false,
            // The registration's terms, like its window: a later change of the threshold neither frees a copy
            // nor voids a challenge already committed, nor makes an honest dataset slashable with fewer rows.
            duplicateRows: uint64(minDuplicateRows),
            stake: 0,
            device: bytes32(0),
            priceToken: r.priceToken,
            price: r.price,
            uri: r.uri
        });
        uint256 received = stakeAmount == 0 ? 0 : _collect(stakeToken, msg.sender, stakeAmount);
        _datasets[id].stake = received;
        if (from == address(0)) {
            // _mint, not _safeMint: no receiver callback.
            _mint(msg.sender, id);
            emit DatasetRegistered(id, msg.sender, r.root, r.rows, received);
        } else {
            if (copierStake != 0) _payOut(stakeToken, msg.sender, copierStake, _VAULT_SHARE_BPS);
            // auth = 0: a takeover by an earlier seal needs no approval of the current holder.
            _update(msg.sender, id, address(0));
            emit DatasetReclaimed(id, from, msg.sender, copierStake);
            emit DatasetRegistered(id, msg.sender, r.root, r.rows, received);
        }
        if (r.priceToken != IERC20(address(0)) || r.price != 0) emit LicenceTermsSet(id, r.priceToken, r.price);
    }

    /*//////////////////////////////////////////////////////////////
                              ATTESTATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDatasetRegistry
    function attestationDigest(bytes32 root, uint64 rows, bytes32 schemaHash) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ATTESTATION_TYPEHASH, root, rows, schemaHash)));
    }

    /// @inheritdoc IDatasetRegistry
    function attest(uint256 id, bytes32 deviceId, bytes calldata signature) external {
        Dataset storage d = _dataset(id);
        bytes32 digest = attestationDigest(d.root, d.rows, d.schemaHash);
        if (!devices.verify(deviceId, digest, signature)) revert DatasetRegistryBadAttestation(id, deviceId);
        // The first attestation by a device that is still active stands: nobody replaces the camera that signed
        // (with a device that governance may retire later).
        if (d.device != bytes32(0) && devices.isActive(d.device)) revert DatasetRegistryAlreadyAttested(id, d.device);
        d.device = deviceId;
        emit DatasetAttested(id, deviceId);
    }

    /// @inheritdoc IDatasetRegistry
    function isAttested(uint256 id) external view returns (bool) {
        bytes32 device_ = _dataset(id).device;
        return device_ != bytes32(0) && devices.isActive(device_);
    }

    /*//////////////////////////////////////////////////////////////
                          DUPLICATE CHALLENGES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDatasetRegistry
    function challengeCommitment(
        address challenger,
        uint256 laterId,
        uint256 earlierId,
        bytes32[] calldata rowHashes,
        bytes32 salt
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(challenger, laterId, earlierId, rowHashes, salt));
    }

    /// @inheritdoc IDatasetRegistry
    function commitChallenge(bytes32 commitment) external {
        _recordSeal(commitment);
        emit ChallengeCommitted(commitment, msg.sender);
    }

    /// @inheritdoc IDatasetRegistry
    function challengeDuplicate(
        uint256 laterId,
        uint256 earlierId,
        bytes32[] calldata rowHashes,
        RowMerkle.Proof[] calldata proofsLater,
        RowMerkle.Proof[] calldata proofsEarlier,
        bytes32 salt
    ) external nonReentrant {
        uint64 number = _consumeChallenge(laterId, earlierId, challengeCommitment(msg.sender, laterId, earlierId, rowHashes, salt));
        _checkEvidence(laterId, earlierId, rowHashes, proofsLater, proofsEarlier);
        Dataset storage later = _datasets[laterId];
        Claim storage c = _claims[laterId];
        bytes32 evidence = keccak256(abi.encodePacked(rowHashes));
        if (c.endsAt == 0) {
            // The first proof: the dataset is a duplicate from now on, and its stake leaves the registrant for
            // good. Who receives it waits CLAIM_PERIOD: a challenge committed earlier, whose reveal was delayed,
            // still takes it (a copy of the revealed evidence committed later never does).
            c.amount = later.stake;
            c.endsAt = uint64(block.timestamp + CLAIM_PERIOD);
            c.prover = msg.sender;
            c.evidence = evidence;
            later.duplicate = true;
            later.stakeReleased = true;
            later.stake = 0;
        } else if (number >= c.number) {
            revert DatasetRegistryNotFirstChallenge(laterId, number, c.number);
        } else if (evidence == c.evidence) {
            // The first proof showed these very rows under a later commitment: it copied this reveal from the
            // mempool (or came second to the same work). The credit for the evidence is the earliest commitment's.
            c.prover = msg.sender;
        }
        c.challenger = msg.sender;
        c.number = number;
        emit DuplicateProven(laterId, earlierId, rowHashes.length, msg.sender, c.endsAt);
    }

    /// @inheritdoc IDatasetRegistry
    function claimChallengeReward(uint256 laterId) external nonReentrant {
        Claim storage c = _claims[laterId];
        if (c.amount == 0) revert DatasetRegistryNothingToClaim(laterId);
        if (block.timestamp <= c.endsAt) revert DatasetRegistryClaimOpen(laterId, c.endsAt);
        uint256 amount = c.amount;
        c.amount = 0;
        // The earliest commitment and the first proof share the challenger's half when they differ: a copier whose
        // Sybil pre-committed a self-challenge cannot take all of it from whoever did the work of proving first.
        uint256 proverPart = c.prover == c.challenger ? 0 : amount / 2;
        (uint256 toProver, uint256 vaultA) = proverPart == 0 ? (0, 0) : _payOut(stakeToken, c.prover, proverPart, _VAULT_SHARE_BPS);
        (uint256 toChallenger, uint256 vaultB) = _payOut(stakeToken, c.challenger, amount - proverPart, _VAULT_SHARE_BPS);
        emit DuplicateSlashed(laterId, c.challenger, toChallenger, c.prover, toProver, vaultA + vaultB);
    }

    /// @inheritdoc IDatasetRegistry
    function challengeClaim(uint256 laterId) external view returns (Claim memory) {
        return _claims[laterId];
    }

    /// @dev The challenge was committed at an earlier block inside the later dataset's window, is revealed
    /// before its reveal period ends, names an earlier-sealed dataset and a stake still there (or one whose claim
    /// period is open); consumed here. Returns its commit number (earlier commitments have smaller numbers).
    function _consumeChallenge(uint256 laterId, uint256 earlierId, bytes32 c) private returns (uint64) {
        Dataset storage later = _dataset(laterId);
        // Consumed here; a revert below restores it. The reveal period bounds its age, not a block count.
        SealRecord memory rec = _takeSeal(c, type(uint256).max);
        Claim storage claim = _claims[laterId];
        // While a proven duplicate's claim period runs, an earlier commitment may still take it over, even after
        // the reveal period: the earliest commitment wins however late its reveal lands.
        uint256 revealEnd = Math.max(uint256(later.challengeEnds) + REVEAL_PERIOD, claim.endsAt);
        if (rec.timestamp > later.challengeEnds || block.timestamp > revealEnd) {
            revert DatasetRegistryChallengeClosed(laterId, rec.timestamp, later.challengeEnds, revealEnd);
        }
        if (_dataset(earlierId).sealNumber >= later.sealNumber) revert DatasetRegistryNotEarlier(laterId, earlierId);
        if (later.stakeReleased && (claim.endsAt == 0 || block.timestamp > claim.endsAt)) {
            revert DatasetRegistryStakeGone(laterId);
        }
        return rec.number;
    }

    /// @dev Every row hash is in both datasets, rows are distinct (strictly increasing), exactly as many as required.
    function _checkEvidence(
        uint256 laterId,
        uint256 earlierId,
        bytes32[] calldata rowHashes,
        RowMerkle.Proof[] calldata proofsLater,
        RowMerkle.Proof[] calldata proofsEarlier
    ) private view {
        uint256 n = rowHashes.length;
        uint64 rows = _datasets[laterId].rows;
        uint64 threshold = _datasets[laterId].duplicateRows;
        // A dataset smaller than the threshold is a duplicate when all its rows are.
        uint256 required = rows < threshold ? rows : threshold;
        // Exactly `required` rows: no subset of someone's evidence is other evidence (a copy is always a copy).
        if (n != required || proofsLater.length != n || proofsEarlier.length != n) {
            revert DatasetRegistryBadEvidence(n, required);
        }
        bytes32 laterRoot = _datasets[laterId].root;
        bytes32 earlierRoot = _datasets[earlierId].root;
        for (uint256 i; i < n; ++i) {
            bytes32 h = rowHashes[i];
            if (i > 0 && h <= rowHashes[i - 1]) revert DatasetRegistryBadEvidence(n, required);
            if (!RowMerkle.contains(laterRoot, h, proofsLater[i])) revert DatasetRegistryRowNotInDataset(laterId, h);
            if (!RowMerkle.contains(earlierRoot, h, proofsEarlier[i])) revert DatasetRegistryRowNotInDataset(earlierId, h);
        }
    }

    /*//////////////////////////////////////////////////////////////
                           STAKES AND TERMS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDatasetRegistry
    function releaseStake(uint256 id) external nonReentrant {
        Dataset storage d = _dataset(id);
        if (msg.sender != d.staker) revert DatasetRegistryNotStaker(id, msg.sender);
        if (d.stakeReleased) revert DatasetRegistryStakeGone(id);
        uint256 at = releasableAt(id);
        uint256 until = contestableUntil(id);
        if (block.timestamp < at || block.number <= until) revert DatasetRegistryStakeLocked(id, at, until);
        uint256 amount = d.stake;
        d.stakeReleased = true;
        d.stake = 0;
        _refundLocked(stakeToken, msg.sender, amount);
        emit StakeReleased(id, msg.sender, amount);
    }

    /// @inheritdoc IDatasetRegistry
    function setLicenceTerms(uint256 id, IERC20 priceToken, uint256 price) external {
        Dataset storage d = _dataset(id);
        if (_ownerOf(id) != msg.sender) revert DatasetRegistryNotOwner(id, msg.sender);
        d.priceToken = priceToken;
        d.price = price;
        emit LicenceTermsSet(id, priceToken, price);
    }

    /// @inheritdoc IDatasetRegistry
    function setStakeAmount(uint256 amount) external onlyOwner {
        _setStakeAmount(amount);
    }

    /// @inheritdoc IDatasetRegistry
    function setChallengeWindow(uint256 window) external onlyOwner {
        _setChallengeWindow(window);
    }

    /// @inheritdoc IDatasetRegistry
    function setMinDuplicateRows(uint256 rows) external onlyOwner {
        _setMinDuplicateRows(rows);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDatasetRegistry
    function isDuplicate(uint256 id) external view returns (bool) {
        return _dataset(id).duplicate;
    }

    /// @inheritdoc IDatasetRegistry
    function dataset(uint256 id) external view returns (Dataset memory) {
        return _dataset(id);
    }

    /// @inheritdoc IDatasetRegistry
    function datasetIdOf(bytes32 root) external view returns (uint256) {
        return _byRoot[root];
    }

    /// @inheritdoc IDatasetRegistry
    function contestableUntil(uint256 id) public view returns (uint256) {
        // Any earlier seal landed at or before this dataset's seal block, so it expires by this block.
        return uint256(_dataset(id).sealedAt) + sealWindow;
    }

    /// @inheritdoc IDatasetRegistry
    function isFinal(uint256 id) external view returns (bool) {
        return block.number > contestableUntil(id);
    }

    /// @inheritdoc IDatasetRegistry
    function releasableAt(uint256 id) public view returns (uint256) {
        return uint256(_dataset(id).challengeEnds) + REVEAL_PERIOD + 1;
    }

    /// @inheritdoc IDatasetRegistry
    function totalDatasets() external view returns (uint256) {
        return _count;
    }

    function tokenURI(uint256 id) public view override returns (string memory) {
        _requireOwned(id);
        return _datasets[id].uri;
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, IERC165) returns (bool) {
        return interfaceId == type(IDatasetRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev Transfers wait for finality (mint and takeovers pass `auth == 0`), as in the model registry.
    function _update(address to, uint256 id, address auth) internal override returns (address from) {
        from = _ownerOf(id);
        if (from != address(0) && auth != address(0)) {
            uint256 until = contestableUntil(id);
            if (block.number <= until) revert DatasetRegistryNotFinal(id, until);
        }
        return super._update(to, id, auth);
    }

    function _setStakeAmount(uint256 amount) private {
        _bounded(amount, 0, maxStake);
        stakeAmount = amount;
        emit StakeAmountSet(amount);
    }

    function _setChallengeWindow(uint256 window) private {
        _bounded(window, MIN_CHALLENGE_WINDOW, MAX_CHALLENGE_WINDOW);
        challengeWindow = window;
        emit ChallengeWindowSet(window);
    }

    function _setMinDuplicateRows(uint256 rows) private {
        _bounded(rows, 1, MAX_EVIDENCE_ROWS);
        minDuplicateRows = rows;
        emit MinDuplicateRowsSet(rows);
    }

    function _bounded(uint256 value, uint256 min, uint256 max) private pure {
        if (value < min || value > max) revert DatasetRegistryOutOfBounds(value, min, max);
    }

    function _dataset(uint256 id) private view returns (Dataset storage) {
        if (id == 0 || id > _count) revert DatasetRegistryUnknownDataset(id);
        return _datasets[id];
    }
}
