// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Device registry (camera-signed data)
/// @notice Keys of capture devices that governance vouches for, as C2PA does for camera makers' certificates.
/// A device signs a dataset's EIP-712 attestation digest (DatasetRegistry): a P-256 device with ES256, i.e.
/// ECDSA over `sha256(digest)` given as `r ‖ s` (64 bytes, `s` in the lower half of the order as OpenZeppelin's
/// P256 requires; flip a high `s` to `n − s`); a secp256k1 device with an Ethereum signature over the digest
/// itself (65 bytes `r ‖ s ‖ v`, low `s`). A device id is the hash of its key type and public key, so an id
/// names exactly one key. Retiring a device (a leaked key) withdraws every attestation it made.
///
/// Owned by the timelock: only governance registers and retires devices.
interface IDeviceRegistry {
    enum KeyType {
        None,
        P256,
        Secp256k1
    }

    struct Device {
        KeyType keyType;
        bool active;
        bytes32 x; // P-256: public key x; secp256k1: the address, left-padded
        bytes32 y; // P-256: public key y; secp256k1: zero
    }

    /// @notice Thrown when registering a key type other than P256 or Secp256k1.
    error DeviceRegistryBadKeyType(KeyType keyType);
    /// @notice Thrown when a P-256 key is not on the curve or a secp256k1 address is zero or over 160 bits.
    error DeviceRegistryInvalidKey(KeyType keyType, bytes32 x, bytes32 y);
    /// @notice Thrown when registering a device that is registered already (active or retired).
    error DeviceRegistryAlreadyRegistered(bytes32 deviceId);
    /// @notice Thrown when retiring a device that is unknown or retired already.
    error DeviceRegistryNotActive(bytes32 deviceId);

    /// @notice Device `deviceId` (`keyType`, public key `x`, `y`) was registered by governance.
    event DeviceRegistered(bytes32 indexed deviceId, KeyType keyType, bytes32 x, bytes32 y);
    /// @notice Device `deviceId` was retired: its signatures no longer attest anything.
    event DeviceRetired(bytes32 indexed deviceId);

    /// @notice The id of a device key: keccak256(abi.encode(keyType, x, y)).
    function deviceId(KeyType keyType, bytes32 x, bytes32 y) external pure returns (bytes32);

    function register(KeyType keyType, bytes32 x, bytes32 y) external returns (bytes32 id);

    function retire(bytes32 id) external;

    function device(bytes32 id) external view returns (Device memory);

    function isActive(bytes32 id) external view returns (bool);

    /// @notice True if `signature` is by active device `id` over `digest` (see the contract notice for formats).
    /// Never reverts for a bad signature; false for an unknown or retired device.
    function verify(bytes32 id, bytes32 digest, bytes calldata signature) external view returns (bool);
}
