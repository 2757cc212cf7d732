"""Structured reference strings (KZG on BN254) for ezkl: a reproducible development SRS, or the user's own.

**Development SRS (insecure).** `ezkl.gen_srs` draws a random secret, so two machines never get the same SRS,
and a verifier built on one could never be rebuilt or proven against on another. Instead, the development SRS
here is derived from a *public* secret ``τ = keccak256("apiary insecure development SRS") mod r``: anyone can
rebuild it bit for bit, and so anyone can also **forge proofs** against verifiers built on it. It exists for
tests, local demos and reproducible builds, never for value. Files are named ``dev-insecure-k<K>.srs``.

**Production.** Pass the path of a public powers-of-tau SRS in ezkl's format (``--srs PATH`` on the CLI) to
every step. Nothing here ever downloads one.

File format (halo2 ``ParamsKZG`` raw): ``k`` as u32 little-endian; ``2^k`` G1 points ``τ^i·G``; ``2^k`` G1
points ``L_i(τ)·G`` (the Lagrange basis over the ``2^k``-th roots of unity); ``G2``; ``τ·G2``. Coordinates are
32-byte little-endian integers in Montgomery form (``x·2^256 mod p``); G2 coordinates as ``c0, c1``.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from eth_utils import keccak

from ..paths import write_atomic
from .errors import SrsError

# BN254: base field P, scalar field R, G1 = (1, 2) on y^2 = x^3 + 3; R has 2-adicity 28 with generator 7.
P = 21888242871839275222246405745257275088696311157297823662689037894645226208583
R = 21888242871839275222246405745257275088548364400416034343698204186575808495617
TWO_ADICITY = 28
MULTIPLICATIVE_GENERATOR = 7
MONTGOMERY = pow(2, 256, P)
MAX_LOGROWS = 24  # ezkl circuits here stay far below; bounds memory and time of a dev build

DEV_SEED = b"apiary insecure development SRS"
Progress = Callable[[str, float], None]


def dev_tau() -> int:
    """The public (hence insecure) secret of the development SRS."""
    return int.from_bytes(keccak(DEV_SEED), "big") % R


# Chains whose tokens are worth nothing: local nodes and public testnets. A verifier made with the development SRS
# is refused (apiary.sdk.manifest.Manifest.check_srs) or flagged (check-deployed) everywhere else.
TEST_CHAIN_IDS = frozenset({
    1337, 31337,  # local nodes (ape's test chain, anvil)
    5, 17000, 11155111, 560048,  # Ethereum Goerli, Holesky, Sepolia, Hoodi
    84532, 421614, 11155420, 80002, 59141, 534351,  # Base, Arbitrum, OP, Polygon Amoy, Linea, Scroll testnets
    43113, 97, 10200, 300, 2442,  # Avalanche Fuji, BNB testnet, Gnosis Chiado, zkSync Sepolia, Polygon zkEVM Cardona
})

# Mainnets, whatever profile a deployment on them was made with.
VALUE_CHAIN_IDS = frozenset({1, 10, 56, 100, 137, 324, 8453, 42161, 43114, 59144, 534352})

# halo2-solidity-verifier's key layout (ezkl 23), in 32-byte big-endian words: g1 at words 11–12, g2 at 13–16 and
# −[τ]₂ at 17–20, each G2 point as x.c1, x.c0, y.c1, y.c0.
VK_G2_WORD, VK_NEG_S_G2_WORD = 13, 17


@functools.cache
def _dev_secret_words() -> frozenset[bytes]:
    """The coordinates of ±[τ]₂ of the development SRS, as 32-byte big-endian words (how verifiers hold them)."""
    from py_ecc.bn128 import G2, multiply, neg

    point = multiply(G2, dev_tau())
    return frozenset(int(v).to_bytes(32, "big") for p in (point, neg(point)) for c in p for v in c.coeffs)


def _g2_at(data: bytes, word: int):
    """The G2 point stored at `word` of a verifying key, or None when those bytes are not one."""
    from py_ecc.bn128 import FQ2, b2, is_on_curve

    chunk = data[32 * word:32 * (word + 4)]
    if len(chunk) < 128:
        return None
    x1, x0, y1, y0 = (int.from_bytes(chunk[i:i + 32], "big") for i in range(0, 128, 32))
    if max(x1, x0, y1, y0) >= P:
        return None
    point = (FQ2([x0, x1]), FQ2([y0, y1]))
    return point if is_on_curve(point, b2) else None


def key_g2(vk_data: bytes) -> tuple | None:
    """(g2, −[τ]₂) of a verifying key: vk.bin, or the code of its on-chain data contract (0x00 ‖ vk.bin)."""
    for offset in (0, 1):
        g2, neg_s_g2 = _g2_at(vk_data[offset:], VK_G2_WORD), _g2_at(vk_data[offset:], VK_NEG_S_G2_WORD)
        if g2 is not None and neg_s_g2 is not None:
            return g2, neg_s_g2
    return None


@functools.cache
def _neg_dev_s_g2():
    from py_ecc.bn128 import G2, multiply

    return multiply(G2, R - dev_tau())


@functools.lru_cache(maxsize=64)
def made_with_dev_srs(vk_data: bytes) -> bool:
    """Whether a verifying key's SRS has the development secret τ, so that anyone can forge proofs it accepts.
    Read from the key, not from a file name: its −[τ]₂ is −τ_dev·g2 whatever g2 the SRS chose. (A secret someone
    else knows cannot be seen in a key: compare [τ]₂, `apiary zk check-deployed`, with a ceremony's published one.)
    The bytes are also searched for the coordinates of ±τ_dev·G2 (a verifier with its key in its code, or a key
    in another layout)."""
    from py_ecc.bn128 import G2, multiply

    pair = key_g2(vk_data)
    if pair is not None:
        g2, neg_s_g2 = pair
        expected = _neg_dev_s_g2() if g2 == G2 else multiply(g2, R - dev_tau())
        if expected == neg_s_g2:
            return True
    words = _dev_secret_words()
    return any(vk_data[i:i + 32] in words for i in range(len(vk_data) - 31))


def tau_g2_hex(vk_data: bytes) -> str | None:
    """[τ]₂ of a verifying key as x.c0, x.c1, y.c0, y.c1 in hex (what a ceremony publishes), or None."""
    from py_ecc.bn128 import neg

    pair = key_g2(vk_data)
    if pair is None:
        return None
    (x, y) = neg(pair[1])
    return ", ".join(f"0x{int(v):064x}" for v in (*x.coeffs, *y.coeffs))


def root_of_unity(k: int) -> int:
    """Generator of the multiplicative subgroup of order 2^k in F_R, as halo2 uses for its evaluation domain."""
    root = pow(MULTIPLICATIVE_GENERATOR, (R - 1) >> TWO_ADICITY, R)
    return pow(root, 1 << (TWO_ADICITY - k), R)


# ---------------------------------------------------------------- G1 arithmetic (Jacobian, a = 0)

_INF = (1, 1, 0)


def _double(pt: tuple[int, int, int]) -> tuple[int, int, int]:
    x, y, z = pt
    if z == 0 or y == 0:
        return _INF
    a = x * x % P
    b = y * y % P
    c = b * b % P
    d = 2 * ((x + b) * (x + b) - a - c) % P
    e = 3 * a % P
    x3 = (e * e - 2 * d) % P
    return x3, (e * (d - x3) - 8 * c) % P, 2 * y * z % P


def _add_affine(pt: tuple[int, int, int], qx: int, qy: int) -> tuple[int, int, int]:
    """Jacobian + affine (madd-2007-bl)."""
    x1, y1, z1 = pt
    if z1 == 0:
        return qx, qy, 1
    z1z1 = z1 * z1 % P
    u2 = qx * z1z1 % P
    s2 = qy * z1 * z1z1 % P
    h = (u2 - x1) % P
    r = 2 * (s2 - y1) % P
    if h == 0:
        return _double(pt) if r == 0 else _INF
    hh = h * h % P
    i = 4 * hh % P
    j = h * i % P
    v = x1 * i % P
    x3 = (r * r - j - 2 * v) % P
    y3 = (r * (v - x3) - 2 * y1 * j) % P
    z3 = ((z1 + h) * (z1 + h) - z1z1 - hh) % P
    return x3, y3, z3


def _to_affine(points: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Batch normalisation with one inversion (Montgomery's trick)."""
    prefix = []
    acc = 1
    for _, _, z in points:
        prefix.append(acc)
        acc = acc * z % P
    inv = pow(acc, -1, P)
    out: list[tuple[int, int]] = [(0, 0)] * len(points)
    for idx in range(len(points) - 1, -1, -1):
        x, y, z = points[idx]
        zinv = inv * prefix[idx] % P
        inv = inv * z % P
        zz = zinv * zinv % P
        out[idx] = (x * zz % P, y * zz * zinv % P)
    return out


_WINDOW = 8


def _fixed_base_table() -> list[list[tuple[int, int]]]:
    """table[w][d] = d * 2^(8w) * G (affine), d in 0..255 (entry 0 unused)."""
    rows = []
    base: tuple[int, int, int] = (1, 2, 1)
    for _ in range(256 // _WINDOW):
        bx, by = _to_affine([base])[0]
        multiples = [(bx, by, 1)]
        for _ in range(2, 1 << _WINDOW):
            multiples.append(_add_affine(multiples[-1], bx, by))
        rows.append([(0, 0)] + _to_affine(multiples))
        for _ in range(_WINDOW):
            base = _double(base)
    return rows


def _multiply_g1(scalars: list[int]) -> list[tuple[int, int]]:
    table = _fixed_base_table()
    mask = (1 << _WINDOW) - 1
    out = []
    for s in scalars:
        acc = _INF
        w = 0
        while s:
            digit = s & mask
            if digit:
                qx, qy = table[w][digit]
                acc = _add_affine(acc, qx, qy)
            s >>= _WINDOW
            w += 1
        out.append(acc)
    return _to_affine(out)


def _g1_bytes(points: list[tuple[int, int]]) -> bytes:
    return b"".join(
        (x * MONTGOMERY % P).to_bytes(32, "little") + (y * MONTGOMERY % P).to_bytes(32, "little") for x, y in points
    )


def _g2_bytes(point) -> bytes:
    (x0, x1), (y0, y1) = ((c.coeffs[0], c.coeffs[1]) for c in point)
    return b"".join((int(v) * MONTGOMERY % P).to_bytes(32, "little") for v in (x0, x1, y0, y1))


def _lagrange_scalars(tau: int, k: int) -> list[int]:
    """L_j(τ) = ω^j (τ^n − 1) / (n (τ − ω^j)) over the domain {ω^j}."""
    n = 1 << k
    omega = root_of_unity(k)
    powers = [1] * n
    for j in range(1, n):
        powers[j] = powers[j - 1] * omega % R
    common = (pow(tau, n, R) - 1) * pow(n, -1, R) % R
    diffs = [(tau - w) % R for w in powers]
    if any(d == 0 for d in diffs):
        raise SrsError("the development secret lies in the evaluation domain; choose another seed")
    # Batch-invert the differences.
    prefix, acc = [], 1
    for d in diffs:
        prefix.append(acc)
        acc = acc * d % R
    inv = pow(acc, -1, R)
    out = [0] * n
    for j in range(n - 1, -1, -1):
        out[j] = common * powers[j] % R * (inv * prefix[j] % R) % R
        inv = inv * diffs[j] % R
    return out


def _parallel_multiply(scalars: list[int], progress: Progress | None, label: str) -> bytes:
    from concurrent.futures import ProcessPoolExecutor

    workers = max(1, min(os.cpu_count() or 1, 8))
    chunk = max(1024, len(scalars) // (workers * 4) + 1)
    pieces = [scalars[i : i + chunk] for i in range(0, len(scalars), chunk)]
    parts: list[bytes] = []
    if workers == 1 or len(pieces) == 1:
        for done, piece in enumerate(pieces, 1):
            parts.append(_g1_bytes(_multiply_g1(piece)))
            if progress:
                progress(label, done / len(pieces))
        return b"".join(parts)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for done, points in enumerate(pool.map(_multiply_g1, pieces), 1):
            parts.append(_g1_bytes(points))
            if progress:
                progress(label, done / len(pieces))
    return b"".join(parts)


def build_dev_srs(k: int, progress: Progress | None = None) -> bytes:
    """The development SRS for 2^k rows, byte for byte the same on every machine."""
    from py_ecc.bn128 import G2, multiply

    if not 1 <= k <= MAX_LOGROWS:
        raise SrsError(f"logrows must be within 1..{MAX_LOGROWS}, got {k}")
    tau = dev_tau()
    n = 1 << k
    powers = [1] * n
    for i in range(1, n):
        powers[i] = powers[i - 1] * tau % R
    g = _parallel_multiply(powers, progress, "powers of tau")
    lagrange = _parallel_multiply(_lagrange_scalars(tau, k), progress, "lagrange basis")
    return k.to_bytes(4, "little") + g + lagrange + _g2_bytes(G2) + _g2_bytes(multiply(G2, tau))


def dev_srs_path(directory: Path, k: int) -> Path:
    return directory / f"dev-insecure-k{k}.srs"


def ensure_dev_srs(directory: Path, k: int, progress: Progress | None = None) -> Path:
    """Return the development SRS for `k`, building it (atomically) if it is not there yet."""
    path = dev_srs_path(directory, k)
    if path.is_file() and path.stat().st_size == srs_size(k):
        return path
    return write_atomic(path, build_dev_srs(k, progress))


def srs_size(k: int) -> int:
    return 4 + 2 * (1 << k) * 64 + 2 * 128


def check_srs(path: Path, min_k: int) -> int:
    """Validate a user-supplied SRS file: it exists, has ezkl's layout, and covers `min_k` rows. Returns its k."""
    if not path.is_file():
        raise SrsError(f"SRS file {path} does not exist: pass the path of a powers-of-tau SRS in ezkl's format, "
                       "or leave --srs out to use the insecure development SRS")
    with path.open("rb") as handle:
        header = handle.read(4)
    if len(header) < 4:
        raise SrsError(f"SRS file {path} is empty or truncated")
    k = int.from_bytes(header, "little")
    if not 1 <= k <= 28 or path.stat().st_size != srs_size(k):
        raise SrsError(f"{path} is not an SRS in ezkl's raw format (header says k={k}, size {path.stat().st_size})")
    if k < min_k:
        raise SrsError(f"SRS {path} has 2^{k} points but the circuit needs 2^{min_k}: supply a larger SRS")
    return k


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
