"""Compile a circuit's Solidity verifier with the project's pinned solc, and run it on an in-process py-evm chain.

Verifiers are not part of the ape project (every circuit's contract is called `Halo2Verifier`); they are compiled
here with the same solc-js stand-in and cached by source hash under build/zk/<circuit-id>/.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..paths import SOLC_VERSION, use_project_toolchain, write_atomic
from .errors import ProofError

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
    source = Path(source_path).read_text()
    digest = hashlib.sha256((SOLC_VERSION + json.dumps(SOLC_SETTINGS) + source).encode()).hexdigest()
    cache = cache_dir / f"Verifier.{digest[:16]}.json"
    if cache.is_file():
        body = json.loads(cache.read_text())
    else:
        import solcx

        use_project_toolchain()
        settings = {**SOLC_SETTINGS, "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}}}
        try:
            out = solcx.compile_standard({"language": "Solidity", "sources": {"Verifier.sol": {"content": source}}, "settings": settings},
                                         solc_version=SOLC_VERSION)
        except Exception as exc:
            raise ProofError(f"solc could not compile {source_path}: {str(exc).splitlines()[0][:200]}") from None
        contract = out["contracts"]["Verifier.sol"]["Halo2Verifier"]
        body = {"abi": contract["abi"], "bytecode": contract["evm"]["bytecode"]["object"],
                "runtime": contract["evm"]["deployedBytecode"]["object"]}
        write_atomic(cache, json.dumps(body))
    return CompiledVerifier(body["abi"], bytes.fromhex(body["bytecode"]), bytes.fromhex(body["runtime"]))


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

    def deploy_verifier(self, compiled: CompiledVerifier, vk: bytes) -> tuple[str, int]:
        contract = self.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        tx = contract.constructor(vk).transact({"from": self.account, "gas": 29_000_000})
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
