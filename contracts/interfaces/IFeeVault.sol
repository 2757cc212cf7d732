// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title Apiary fee vault
/// @notice Receives the protocol fee of every market payment (any ERC20), keeps an internal ledger per token and
/// lets governance (the timelock, its owner) spend fees or route them to governance-token holders.
///
/// Ledger per token:  `unallocated` (governance may spend or distribute it)
///                  + `reserved`    (routed to holders, not yet claimed or reclaimed)
///                  = tokens the vault accounts for  <=  `token.balanceOf(vault)`.
/// Tokens sent directly (not through {depositFee}) are surplus: they change no ledger, and only governance can
/// move them out with {sweepSurplus}.
///
/// Distributions: a holder's share of a distribution is `amount * balance(snapshot) / totalSupply(snapshot)`,
/// with the snapshot a **record block announced in advance**: a future clock value written into the governance
/// proposal, public from the moment the proposal is made, still in the future when the proposal executes, and
/// claims open only once it has passed. Whoever runs the permissionless `execute` cannot move it, the proposer
/// cannot pick a past block at which it alone arranged to hold, and everyone can see the record block as early
/// as anybody (a dividend's record date); a flash loan never spans it. Each holder claims once per distribution; when the
/// claim period ends, what nobody claimed (shares of holders who never claimed and rounding dust) returns to
/// `unallocated` through the permissionless {reclaim}: nothing is ever lost.
interface IFeeVault {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The immutable cap itself is above 100%.
    error FeeVaultCapAboveDenominator(uint256 maxFeeBps, uint256 denominator);
    /// @notice A fee rate above the immutable hard cap.
    error FeeVaultFeeAboveCap(uint256 feeBps, uint256 maxFeeBps);
    /// @notice A zero address where an account or token is required.
    error FeeVaultZeroAddress();
    /// @notice A zero amount where a positive one is required.
    error FeeVaultZeroAmount();
    /// @notice A deposit credited nothing (the token moved no tokens in).
    error FeeVaultNothingReceived(IERC20 token, uint256 nominal);
    /// @notice Governance asked for more than the unallocated fees of `token`.
    error FeeVaultInsufficientFees(IERC20 token, uint256 requested, uint256 available);
    /// @notice A distribution's claim period outside [MIN_CLAIM_PERIOD, MAX_CLAIM_PERIOD].
    error FeeVaultInvalidClaimPeriod(uint256 claimPeriod, uint256 minPeriod, uint256 maxPeriod);
    /// @notice The record block is not in the future at routing, or further ahead than `maxLead`.
    error FeeVaultBadRecordBlock(uint256 recordBlock, uint256 clock, uint256 maxLead);
    /// @notice Distribution `id` opens for claims after its record block.
    error FeeVaultRecordBlockNotPassed(uint256 id, uint256 recordBlock);
    /// @notice Distribution `id`'s claim window has not been opened yet (`openClaims`, or the first claim).
    error FeeVaultClaimsNotOpened(uint256 id);
    /// @notice No distribution with this id.
    error FeeVaultUnknownDistribution(uint256 id);
    /// @notice The claim period of distribution `id` ended at `deadline`.
    error FeeVaultClaimPeriodOver(uint256 id, uint256 deadline);
    /// @notice The claim period of distribution `id` is still running until `deadline`.
    error FeeVaultClaimPeriodRunning(uint256 id, uint256 deadline);
    /// @notice `account` already claimed distribution `id`.
    error FeeVaultAlreadyClaimed(uint256 id, address account);
    /// @notice `account` held nothing at the snapshot of distribution `id` (or its share rounds to zero).
    error FeeVaultNothingToClaim(uint256 id, address account);
    /// @notice Distribution `id` was already reclaimed.
    error FeeVaultAlreadyReclaimed(uint256 id);
    /// @notice There is no surplus of `token` to sweep.
    error FeeVaultNoSurplus(IERC20 token);
    /// @notice The vault must always have an owner (the timelock); ownership cannot be renounced.
    error FeeVaultCannotRenounceOwnership();

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    event FeeRateChanged(uint256 oldFeeBps, uint256 newFeeBps);
    event FeeDeposited(IERC20 indexed token, address indexed from, uint256 nominal, uint256 received);
    event FeesSpent(IERC20 indexed token, address indexed to, uint256 amount);
    event DistributionCreated(uint256 indexed id, IERC20 indexed token, uint256 amount, uint256 snapshot, uint256 claimPeriod);
    /// @notice The record block of distribution `id` passed: claims are open until `deadline`.
    event ClaimsOpened(uint256 indexed id, uint256 deadline);
    event Claimed(uint256 indexed id, address indexed account, uint256 amount);
    event Reclaimed(uint256 indexed id, uint256 amount);
    event SurplusSwept(IERC20 indexed token, address indexed to, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    struct Distribution {
        IERC20 token;
        uint48 snapshot; // record block: governance-token clock value the shares are read at (announced in advance)
        uint48 deadline; // unix time after which claims close and the rest can be reclaimed; 0 until opened
        bool reclaimed;
        uint48 claimPeriod; // seconds the claim window lasts, counted from its opening after the record block
        uint256 amount; // routed to holders
        uint256 claimed; // paid out so far
        uint256 supply; // governance-token total supply at the snapshot; 0 until the first claim reads it
    }

    /*//////////////////////////////////////////////////////////////
                             FEE SCHEDULE
    //////////////////////////////////////////////////////////////*/

    /// @notice Basis-point denominator (10_000 = 100%).
    function BPS_DENOMINATOR() external view returns (uint256);

    /// @notice Hard cap on the fee rate, fixed at deployment; no proposal can raise it.
    function maxFeeBps() external view returns (uint256);

    /// @notice Current fee rate in basis points.
    function feeBps() external view returns (uint256);

    /// @notice Sets the fee rate. Owner (timelock) only; never above {maxFeeBps}.
    function setFeeBps(uint256 newFeeBps) external;

    /// @notice The protocol fee on a payment of `amount`: `ceil(amount * feeBps / 10_000)`.
    /// @dev The one place every market computes its fee. Rounds **up**, in the protocol's favour, so splitting a
    /// payment into many small ones never avoids the fee; it never exceeds `amount` because `feeBps <= 10_000`.
    function feeOn(uint256 amount) external view returns (uint256 fee);

    /// @notice Splits a gross payment into the fee and what the payee receives (`net = amount - fee`).
    function split(uint256 amount) external view returns (uint256 fee, uint256 net);

    /*//////////////////////////////////////////////////////////////
                                 FLOWS
    //////////////////////////////////////////////////////////////*/

    /// @notice Pulls `amount` of `token` from the caller (who approved the vault) and credits what actually
    /// arrived (fee-on-transfer tokens credit less than nominal). Anyone may deposit.
    function depositFee(IERC20 token, uint256 amount) external returns (uint256 received);

    /// @notice Governance pays `amount` of unallocated `token` fees to `to`. Owner (timelock) only.
    function spend(IERC20 token, address to, uint256 amount) external;

    /// @notice Governance routes `amount` of unallocated `token` fees to governance-token holders by their
    /// balances at `recordBlock`, a clock value fixed in the proposal that must still be in the future (at most
    /// MAX_RECORD_LEAD ahead). The claim window opens after the record block (first claim or `openClaims`) and
    /// lasts `claimPeriod` seconds from then, so a far record block never voids it. Owner (timelock) only.
    /// The vault announces the record block to the share token (IApiaryToken.announceRecordBlock), which keeps
    /// balances only at announced record blocks: the vault must be the token's recorder (as deployed; a
    /// replacement vault is named by governance through the token's owner, the timelock).
    function distribute(IERC20 token, uint256 amount, uint256 claimPeriod, uint48 recordBlock) external returns (uint256 id);

    /// @notice Opens the claim window of distribution `id` once its record block has passed. Anyone may call;
    /// returns the window's deadline (the existing one if it is open already).
    function openClaims(uint256 id) external returns (uint256 deadline);

    /// @notice Pays the caller its share of distribution `id`, once (opening the claim window if needed).
    function claim(uint256 id) external returns (uint256 amount);

    /// @notice After the claim window closed, returns what was not claimed to the unallocated ledger. Anyone may
    /// call.
    function reclaim(uint256 id) external returns (uint256 amount);

    /// @notice Sends tokens the ledger does not account for (direct transfers) to `to`. Owner (timelock) only.
    function sweepSurplus(IERC20 token, address to) external returns (uint256 amount);

    /// @notice Turns up to `maxAmount` of what `market` (a settlement-base market paying this vault) holds beyond
    /// its ledger in `token` into its pending fees (`ISettlement.sweepSurplus`). Owner (timelock) only.
    function sweepMarketSurplus(address market, IERC20 token, uint256 maxAmount) external returns (uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    function unallocated(IERC20 token) external view returns (uint256);

    function reserved(IERC20 token) external view returns (uint256);

    /// @notice `token.balanceOf(vault)` minus what the ledger accounts for.
    function surplus(IERC20 token) external view returns (uint256);

    function distributionCount() external view returns (uint256);

    function distribution(uint256 id) external view returns (Distribution memory);

    /// @notice What `account` can still claim from distribution `id` (0 once claimed or after the deadline).
    function claimable(uint256 id, address account) external view returns (uint256);

    function hasClaimed(uint256 id, address account) external view returns (bool);
}
