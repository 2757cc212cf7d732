// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";

import {IFeeVault} from "../interfaces/IFeeVault.sol";
import {ISettlement} from "../interfaces/ISettlement.sol";
import {IApiaryToken} from "../interfaces/IApiaryToken.sol";

/// @title FeeVault
/// @notice See {IFeeVault}. Owned by the timelock; every admin function is governance-only.
contract FeeVault is IFeeVault, Ownable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IFeeVault
    uint256 public constant BPS_DENOMINATOR = 10_000;
    /// @notice Shortest claim window: long enough for every holder to notice a distribution.
    uint256 public constant MIN_CLAIM_PERIOD = 1 days;
    /// @notice Longest claim window: routed fees come back to governance within a year at most.
    uint256 public constant MAX_CLAIM_PERIOD = 365 days;
    /// @notice Furthest a record block may lie ahead of the routing (clock units: blocks; a week of 12 s blocks).
    uint256 public constant MAX_RECORD_LEAD = 50_400;

    /*//////////////////////////////////////////////////////////////
                               IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IFeeVault
    uint256 public immutable maxFeeBps;
    /// @notice The governance token whose holders share distributions.
    IApiaryToken public immutable shareToken;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IFeeVault
    uint256 public feeBps;

    mapping(IERC20 token => uint256) private _unallocated;
    mapping(IERC20 token => uint256) private _reserved;
    Distribution[] private _distributions;
    mapping(uint256 id => mapping(address account => bool)) private _claimed;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param timelock Owner: the governance timelock.
    /// @param shareToken_ Governance token whose historical balances weight distributions.
    /// @param maxFeeBps_ Immutable hard cap on the fee rate (basis points, at most 10_000).
    /// @param initialFeeBps Starting fee rate (at most the cap).
    constructor(address timelock, IApiaryToken shareToken_, uint256 maxFeeBps_, uint256 initialFeeBps)
        Ownable(timelock)
    {
        if (address(shareToken_) == address(0)) revert FeeVaultZeroAddress();
        if (maxFeeBps_ > BPS_DENOMINATOR) revert FeeVaultCapAboveDenominator(maxFeeBps_, BPS_DENOMINATOR);
        if (initialFeeBps > maxFeeBps_) revert FeeVaultFeeAboveCap(initialFeeBps, maxFeeBps_);
        shareToken = shareToken_;
        maxFeeBps = maxFeeBps_;
        feeBps = initialFeeBps;
        emit FeeRateChanged(0, initialFeeBps);
    }

    /*//////////////////////////////////////////////////////////////
                              FEE SCHEDULE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IFeeVault
    function setFeeBps(uint256 newFeeBps) external onlyOwner {
        if (newFeeBps > maxFeeBps) revert FeeVaultFeeAboveCap(newFeeBps, maxFeeBps);
        uint256 oldFeeBps = feeBps;
        feeBps = newFeeBps;
        emit FeeRateChanged(oldFeeBps, newFeeBps);
    }

    /// @inheritdoc IFeeVault
    function feeOn(uint256 amount) public view returns (uint256 fee) {
        // Rounds up: the protocol never undercharges, even on dust payments.
        return Math.mulDiv(amount, feeBps, BPS_DENOMINATOR, Math.Rounding.Ceil);
    }

    /// @inheritdoc IFeeVault
    function split(uint256 amount) external view returns (uint256 fee, uint256 net) {
        fee = feeOn(amount);
        // fee <= amount because feeBps <= maxFeeBps <= BPS_DENOMINATOR (checked in the constructor).
        unchecked {
            net = amount - fee;
        }
    }

    /*//////////////////////////////////////////////////////////////
                                 FLOWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IFeeVault
    function depositFee(IERC20 token, uint256 amount) external nonReentrant returns (uint256 received) {
        if (address(token) == address(0)) revert FeeVaultZeroAddress();
        if (amount == 0) revert FeeVaultZeroAmount();
        // Credit the balance delta, not the nominal amount: fee-on-transfer tokens deliver less.
        uint256 before = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        received = token.balanceOf(address(this)) - before;
        // slither-disable-next-line incorrect-equality — `received` is this call's own balance delta: == 0 only rejects a transfer that delivered nothing
        if (received == 0) revert FeeVaultNothingReceived(token, amount);
        _unallocated[token] += received;
        emit FeeDeposited(token, msg.sender, amount, received);
    }

    /// @inheritdoc IFeeVault
    function spend(IERC20 token, address to, uint256 amount) external onlyOwner nonReentrant {
        if (to == address(0) || address(token) == address(0)) revert FeeVaultZeroAddress();
        if (amount == 0) revert FeeVaultZeroAmount();
        _takeUnallocated(token, amount);
        emit FeesSpent(token, to, amount);
        token.safeTransfer(to, amount);
    }

    /// @inheritdoc IFeeVault
    function distribute(IERC20 token, uint256 amount, uint256 claimPeriod, uint48 recordBlock)
        external
        onlyOwner
        nonReentrant
        returns (uint256 id)
    {
        if (address(token) == address(0)) revert FeeVaultZeroAddress();
        if (amount == 0) revert FeeVaultZeroAmount();
        if (claimPeriod < MIN_CLAIM_PERIOD || claimPeriod > MAX_CLAIM_PERIOD) {
            revert FeeVaultInvalidClaimPeriod(claimPeriod, MIN_CLAIM_PERIOD, MAX_CLAIM_PERIOD);
        }
        // The record block comes from the proposal and must still be ahead: nobody chooses it at execution, and
        // nobody can name a past block at which only they knew to hold.
        uint48 clock = shareToken.clock();
        if (recordBlock <= clock || recordBlock > clock + MAX_RECORD_LEAD) {
            revert FeeVaultBadRecordBlock(recordBlock, clock, MAX_RECORD_LEAD);
        }

        _takeUnallocated(token, amount);
        _reserved[token] += amount;
        // The token keeps holders' balances at the end of the record block from now on (IApiaryToken).
        shareToken.announceRecordBlock(recordBlock);
        id = _distributions.length;
        _distributions.push(
            Distribution({
                token: token,
                snapshot: recordBlock,
                deadline: 0, // opened after the record block: a far record block cannot eat the window
                reclaimed: false,
                claimPeriod: uint48(claimPeriod), // ≤ MAX_CLAIM_PERIOD, checked above
                amount: amount,
                claimed: 0,
                supply: 0
            })
        );
        emit DistributionCreated(id, token, amount, recordBlock, claimPeriod);
    }

    /// @inheritdoc IFeeVault
    function openClaims(uint256 id) external nonReentrant returns (uint256 deadline) {
        return _open(id, _distribution(id));
    }

    /// @inheritdoc IFeeVault
    function claim(uint256 id) external nonReentrant returns (uint256 amount) {
        Distribution storage d = _distribution(id);
        uint256 deadline = _open(id, d);
        if (block.timestamp > deadline) revert FeeVaultClaimPeriodOver(id, deadline);
        if (_claimed[id][msg.sender]) revert FeeVaultAlreadyClaimed(id, msg.sender);
        // The supply at the record block is known only once it has passed: read it at the first claim.
        if (d.supply == 0) d.supply = shareToken.getPastTotalSupply(d.snapshot);
        amount = _shareOf(d, msg.sender);
        if (amount == 0) revert FeeVaultNothingToClaim(id, msg.sender);

        _claimed[id][msg.sender] = true;
        d.claimed += amount;
        _reserved[d.token] -= amount;
        emit Claimed(id, msg.sender, amount);
        d.token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IFeeVault
    function reclaim(uint256 id) external nonReentrant returns (uint256 amount) {
        Distribution storage d = _distribution(id);
        if (d.deadline == 0) revert FeeVaultClaimsNotOpened(id);
        if (block.timestamp <= d.deadline) revert FeeVaultClaimPeriodRunning(id, d.deadline);
        if (d.reclaimed) revert FeeVaultAlreadyReclaimed(id);

        d.reclaimed = true;
        amount = d.amount - d.claimed;
        _reserved[d.token] -= amount;
        _unallocated[d.token] += amount;
        emit Reclaimed(id, amount);
    }

    /// @inheritdoc IFeeVault
    function sweepSurplus(IERC20 token, address to) external onlyOwner nonReentrant returns (uint256 amount) {
        if (to == address(0) || address(token) == address(0)) revert FeeVaultZeroAddress();
        amount = surplus(token);
        // slither-disable-next-line incorrect-equality — zero surplus only means nothing to sweep; a donation can only enable this owner-only sweep, never block it
        if (amount == 0) revert FeeVaultNoSurplus(token);
        emit SurplusSwept(token, to, amount);
        token.safeTransfer(to, amount);
    }

    /// @inheritdoc IFeeVault
    function sweepMarketSurplus(address market, IERC20 token, uint256 maxAmount) external onlyOwner returns (uint256) {
        return ISettlement(market).sweepSurplus(token, maxAmount);
    }

    /// @notice Disabled: the vault would lose its governance for good.
    function renounceOwnership() public view override onlyOwner {
        revert FeeVaultCannotRenounceOwnership();
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IFeeVault
    function unallocated(IERC20 token) external view returns (uint256) {
        return _unallocated[token];
    }

    /// @inheritdoc IFeeVault
    function reserved(IERC20 token) external view returns (uint256) {
        return _reserved[token];
    }

    /// @inheritdoc IFeeVault
    function surplus(IERC20 token) public view returns (uint256) {
        uint256 held = token.balanceOf(address(this));
        uint256 owed = _unallocated[token] + _reserved[token];
        // A token that burns or rebases down can hold less than the ledger; there is no surplus then.
        return held > owed ? held - owed : 0;
    }

    /// @inheritdoc IFeeVault
    function distributionCount() external view returns (uint256) {
        return _distributions.length;
    }

    /// @inheritdoc IFeeVault
    function distribution(uint256 id) external view returns (Distribution memory) {
        return _distribution(id);
    }

    /// @inheritdoc IFeeVault
    function claimable(uint256 id, address account) external view returns (uint256) {
        Distribution storage d = _distribution(id);
        if (shareToken.clock() <= d.snapshot || _claimed[id][account]) return 0;
        // Not opened yet: a claim now would open the window, so the share is claimable.
        if (d.deadline != 0 && block.timestamp > d.deadline) return 0;
        return _shareOf(d, account);
    }

    /// @inheritdoc IFeeVault
    function hasClaimed(uint256 id, address account) external view returns (bool) {
        return _claimed[id][account];
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _distribution(uint256 id) private view returns (Distribution storage) {
        if (id >= _distributions.length) revert FeeVaultUnknownDistribution(id);
        return _distributions[id];
    }

    /// @dev The claim window's deadline, opening the window first if the record block has passed.
    function _open(uint256 id, Distribution storage d) private returns (uint256) {
        if (d.deadline != 0) return d.deadline;
        if (shareToken.clock() <= d.snapshot) revert FeeVaultRecordBlockNotPassed(id, d.snapshot);
        uint48 deadline = SafeCast.toUint48(block.timestamp + d.claimPeriod);
        d.deadline = deadline;
        emit ClaimsOpened(id, deadline);
        return deadline;
    }

    function _shareOf(Distribution storage d, address account) private view returns (uint256) {
        uint256 supply = d.supply != 0 ? d.supply : shareToken.getPastTotalSupply(d.snapshot);
        // No supply at the record block: nobody has a share, and reclaim returns everything.
        if (supply == 0) return 0;
        // Rounds down, in the protocol's favour: the shares never sum above `amount`; dust is reclaimed.
        return Math.mulDiv(d.amount, shareToken.getPastBalance(account, d.snapshot), supply);
    }

    function _takeUnallocated(IERC20 token, uint256 amount) private {
        uint256 available = _unallocated[token];
        if (amount > available) revert FeeVaultInsufficientFees(token, amount, available);
        // Cannot underflow: checked just above.
        unchecked {
            _unallocated[token] = available - amount;
        }
    }
}
