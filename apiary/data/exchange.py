"""Licences as a fair exchange, off-chain half (contracts/data/FairExchange.sol and DataMarket.sol are the
on-chain half): the encrypted package a seller publishes, the key delivery to a buyer's one-time key, the
buyer's decryption and checks, and the one-step dispute evidence when something does not match.

    package key k      32 random bytes; keyHash = keccak256(k) is listed
    piece i            the dataset's row at sorted position i (its canonical bytes), encrypted
                       c_i = m_i ⊕ HKDF-Expand-SHA256(PRK = k, info = "apiary piece" ‖ uint64 i, |m_i|)
    cipherRoot         positional Merkle root over leaf(keccak256(c_i)), same layout as the dataset tree
    key delivery       ECDH on secp256k1 with the buyer's one-time key B = b·G and an ephemeral R = r·G;
                       encKey = k ⊕ HKDF-SHA256(ikm = (r·B).x, salt = ∅, info = keyInfo(sale), 32)

HKDF and SHA-256 come from `cryptography` (and the SHA-256 precompile on chain); the curve arithmetic from
py_ecc (the Ethereum Foundation's pairing/curve library), checked on chain through `ecrecover`.

Package file (one file, hosted anywhere; everything in it but the pieces and the original is public):

    b"APKG0001" ‖ uint32 header length ‖ header JSON ‖ n × 32-byte sorted leaves ‖ n × uint32 piece lengths
    ‖ pieces ‖ uint64 length ‖ the original file, encrypted in 8,160-byte blocks (info "apiary file" ‖ uint64 j)

The original file travels too so that a buyer gets it byte for byte; only the rows are checked on chain (they
are what was registered). The buyer's tooling checks that the original's rows are the registered rows.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand
from eth_hash.auto import keccak
from py_ecc.secp256k1 import secp256k1 as curve

from ..zk.errors import DataError
from . import merkle, rows as rows_mod

MAGIC = b"APKG0001"
MAX_PIECE = 255 * 32  # what HKDF-Expand can mask, and what the dispute decrypts on chain
FILE_BLOCK = 255 * 32
N = curve.N
PIECE_INFO = b"apiary piece"
FILE_INFO = b"apiary file"
KEY_INFO = b"apiary licence key"


# ---------------------------------------------------------------- primitives


def keystream(prk: bytes, info: bytes, length: int) -> bytes:
    if length == 0:
        return b""
    return HKDFExpand(hashes.SHA256(), length, info).derive(prk)


def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def piece_info(index: int) -> bytes:
    return PIECE_INFO + index.to_bytes(8, "big")


def encrypt_piece(key: bytes, index: int, data: bytes) -> bytes:
    return xor(data, keystream(key, piece_info(index), len(data)))


decrypt_piece = encrypt_piece


def key_info(chain_id: int, market: str, sale_id: int) -> bytes:
    return KEY_INFO + chain_id.to_bytes(32, "big") + bytes.fromhex(market[2:]) + sale_id.to_bytes(32, "big")


def key_mask(shared_x: int, info: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=info).derive(shared_x.to_bytes(32, "big"))


@dataclass(frozen=True)
class OneTimeKey:
    """A buyer's one-time secp256k1 key for one purchase; the secret is revealed only in a dispute."""

    secret: int

    @property
    def public(self) -> tuple[int, int]:
        return curve.privtopub(self.secret.to_bytes(32, "big"))

    @classmethod
    def new(cls) -> OneTimeKey:
        while True:
            secret = int.from_bytes(os.urandom(32), "big")
            if 0 < secret < N:
                return cls(secret)

    def shared(self, point: tuple[int, int]) -> tuple[int, int]:
        return curve.multiply(point, self.secret)

    def sign(self, digest: bytes) -> bytes:
        """65-byte ECDSA signature (r ‖ s ‖ v, v ∈ {27, 28}, low s) of a 32-byte digest: a purchase proves that the
        buyer holds this key (DataMarket.buyerKeyDigest), so nobody can squat it from the mempool."""
        from eth_keys import keys

        if len(digest) != 32:
            raise ValueError("a digest is 32 bytes")
        sig = keys.PrivateKey(self.secret.to_bytes(32, "big")).sign_msg_hash(digest)
        return sig.r.to_bytes(32, "big") + sig.s.to_bytes(32, "big") + bytes([sig.v + 27])


def on_curve(x: int, y: int) -> bool:
    return 0 <= x < curve.P and 0 <= y < curve.P and (y * y - x * x * x - 7) % curve.P == 0


def key_id(public: tuple[int, int]) -> bytes:
    """What a delivery names the buyer key by: keccak256(abi.encode(x, y)) (DataMarket.deliver)."""
    from eth_hash.auto import keccak

    return keccak(int(public[0]).to_bytes(32, "big") + int(public[1]).to_bytes(32, "big"))


