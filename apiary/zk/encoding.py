"""Field elements, curve points and calldata: between ezkl's JSON and what the EVM verifier takes.

* Instances in ezkl's proof.json are 32-byte **little-endian** hex field elements; negative values are
  ``R − |x|``. `felt_to_int` reads them, `int_to_signed` maps back to a signed integer.
* Polycommit commitments in a witness are halo2's **compressed** G1 points (x little-endian, flag bits in the
  top of the last byte); in the EVM proof they are uncompressed ``x ‖ y``, each 32 bytes big-endian.
* Calldata for ``verifyProof(bytes proof, uint256[] instances)`` is plain ABI encoding.
"""

from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from .errors import ArtefactError
from .srs import P, R

VERIFY_SELECTOR = keccak(text="verifyProof(bytes,uint256[])")[:4]
POINT_BYTES = 64


def felt_to_int(felt: str) -> int:
    """ezkl's little-endian hex field element → integer in [0, R)."""
    raw = bytes.fromhex(felt.removeprefix("0x"))
    if len(raw) != 32:
        raise ArtefactError(f"field element {felt!r} is not 32 bytes")
    value = int.from_bytes(raw, "little")
    if value >= R:
        raise ArtefactError(f"field element {felt!r} is not below the BN254 scalar modulus")
    return value


def int_to_signed(value: int) -> int:
    """Field element → signed integer (values above R/2 are negatives, ``R − |x|``)."""
    return value - R if value > R // 2 else value


def signed_to_felt(value: int) -> int:
    return value % R


def decompress_g1(compressed_hex: str) -> bytes:
    """halo2 compressed G1 (32 bytes LE, sign in bit 7 of the last byte) → EVM ``x ‖ y`` big-endian."""
    raw = bytearray(bytes.fromhex(compressed_hex.removeprefix("0x")))
    if len(raw) != 32:
        raise ArtefactError(f"commitment {compressed_hex!r} is not a 32-byte compressed point")
    y_odd = bool(raw[31] & 0x80)
    if raw[31] & 0x40:
        raise ArtefactError("commitment is the point at infinity")
    raw[31] &= 0x3F
    x = int.from_bytes(raw, "little")
    y = pow((x * x * x + 3) % P, (P + 1) // 4, P)  # P ≡ 3 (mod 4)
    if (y * y - (x * x * x + 3)) % P:
        raise ArtefactError("commitment is not a point on BN254")
    if (y & 1) != y_odd:
        y = P - y
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def point_from_affine(x_le_hex: str, y_le_hex: str) -> bytes:
    """ezkl's PyG1Affine (x, y as little-endian hex) → EVM ``x ‖ y``."""
    x = int.from_bytes(bytes.fromhex(x_le_hex.removeprefix("0x")), "little")
    y = int.from_bytes(bytes.fromhex(y_le_hex.removeprefix("0x")), "little")
    return x.to_bytes(32, "big") + y.to_bytes(32, "big")


def commitment_hash(*points: bytes) -> bytes:
    """bytes32 the contracts store for one or more commitments: keccak256 of the concatenated points."""
    return keccak(b"".join(points))


def verify_calldata(proof: bytes, instances: list[int]) -> bytes:
    return VERIFY_SELECTOR + encode(["bytes", "uint256[]"], [proof, instances])
