"""What to submit to a block explorer or Sourcify to verify a deployment's contracts (`ape run verify`).

For each contract of the manifest that this project compiles, one file `<Name>.standard-input.json` — solc's
standard-JSON input with exactly the sources and settings the build used (via-IR, optimizer runs, EVM version,
the OpenZeppelin remapping) — and the facts a verification form asks for: the source unit and contract name,
the compiler version, and the ABI-encoded constructor arguments (the deployment transaction's input after the
creation code). A local build whose creation code is not the deployed one is reported instead of guessed at.

    inputs = write_inputs(manifest, project, Path("build/verify/<deployment>"))
    for item in inputs: print(item.line())

The circuits' verifiers (ezkl's `Verifier.sol`) are compiled by this project's solc with their own settings
(apiary/zk/evm.py: optimizer runs 1, no via-IR) from one source file; their one constructor argument is the
circuit's verifying key (vk.bin), checked against the deployment transaction where the manifest records it.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..paths import PROJECT_ROOT


@dataclass
class Verification:
    name: str
    address: str
    source: str  # the source unit, e.g. contracts/compute/ComputeMarket.sol
    input_file: Path | None
    compiler: str
    constructor_args: str  # 0x-prefixed ABI encoding ("0x" when none)
    problem: str = ""
    label: str = ""  # what the line calls it, when not the contract's name

    @property
    def fully_qualified(self) -> str:
        return f"{self.source}:{self.name}"

    def line(self) -> str:
        what = self.label or self.name
        if self.problem:
            return f"{what} {self.address}: {self.problem}"
        return (f"{what} {self.address}: {self.input_file} — contract {self.fully_qualified}, compiler "
                f"v{self.compiler}, constructor arguments {self.constructor_args if self.constructor_args != '0x' else 'none'}")


def compiler_version() -> str:
    """The full solc version the build uses (e.g. 0.8.28+commit.7893614a), from the project's launcher."""
    import os

    folder = Path(os.environ.get("SOLCX_BINARY_PATH") or PROJECT_ROOT / "tools" / "solc")
    launchers = sorted(folder.glob("solc-v*"))
    if not launchers:
        raise FileNotFoundError(f"no solc launcher in {folder}")
    out = subprocess.run([str(launchers[-1]), "--version"], capture_output=True, text=True, timeout=120).stdout
    for word in out.split():
        if word[:1].isdigit() and "+commit" in word:
            return word.split(".Emscripten")[0]
    raise RuntimeError(f"cannot read the compiler version from {launchers[-1]}: {out.strip()[:200]}")


def _creation_input(txn_hash: str) -> bytes:
    from ape import networks

    tx = networks.provider.web3.eth.get_transaction(txn_hash)
    return bytes(tx["input"])


def write_inputs(manifest: Any, project: Any, out_dir: Path, names: list[str] | None = None) -> list[Verification]:
    """Write the standard-JSON input of every (or each named) contract of `manifest` into `out_dir`; returns
    what to submit for each."""
    from ape import compilers

    out_dir.mkdir(parents=True, exist_ok=True)
    version = compiler_version()
    results = []
    for name, entry in manifest.contracts.items():
        if names and name not in names:
            continue
        address = entry["address"]
        try:
            contract_type = project.get_contract(name).contract_type
        except Exception:  # noqa: BLE001 - a contract of another build recorded in the manifest
            results.append(Verification(name, address, "", None, version, "0x", "not compiled by this project"))
            continue
        source = str(contract_type.source_id)
        inputs = compilers.solidity.get_standard_input_json([PROJECT_ROOT / source], project=project)
        standard = next(iter(inputs.values()))
        path = out_dir / f"{name}.standard-input.json"
        path.write_text(json.dumps(standard, indent=1, sort_keys=True))
        creation = bytes(contract_type.deployment_bytecode.to_bytes()) if contract_type.deployment_bytecode else b""
        args, problem = "0x", ""
        if entry.get("tx"):
            data = _creation_input(entry["tx"])
            if creation and data.startswith(creation):
                args = "0x" + data[len(creation):].hex()
            else:
                problem = ("the local build's creation code is not the deployed one (another commit or compiler "
                           f"setting?): check out the deployment's commit; input written to {path}")
        else:
            problem = f"the manifest has no deployment transaction to read constructor arguments from; input written to {path}"
        results.append(Verification(name, address, source, path, version, args, problem))
    if not names:
        for circuit, entry in (getattr(manifest, "circuits", None) or {}).items():
            if entry.get("verifier"):
                results.append(_verifier(circuit, entry, out_dir, version))
    return results


def _open_circuit(name: str, entry: dict) -> Any:
    """The folder of a manifest circuit: a built-in or recorded evaluation circuit, or its inference twin
    (`<id>.infer`, batch `<id>.infer-x<k>`)."""
    from ..zk import inference, pipeline

    base, _, twin = name.partition(".")
    evaluation = pipeline.open_circuit(PROJECT_ROOT / entry["folder"] if entry.get("folder") else base)
    if not twin:
        return evaluation
    slots = int(twin.split("-x", 1)[1]) if "-x" in twin else 1
    return inference.open_inference(evaluation, slots)


def _verifier(name: str, entry: dict, out_dir: Path, version: str) -> Verification:
    """A circuit's ezkl-generated verifier: compiled by this project's solc with the verifiers' own settings
    (apiary/zk/evm.py), its one constructor argument the circuit's verifying key (vk.bin)."""
    from eth_abi import encode

    from ..zk import evm

    label, address = f"verifier of {name}", entry["verifier"]
    try:
        circuit = _open_circuit(name, entry)
        if getattr(circuit, "circuit_id", name) != name:
            raise FileNotFoundError(name)
    except Exception:  # noqa: BLE001 - a circuit folder this checkout does not have
        return Verification(label, address, "", None, version, "0x",
                            "its circuit folder is not in this checkout: run verify where the circuit was built")
    source = circuit.path("Verifier.sol")
    standard = {"language": "Solidity", "sources": {"Verifier.sol": {"content": source.read_text()}},
                "settings": {**evm.SOLC_SETTINGS, "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object",
                                                                                  "evm.deployedBytecode.object",
                                                                                  "metadata"]}}}}
    path = out_dir / f"verifier-{name}.standard-input.json"
    path.write_text(json.dumps(standard, indent=1, sort_keys=True))
    args = encode(["bytes"], [circuit.path("vk.bin").read_bytes()])
    problem = ""
    if entry.get("tx"):
        compiled = evm.compile_verifier(source, circuit.build)
        if _creation_input(entry["tx"]) != compiled.bytecode + args:
            problem = f"this checkout's verifier or vk.bin is not the deployed one; input written to {path}"
    return Verification("Halo2Verifier", address, "Verifier.sol", path, version, "0x" + args.hex(), problem,
                        label=label)


HOW = ("Submit each file as 'Solidity (Standard-Json-Input)' on the chain's block explorer (compiler version as "
       "printed, the contract as source:name, the constructor arguments as printed), or give Sourcify the address "
       "and the same standard-JSON input.")
