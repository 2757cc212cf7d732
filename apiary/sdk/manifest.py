"""Deployment manifests: what was deployed where, one file per ecosystem-network-provider, checked on every use.

`deployments/<ecosystem>-<network>-<provider>.json` holds the chain id, the deployer, the deployment block, for
every contract its address, deployment transaction and ABI, the profile parameters, and a `circuits` section
(circuit id → verifier, manifest sha256, …) that later commands append to.

    manifest = load_manifest("ethereum", "local", "node", chain_id=networks.provider.chain_id)
    bounties = manifest.contract("ModelBounties")          # built from the manifest's ABI
    secrets = manifest.state_dir("bounties")               # build/bounties/<deployment_key>/

`load_manifest` refuses a missing file, a node on another chain, and a node without code at the manifest's
addresses (a restarted dev node). `write_manifest` refuses to replace a deployment that is still live unless
`force=True`, and then keeps the old file as `<name>.<timestamp>.json`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..paths import DEPLOYMENTS_DIR, PROJECT_ROOT, STATE_DIR, write_atomic
from .errors import ApiaryCliError

FORMAT = 2
KEY_CONTRACTS = ("ModelBounties", "ApiaryGovernor")  # the deployment key derives from the first one present


class ManifestError(ApiaryCliError):
    """The manifest is missing, from another chain, or points at a deployment the node does not have."""


def manifest_path(ecosystem: str, network: str, provider: str, directory: Path = DEPLOYMENTS_DIR) -> Path:
    return Path(directory) / f"{ecosystem}-{network}-{provider}.json"


def provider_manifests(ecosystem: str, network: str, directory: Path = DEPLOYMENTS_DIR) -> list[Path]:
    """The current manifests of an ecosystem-network, one per provider (kept backups excluded)."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob(f"{ecosystem}-{network}-*.json") if "." not in p.stem)


def _deploy_hint(choice: str) -> str:
    profile = "local" if ":local:" in f"{choice}:" else "testnet"
    return f"./dev deploy --network {choice} --account <alias> --profile {profile}"


def _default_get_code(address: str) -> bytes:
    from ape import networks

    return bytes(networks.provider.get_code(address))


