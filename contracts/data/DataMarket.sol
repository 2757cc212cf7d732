// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

import {IDataMarket} from "../interfaces/IDataMarket.sol";
import {IDatasetRegistry} from "../interfaces/IDatasetRegistry.sol";
import {IFeeVault} from "../interfaces/IFeeVault.sol";
import {Settlement} from "../settlement/Settlement.sol";
import {FairExchange} from "./FairExchange.sol";
import {RowMerkle} from "./RowMerkle.sol";

/// @title DataMarket
/// @notice See {IDataMarket}. Owned by the timelock, which sets the listing bond within a bound fixed here.
contract DataMarket is IDataMarket, Ownable, Settlement {
    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    uint256 public constant MIN_DELIVERY_WINDOW = 10 minutes;
    uint256 public constant MAX_DELIVERY_WINDOW = 30 days;
    uint256 public constant MIN_DISPUTE_WINDOW = 1 hours;
    uint256 public constant MAX_DISPUTE_WINDOW = 30 days;
    /// @notice Share of a slashed bond paid to the buyer who proved the fraud; the rest goes to the fee vault.
    uint16 public constant BUYER_SHARE_BPS = 5_000;
    uint16 internal constant _VAULT_SHARE_BPS = uint16(_BPS) - BUYER_SHARE_BPS;
    /// @notice Longest package URI: every reader of a listing (buyers, the delivery agent) copies it.
    uint256 public constant MAX_URI_BYTES = 512;
    bytes32 internal constant _BUYER_KEY_TAG = keccak256("apiary buyer key");

    /*//////////////////////////////////////////////////////////////
                          IMMUTABLES AND STORAGE
    //////////////////////////////////////////////////////////////*/

    IDatasetRegistry public immutable registry;
    IERC20 public immutable bondToken;
    uint256 public immutable maxBond;
    uint256 public bondAmount;

    mapping(uint256 id => Listing) private _listings;
    mapping(uint256 id => Sale) private _sales;
    mapping(uint256 datasetId => mapping(address account => bool)) private _licensed;
    mapping(bytes32 keyId => bool) private _keyUsed;
    uint256 private _listingCount;
    uint256 private _saleCount;

    constructor(address timelock, IFeeVault vault_, IDatasetRegistry registry_, IERC20 bondToken_, uint256 bond, uint256 maxBond_)
        Ownable(timelock)
        Settlement(vault_)
    {
        if (address(registry_) == address(0) || address(bondToken_) == address(0)) revert SettlementZeroAddress();
        registry = registry_;
        bondToken = bondToken_;
        maxBond = maxBond_;
        _setBondAmount(bond);
    }

    /*//////////////////////////////////////////////////////////////
                                LISTINGS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDataMarket
    function list(
        uint256 datasetId,
        bytes32 cipherRoot,
        bytes32 keyHash,
        uint64 deliveryWindow,
        uint64 disputeWindow,
        string calldata packageUri
    ) external nonReentrant returns (uint256 listingId) {
        if (registry.ownerOf(datasetId) != msg.sender) revert DataMarketNotSeller(datasetId, msg.sender);
        if (!registry.isFinal(datasetId) || registry.dataset(datasetId).duplicate) {
            revert DataMarketDatasetNotSellable(datasetId);
        }
        if (cipherRoot == bytes32(0) || keyHash == bytes32(0)) revert DataMarketZeroRoot();
        if (bytes(packageUri).length > MAX_URI_BYTES) revert DataMarketUriTooLong(bytes(packageUri).length, MAX_URI_BYTES);
        _window(deliveryWindow, MIN_DELIVERY_WINDOW, MAX_DELIVERY_WINDOW);
        _window(disputeWindow, MIN_DISPUTE_WINDOW, MAX_DISPUTE_WINDOW);
        listingId = ++_listingCount;
        Listing storage l = _listings[listingId];
        l.datasetId = datasetId;
        l.seller = msg.sender;
        l.cipherRoot = cipherRoot;
        l.keyHash = keyHash;
        l.deliveryWindow = deliveryWindow;
        l.disputeWindow = disputeWindow;
        l.packageUri = packageUri;
        uint256 bond = bondAmount == 0 ? 0 : _collect(bondToken, msg.sender, bondAmount);
        l.bond = bond;
        emit Listed(listingId, datasetId, msg.sender, cipherRoot, keyHash, bond, packageUri);
    }

    /// @inheritdoc IDataMarket
    function closeListing(uint256 listingId) external {
        Listing storage l = _listing(listingId);
        if (msg.sender != l.seller) revert DataMarketNotSeller(l.datasetId, msg.sender);
        if (l.closed) revert DataMarketListingClosed(listingId);
        l.closed = true;
        emit ListingClosed(listingId);
    }

    /// @inheritdoc IDataMarket
    function releaseBond(uint256 listingId) external nonReentrant {
        Listing storage l = _listing(listingId);
        if (msg.sender != l.seller) revert DataMarketNotSeller(l.datasetId, msg.sender);
        if (!l.closed || l.openSales != 0 || l.bondReleased) revert DataMarketBondLocked(listingId);
        l.bondReleased = true;
        _refundLocked(bondToken, msg.sender, l.bond);
        emit BondReleased(listingId, msg.sender, l.bond);
    }

    /*//////////////////////////////////////////////////////////////
                                 SALES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDataMarket
    function buy(
        uint256 listingId,
        bytes32 expectedCipherRoot,
        IERC20 expectedToken,
        uint256 maxPrice,
        uint256 buyerKeyX,
        uint256 buyerKeyY,
        bytes calldata keySignature
    )
        external
        nonReentrant
        returns (uint256 saleId)
    {
        Listing storage l = _listing(listingId);
        // The package the buyer chose: listing ids are assigned in landing order, so a reorg that re-orders two
        // listings must not sell the other one under this id.
        if (l.cipherRoot != expectedCipherRoot) revert DataMarketWrongListing(listingId, l.cipherRoot, expectedCipherRoot);
        // A listing whose dataset changed hands or was flagged duplicate sells nothing more.
        if (l.closed || registry.ownerOf(l.datasetId) != l.seller) revert DataMarketListingClosed(listingId);
        IDatasetRegistry.Dataset memory d = registry.dataset(l.datasetId);
        if (d.duplicate || address(d.priceToken) == address(0) || d.price == 0) {
            revert DataMarketDatasetNotSellable(l.datasetId);
        }
        if (d.priceToken != expectedToken || d.price > maxPrice) {
            revert DataMarketTermsChanged(d.priceToken, d.price, expectedToken, maxPrice);
        }
        if (msg.sender == l.seller) revert DataMarketNotBuyer(0, msg.sender);
        _takeBuyerKey(listingId, expectedCipherRoot, buyerKeyX, buyerKeyY, keySignature);
        saleId = ++_saleCount;
        Sale storage s = _sales[saleId];
        s.listingId = listingId;
        s.buyer = msg.sender;
        s.token = d.priceToken;
        s.feeBps = _currentFeeBps();
        s.deliveryDeadline = uint64(block.timestamp + l.deliveryWindow);
        s.buyerKeyX = buyerKeyX;
        s.buyerKeyY = buyerKeyY;
        l.openSales += 1;
        s.amount = _collect(d.priceToken, msg.sender, d.price);
        emit Purchased(saleId, listingId, msg.sender, d.priceToken, s.amount, buyerKeyX, buyerKeyY, s.deliveryDeadline);
    }

    /// @dev A usable key the buyer holds (it signed this purchase: a key copied from a pending purchase cannot be
    /// used first to block it), used once: disputes bind a key by its 160-bit address, so a buyer who found two
    /// keys with one address (~2^80 work) could fake a wrong-key proof — once, never on every listing.
    function _takeBuyerKey(uint256 listingId, bytes32 cipherRoot, uint256 x, uint256 y, bytes calldata signature) private {
        if (!FairExchange.usableKey(x, y)) revert DataMarketBadKey(x, y);
        // slither-disable-next-line unused-return — the third value only details the error, already checked
        (address signer, ECDSA.RecoverError err,) =
            ECDSA.tryRecover(buyerKeyDigest(msg.sender, listingId, cipherRoot), signature);
        if (err != ECDSA.RecoverError.NoError || signer != FairExchange.pointAddress(x, y)) {
            revert DataMarketBadKeySignature(x, y);
        }
        bytes32 keyId = keccak256(abi.encode(x, y));
        if (_keyUsed[keyId]) revert DataMarketKeyReused(x, y);
        _keyUsed[keyId] = true;
    }

    /// @inheritdoc IDataMarket
    function deliver(uint256 saleId, bytes32 buyerKeyId, uint256 ephemeralX, uint256 ephemeralY, bytes32 encKey) external {
        Sale storage s = _sale(saleId);
        Listing storage l = _listings[s.listingId];
        if (msg.sender != l.seller) revert DataMarketNotSeller(l.datasetId, msg.sender);
        // The key the seller encrypted to: a reorg that re-orders purchases must not re-deliver to another buyer.
        bytes32 keyId = keccak256(abi.encode(s.buyerKeyX, s.buyerKeyY));
        if (buyerKeyId != keyId) revert DataMarketWrongBuyerKey(saleId, keyId, buyerKeyId);
        _expect(saleId, SaleState.Paid);
        if (l.fraud == Fraud.BadPackage) revert DataMarketListingClosed(s.listingId);
        // Proven a copy since it was bought: the sale is refunded, never paid, so there is nothing to deliver.
        if (registry.isDuplicate(l.datasetId)) revert DataMarketDatasetNotSellable(l.datasetId);
        if (!FairExchange.usableKey(ephemeralX, ephemeralY)) revert DataMarketBadKey(ephemeralX, ephemeralY);
        s.ephemeralX = ephemeralX;
        s.ephemeralY = ephemeralY;
        s.encKey = encKey;
        s.disputeEnds = uint64(block.timestamp + l.disputeWindow);
        emit Delivered(saleId, ephemeralX, ephemeralY, encKey, s.disputeEnds);
    }

    /// @inheritdoc IDataMarket
    function dispute(uint256 saleId, Evidence calldata e) external nonReentrant {
        Sale storage s = _sale(saleId);
        if (msg.sender != s.buyer) revert DataMarketNotBuyer(saleId, msg.sender);
        _expect(saleId, SaleState.Delivered);
        Listing storage l = _listings[s.listingId];
        bytes32 key = _deliveredKey(saleId, s, e);
        Fraud fraud = keccak256(abi.encodePacked(key)) != l.keyHash ? Fraud.WrongKey : _checkPiece(saleId, l, key, e);
        _refundSale(saleId, s, l);
        uint256 toBuyer = 0;
        uint256 toVault = 0;
        if (l.fraud == Fraud.None) {
            // The first proof slashes the bond; one piece of evidence, one slash.
            l.closed = true;
            l.bondReleased = true;
            (toBuyer, toVault) = _payOut(bondToken, s.buyer, l.bond, _VAULT_SHARE_BPS);
        }
        if (fraud == Fraud.BadPackage || l.fraud == Fraud.None) l.fraud = fraud;
        emit FraudProven(saleId, s.listingId, fraud, toBuyer, toVault);
    }

    /// @inheritdoc IDataMarket
    function settle(uint256 saleId) external nonReentrant {
        Sale storage s = _sale(saleId);
        _expect(saleId, SaleState.Settleable);
        Listing storage l = _listings[s.listingId];
        // A package proven bad is bad for every buyer: its sales refund, they never settle.
        if (l.fraud == Fraud.BadPackage) revert DataMarketListingClosed(s.listingId);
        // So does a dataset proven a duplicate after the purchase: a copier is never paid for a sale not yet settled.
        if (registry.isDuplicate(l.datasetId)) revert DataMarketDatasetNotSellable(l.datasetId);
        // Nor is a dataset that can still be proven one: its seller is paid once no challenge can land.
        uint256 payableAt = registry.releasableAt(l.datasetId);
        if (block.timestamp < payableAt) revert DataMarketDatasetContestable(l.datasetId, payableAt);
        s.settled = true;
        l.openSales -= 1;
        _licensed[l.datasetId][s.buyer] = true;
        (uint256 net, uint256 fee) = _payOut(s.token, l.seller, s.amount, s.feeBps);
        emit SaleSettled(saleId, l.seller, net, fee);
    }

    /// @inheritdoc IDataMarket
    function refund(uint256 saleId) external nonReentrant {
        Sale storage s = _sale(saleId);
        Listing storage l = _listings[s.listingId];
        SaleState state = saleState(saleId);
        // A bad package or a proven duplicate: every sale not yet settled or refunded refunds at once.
        bool badItem = state != SaleState.Settled && state != SaleState.Refunded
            && (l.fraud == Fraud.BadPackage || registry.isDuplicate(l.datasetId));
        if (state != SaleState.Expired && !badItem) revert DataMarketUnexpectedSaleState(saleId, state);
        _refundSale(saleId, s, l);
    }

    /*//////////////////////////////////////////////////////////////
                               GOVERNANCE
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDataMarket
    function setBondAmount(uint256 amount) external onlyOwner {
        _setBondAmount(amount);
    }

    /*//////////////////////////////////////////////////////////////
                                 VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDataMarket
    function saleState(uint256 saleId) public view returns (SaleState) {
        Sale storage s = _sales[saleId];
        if (s.buyer == address(0)) return SaleState.None;
        if (s.settled) return s.refunded ? SaleState.Refunded : SaleState.Settled;
        if (s.disputeEnds == 0) return block.timestamp > s.deliveryDeadline ? SaleState.Expired : SaleState.Paid;
        return block.timestamp > s.disputeEnds ? SaleState.Settleable : SaleState.Delivered;
    }

    /// @inheritdoc IDataMarket
    function isLicensed(uint256 datasetId, address account) external view returns (bool) {
        return _licensed[datasetId][account];
    }

    /// @inheritdoc IDataMarket
    function totalListings() external view returns (uint256) {
        return _listingCount;
    }

    /// @inheritdoc IDataMarket
    function totalSales() external view returns (uint256) {
        return _saleCount;
    }

    /// @inheritdoc IDataMarket
    function buyerKeyDigest(address buyer, uint256 listingId, bytes32 cipherRoot) public view returns (bytes32) {
        return keccak256(abi.encode(_BUYER_KEY_TAG, block.chainid, address(this), buyer, listingId, cipherRoot));
    }

    /// @inheritdoc IDataMarket
    function listing(uint256 listingId) external view returns (Listing memory) {
        return _listing(listingId);
    }

    /// @inheritdoc IDataMarket
    function sale(uint256 saleId) external view returns (Sale memory) {
        return _sale(saleId);
    }

    /// @inheritdoc IDataMarket
    function keyInfo(uint256 saleId) public view returns (bytes memory) {
        return abi.encodePacked("apiary licence key", block.chainid, address(this), saleId);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev The key the seller delivered, decrypted with the buyer's revealed one-time secret; reverts if the
    /// secret is not the sale's key or the ECDH point is not secret·R.
    function _deliveredKey(uint256 saleId, Sale storage s, Evidence calldata e) private view returns (bytes32) {
        address buyerKey = FairExchange.pointAddress(s.buyerKeyX, s.buyerKeyY);
        address shared = FairExchange.pointAddress(e.sharedX, e.sharedY);
        if (
            FairExchange.mulAddress(FairExchange.GX, FairExchange.GY, e.buyerSecret) != buyerKey
                || FairExchange.mulAddress(s.ephemeralX, s.ephemeralY, e.buyerSecret) != shared
        ) revert DataMarketBadEvidence(saleId);
        return s.encKey ^ FairExchange.hkdf32(bytes32(e.sharedX), keyInfo(saleId));
    }

    /// @dev With the listed key: piece `index` of the package is missing, too long to check, or decrypts to a row
    /// other than row `index` of the registered dataset (BadPackage); reverts if it is row `index`.
    function _checkPiece(uint256 saleId, Listing storage l, bytes32 key, Evidence calldata e) private view returns (Fraud) {
        IDatasetRegistry.Dataset memory d = registry.dataset(l.datasetId);
        uint256 depth = _depth(d.rows);
        if (
            e.index >= d.rows || e.cipherProof.index != e.index || e.leafProof.index != e.index
                || e.cipherProof.siblings.length != depth || e.leafProof.siblings.length != depth
                || RowMerkle.rootFrom(e.registeredLeaf, e.leafProof) != d.root
        ) revert DataMarketBadEvidence(saleId);
        if (e.cipherPiece.length == 0) {
            // No piece at a position the dataset fills: the package is short.
            if (RowMerkle.rootFrom(bytes32(0), e.cipherProof) != l.cipherRoot) revert DataMarketBadEvidence(saleId);
            return Fraud.BadPackage;
        }
        if (!RowMerkle.contains(l.cipherRoot, keccak256(e.cipherPiece), e.cipherProof)) revert DataMarketBadEvidence(saleId);
        // A piece too long to decrypt here cannot be checked by anyone: the seller's fault.
        if (e.cipherPiece.length > FairExchange.MAX_PIECE) return Fraud.BadPackage;
        bytes memory row = FairExchange.xorExpand(key, FairExchange.pieceInfo(e.index), e.cipherPiece);
        if (RowMerkle.leaf(keccak256(row)) == e.registeredLeaf) revert DataMarketDeliveryCorrect(saleId);
        return Fraud.BadPackage;
    }

    function _refundSale(uint256 saleId, Sale storage s, Listing storage l) private {
        s.settled = true;
        s.refunded = true;
        l.openSales -= 1;
        _refundLocked(s.token, s.buyer, s.amount);
        emit SaleRefunded(saleId, s.buyer, s.amount);
    }

    function _expect(uint256 saleId, SaleState expected) private view {
        SaleState current = saleState(saleId);
        if (current != expected) revert DataMarketUnexpectedSaleState(saleId, current);
    }

    /// @dev ⌈log₂ rows⌉: the depth of the registered tree (apiary/data/merkle.py `depth`).
    function _depth(uint256 rows) private pure returns (uint256 d) {
        while ((uint256(1) << d) < rows) ++d;
    }

    function _window(uint256 window, uint256 min, uint256 max) private pure {
        if (window < min || window > max) revert DataMarketWindowOutOfBounds(window, min, max);
    }

    function _setBondAmount(uint256 amount) private {
        if (amount > maxBond) revert DataMarketBondOutOfBounds(amount, maxBond);
        bondAmount = amount;
        emit BondAmountSet(amount);
    }

    function _listing(uint256 id) private view returns (Listing storage) {
        if (id == 0 || id > _listingCount) revert DataMarketUnknownListing(id);
        return _listings[id];
    }

    function _sale(uint256 id) private view returns (Sale storage) {
        if (id == 0 || id > _saleCount) revert DataMarketUnknownSale(id);
        return _sales[id];
    }
}
