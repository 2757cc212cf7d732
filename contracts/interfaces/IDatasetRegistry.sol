// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";

import {RowMerkle} from "../data/RowMerkle.sol";
import {ISealBook} from "./ISealBook.sol";

/// @title Dataset registry
/// @notice Datasets as ERC-721 tokens. A dataset is its **commitment**: the Merkle root over the hashes of its
/// distinct rows, independent of row order (apiary/data/merkle.py, contracts/data/RowMerkle.sol), with its row
/// count, schema hash, metadata URI and licence terms (price and token, read by the data market).
///
/// * **Earliest seal wins.** Registration is commit–reveal as in the model registry: `commit(seal)` with
///   `seal = keccak256(abi.encode(owner, root, salt))`, then `register` at least `MIN_SEAL_AGE` and at most
///   `sealWindow` blocks later. Seals are numbered; a root registered under a later seal is taken over by the
///   reveal of an earlier one (`DatasetReclaimed`), and the copier's stake is slashed to the reclaimer and the
///   vault. The same root under an equal or later seal is rejected.
/// * **Staked registration.** Registering locks `stakeAmount` of `stakeToken` (the amount actually received is
///   the stake). During the dataset's challenge window anyone may show, with two Merkle proofs, that one of its
///   rows is a row of a dataset sealed earlier — `minDuplicateRows` distinct rows (or all of a smaller dataset),
///   so that a row two honest datasets share by chance slashes nobody: the whole stake is slashed, `CHALLENGER_SHARE_BPS` of it to the
///   challenger and the rest to the fee vault, and the dataset is flagged duplicate. A dataset is slashed at
///   most once, so one piece of evidence slashes once. Challenges are commit–reveal too (`commitChallenge`
///   with `keccak256(abi.encode(challenger, laterId, earlierId, rowHashes, salt))`, revealed at least one block
///   later and at most `REVEAL_PERIOD` after the window). The first valid proof flags the dataset and takes its
///   stake; the reward waits `CLAIM_PERIOD`, during which a proof whose commitment came *earlier* (a reveal that
///   was delayed) takes it over — evidence copied from a pending reveal and committed later never wins — and
///   then `claimChallengeReward` pays it. Evidence is exactly `minDuplicateRows` rows (or all of a smaller
///   dataset), so a copy of someone's evidence is that evidence: credit for it follows its earliest commitment,
///   whoever reveals first. A first proof by someone else's later commitment of the same rows earns nothing. After the window and its reveal period, and once the registration is
///   final, the staker withdraws the stake.
/// * **Camera-signed data.** Anyone may submit a registered device's signature over the dataset's EIP-712
///   digest `DatasetAttestation(root, rows, schemaHash)` (domain: this contract on this chain): the dataset is
///   then attested for as long as that device stays active in the device registry.
///
/// Ledger invariant (Settlement): `locked(stakeToken) == Σ stakes of datasets neither slashed nor released`.
interface IDatasetRegistry is IERC721, ISealBook {
    /// @notice A proven duplicate's stake, waiting for the earliest-committed challenge (CLAIM_PERIOD).
    struct Claim {
        address challenger; // the earliest-committed proof so far
        uint64 number; // commit number of its challenge: the smallest proven so far
        uint64 endsAt;
        address prover; // the earliest commitment of the first proof's evidence (shares the reward with
        // `challenger` when they differ)
        uint256 amount; // zero once paid
        bytes32 evidence; // keccak256 of the first proof's row hashes: whoever committed it earliest is `prover`
    }

    struct Dataset {
        bytes32 root;
        bytes32 schemaHash;
        uint64 rows;
        uint64 sealedAt; // block of the winning seal
        uint64 sealNumber; // order of the winning seal among all seals; earlier wins
        uint64 challengeEnds; // timestamp: last moment a duplicate challenge can be committed
        address staker;
        bool duplicate; // slashed by a duplicate challenge
        bool stakeReleased; // stake withdrawn (or slashed)
        uint64 duplicateRows; // shared rows that prove it a duplicate: `minDuplicateRows` when it registered
        uint256 stake;
        bytes32 device; // attesting device (zero: none)
        IERC20 priceToken; // licence terms (zero token: not for sale)
        uint256 price;
        string uri;
    }