@dataclass
class Manifest:
    path: Path
    data: dict[str, Any]

    # -------------------------------------------------------------- fields

    @property
    def choice(self) -> str:
        return f"{self.data['ecosystem']}:{self.data['network']}:{self.data['provider']}"

    @property
    def chain_id(self) -> int:
        return int(self.data["chain_id"])

    @property
    def deployer(self) -> str:
        return self.data["deployer"]

    @property
    def block(self) -> int:
        """The block of the first deployment transaction: event scans start here."""
        return int(self.data["block"])

    @property
    def contracts(self) -> dict[str, dict[str, Any]]:
        return self.data["contracts"]

    @property
    def params(self) -> dict[str, Any]:
        return self.data.get("params", {})

    @property
    def circuits(self) -> dict[str, dict[str, Any]]:
        return self.data.setdefault("circuits", {})

    @property
    def addresses(self) -> dict[str, str]:
        return {name: entry["address"] for name, entry in self.contracts.items()}

    @property
    def deployment_key(self) -> str:
        """A short id of this deployment (`<chain id>-<12 hex digits of the ModelBounties address>`): local
        state such as sealed-bounty secrets and proposals is kept per deployment, never per network name."""
        for name in KEY_CONTRACTS:
            if name in self.contracts:
                return f"{self.chain_id}-{self.contracts[name]['address'].lower()[2:14]}"
        first = sorted(self.contracts)[0]
        return f"{self.chain_id}-{self.contracts[first]['address'].lower()[2:14]}"

    def state_dir(self, kind: str, root: Path = STATE_DIR) -> Path:
        """build/<kind>/<deployment_key>/ (e.g. kind "bounties" for secrets, "proposals" for proposals)."""
        return Path(root) / kind / self.deployment_key

    @property
    def holds_value(self) -> bool:
        """Whether this deployment's tokens and bounties may be worth something: made with the mainnet profile, on
        a known mainnet, or on a chain that is neither a known local node or testnet nor declared a test chain at
        deployment (`ape run deploy --test-chain`)."""
        from ..zk.srs import TEST_CHAIN_IDS, VALUE_CHAIN_IDS

        if self.params.get("profile") == "mainnet" or self.chain_id in VALUE_CHAIN_IDS:
            return True
        return self.chain_id not in TEST_CHAIN_IDS and not self.params.get("test_chain")

    def check_srs(self, circuit_id: str, vk_data: bytes, *, where: str = "") -> str | None:
        """Refuse a verifier whose SRS has the development secret (`vk_data`: the key it verifies with, on chain
        where it is deployed: `apiary.zk.deployed.key_data`) on a deployment that holds value: the secret is
        public, so anyone can forge proofs that pass it and take every bounty or payment it guards. Where value is
        held, a verifier whose key cannot be read (no code, another layout) is refused too. Elsewhere (local
        chains, testnets) returns a one-line note to print."""
        from ..zk.srs import key_g2, made_with_dev_srs

        dev = made_with_dev_srs(vk_data)
        if self.holds_value and (dev or key_g2(vk_data) is None):
            why = ("its verifier's SRS has the development secret, which is public: anyone could forge its proofs"
                   if dev else f"the verifying key of {where or 'its verifier'} cannot be read (no contract there, or "
                   "not an ezkl verifier): nothing shows that its proofs cannot be forged")
            raise ManifestError(f"{circuit_id}: {why}, on a deployment that holds value (chain id {self.chain_id}, "
                                f"{self.params.get('profile', 'no')} profile). Use a circuit built with a ceremony "
                                "SRS (--srs FILE); on a chain whose tokens are worth nothing, deploy with --test-chain")
        if dev:
            return (f"note: {circuit_id} uses the development SRS (its secret is public, proofs can be forged): fine "
                    f"for a test deployment, refused where value is held")
        return None

    def check_verifiers_srs(self, circuit_id: str, verifiers: list[str], local_vk: bytes | None = None) -> str | None:
        """check_srs on what the deployed `verifiers` verify with (their keys, read on chain: a registry entry can
        name another verifier than the folder's) and on a folder's `local_vk` (before it is deployed)."""
        from ape import chain

        from ..zk.deployed import key_data

        notes = {self.check_srs(circuit_id, key_data(chain.provider.web3, v), where=f"verifier {v}")
                 for v in verifiers if v and int(v, 16)}
        if local_vk is not None:
            notes.add(self.check_srs(circuit_id, local_vk))
        return next((n for n in notes if n), None)

    # -------------------------------------------------------------- contracts

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]["address"]
        except KeyError:
            raise ManifestError(f"the deployment in {self.path.name} has no {name}: redeploy with "
                                f"{_deploy_hint(self.choice)} --force") from None

    def abi(self, name: str) -> list[dict]:
        self.address(name)
        return self.contracts[name]["abi"]

    def contract(self, name: str) -> Any:
        """An ape contract instance at the manifest's address, with the ABI recorded at deployment."""
        from ape import chain
        from ethpm_types import ContractType

        contract_type = ContractType.model_validate({"contractName": name, "abi": self.abi(name)})
        return chain.contracts.instance_at(self.address(name), contract_type=contract_type,
                                           txn_hash=self.contracts[name].get("tx") or None,
                                           fetch_from_explorer=False, detect_proxy=False)

    # -------------------------------------------------------------- circuits

    def add_circuit(self, circuit_id: str, verifier: str, manifest_sha256: str, **extra: Any) -> None:
        """Record a circuit's verifier (and e.g. the proposal that registers it); re-reads the file first so
        concurrent commands do not drop each other's entries, then writes atomically."""
        fresh = json.loads(self.path.read_text()) if self.path.is_file() else self.data
        if extra.get("folder"):  # where the circuit's files are, relative to the project: no local layout recorded
            extra["folder"] = os.path.relpath(Path(extra["folder"]).resolve(), PROJECT_ROOT)
        if extra.get("abi") is not None:  # any client (cast, viem, web3) calls the verifier without this repository
            extra["abi"] = abi_json(extra["abi"])
        entry = {**fresh.get("circuits", {}).get(circuit_id, {}), "verifier": verifier,
                 "manifest_sha256": manifest_sha256, **extra}
        fresh.setdefault("circuits", {})[circuit_id] = entry
        self.data = fresh
        self.save()

    def save(self) -> Path:
        return write_atomic(self.path, json.dumps(self.data, indent=2, sort_keys=True) + "\n")

    # -------------------------------------------------------------- checks

    def check(self, chain_id: int, get_code: Callable[[str], bytes] | None = None) -> None:
        """Refuse a node on another chain, or one without code at the manifest's addresses."""
        if int(chain_id) != self.chain_id:
            raise ManifestError(
                f"{self.path.name} is for chain id {self.chain_id} but the node is chain id {chain_id}: "
                f"wrong --network or RPC URL, or redeploy with {_deploy_hint(self.choice)} --force")
        get_code = get_code or _default_get_code
        missing = [name for name, entry in sorted(self.contracts.items()) if not get_code(entry["address"])]
        if missing:
            name = missing[0]
            raise ManifestError(
                f"the node has no code at {self.contracts[name]['address']} ({name}"
                f"{f' and {len(missing) - 1} more' if len(missing) > 1 else ''}): it was restarted; "
                f"redeploy with {_deploy_hint(self.choice)} --force")

    def is_live(self, chain_id: int, get_code: Callable[[str], bytes] | None = None) -> bool:
        """True when the node is on the manifest's chain and any of its contracts still has code."""
        get_code = get_code or _default_get_code
        return int(chain_id) == self.chain_id and any(get_code(e["address"]) for e in self.contracts.values())


