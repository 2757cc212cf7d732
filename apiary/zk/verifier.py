"""ezkl's Solidity verifier, made to fit EIP-170: its verifying key moves from code into a data contract.

ezkl's per-circuit verifier writes the whole verifying key into memory with one ``mstore(PUSH32)`` per word —
about 3.4 KB of runtime code for the digits circuits, which is what pushes it past the 24,576-byte limit.
`externalise_vk` rewrites that block into a single ``extcodecopy`` from a data contract (runtime = ``0x00 ‖ vk``)
that the verifier's constructor deploys from its argument after checking ``keccak256(vk) == VK_HASH``, a constant
in the source. The VK is therefore as immutable as before; verification costs ~5k more gas (one SLOAD, one
EXTCODECOPY) and the rest of ezkl's code is untouched. The rewrite is a pure function of ezkl's output, so
rebuilding from the committed artefacts reproduces the same source byte for byte.
"""

from __future__ import annotations

import re

from eth_utils import keccak

from .errors import ArtefactError

_VK_BLOCK_START = "// Load full vk into memory"
_MSTORE = re.compile(r"^\s*mstore\((0x[0-9a-f]+), (0x[0-9a-f]{64})\)\s*//.*$")
_VK_MPTR = re.compile(r"uint256 internal constant\s+VK_MPTR = (0x[0-9a-f]+);")
_CONTRACT = "contract Halo2Verifier {"
_ASSEMBLY_ENTRY = ") public returns (bool) {\n        assembly {"

_HEADER = """contract Halo2Verifier {
    /// @notice The verifying key given to the constructor is not the one this verifier was generated for.
    error Halo2VerifierKeyMismatch(bytes32 expected, bytes32 actual);
    /// @notice Deploying the verifying-key data contract failed.
    error Halo2VerifierKeyDeployFailed();

    /// @notice keccak256 of the verifying key (the words ezkl inlined, now kept in code storage).
    bytes32 public constant VK_HASH = {vk_hash};
    uint256 internal constant VK_LEN = {vk_len};

    /// @notice Data contract whose runtime code is 0x00 followed by the verifying key.
    address public vkData;

    constructor(bytes memory vk) {
        bytes32 actual = keccak256(vk);
        if (actual != VK_HASH) revert Halo2VerifierKeyMismatch(VK_HASH, actual);
        // initcode: PUSH2 len(runtime) DUP1 PUSH1 12 PUSH1 0 CODECOPY PUSH1 0 RETURN, then runtime = STOP ‖ vk.
        bytes memory init = abi.encodePacked(hex"61", uint16(vk.length + 1), hex"80600c6000396000f3", hex"00", vk);
        address data;
        assembly {
            data := create(0, add(init, 0x20), mload(init))
        }
        if (data == address(0)) revert Halo2VerifierKeyDeployFailed();
        vkData = data;
    }
"""


def externalise_vk(source: str) -> tuple[str, bytes]:
    """Return (patched Solidity source, verifying-key bytes to pass to its constructor)."""
    lines = source.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if _VK_BLOCK_START in line)
    except StopIteration:
        raise ArtefactError("verifier source has no inlined verifying key: was it generated with reusable=False?") from None
    mptr_match = _VK_MPTR.search(source)
    if not mptr_match or source.count(_CONTRACT) != 1 or source.count(_ASSEMBLY_ENTRY) != 1:
        raise ArtefactError("verifier source does not have the layout this ezkl version emits; cannot patch it")
    expected = int(mptr_match.group(1), 16)
    words = []
    end = start + 1
    while end < len(lines) and (match := _MSTORE.match(lines[end])):
        address, value = int(match.group(1), 16), match.group(2)
        if address != expected:
            raise ArtefactError(f"verifying key is not contiguous in memory at {hex(address)}")
        words.append(bytes.fromhex(value[2:]))
        expected += 32
        end += 1
    if not words:
        raise ArtefactError("verifier source has an empty verifying-key block")
    vk = b"".join(words)
    indent = re.match(r"^\s*", lines[start]).group(0)
    replacement = [
        f"{indent}// Load full vk into memory from code storage (see vkData; its hash is checked at construction)",
        f"{indent}extcodecopy(sload(vkData.slot), VK_MPTR, 1, VK_LEN)",
    ]
    patched = "\n".join(lines[:start] + replacement + lines[end:]) + "\n"
    header = _HEADER.replace("{vk_hash}", "0x" + keccak(vk).hex()).replace("{vk_len}", str(len(vk)))
    patched = patched.replace(_CONTRACT + "\n", header, 1)
    return patched, vk


_PAIRING_BLOCK = re.compile(
    r"( *)// Perform pairing\n\s*success := ec_pairing\(\n\s*success,\n(?:\s*mload\(PAIRING_[LR]HS_[XY]_MPTR\),?\n){4}\s*\)\n"
    r"\s*// Revert if anything fails\n\s*if iszero\(success\) \{\n\s*revert\(0x00, 0x00\)\n\s*\}\n"
    r"\s*// Return 1 as result if everything succeeds\n\s*mstore\(0x00, 1\)\n\s*return\(0x00, 0x20\)\n")
_DEFERRED_ENTRY = ") public returns (bool) {"
_DEFERRED_WORDS = ["PAIRING_LHS_X_MPTR", "PAIRING_LHS_Y_MPTR", "PAIRING_RHS_X_MPTR", "PAIRING_RHS_Y_MPTR",
                   "G2_X_1_MPTR", "G2_X_2_MPTR", "G2_Y_1_MPTR", "G2_Y_2_MPTR",
                   "NEG_S_G2_X_1_MPTR", "NEG_S_G2_X_2_MPTR", "NEG_S_G2_Y_1_MPTR", "NEG_S_G2_Y_2_MPTR"]


def defer_pairing(source: str) -> str:
    """The circuit's verifier with its final pairing check left to a batch verifier (Halo2BatchVerifier).

    Everything ezkl's verifier checks before the pairing (proof and instance lengths, points on the curve, field
    ranges, the transcript, the quotient and the KZG accumulation) is unchanged and still reverts on failure; the
    function, renamed ``verifyProofDeferred`` so that it can never be mistaken for ``verifyProof``, then returns the
    two G1 points of the pairing equation e(lhs, [1]₂)·e(rhs, −[s]₂) = 1 and the two G2 points, instead of checking
    it. On its own it proves nothing: only Halo2BatchVerifier, which checks a random linear combination of the
    equations of a whole batch with one pairing, may call it. A pure function of the (externalised) verifier.
    """
    if source.count(_DEFERRED_ENTRY) != 1 or source.count("function verifyProof(") != 1:
        raise ArtefactError("verifier source does not have the layout this ezkl version emits; cannot defer its pairing")
    match = _PAIRING_BLOCK.search(source)
    if match is None:
        raise ArtefactError("verifier source has no final pairing block of the expected form; cannot defer it")
    pad = match.group(1)
    body = [f"{pad}// Deferred: revert if any check before the pairing failed, else return the pairing's inputs",
            f"{pad}if iszero(success) {{", f"{pad}    revert(0x00, 0x00)", f"{pad}}}"]
    body += [f"{pad}mstore({hex(32 * i)}, mload({name}))" for i, name in enumerate(_DEFERRED_WORDS)]
    body.append(f"{pad}return(0x00, {hex(32 * len(_DEFERRED_WORDS))})")
    patched = source[:match.start()] + "\n".join(body) + "\n" + source[match.end():]
    patched = patched.replace("function verifyProof(", "function verifyProofDeferred(", 1)
    return patched.replace(_DEFERRED_ENTRY, ") public returns (uint256[12] memory) {", 1)