    /// @notice What a registrant states about its data.
    struct Registration {
        bytes32 root;
        uint64 rows;
        bytes32 schemaHash;
        string uri;
        IERC20 priceToken;
        uint256 price;
    }

    /// @notice Thrown when registering the zero root or zero rows.
    error DatasetRegistryEmpty();
    error DatasetRegistryUriTooLong(uint256 length, uint256 max);
    /// @notice Thrown when the root is registered already under an earlier (or the same) seal.
    error DatasetRegistryDuplicateRoot(bytes32 root, uint256 existingId);
    /// @notice Thrown for a token id that was never registered.
    error DatasetRegistryUnknownDataset(uint256 id);
    /// @notice Thrown when a dataset is transferred while it can still be taken over.
    error DatasetRegistryNotFinal(uint256 id, uint256 contestableUntil);
    /// @notice Thrown when the caller is not the dataset's owner.
    error DatasetRegistryNotOwner(uint256 id, address caller);
    /// @notice Thrown when a signature is not by the active device `deviceId` over the dataset's digest.
    error DatasetRegistryBadAttestation(uint256 id, bytes32 deviceId);
    /// @notice Thrown when a dataset already carries an attestation by a device that is still active.
    error DatasetRegistryAlreadyAttested(uint256 id, bytes32 deviceId);
    /// @notice Thrown when a challenge was committed after the dataset's window, or revealed after its reveal period.
    error DatasetRegistryChallengeClosed(uint256 id, uint256 committedAt, uint256 windowEnd, uint256 revealEnd);
    /// @notice Thrown when the "earlier" dataset was not sealed before the challenged one.
    error DatasetRegistryNotEarlier(uint256 laterId, uint256 earlierId);
    /// @notice Thrown when a Merkle proof does not put `rowHash` in dataset `id`.
    error DatasetRegistryRowNotInDataset(uint256 id, bytes32 rowHash);
    /// @notice Thrown when a challenge shows fewer distinct rows than required, or its row hashes are not
    /// strictly increasing (each row counts once), or its proof lists do not match the rows.
    error DatasetRegistryBadEvidence(uint256 rows, uint256 required);
    /// @notice Thrown when slashing or releasing a stake that is already slashed or released.
    error DatasetRegistryStakeGone(uint256 id);
    /// @notice Thrown when a duplicate proof arrives for a dataset already proven by an earlier commitment.
    error DatasetRegistryNotFirstChallenge(uint256 id, uint256 number, uint256 claimNumber);
    error DatasetRegistryNothingToClaim(uint256 id);
    /// @notice Thrown when claiming a challenge reward before the claim period ends.
    error DatasetRegistryClaimOpen(uint256 id, uint256 endsAt);
    /// @notice Thrown when withdrawing a stake before `releasableAt` (timestamp) or before the dataset is final.
    error DatasetRegistryStakeLocked(uint256 id, uint256 releasableAt, uint256 contestableUntil);
    /// @notice Thrown when someone but the staker withdraws a stake.
    error DatasetRegistryNotStaker(uint256 id, address caller);
    /// @notice Thrown when governance sets a parameter outside the bounds fixed in code.
    error DatasetRegistryOutOfBounds(uint256 value, uint256 min, uint256 max);

