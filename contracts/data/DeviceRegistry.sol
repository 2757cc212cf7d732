// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {P256} from "@openzeppelin/contracts/utils/cryptography/P256.sol";

import {IDeviceRegistry} from "../interfaces/IDeviceRegistry.sol";

/// @title DeviceRegistry
/// @notice See {IDeviceRegistry}. P-256 signatures are checked with OpenZeppelin's P256 (the RIP-7212 precompile
/// where the chain has one, its Solidity fallback elsewhere), secp256k1 with ECDSA.
contract DeviceRegistry is IDeviceRegistry, Ownable {
    mapping(bytes32 id => Device) private _devices;

    constructor(address timelock) Ownable(timelock) {}

    /// @inheritdoc IDeviceRegistry
    function deviceId(KeyType keyType, bytes32 x, bytes32 y) public pure returns (bytes32) {
        return keccak256(abi.encode(keyType, x, y));
    }

    /// @inheritdoc IDeviceRegistry
    function register(KeyType keyType, bytes32 x, bytes32 y) external onlyOwner returns (bytes32 id) {
        if (keyType == KeyType.P256) {
            if (!P256.isValidPublicKey(x, y)) revert DeviceRegistryInvalidKey(keyType, x, y);
        } else if (keyType == KeyType.Secp256k1) {
            if (x == bytes32(0) || uint256(x) >> 160 != 0 || y != bytes32(0)) revert DeviceRegistryInvalidKey(keyType, x, y);
        } else {
            revert DeviceRegistryBadKeyType(keyType);
        }
        id = deviceId(keyType, x, y);
        // A retired key stays retired: re-registering it would revive every attestation it ever made.
        if (_devices[id].keyType != KeyType.None) revert DeviceRegistryAlreadyRegistered(id);
        _devices[id] = Device({keyType: keyType, active: true, x: x, y: y});
        emit DeviceRegistered(id, keyType, x, y);
    }

    /// @inheritdoc IDeviceRegistry
    function retire(bytes32 id) external onlyOwner {
        if (!_devices[id].active) revert DeviceRegistryNotActive(id);
        _devices[id].active = false;
        emit DeviceRetired(id);
    }

    /// @inheritdoc IDeviceRegistry
    function device(bytes32 id) external view returns (Device memory) {
        return _devices[id];
    }

    /// @inheritdoc IDeviceRegistry
    function isActive(bytes32 id) external view returns (bool) {
        return _devices[id].active;
    }

    /// @inheritdoc IDeviceRegistry
    function verify(bytes32 id, bytes32 digest, bytes calldata signature) external view returns (bool) {
        Device storage d = _devices[id];
        if (!d.active) return false;
        if (d.keyType == KeyType.P256) {
            if (signature.length != 64) return false;
            // ES256: the device signs SHA-256 of the message, here the 32-byte attestation digest.
            return P256.verify(sha256(abi.encodePacked(digest)), bytes32(signature[0:32]), bytes32(signature[32:64]), d.x, d.y);
        }
        // ECDSA.tryRecover rejects high-s and malformed signatures without reverting.
        // slither-disable-next-line unused-return — the third value only details the error, already checked
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        return err == ECDSA.RecoverError.NoError && bytes32(uint256(uint160(signer))) == d.x;
    }
}
