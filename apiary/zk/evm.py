"""Compile a circuit's Solidity verifier with the project's pinned solc, and run it on an in-process py-evm chain.

Verifiers are not part of the ape project (every circuit's contract is called `Halo2Verifier`); they are compiled
here with the same solc-js stand-in and cached by source hash in the circuit's build folder (`Circuit.build`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..paths import PROJECT_ROOT, SOLC_VERSION, use_project_toolchain, write_atomic
from . import verifier
from .errors import ProofError

CONTRACTS_DIR = PROJECT_ROOT / "contracts"

EIP170_LIMIT = 24_576
# Size over speed: runs=1 keeps the verifier's runtime code smallest.
SOLC_SETTINGS = {"optimizer": {"enabled": True, "runs": 1}, "evmVersion": "cancun"}


@dataclass(frozen=True)
class CompiledVerifier:
    abi: list
    bytecode: bytes
    runtime: bytes

    @property
    def runtime_size(self) -> int:
        return len(self.runtime)

    def contract_type(self, name: str):
        from ethpm_types import ContractType

        return ContractType.model_validate({
            "contractName": name,
            "abi": self.abi,
            "deploymentBytecode": {"bytecode": "0x" + self.bytecode.hex()},
            "runtimeBytecode": {"bytecode": "0x" + self.runtime.hex()},
        })


def compile_verifier(source_path: Path, cache_dir: Path) -> CompiledVerifier:
    return _compile({"Verifier.sol": Path(source_path).read_text()}, "Verifier.sol", "Halo2Verifier", cache_dir,
                    what=str(source_path))


def _compile(sources: dict[str, str], file: str, contract: str, cache_dir: Path, *, what: str) -> CompiledVerifier:
    """Compile `contract` of `file` from in-memory `sources` with the pinned solc, cached by content hash."""
    digest = hashlib.sha256((SOLC_VERSION + json.dumps(SOLC_SETTINGS) + json.dumps(sources, sort_keys=True)).encode())
    cache = cache_dir / f"{Path(file).stem}.{digest.hexdigest()[:16]}.json"
    if cache.is_file():
        body = json.loads(cache.read_text())
    else:
        import solcx

        use_project_toolchain()
        settings = {**SOLC_SETTINGS, "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}}}
        try:
            out = solcx.compile_standard({"language": "Solidity", "settings": settings,
                                          "sources": {name: {"content": text} for name, text in sources.items()}},
                                         solc_version=SOLC_VERSION)
        except Exception as exc:
            raise ProofError(f"solc could not compile {what}: {str(exc).splitlines()[0][:200]}") from None
        compiled = out["contracts"][file][contract]
        body = {"abi": compiled["abi"], "bytecode": compiled["evm"]["bytecode"]["object"],
                "runtime": compiled["evm"]["deployedBytecode"]["object"]}
        write_atomic(cache, json.dumps(body))
    return CompiledVerifier(body["abi"], bytes.fromhex(body["bytecode"]), bytes.fromhex(body["runtime"]))


def compile_deferred_verifier(circuit) -> CompiledVerifier:
    """The circuit's verifier with its pairing deferred to Halo2BatchVerifier (a pure function of Verifier.sol)."""
    source = verifier.defer_pairing(circuit.path("Verifier.sol").read_text())
    return _compile({"Verifier.sol": source}, "Verifier.sol", "Halo2Verifier", circuit.build,
                    what=f"the deferred verifier of {circuit.circuit_id}")


def compile_batch_verifier(cache_dir: Path) -> CompiledVerifier:
    """contracts/zk/Halo2BatchVerifier.sol, as in the ape project (same solc, the verifiers' optimizer settings)."""
    files = ["zk/Halo2BatchVerifier.sol", "interfaces/IHalo2DeferredVerifier.sol"]
    sources = {name: (CONTRACTS_DIR / name).read_text() for name in files}
    return _compile(sources, files[0], "Halo2BatchVerifier", cache_dir, what=files[0])


