"""Errors a user can act on: revert data decoded by every ABI the project knows, and any exception an ape or
web3 call raises turned into one line that says what happened and what to do.

    decode_revert(bytes.fromhex("118cdaa7…"))   # 'OwnableUnauthorizedAccount(account=0xAbC…)'
    explain(exc)                                # 'FeeVault reverted: OwnableUnauthorizedAccount(account=0x…): only …'

The selector table holds the custom errors of every compiled contract of the ape project (their ABIs include
the OpenZeppelin errors they inherit), of every OpenZeppelin contract shipped with the npm package, of the
deployment manifests, plus `Error(string)` and `Panic(uint256)` with Solidity's panic codes named.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import click
from eth_abi import decode
from eth_utils import keccak, to_checksum_address

from ..paths import DEPLOYMENTS_DIR, PROJECT_ROOT

OPENZEPPELIN_ABIS = PROJECT_ROOT / "node_modules" / "@openzeppelin" / "contracts" / "build" / "contracts"
MAX_LINE = 600
MAX_DEPTH = 4  # nested revert data inside a `bytes` argument is decoded this deep

PANIC_CODES = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory (allocation too large)",
    0x51: "call to an uninitialised function pointer",
}

# What to do about the errors a user meets most; keyed by error name.
HINTS = {
    "OwnableUnauthorizedAccount": "only the owner may call this (the timelock: change it through a governance proposal)",
    "AccessControlUnauthorizedAccount": "the sender lacks the role; roles belong to the timelock and the Governor",
    "ERC20InsufficientAllowance": "approve the spender for at least the amount first",
    "ERC20InsufficientBalance": "the sender holds fewer tokens than the amount",
    "SafeERC20FailedOperation": "the token refused the transfer (returned false or has no code): check the token and allowance",
    "GovernorUnexpectedProposalState": "the proposal is not in the state this step needs: see `ape run gov show --proposal ID`",
    "GovernorInsufficientProposerVotes": "the proposer needs at least the proposal threshold in votes",
    "GovernorAlreadyCastVote": "this account already voted on the proposal",
    "TimelockUnexpectedOperationState": "the timelock operation is not ready: wait for its eta (a dev node can `ape run gov advance`)",
    "ReentrancyGuardReentrantCall": "a token or contract called back into the protocol: re-entrancy is refused",
    "ComputeMarketNoCommitment": "a challenge is committed first, then revealed in a later block from the same account "
                                 "(`ape run compute challenge --job J` does both)",
    "ComputeMarketCommitmentTaken": "that commitment already holds a bond: reveal it (`ape run compute challenge` "
                                    "reuses the salt it saved)",
    "ComputeMarketBadSeed": "the job's audit seed is revealed from the requester's machine (`ape run compute reveal "
                            "--job J`), and only for a job posted with one",
    "ComputeMarketBadBatch": "a batch lists jobs of one model, ids increasing, all posted after the batch circuit",
}


PROPOSAL_STATES = ("Pending", "Active", "Canceled", "Defeated", "Succeeded", "Queued", "Expired", "Executed")
OPERATION_STATES = ("Unset", "Waiting", "Ready", "Done")  # TimelockController.OperationState
BOUNTY_PHASES = ("Commit", "Reveal", "Prove", "Settle", "Closed")  # IModelBounties.Phase
BOUNTY_WINDOWS = ("Commit", "Reveal", "Prove")  # IModelBounties.Window
BOUNTY_DIRECTIONS = ("AtLeast", "AtMost")  # IModelBounties.Direction
# Arguments that are enums or bitmaps of enum values, printed by name.
_NAMED_ARGS = {
    ("GovernorUnexpectedProposalState", "current"): ("enum", PROPOSAL_STATES),
    ("GovernorUnexpectedProposalState", "expectedStates"): ("bitmap", PROPOSAL_STATES),
    ("TimelockUnexpectedOperationState", "expectedStates"): ("bitmap", OPERATION_STATES),
    ("BountyWrongPhase", "current"): ("enum", BOUNTY_PHASES),
    ("BountyWrongPhase", "required"): ("enum", BOUNTY_PHASES),
    ("BountyBadWindow", "window"): ("enum", BOUNTY_WINDOWS),
    ("BountyWrongDirection", "given"): ("enum", BOUNTY_DIRECTIONS),
    ("BountyWrongDirection", "required"): ("enum", BOUNTY_DIRECTIONS),
    ("BountyUnreachableThreshold", "direction"): ("enum", BOUNTY_DIRECTIONS),
}


class ApiaryCliError(click.ClickException):
    """A failure explained in one line; CLI commands print it as `error: …` and exit 1."""

    def format_message(self) -> str:
        return self.message


@dataclass(frozen=True)
class ErrorSignature:
    name: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.types)})"

    @property
    def selector(self) -> bytes:
        return keccak(text=self.signature)[:4]


def _canonical(param: dict) -> str:
    """The canonical ABI type of a JSON ABI parameter (tuples spelled out as `(t1,t2)` with array suffixes)."""
    kind = param["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_canonical(c) for c in param.get("components", [])) + ")" + kind[len("tuple"):]
    return kind


def signatures_from_abi(abi: Iterable[dict]) -> list[ErrorSignature]:
    """The custom errors of one JSON ABI."""
    return [
        ErrorSignature(item["name"], tuple(_canonical(p) for p in item.get("inputs", [])),
                       tuple(p.get("name", "") for p in item.get("inputs", [])))
        for item in abi if item.get("type") == "error"
    ]


BUILTIN = (ErrorSignature("Error", ("string",), ("message",)), ErrorSignature("Panic", ("uint256",), ("code",)))


def _project_abis() -> Iterable[list[dict]]:
    """ABIs of the ape project's compiled contracts (from the cached build; never compiles)."""
    try:
        from ape import project

        contract_types = project.manifest.contract_types or {}
    except Exception:  # noqa: BLE001 - outside an ape project there is simply no project ABI
        return []
    return [[item.model_dump(mode="json", by_alias=True) for item in ct.abi] for ct in contract_types.values()]


