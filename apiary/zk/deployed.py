"""Check a deployed verifier against a circuit folder: trust the code on chain without trusting its deployer.

What is compared, each byte for byte:
  1. the runtime code at the address == Verifier.sol compiled with the pinned solc and settings (the verifier has
     no immutables, so its runtime code is exactly the compiler's `deployedBytecode`, metadata hash included);
  2. the code of the data contract it reads its verifying key from (`vkData()`) == 0x00 ‖ vk.bin;
  3. optionally, the VerifierRegistry's entry for the circuit: the same verifier address, the manifest hash
     == sha256(manifest.json) of the folder (which pins every artefact's sha256 and the SRS), the samples per chunk
     and the metric (whose direction decides who wins), and that it is not retired.
Before anything, the folder itself: its files match the manifest and its graph and settings are what its spec
implies (`pipeline.check_statement`: no parameter the prover could choose hides in the score).
The artefacts themselves are checked by `apiary zk rebuild` (they regenerate from graph + settings + SRS).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from eth_utils import keccak, to_checksum_address

from . import evm
from .srs import TEST_CHAIN_IDS, made_with_dev_srs, tau_g2_hex
from .errors import ArtefactError

VK_DATA_SELECTOR = keccak(text="vkData()")[:4]
REGISTRY_CIRCUIT = "circuit(bytes32)"


@dataclass
class Report:
    lines: list = field(default_factory=list)
    ok: bool = True

    def check(self, passed: bool, what: str) -> None:
        self.lines.append(f"{'ok  ' if passed else 'FAIL'} {what}")
        self.ok = self.ok and passed

    def warn(self, what: str) -> None:
        """A fact the user must weigh that does not make the deployment differ from the folder."""
        self.lines.append(f"WARN {what}")


def key_data(w3, verifier: str) -> bytes:
    """What a deployed verifier verifies with: the code of its key data contract (ezkl's externalised key,
    0x00 ‖ vk.bin) followed by its own code (a verifier with the key inside). Empty when there is no contract."""
    verifier = _address(verifier, "verifier")
    code = bytes(w3.eth.get_code(verifier))
    if not code:
        return b""
    try:
        raw = bytes(w3.eth.call({"to": verifier, "data": "0x" + VK_DATA_SELECTOR.hex()}))
        data = bytes(w3.eth.get_code(to_checksum_address(raw[12:32]))) if len(raw) == 32 else b""
    except Exception:  # noqa: BLE001 - a verifier without vkData() reverts: its key is in its code
        data = b""
    return data + code


def _web3(rpc: str):
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(rpc, request_kwargs={"timeout": 20}))
    try:
        w3.eth.chain_id
    except Exception as exc:  # requests' ConnectionError, a bad URL, a non-JSON-RPC server
        raise ArtefactError(f"cannot reach a node at {rpc} ({type(exc).__name__}): check --rpc") from None
    return w3


def _address(text: str, what: str) -> str:
    try:
        return to_checksum_address(text)
    except (ValueError, TypeError):
        raise ArtefactError(f"{what} {text!r} is not an address") from None


def check(circuit, address: str, rpc: str, *, registry: str | None = None, name: str | None = None, w3=None) -> Report:
    from .pipeline import check_statement

    circuit.check_files()
    check_statement(circuit)
    address = _address(address, "verifier")
    w3 = w3 or _web3(rpc)
    report = Report()
    compiled = evm.compile_verifier(circuit.path("Verifier.sol"), circuit.build)
    code = bytes(w3.eth.get_code(address))
    if not code:
        report.check(False, f"verifier code: no contract at {address} on chain {w3.eth.chain_id}")
        return report
    report.check(code == compiled.runtime, f"verifier runtime code ({len(code):,} bytes) equals Verifier.sol compiled "
                 f"({compiled.runtime_size:,} bytes)")
    try:
        raw = bytes(w3.eth.call({"to": address, "data": "0x" + VK_DATA_SELECTOR.hex()}))
        vk_data = to_checksum_address(raw[12:32]) if len(raw) == 32 else None
    except Exception:  # a contract without vkData() reverts
        vk_data = None
    if vk_data is None:
        report.check(False, "verifying-key data contract: the code at the address has no vkData()")
    else:
        expected = b"\x00" + circuit.path("vk.bin").read_bytes()
        deployed_vk = bytes(w3.eth.get_code(vk_data))
        report.check(deployed_vk == expected, f"verifying-key data contract {vk_data} holds 0x00 ‖ vk.bin")
        chain_id = int(w3.eth.chain_id)
        if made_with_dev_srs(deployed_vk):
            what = ("the verifying key's SRS has the development secret, which is public: anyone can forge proofs "
                    "this verifier accepts")
            if chain_id in TEST_CHAIN_IDS:
                report.warn(f"{what}; fine on test chain {chain_id}, never put value behind it")
            else:
                report.check(False, f"{what}, on chain {chain_id}, which is not a known test chain")
        elif (tau := tau_g2_hex(deployed_vk)) is not None:
            report.warn(f"[τ]₂ of the key's SRS is ({tau}): compare it with the one its ceremony published")
    if registry is not None:
        registry = _address(registry, "registry")
        circuit_name = name or circuit.circuit_id
        circuit_key = keccak(text=circuit_name)
        data = keccak(text=REGISTRY_CIRCUIT)[:4] + circuit_key
        try:
            raw = bytes(w3.eth.call({"to": registry, "data": "0x" + data.hex()}))
        except Exception as exc:
            report.check(False, f"registry {registry}: circuit({circuit_name!r}) reverted ({str(exc)[:80]}): not registered?")
            return report
        if len(raw) < 160:
            report.check(False, f"registry {registry} did not answer circuit(bytes32) like a VerifierRegistry")
            return report
        registered = to_checksum_address(raw[12:32])
        manifest_hash = raw[32:64]
        report.check(registered == address, f"registry verifier for {circuit_name!r} is {registered}")
        expected_hash = hashlib.sha256(circuit.path("manifest.json").read_bytes()).digest()
        report.check(manifest_hash == expected_hash, f"registry manifest hash 0x{manifest_hash.hex()[:16]}… equals "
                     f"sha256(manifest.json) 0x{expected_hash.hex()[:16]}…")
        samples = int.from_bytes(raw[64:96], "big")
        metric = int.from_bytes(raw[96:128], "big")
        spec = circuit.spec
        report.check(samples == spec.samples, f"registry samples per chunk {samples} equals the spec's {spec.samples}")
        expected_metric = 1 if spec.is_regression else 0  # IVerifierRegistry.Metric: CorrectCount, SquaredError
        report.check(metric == expected_metric, f"registry metric {['CorrectCount', 'SquaredError'][metric] if metric < 2 else metric} "
                     f"is the spec's {spec.metric}")
        retired = int.from_bytes(raw[128:160], "big") != 0
        report.check(not retired, f"circuit {circuit_name!r} is not retired")
    return report