def read_manifest_file(path: Path) -> Manifest:
    """Parse a manifest file without checking it against a node."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ManifestError(f"no deployment manifest at {path}: deploy first with ./dev deploy") from None
    except ValueError as exc:
        raise ManifestError(f"{path} is not valid JSON ({exc}): restore it or redeploy with --force") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("contracts"), dict):
        raise ManifestError(f"{path} is not an Apiary deployment manifest (format {FORMAT}): redeploy with --force")
    return Manifest(path, data)


def load_manifest(ecosystem: str, network: str, provider: str, chain_id: int,
                  get_code: Callable[[str], bytes] | None = None, directory: Path = DEPLOYMENTS_DIR) -> Manifest:
    """The manifest of this ecosystem-network-provider, checked against the node (chain id, code present)."""
    path = manifest_path(ecosystem, network, provider, directory)
    choice = f"{ecosystem}:{network}:{provider}"
    if not path.is_file():
        others = [p.name for p in provider_manifests(ecosystem, network, directory)]
        also = f" (there is {', '.join(others)}: another provider)" if others else ""
        raise ManifestError(f"no deployment for {choice}: {path.name} is missing{also}; deploy first with "
                            f"{_deploy_hint(choice)}")
    manifest = read_manifest_file(path)
    manifest.check(chain_id, get_code)
    return manifest


def abi_json(abi: Any) -> list[dict]:
    """An ape contract type's ABI as the JSON every client reads."""
    return [item.model_dump(mode="json", by_alias=True, exclude_none=True) for item in abi]


def contract_entry(instance: Any) -> dict[str, Any]:
    """Address, deployment transaction and ABI of an ape contract instance."""
    tx = instance.txn_hash
    return {"address": str(instance.address), "tx": (tx if isinstance(tx, str) else tx.hex()) if tx else None,
            "abi": abi_json(instance.contract_type.abi)}


