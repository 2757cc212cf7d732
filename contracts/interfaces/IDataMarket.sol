// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {RowMerkle} from "../data/RowMerkle.sol";
import {IDatasetRegistry} from "./IDatasetRegistry.sol";

/// @title Data market: licences sold as a fair exchange
/// @notice A seller lists a registered dataset with the commitments of its **encrypted package**, published
/// before anyone pays (apiary/data/exchange.py): `cipherRoot`, a positional Merkle root over the encrypted rows
/// in the dataset's sorted-leaf order (piece i is row i of the registered tree), and `keyHash = keccak256(k)` of
/// the package key. A buyer checks the package against both roots, then `buy`s with a maximum price and a
/// one-time secp256k1 public key; the payment sits in escrow. The seller `deliver`s `k` encrypted to that key
/// (FairExchange: ECDH + HKDF-SHA256) before `deliveryDeadline`; after `disputeWindow` anyone `settle`s the sale
/// and the seller is paid, less the protocol fee fixed at purchase. Within the window the buyer can prove in one
/// transaction, revealing the one-time key, that
///
/// * the delivered key is not the listed one (`keccak256(k) ≠ keyHash`), or
/// * piece i of the package decrypts under the listed key to a row that is not row i of the registered dataset
///   (or the package lacks piece i),
///
/// and is refunded in full; the seller's listing bond is slashed once (half to the buyer who proved it, half to
/// the fee vault) and the listing closes. A package proven wrong is wrong for every buyer: each open sale of that
/// listing is then refundable. So is every open sale of a dataset proven a duplicate (DatasetRegistry) after it
/// was bought: an item proven bad is never paid for a sale not yet settled, and is neither delivered nor settled
/// any more. No sale settles before the dataset's duplicate challenges close (`DatasetRegistry.releasableAt`):
/// a copy is never paid for anything, in whatever order its sales, deliveries and the proof come, so copying
/// loses at least the vault's half of the registration stake. No delivery by the deadline: the buyer is refunded. A dispute of a correct delivery reverts: the
/// buyer loses it and the seller is paid after the window.
///
/// Ledger invariant (Settlement): for every token, `locked == Σ open sales' payments + Σ unreleased bonds`.
interface IDataMarket {
    enum SaleState {
        None,
        Paid, // waiting for the key
        Delivered, // key delivered, dispute window open
        Settleable, // dispute window over: anyone may settle (once the dataset's challenges close)
        Expired, // not delivered by the deadline: the buyer may refund
        Settled,
        Refunded
    }

    enum Fraud {
        None,
        WrongKey, // the key delivered to one buyer is not the listed one
        BadPackage // the listed package does not decrypt to the registered rows
    }

    struct Listing {
        uint256 datasetId;
        address seller;
        bytes32 cipherRoot;
        bytes32 keyHash;
        uint64 deliveryWindow;
        uint64 disputeWindow;
        bool closed;
        Fraud fraud;
        uint32 openSales;
        uint256 bond;
        bool bondReleased;
        string packageUri;
    }

    struct Sale {
        uint256 listingId;
        address buyer;
        IERC20 token;
        uint256 amount; // what arrived (fee-on-transfer tokens deliver less than the price)
        uint16 feeBps; // fixed at purchase
        uint64 deliveryDeadline;
        uint64 disputeEnds; // zero until delivered
        bool settled; // paid out or refunded
        bool refunded;
        uint256 buyerKeyX;
        uint256 buyerKeyY;
        uint256 ephemeralX;
        uint256 ephemeralY;
        bytes32 encKey;
    }

    /// @notice Evidence of a bad delivery: the one-time key, the ECDH point, and (for a package dispute) one piece.
    struct Evidence {
        uint256 buyerSecret;
        uint256 sharedX;
        uint256 sharedY;
        uint256 index; // piece position
        bytes cipherPiece; // empty: the package has no piece at `index` (shown by `cipherProof` of a zero leaf)
        RowMerkle.Proof cipherProof;
        bytes32 registeredLeaf; // leaf `index` of the registered dataset tree
        RowMerkle.Proof leafProof;
    }