    event RegistrationCommitted(bytes32 indexed seal, address indexed by, uint256 number);
    /// @param stake what arrived (fee-on-transfer tokens deliver less than `stakeAmount`)
    event DatasetRegistered(uint256 indexed id, address indexed owner, bytes32 indexed root, uint64 rows, uint256 stake);
    /// @notice An earlier seal of the same root took dataset `id` over; `slashed` of the copier's stake went to
    /// `to` and the vault.
    event DatasetReclaimed(uint256 indexed id, address indexed from, address indexed to, uint256 slashed);
    event DatasetAttested(uint256 indexed id, bytes32 indexed deviceId);
    event ChallengeCommitted(bytes32 indexed commitment, address indexed by);
    /// @notice Dataset `id` holds `rows` rows of the earlier dataset `earlierId`; its stake is slashed, the
    /// reward claimable by the earliest-committed challenger after `claimEndsAt`.
    event DuplicateProven(uint256 indexed id, uint256 indexed earlierId, uint256 rows, address indexed challenger,
        uint64 claimEndsAt);
    /// @notice The slashed stake of duplicate `id` paid: half to the vault (`toVault`), the other half to the
    /// earliest-committed `challenger`, or split evenly with the first `prover` when that is someone else.
    event DuplicateSlashed(uint256 indexed id, address indexed challenger, uint256 reward, address indexed prover,
        uint256 proverReward, uint256 toVault);
    event StakeReleased(uint256 indexed id, address indexed staker, uint256 amount);
    event LicenceTermsSet(uint256 indexed id, IERC20 priceToken, uint256 price);
    event StakeAmountSet(uint256 amount);
    event ChallengeWindowSet(uint256 window);
    event MinDuplicateRowsSet(uint256 rows);

    function seal(address owner, bytes32 root, bytes32 salt) external pure returns (bytes32);

    function commit(bytes32 seal_) external;

    /// @notice Reveals a seal, locks the stake and mints (or takes over) the dataset token. The caller must have
    /// approved `stakeAmount` of `stakeToken`.
    function register(Registration calldata r, bytes32 salt) external returns (uint256 id);

    /// @notice EIP-712 digest a device signs for the dataset's commitment.
    function attestationDigest(bytes32 root, uint64 rows, bytes32 schemaHash) external view returns (bytes32);

    function attest(uint256 id, bytes32 deviceId, bytes calldata signature) external;

    /// @notice True while the dataset's attesting device is active.
    function isAttested(uint256 id) external view returns (bool);

    /// @notice Whether the dataset was proven a duplicate (a cheap read: no copy of its URI).
    function isDuplicate(uint256 id) external view returns (bool);

    /// @notice After a duplicate's claim period: pay its stake to the challenger whose commitment came first
    /// (half; the rest to the fee vault). Anyone may call it.
    function claimChallengeReward(uint256 laterId) external;

    /// @notice The pending reward of a proven duplicate: the earliest-committed challenger so far and when it is paid.
    function challengeClaim(uint256 laterId) external view returns (Claim memory);

    function challengeCommitment(
        address challenger,
        uint256 laterId,
        uint256 earlierId,
        bytes32[] calldata rowHashes,
        bytes32 salt
    ) external pure returns (bytes32);

    function commitChallenge(bytes32 commitment) external;

    function challengeDuplicate(
        uint256 laterId,
        uint256 earlierId,
        bytes32[] calldata rowHashes,
        RowMerkle.Proof[] calldata proofsLater,
        RowMerkle.Proof[] calldata proofsEarlier,
        bytes32 salt
    ) external;

    /// @notice Credits the stake back to its staker (then `withdraw(stakeToken)`).
    function releaseStake(uint256 id) external;

    function setLicenceTerms(uint256 id, IERC20 priceToken, uint256 price) external;

    function setStakeAmount(uint256 amount) external;

    function setChallengeWindow(uint256 window) external;

    function setMinDuplicateRows(uint256 rows) external;

    function dataset(uint256 id) external view returns (Dataset memory);

    function datasetIdOf(bytes32 root) external view returns (uint256);

    function contestableUntil(uint256 id) external view returns (uint256);

    function isFinal(uint256 id) external view returns (bool);

    /// @notice Timestamp from which the stake can be released (window end + reveal period).
    function releasableAt(uint256 id) external view returns (uint256);

    function totalDatasets() external view returns (uint256);
}
