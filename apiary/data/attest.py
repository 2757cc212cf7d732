"""Device attestations of a dataset commitment: the EIP-712 digest, and signatures by P-256 (ES256, as C2PA
cameras sign) and secp256k1 device keys, made and checked with well-kept libraries (`cryptography`, eth-keys).

The digest is `DatasetRegistry.attestationDigest(root, rows, schemaHash)`: EIP-712 over
`DatasetAttestation(bytes32 root,uint64 rows,bytes32 schemaHash)` in the domain ("Apiary DatasetRegistry", "1",
chain id, registry address), so a signature names one dataset on one registry on one chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from eth_abi import encode
from eth_hash.auto import keccak

from ..zk.errors import DataError

P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
DOMAIN_TYPEHASH = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
ATTESTATION_TYPEHASH = keccak(b"DatasetAttestation(bytes32 root,uint64 rows,bytes32 schemaHash)")
DOMAIN_NAME, DOMAIN_VERSION = b"Apiary DatasetRegistry", b"1"


class KeyType(IntEnum):
    """Mirrors IDeviceRegistry.KeyType."""

    NONE = 0
    P256 = 1
    SECP256K1 = 2


def attestation_digest(chain_id: int, registry: str, root: bytes, rows: int, schema_hash: bytes) -> bytes:
    domain = keccak(encode(["bytes32", "bytes32", "bytes32", "uint256", "address"],
                           [DOMAIN_TYPEHASH, keccak(DOMAIN_NAME), keccak(DOMAIN_VERSION), chain_id, registry]))
    struct = keccak(encode(["bytes32", "bytes32", "uint64", "bytes32"], [ATTESTATION_TYPEHASH, root, rows, schema_hash]))
    return keccak(b"\x19\x01" + domain + struct)


@dataclass(frozen=True)
class DeviceKey:
    """A device's private key and what the device registry stores about it."""

    key_type: KeyType
    private: object

    @property
    def public(self) -> tuple[bytes, bytes]:
        """(x, y) as the registry stores them: P-256 coordinates, or (padded address, zero) for secp256k1."""
        if self.key_type is KeyType.P256:
            numbers = self.private.public_key().public_numbers()
            return numbers.x.to_bytes(32, "big"), numbers.y.to_bytes(32, "big")
        address = bytes.fromhex(self.private.public_key.to_checksum_address()[2:])
        return b"\x00" * 12 + address, b"\x00" * 32

    @property
    def device_id(self) -> bytes:
        x, y = self.public
        return keccak(encode(["uint8", "bytes32", "bytes32"], [int(self.key_type), x, y]))

    def sign(self, digest: bytes) -> bytes:
        if self.key_type is KeyType.P256:
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec
            from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

            r, s = decode_dss_signature(self.private.sign(digest, ec.ECDSA(hashes.SHA256())))
            if s > P256_ORDER // 2:
                s = P256_ORDER - s  # OpenZeppelin's P256 accepts the low half only; (r, n − s) is the same signature
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        signature = self.private.sign_msg_hash(digest)
        return signature.r.to_bytes(32, "big") + signature.s.to_bytes(32, "big") + bytes([27 + signature.v])

    def save(self, path: Path) -> None:
        """PEM (PKCS#8, unencrypted: a test camera's key) for P-256; hex for secp256k1. Never overwrites."""
        if self.key_type is KeyType.P256:
            from cryptography.hazmat.primitives import serialization

            data = self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())
        else:
            data = ("secp256k1:" + self.private.to_hex() + "\n").encode()
        import os

        try:  # created exclusively, owner-only from the start: no window, no symlink followed, nothing overwritten
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        except FileExistsError:
            raise DataError(f"{path} exists: device keys are never overwritten") from None
        with os.fdopen(fd, "wb") as f:
            f.write(data)


def new_device_key(key_type: KeyType) -> DeviceKey:
    if key_type is KeyType.P256:
        from cryptography.hazmat.primitives.asymmetric import ec

        return DeviceKey(key_type, ec.generate_private_key(ec.SECP256R1()))
    if key_type is KeyType.SECP256K1:
        import os

        from eth_keys import keys

        return DeviceKey(key_type, keys.PrivateKey(os.urandom(32)))
    raise DataError(f"unknown device key type {key_type!r}; use p256 or secp256k1")


def load_device_key(path: Path) -> DeviceKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise DataError(f"{path}: cannot read the device key ({exc.strerror})") from None
    if data.startswith(b"secp256k1:"):
        from eth_keys import keys

        try:
            return DeviceKey(KeyType.SECP256K1, keys.PrivateKey(bytes.fromhex(data[10:].strip().decode().removeprefix("0x"))))
        except (ValueError, Exception) as exc:  # eth_keys raises its own ValidationError
            raise DataError(f"{path}: not a secp256k1 device key ({exc})") from None
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{path}: not a PEM device key ({str(exc).splitlines()[0]})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise DataError(f"{path}: a P-256 (secp256r1) key is required, as ES256 cameras use")
    return DeviceKey(KeyType.P256, key)