    error DataMarketUnknownListing(uint256 id);
    error DataMarketUnknownSale(uint256 id);
    /// @notice Thrown when the caller does not own the dataset (or no longer does) or is not the listing's seller.
    error DataMarketNotSeller(uint256 datasetId, address caller);
    error DataMarketNotBuyer(uint256 saleId, address caller);
    /// @notice Thrown when listing a dataset that can still be taken over, or is flagged duplicate, or has no price;
    /// and when delivering or settling a sale of a dataset flagged duplicate since it was bought (refund it).
    error DataMarketDatasetNotSellable(uint256 datasetId);
    error DataMarketListingClosed(uint256 listingId);
    /// @notice Thrown when settling a sale of a dataset that can still be proven a duplicate: it settles from
    /// `payableAt` (the end of the dataset's challenge window and reveal period).
    error DataMarketDatasetContestable(uint256 datasetId, uint256 payableAt);
    /// @notice Thrown when a purchase names another package than the listing holds (a reorg re-ordered listings).
    error DataMarketWrongListing(uint256 listingId, bytes32 cipherRoot, bytes32 expectedCipherRoot);
    /// @notice Thrown when the current terms are not the ones the buyer accepted.
    error DataMarketTermsChanged(IERC20 token, uint256 price, IERC20 expectedToken, uint256 maxPrice);
    /// @notice Thrown for a buyer or ephemeral key that is not a secp256k1 point with 0 < x < N.
    error DataMarketBadKey(uint256 x, uint256 y);
    /// @notice Thrown when a buyer key was used for an earlier purchase (keys are one-time).
    error DataMarketKeyReused(uint256 x, uint256 y);
    /// @notice Thrown when the purchase is not signed by the one-time key it names (`buyerKeyDigest`).
    error DataMarketBadKeySignature(uint256 x, uint256 y);
    /// @notice Thrown when a package URI is longer than `MAX_URI_BYTES`.
    error DataMarketUriTooLong(uint256 length, uint256 max);
    /// @notice Thrown when a delivery names another buyer key than the sale's (keccak256(abi.encode(x, y))).
    error DataMarketWrongBuyerKey(uint256 saleId, bytes32 expected, bytes32 given);
    error DataMarketZeroRoot();
    error DataMarketWindowOutOfBounds(uint256 window, uint256 min, uint256 max);
    /// @notice Thrown when a sale is not in the state the call needs.
    error DataMarketUnexpectedSaleState(uint256 saleId, SaleState current);
    /// @notice Thrown when the buyer's secret or ECDH point does not match the keys of the sale.
    error DataMarketBadEvidence(uint256 saleId);
    /// @notice Thrown when the evidence shows a correct delivery: the dispute fails.
    error DataMarketDeliveryCorrect(uint256 saleId);
    /// @notice Thrown when releasing a bond while sales are open, the listing is open, or the bond is gone.
    error DataMarketBondLocked(uint256 listingId);
    error DataMarketBondOutOfBounds(uint256 bond, uint256 max);

    event Listed(uint256 indexed listingId, uint256 indexed datasetId, address indexed seller, bytes32 cipherRoot,
        bytes32 keyHash, uint256 bond, string packageUri);
    event ListingClosed(uint256 indexed listingId);
    event Purchased(uint256 indexed saleId, uint256 indexed listingId, address indexed buyer, IERC20 token,
        uint256 amount, uint256 buyerKeyX, uint256 buyerKeyY, uint64 deliveryDeadline);
    event Delivered(uint256 indexed saleId, uint256 ephemeralX, uint256 ephemeralY, bytes32 encKey, uint64 disputeEnds);
    event SaleSettled(uint256 indexed saleId, address indexed seller, uint256 net, uint256 fee);
    event SaleRefunded(uint256 indexed saleId, address indexed buyer, uint256 amount);
    /// @notice The buyer of `saleId` proved `fraud`: refunded, and (first proof only) the bond slashed.
    event FraudProven(uint256 indexed saleId, uint256 indexed listingId, Fraud fraud, uint256 bondToBuyer, uint256 bondToVault);
    event BondReleased(uint256 indexed listingId, address indexed seller, uint256 amount);
    event BondAmountSet(uint256 amount);

    function registry() external view returns (IDatasetRegistry);

    function bondToken() external view returns (IERC20);

    function bondAmount() external view returns (uint256);

    function list(
        uint256 datasetId,
        bytes32 cipherRoot,
        bytes32 keyHash,
        uint64 deliveryWindow,
        uint64 disputeWindow,
        string calldata packageUri
    ) external returns (uint256 listingId);

    function closeListing(uint256 listingId) external;

    /// @notice Buys a licence to the package of `listingId`, which must be `expectedCipherRoot` (the package the
    /// buyer read), at the dataset's current terms, which must be `expectedToken` and at most `maxPrice`; the
    /// one-time key signs `buyerKeyDigest(msg.sender, listingId, expectedCipherRoot)`.
    function buy(
        uint256 listingId,
        bytes32 expectedCipherRoot,
        IERC20 expectedToken,
        uint256 maxPrice,
        uint256 buyerKeyX,
        uint256 buyerKeyY,
        bytes calldata keySignature
    ) external returns (uint256 saleId);

    /// @notice What a buyer signs with its one-time key to buy (`keySignature` of `buy`): the buyer, the listing and
    /// its package, on this chain and market. A key seen in a pending purchase is of no use to anyone else.
    function buyerKeyDigest(address buyer, uint256 listingId, bytes32 cipherRoot) external view returns (bytes32);

    function deliver(uint256 saleId, bytes32 buyerKeyId, uint256 ephemeralX, uint256 ephemeralY, bytes32 encKey) external;

    function dispute(uint256 saleId, Evidence calldata e) external;

    function settle(uint256 saleId) external;

    function refund(uint256 saleId) external;

    function releaseBond(uint256 listingId) external;

    /// @notice True if `account` bought a licence of `datasetId` and the sale settled (delivered, undisputed).
    function isLicensed(uint256 datasetId, address account) external view returns (bool);

    /// @notice Listings so far: ids run from 1 to this (a client reads them without scanning events).
    function totalListings() external view returns (uint256);

    /// @notice Sales so far: ids run from 1 to this.
    function totalSales() external view returns (uint256);

    function setBondAmount(uint256 amount) external;

    function saleState(uint256 saleId) external view returns (SaleState);

    function listing(uint256 listingId) external view returns (Listing memory);

    function sale(uint256 saleId) external view returns (Sale memory);

    /// @notice The HKDF info that binds an encrypted key to one sale: "apiary licence key" ‖ chain id ‖ market ‖ sale.
    function keyInfo(uint256 saleId) external view returns (bytes memory);
}