def usable_key(x: int, y: int) -> bool:
    """FairExchange.usableKey: on the curve with 0 < x < N, what a dispute (ecrecover) can take."""
    return 0 < x < curve.N and on_curve(x, y)


def deliver_key(package_key: bytes, buyer_public: tuple[int, int], info: bytes) -> tuple[tuple[int, int], bytes]:
    """The seller's delivery: (ephemeral R, encKey) for a buyer's public key."""
    if not usable_key(*buyer_public):
        raise DataError("the buyer's key is not a secp256k1 point with 0 < x < N")
    ephemeral = OneTimeKey.new()
    while not usable_key(*ephemeral.public):  # x ≥ N: about 2^-128, but the market would refuse it
        ephemeral = OneTimeKey.new()
    shared = curve.multiply(buyer_public, ephemeral.secret)
    return ephemeral.public, xor(package_key, key_mask(shared[0], info))


def open_key(buyer: OneTimeKey, ephemeral: tuple[int, int], enc_key: bytes, info: bytes) -> bytes:
    if not usable_key(*ephemeral):
        raise DataError("the delivered ephemeral key is not a secp256k1 point with 0 < x < N")
    return xor(enc_key, key_mask(buyer.shared(ephemeral)[0], info))


# ---------------------------------------------------------------- packages


@dataclass
class Package:
    """A parsed package file: the public part in memory, pieces read on demand."""

    path: Path
    header: dict
    leaves: list[bytes]
    lengths: list[int]
    pieces_offset: int
    original_offset: int

    @property
    def rows(self) -> int:
        return len(self.leaves)

    def piece(self, index: int) -> bytes:
        offset = self.pieces_offset + sum(self.lengths[:index])
        with self.path.open("rb") as f:
            f.seek(offset)
            return f.read(self.lengths[index])

    def pieces(self):
        with self.path.open("rb") as f:
            f.seek(self.pieces_offset)
            for length in self.lengths:
                yield f.read(length)

    def cipher_leaves(self) -> list[bytes]:
        return [merkle.leaf(keccak(c)) for c in self.pieces()]

    @property
    def cipher_root(self) -> bytes:
        return merkle.root_of(self.cipher_leaves())


def build_package(data_file: str | Path, out: str | Path, *, key: bytes | None = None,
                  progress: Callable[[str], None] | None = None) -> tuple[Package, bytes]:
    """Encrypt a dataset file into a package; returns (package, package key). Two streaming passes over the
    file: commit (sorted leaves), then encrypt each distinct row under its sorted position."""
    data_file, out = Path(data_file), Path(out)
    if out.exists():
        raise DataError(f"{out} exists: packages are never overwritten")
    key = key or os.urandom(32)
    commitment = merkle.commit_file(data_file)
    position = {bytes(h): i for i, h in enumerate(commitment.hashes)}
    lengths = [0] * commitment.rows
    offsets = [0] * commitment.rows
    written = [False] * commitment.rows
    with tempfile.TemporaryFile(dir=out.parent if out.parent.exists() else None) as tmp:
        source = rows_mod.open_rows(data_file)
        for data in source.rows:
            i = position[merkle.row_hash(data)]
            if written[i]:
                continue  # a repeated row is one piece
            if len(data) > MAX_PIECE:
                raise DataError(f"{data_file}: a row of {len(data):,} bytes cannot be sold: licence disputes decrypt "
                                f"one row on chain, at most {MAX_PIECE:,} bytes")
            offsets[i], lengths[i], written[i] = tmp.tell(), len(data), True
            tmp.write(encrypt_piece(key, i, data))
        if progress:
            progress(f"{commitment.rows:,} rows encrypted")
        header = {"version": 1, "rows": commitment.rows, "root": "0x" + commitment.root.hex(),
                  "schema": commitment.schema.columns, "schema_hash": "0x" + commitment.schema_hash.hex(),
                  "key_hash": "0x" + keccak(key).hex(), "source_name": data_file.name}
        partial = out.with_name(out.name + ".partial")
        try:
            with partial.open("wb") as f:
                body = json.dumps(header, separators=(",", ":")).encode()
                f.write(MAGIC + struct.pack(">I", len(body)) + body)
                f.write(commitment.leaves.tobytes())
                f.write(b"".join(struct.pack(">I", n) for n in lengths))
                for i in range(commitment.rows):
                    tmp.seek(offsets[i])
                    f.write(tmp.read(lengths[i]))
                size = data_file.stat().st_size
                f.write(struct.pack(">Q", size))
                with data_file.open("rb") as src:
                    block = 0
                    while chunk := src.read(FILE_BLOCK):
                        f.write(xor(chunk, keystream(key, FILE_INFO + block.to_bytes(8, "big"), len(chunk))))
                        block += 1
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
    return read_package(out), key