def check_can_write(ecosystem: str, network: str, provider: str, chain_id: int, force: bool = False,
                    get_code: Callable[[str], bytes] | None = None, directory: Path = DEPLOYMENTS_DIR) -> None:
    """Refuse (before anything is deployed) to replace a manifest whose deployment is still live on the node."""
    path = manifest_path(ecosystem, network, provider, directory)
    if force or not path.is_file():
        return
    try:
        old = read_manifest_file(path)
    except ManifestError:
        return  # unreadable: replacing it loses nothing usable (it is still kept as a backup)
    if old.is_live(chain_id, get_code):
        raise ManifestError(
            f"{path.name} describes a deployment that is live on this node (FeeVault at "
            f"{old.addresses.get('FeeVault', '?')}): refusing to overwrite it; pass --force to redeploy "
            "(the old manifest is kept next to it)")


# Every list a client shows, with how to read it without an indexer: the count (ids run from 1, bounties from 0) and
# the event each item is announced by (its arguments: what the item was created with).
LISTS = {
    "bounties": {"count": "ModelBounties.bountyCount", "first_id": 0, "event": "ModelBounties.BountyCreated"},
    "models": {"count": "ModelRegistry.totalModels", "first_id": 1, "event": "ModelRegistry.ModelRegistered"},
    "datasets": {"count": "DatasetRegistry.totalDatasets", "first_id": 1, "event": "DatasetRegistry.DatasetRegistered"},
    "listings": {"count": "DataMarket.totalListings", "first_id": 1, "event": "DataMarket.Listed"},
    "sales": {"count": "DataMarket.totalSales", "first_id": 1, "event": "DataMarket.Purchased"},
    "jobs": {"count": "ComputeMarket.totalJobs", "first_id": 1, "event": "ComputeMarket.JobPosted"},
    "proposals": {"count": None, "first_id": None, "event": "ApiaryGovernor.ProposalCreated"},
}


def solidity_enums() -> dict[str, list[str]]:
    """Every enum of the protocol's interfaces (and the Governor's ProposalState), `Interface.Enum` → member names
    in order: ABIs carry enums as uint8, so a client needs the names from somewhere."""
    import re

    sources = sorted((PROJECT_ROOT / "contracts" / "interfaces").glob("*.sol"))
    sources.append(PROJECT_ROOT / "node_modules" / "@openzeppelin" / "contracts" / "governance" / "IGovernor.sol")
    found: dict[str, list[str]] = {}
    for source in sources:
        if not source.is_file():
            continue
        text = re.sub(r"//[^\n]*", "", source.read_text())
        for name, members in re.findall(r"\benum\s+(\w+)\s*\{([^}]*)\}", text):
            found[f"{source.stem}.{name}"] = [m.strip() for m in members.split(",") if m.strip()]
    return found


def write_manifest(ecosystem: str, network: str, provider: str, chain_id: int, deployer: str, block: int,
                   contracts: Mapping[str, Any], params: Mapping[str, Any], force: bool = False,
                   get_code: Callable[[str], bytes] | None = None, directory: Path = DEPLOYMENTS_DIR) -> Manifest:
    """Write the manifest atomically. `contracts` maps names to ape instances or to ready `contract_entry` dicts.

    An existing file is replaced only when its deployment is gone from the node or with `force=True`; the old
    file is kept as `<name>.<UTC timestamp>.json`.
    """
    check_can_write(ecosystem, network, provider, chain_id, force, get_code, directory)
    path = manifest_path(ecosystem, network, provider, directory)
    body = {
        "format": FORMAT,
        "ecosystem": ecosystem,
        "network": network,
        "provider": provider,
        "chain_id": int(chain_id),
        "deployer": str(deployer),
        "block": int(block),
        "deployed_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "contracts": {name: c if isinstance(c, dict) else contract_entry(c) for name, c in contracts.items()},
        "params": dict(params),
        "circuits": {},
        "enums": solidity_enums(),
        "lists": {name: entry for name, entry in LISTS.items()
                  if entry["event"].split(".")[0] in contracts},
    }
    if path.is_file():
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        backup = path.with_name(f"{path.stem}.{stamp}.json")
        write_atomic(backup, path.read_bytes())
    manifest = Manifest(path, body)
    manifest.save()
    return manifest