def _openzeppelin_abis() -> Iterable[list[dict]]:
    if not OPENZEPPELIN_ABIS.is_dir():
        return []
    return [json.loads(path.read_text()).get("abi", []) for path in sorted(OPENZEPPELIN_ABIS.glob("*.json"))]


def _manifest_abis() -> Iterable[list[dict]]:
    abis = []
    for path in sorted(DEPLOYMENTS_DIR.glob("*.json")) if DEPLOYMENTS_DIR.is_dir() else []:
        try:
            contracts = json.loads(path.read_text()).get("contracts", {})
        except ValueError:
            continue
        abis.extend(c["abi"] for c in contracts.values() if isinstance(c, dict) and isinstance(c.get("abi"), list))
    return abis


@lru_cache(maxsize=1)
def selector_table() -> dict[bytes, ErrorSignature]:
    """4-byte selector → error, over every ABI the project knows. Project errors win over library ones."""
    table: dict[bytes, ErrorSignature] = {}
    for abis in (_openzeppelin_abis(), _manifest_abis(), _project_abis()):
        for abi in abis:
            for sig in signatures_from_abi(abi):
                table[sig.selector] = sig
    for sig in BUILTIN:
        table[sig.selector] = sig
    return table


def register_abi(abi: Iterable[dict]) -> None:
    """Add the errors of an ABI from elsewhere (an external contract) to the table."""
    table = selector_table()
    for sig in signatures_from_abi(abi):
        table.setdefault(sig.selector, sig)


# ------------------------------------------------------------------ decoding

def format_value(kind: str, value: Any, depth: int = 0) -> str:
    """An ABI value as a user reads it: checksummed addresses, 0x-hex bytes (decoded when they are revert data)."""
    if kind.endswith("]"):
        inner = kind[: kind.rindex("[")]
        return "[" + ", ".join(format_value(inner, v, depth) for v in value) + "]"
    if kind.startswith("("):
        inner_types = _split_tuple(kind)
        return "(" + ", ".join(format_value(t, v, depth) for t, v in zip(inner_types, value)) + ")"
    if kind == "address":
        return to_checksum_address(value)
    if kind == "bytes" and depth < MAX_DEPTH and len(value) >= 4 and bytes(value[:4]) in selector_table():
        return decode_revert(bytes(value), depth + 1)  # an inner revert carried as `bytes reason`
    if kind.startswith("bytes"):
        return "0x" + bytes(value).hex()
    if kind == "string":
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _split_tuple(kind: str) -> list[str]:
    body, parts, level, start = kind[1:-1], [], 0, 0
    for i, ch in enumerate(body):
        if ch == "(":
            level += 1
        elif ch == ")":
            level -= 1
        elif ch == "," and level == 0:
            parts.append(body[start:i])
            start = i + 1
    if body:
        parts.append(body[start:])
    return parts