def read_package(path: str | Path) -> Package:
    path = Path(path)
    try:
        with path.open("rb") as f:
            if f.read(8) != MAGIC:
                raise DataError(f"{path} is not an Apiary package (bad magic)")
            (size,) = struct.unpack(">I", f.read(4))
            if size > 1 << 20:
                raise DataError(f"{path}: package header of {size:,} bytes is implausible")
            header = json.loads(f.read(size))
            key_hash = header.get("key_hash") if isinstance(header, dict) else None
            if not isinstance(header, dict) or type(header.get("rows")) is not int:
                raise DataError(f"{path}: package header is not an object with an integer row count")
            if not (isinstance(key_hash, str) and len(key_hash) == 66 and key_hash.startswith("0x")
                    and all(ch in "0123456789abcdefABCDEF" for ch in key_hash[2:])):
                raise DataError(f"{path}: package header has no key hash (0x and 64 hex digits)")
            n = header["rows"]
            if not 0 < n <= rows_mod.MAX_ROWS:
                raise DataError(f"{path}: package claims {n} rows")
            raw = f.read(32 * n)
            lengths = list(struct.unpack(f">{n}I", f.read(4 * n)))
            pieces_offset = f.tell()
    except (OSError, ValueError, KeyError, struct.error) as exc:
        raise DataError(f"{path}: not a readable Apiary package ({exc})") from None
    if len(raw) != 32 * n:
        raise DataError(f"{path}: package truncated in its leaves")
    leaves = [raw[i : i + 32] for i in range(0, len(raw), 32)]
    original_offset = pieces_offset + sum(lengths)
    if path.stat().st_size < original_offset + 8:
        raise DataError(f"{path}: package truncated in its pieces")
    return Package(path, header, leaves, lengths, pieces_offset, original_offset)


@dataclass
class PackageCheck:
    ok: bool
    problems: list[str]


def check_package(package: Package, *, root: bytes, rows: int, cipher_root: bytes, key_hash: bytes) -> PackageCheck:
    """What a buyer checks before paying: the public leaves are the registered tree, every piece is there, no
    piece is too long to dispute, and the pieces are the listed ciphertext."""
    problems = []
    if package.rows != rows:
        problems.append(f"package has {package.rows} rows, the dataset registered {rows}")
    if package.leaves != sorted(set(package.leaves)):
        problems.append("package leaves are not sorted and distinct")
    elif merkle.root_of(package.leaves) != root:
        problems.append("package leaves do not hash to the registered root")
    if any(n == 0 or n > MAX_PIECE for n in package.lengths):
        problems.append(f"a piece is empty or longer than {MAX_PIECE} bytes (could not be disputed on chain)")
    if package.cipher_root != cipher_root:
        problems.append("package pieces do not hash to the listed cipher root")
    if bytes.fromhex(package.header.get("key_hash", "0x")[2:]) != key_hash:
        problems.append("package header names another key hash than the listing")
    return PackageCheck(not problems, problems)


@dataclass
class Opened:
    """What a buyer gets out of a package with the key: the rows (checked), and where they differ from the
    registered tree, the first bad position."""

    rows: list[bytes]
    bad_index: int | None
    original: bytes


def open_package(package: Package, key: bytes) -> Opened:
    rows_out, bad = [], None
    for i, c in enumerate(package.pieces()):
        m = decrypt_piece(key, i, c)
        if bad is None and merkle.leaf(keccak(m)) != package.leaves[i]:
            bad = i
        rows_out.append(m)
    with package.path.open("rb") as f:
        f.seek(package.original_offset)
        (size,) = struct.unpack(">Q", f.read(8))
        enc = f.read(size)
    original = b"".join(
        xor(enc[j : j + FILE_BLOCK], keystream(key, FILE_INFO + (j // FILE_BLOCK).to_bytes(8, "big"), len(enc[j : j + FILE_BLOCK])))
        for j in range(0, len(enc), FILE_BLOCK))
    return Opened(rows_out, bad, original)


def evidence(package: Package, buyer: OneTimeKey, ephemeral: tuple[int, int], index: int | None) -> tuple:
    """The dispute's Evidence tuple (IDataMarket.Evidence). `index` None: a wrong-key dispute (no piece)."""
    shared = buyer.shared(ephemeral)
    if index is None:
        empty = (0, [])
        return (buyer.secret, shared[0], shared[1], 0, b"", empty, b"\x00" * 32, empty)
    cipher_leaves = package.cipher_leaves()
    return (buyer.secret, shared[0], shared[1], index, package.piece(index),
            (index, merkle.proof_at(cipher_leaves, index)), package.leaves[index],
            (index, merkle.proof_at(package.leaves, index)))