def deploy_with_ape(circuit, sender, name: str | None = None):
    """Deploy a circuit's verifier on ape's connected network; its constructor takes the circuit's vk.bin."""
    import ape

    compiled = compile_verifier(circuit.path("Verifier.sol"), circuit.build)
    contract_name = name or "Halo2Verifier_" + circuit.circuit_id.replace("-", "_")
    container = ape.contracts.ContractContainer(compiled.contract_type(contract_name))
    return container.deploy(circuit.path("vk.bin").read_bytes(), sender=sender)


class PyEvmChain:
    """A throwaway py-evm chain (eth-tester, default EIP-170 limit) for measuring deployment and verification."""

    def __init__(self) -> None:
        from eth_tester import EthereumTester, PyEVMBackend
        from web3 import EthereumTesterProvider, Web3

        self.w3 = Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))
        self.account = self.w3.eth.accounts[0]

    def deploy_verifier(self, compiled: CompiledVerifier, vk: bytes | None = None) -> tuple[str, int]:
        """Deploy a verifier (its constructor takes the vk) or, with no vk, a contract without arguments."""
        contract = self.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        constructor = contract.constructor(vk) if vk is not None else contract.constructor()
        tx = constructor.transact({"from": self.account, "gas": 29_000_000})
        receipt = self.w3.eth.get_transaction_receipt(tx)
        if receipt.status != 1:
            raise ProofError("verifier deployment reverted")
        return receipt.contractAddress, receipt.gasUsed

    def verify_gas(self, address: str, calldata: bytes) -> int:
        """Gas of a transaction calling verifyProof (base cost and calldata included); raises if it reverts."""
        tx = self.w3.eth.send_transaction({"from": self.account, "to": address, "data": calldata, "gas": 5_000_000})
        receipt = self.w3.eth.get_transaction_receipt(tx)
        if receipt.status != 1:
            raise ProofError("verifyProof reverted")
        return receipt.gasUsed

    def batch_verify_gas(self, batch: CompiledVerifier, batch_address: str, verifiers: list[str], bundles: list) -> int:
        """Gas of one transaction verifying every bundle with Halo2BatchVerifier (bundle i with deferred verifier
        i); raises if it reverts."""
        contract = self.w3.eth.contract(address=batch_address, abi=batch.abi)
        call = contract.functions.verifyBatch(verifiers, [b.proof for b in bundles], [list(b.instances) for b in bundles])
        data = bytes.fromhex(call._encode_transaction_data()[2:])
        tx = self.w3.eth.send_transaction({"from": self.account, "to": batch_address, "data": data, "gas": 29_000_000})
        receipt = self.w3.eth.get_transaction_receipt(tx)
        if receipt.status != 1:
            raise ProofError("verifyBatch reverted: at least one proof of the batch is invalid")
        return receipt.gasUsed


@dataclass(frozen=True)
class BatchGas:
    separate: list[int]  # one verifyProof transaction per proof
    batched: int  # one verifyBatch transaction for all of them

    @property
    def saved(self) -> int:
        return sum(self.separate) - self.batched


def measure_batch(items: list, *, separate: bool = True) -> BatchGas:
    """Gas of verifying (circuit, bundle) pairs one transaction each (unless `separate` is false), and all in one
    Halo2BatchVerifier transaction, on a fresh py-evm chain; raises ProofError if any verification fails."""
    if not items:
        raise ProofError("no proofs to verify")
    chain = PyEvmChain()
    plain: dict[str, str] = {}
    deferred: dict[str, str] = {}
    for circuit, _ in items:
        if circuit.circuit_id not in plain:
            vk = circuit.path("vk.bin").read_bytes()
            plain[circuit.circuit_id], _ = chain.deploy_verifier(compile_verifier(circuit.path("Verifier.sol"), circuit.build), vk)
            deferred[circuit.circuit_id], _ = chain.deploy_verifier(compile_deferred_verifier(circuit), vk)
    gas = [chain.verify_gas(plain[c.circuit_id], bundle.calldata()) for c, bundle in items] if separate else []
    batch = compile_batch_verifier(items[0][0].build)
    batch_address, _ = chain.deploy_verifier(batch)
    batched = chain.batch_verify_gas(batch, batch_address, [deferred[c.circuit_id] for c, _ in items], [b for _, b in items])
    return BatchGas(gas, batched)