def decode_revert(data: bytes, depth: int = 0) -> str:
    """`Name(arg=value, …)` for revert data; `unknown error 0x… (n bytes)` when no ABI has the selector."""
    data = bytes(data)
    if not data:
        return "reverted without a reason (no revert data: a require without message, a failed call or an invalid opcode)"
    if len(data) < 4:
        return f"malformed revert data 0x{data.hex()}"
    sig = selector_table().get(data[:4])
    if sig is None:
        return f"unknown error 0x{data[:4].hex()} ({len(data) - 4} bytes of arguments: 0x{data[4:].hex()[:128]}{'…' if len(data) > 68 else ''})"
    try:
        values = decode(list(sig.types), data[4:])
    except Exception:  # noqa: BLE001 - a selector clash or truncated data: show what is there
        return f"{sig.name} with undecodable arguments 0x{data[4:].hex()[:128]}"
    if sig.name == "Panic":
        code = int(values[0])
        return f"Panic(0x{code:02x}: {PANIC_CODES.get(code, 'unknown panic code')})"
    if sig.name == "Error":
        return f"Error({json.dumps(values[0], ensure_ascii=False)})"
    args = ", ".join(f"{name or f'arg{i}'}={_named(sig.name, name, t, v, depth)}"
                     for i, (name, t, v) in enumerate(zip(sig.names, sig.types, values)))
    return f"{sig.name}({args})"


def _named(error: str, arg: str, kind: str, value: Any, depth: int) -> str:
    named = _NAMED_ARGS.get((error, arg))
    if named is None:
        return format_value(kind, value, depth)
    style, labels = named
    number = int.from_bytes(value, "big") if isinstance(value, (bytes, bytearray)) else int(value)
    if style == "enum":
        return labels[number] if number < len(labels) else str(number)
    return "|".join(label for i, label in enumerate(labels) if number >> i & 1) or "none"


def error_name(data: bytes) -> str | None:
    sig = selector_table().get(bytes(data)[:4]) if len(data) >= 4 else None
    return sig.name if sig else None


# ------------------------------------------------------------------ explaining exceptions

_HEX = re.compile(r"0x[0-9a-fA-F]{8,}")
_ANVIL = re.compile(r"custom error 0x([0-9a-fA-F]{8}):?\s*(?:0x)?([0-9a-fA-F]*)")
_CONNECTION = ("connection refused", "failed to establish a new connection", "max retries exceeded",
               "no node found", "unable to start one", "not connected", "connection aborted", "name or service not known",
               "remote end closed connection", "read timed out", "connect timeout")


def revert_data(exc: BaseException) -> bytes | None:
    """The raw revert data an exception carries (ape, web3 or eth-tester), if any."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        err = todo.pop(0)
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        for attr in ("data", "revert_data"):
            data = getattr(err, attr, None)
            if isinstance(data, dict):
                data = data.get("data")
            if isinstance(data, (bytes, bytearray)) and len(data) >= 4:
                return bytes(data)
            if isinstance(data, str) and _HEX.fullmatch(data):
                return bytes.fromhex(data[2:])
        for text in (getattr(err, "revert_message", None), *(a for a in getattr(err, "args", ()) if isinstance(a, str))):
            if isinstance(text, str) and text[:2] in ("b'", 'b"'):  # eth-tester puts repr(bytes) in the message
                try:
                    candidate = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    candidate = b""
                if isinstance(candidate, bytes) and len(candidate) >= 4:
                    return candidate
            if isinstance(text, str) and (match := _ANVIL.search(text)):  # "custom error 0x31b75e4d: fd72…"
                return bytes.fromhex(match.group(1) + match.group(2)[: len(match.group(2)) // 2 * 2])
            if isinstance(text, str) and (match := _HEX.search(text)) and len(match.group()) % 2 == 0:
                candidate = bytes.fromhex(match.group()[2:])
                if candidate[:4] in selector_table():
                    return candidate
        todo.extend([getattr(err, "base_err", None), err.__cause__, err.__context__])
    return None


def _contract_label(exc: BaseException) -> str:
    address = getattr(exc, "contract_address", None)
    if not address:
        txn = getattr(exc, "txn", None)
        address = getattr(txn, "receiver", None) if txn is not None else None
    if not address:
        return "the call"
    try:
        from ape import chain

        contract_type = chain.contracts.get(address)
        if contract_type is not None and contract_type.name:
            return f"{contract_type.name} at {address}"
    except Exception:  # noqa: BLE001 - the name is a nicety
        pass
    return f"the contract at {address}"


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def node_hint(network: str | None = None) -> str:
    """What to do when the node does not answer (never "install geth": the project's node is anvil)."""
    if network and network.split(":")[1:2] == ["local"]:
        return "start the node with `./dev node` (anvil on 127.0.0.1:8545) and use --network ethereum:local:node"
    return (f"start the node (`./dev node` for ethereum:local:node) or check the RPC URL of {network or 'the network'} "
            "in ape-config.yaml")


def explain(exc: BaseException, network: str | None = None) -> str:
    """One line: what went wrong and what to do next, for any exception an ape/web3 call raises."""
    from ape import exceptions as ape_exc

    if isinstance(exc, click.ClickException):
        return _one_line(exc.format_message())
    message = str(exc) or type(exc).__name__
    lowered = message.lower()

    if isinstance(exc, ape_exc.ContractNotFoundError):
        return _one_line(f"{message}: check the address and the network; if the node was restarted, redeploy")
    if isinstance(exc, ape_exc.ContractLogicError) or revert_data(exc) is not None:
        return _explain_revert(exc)
    if isinstance(exc, ape_exc.OutOfGasError):
        return "the transaction ran out of gas: it would revert with a higher limit too, or pass a larger gas limit"
    if "insufficient funds" in lowered:
        sender = _sender(exc)
        return _one_line(f"insufficient funds: {sender or 'the sender'} cannot pay gas × price + value; "
                         "fund the account with ETH on this network")
    if "nonce too low" in lowered or "nonce too high" in lowered or "invalid nonce" in lowered \
            or "replacement transaction underpriced" in lowered or "already known" in lowered:
        return _one_line(f"nonce problem ({message.splitlines()[0]}): another transaction from this account is "
                         "pending or was mined meanwhile; wait for it, then run the command again")
    if isinstance(exc, (ape_exc.ProviderNotConnectedError, ConnectionError)) or _is_connection(exc):
        return _one_line(f"cannot reach the node{f' for {network}' if network else ''}: {node_hint(network)}")
    if isinstance(exc, ape_exc.VirtualMachineError):
        return _one_line(f"the EVM rejected the transaction: {message}")
    if isinstance(exc, ape_exc.TransactionError):
        return _one_line(f"transaction failed: {message}")
    if isinstance(exc, ape_exc.AccountsError):
        return _one_line(f"account problem: {message}")
    if isinstance(exc, ape_exc.ApeException):
        return _one_line(message)
    if isinstance(exc, (FileNotFoundError, PermissionError)):
        return _one_line(message)
    if isinstance(exc, (ValueError, KeyError, RuntimeError)):
        return _one_line(message)
    return _one_line(f"{type(exc).__name__}: {message}")


def _is_connection(exc: BaseException) -> bool:
    err: BaseException | None = exc
    for _ in range(6):
        if err is None:
            return False
        if isinstance(err, (ConnectionError, TimeoutError)):
            return True
        module = type(err).__module__
        if module.startswith(("requests", "urllib3", "aiohttp")) and "connect" in type(err).__name__.lower():
            return True
        if any(token in str(err).lower() for token in _CONNECTION):
            return True
        err = getattr(err, "base_err", None) or err.__cause__ or err.__context__
    return False


def _sender(exc: BaseException) -> str | None:
    txn = getattr(exc, "txn", None)
    return getattr(txn, "sender", None) if txn is not None else None


def _explain_revert(exc: BaseException) -> str:
    where = _contract_label(exc)
    name: str | None
    if getattr(exc, "abi", None) is not None and isinstance(getattr(exc, "inputs", None), dict):
        # ape already decoded a custom error: format it our way (checksums, hex bytes, nested reasons).
        abi = exc.abi
        types = [i.canonical_type for i in abi.inputs]
        args = ", ".join(f"{i.name}={_named(abi.name, i.name, t, exc.inputs.get(i.name), 0)}" for i, t in zip(abi.inputs, types))
        name, text = abi.name, f"{abi.name}({args})"
    elif (data := revert_data(exc)) is not None:
        name, text = error_name(data), decode_revert(data)
    else:
        reason = getattr(exc, "revert_message", None) or str(exc)
        name = None
        text = "reverted without a reason" if reason in ("", "Transaction failed.") else f'Error("{reason}")'
    hint = HINTS.get(name or "")
    return _one_line(f"{where} reverted: {text}" + (f": {hint}" if hint else ""))
