"""Compute market actions shared by the CLI (scripts/compute.py) and the agents (apiary/agents/provider.py,
apiary/agents/watchdog.py).

Every transaction goes through `tx.send` (simulated first: nothing is sent on a would-be revert). Inputs are
named on chain by their commitment (keccak256 of the input's KZG point in the model's inference circuit) and
fetched from the job's URI (`apiary/sdk/fetch.py`): an https://, http:// or ipfs:// URL, or on a dev chain a
`file://…` or plain path (relative to where the command runs).

    client = ComputeClient.from_manifest(manifest)
    ic = client.inference_circuit(model_id)                       # the model's inference twin, checked
    job_id = post_job(client, requester, ic, model_id, Path("x.csv"), token="ApiaryToken", price="2",
                      collateral="20", hours=1, mode="optimistic")
    _, outputs, _ = wait_result(client, job_id, 600)                # the outputs, once final (or proven)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .amounts import Token, format_time
from .bounties import _hex, _quiet, deployment_token
from .errors import ApiaryCliError
from .market import circuit_id
from .tx import send

Log = Callable[[str], None]
ZERO = "0x0000000000000000000000000000000000000000"
STATUS = ["none", "open", "accepted", "submitted", "paid", "slashed", "refunded"]
MODES = {"proof": 0, "optimistic": 1}
MODE_NAMES = {v: k for k, v in MODES.items()}


@dataclass
class ComputeClient:
    compute: Any
    models: Any
    verifiers: Any
    from_block: int = 0
    names: dict[str, str] = field(default_factory=dict)
    circuit_dirs: dict[str, Path] = field(default_factory=dict)  # evaluation circuit id → folder (imported circuits)
    state_dir: Path | None = None  # where the requester's audit seeds and challengers' salts are kept (secrets)

    @classmethod
    def from_manifest(cls, manifest: Any) -> ComputeClient:
        if "ComputeMarket" not in manifest.contracts:
            raise ApiaryCliError(f"the deployment in {manifest.path.name} has no ComputeMarket: it predates the compute "
                                 "market; redeploy (./dev deploy … --profile local)")
        from ..paths import PROJECT_ROOT

        # folders are recorded relative to the project (older manifests: absolute, which the join keeps)
        circuits = {name: PROJECT_ROOT / entry["folder"]
                    for name, entry in (getattr(manifest, "circuits", None) or {}).items() if entry.get("folder")}
        from ..paths import STATE_DIR

        return cls(manifest.contract("ComputeMarket"), manifest.contract("ModelRegistry"),
                   manifest.contract("VerifierRegistry"), manifest.block, manifest.addresses, circuits,
                   manifest.state_dir("compute", root=STATE_DIR))

    def secrets(self) -> Path:
        """The folder of this market's secrets on this machine (created 0700): audit seeds, challenge salts."""
        from ape import chain

        from ..paths import STATE_DIR

        folder = self.state_dir or Path(STATE_DIR) / "compute" / f"{int(chain.chain_id)}-{self.compute.address}"
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    def token(self, text: str) -> Token:
        return deployment_token(self.names, text)

    def inference_circuit(self, model_id: int, folder: Path | None = None) -> Any:
        """The inference twin of model #`model_id`'s circuit (a built-in, the folder recorded by deploy-verifier,
        or `folder`), refused unless governance mapped it in the ComputeMarket."""
        from ..zk import inference, pipeline
        from .cli import known_circuits

        cid, _commitment, _ = self.models.commitmentOf(model_id)
        cid = bytes(cid)
        evaluation = None
        candidates = [folder] if folder else [*known_circuits(), *self.circuit_dirs.values()]
        for candidate in candidates:
            c = pipeline.open_circuit(candidate)
            if circuit_id(c.circuit_id) == cid:
                evaluation = c
                break
        if evaluation is None:
            raise ApiaryCliError(f"model #{model_id}'s circuit {_hex(cid)} is not a built-in circuit nor one recorded in "
                                 "the deployment: pass --circuit FOLDER")
        ic = inference.open_inference(evaluation)
        mapped = bytes(self.compute.inferenceCircuitOf(cid))
        if mapped != circuit_id(ic.circuit_id):
            raise ApiaryCliError(f"governance has not enabled {ic.circuit_id} in the ComputeMarket (ape run compute "
                                 "propose-inference), so no job can be posted for this model yet")
        return ic


def _logs(event: Any, from_block: int, **topics: Any) -> Any:
    from ape import chain

    return event.range(int(from_block), int(chain.blocks.head.number) + 1, search_topics=topics or None)


def fetch_input(ic: Any, uri: str, base: Path | None = None, policy: Any = None) -> np.ndarray:
    """The input a job's URI names, encoded for the circuit: an https://, http:// or ipfs:// URL ending in .csv,
    .json or .npy (fetched within `policy`, by default the connected chain's: `fetch.FetchPolicy.for_chain`, at
    most `inference.input_limit` bytes), or a local file on a dev chain. The caller checks it against the job's
    input commitment."""
    from urllib.parse import urlsplit

    from ..zk import inference
    from . import fetch

    if policy is None:
        from ape import chain

        policy = fetch.FetchPolicy.for_chain(chain.chain_id, inference.input_limit(ic), timeout=30)
    if fetch.is_local(uri):
        return inference.read_input(ic, fetch.local_file(uri, policy, base))
    suffix = Path(urlsplit(uri).path).suffix.lower()
    if suffix not in inference.INPUT_SUFFIXES:
        raise fetch.FetchError(f"cannot use {uri}: an input URL ends in .csv, .json or .npy (its format)")
    return inference.parse_input(ic, fetch.fetch_bytes(uri, policy), suffix, uri)


def job_verifiers(client: ComputeClient, ic: Any) -> list[str]:
    """The verifiers that settle a job of `ic`'s model: the registered inference circuit's and, once governance
    enabled one, the batch circuit's (read from the chain, not from the folder)."""
    from .market import circuit_id

    evaluation = circuit_id(ic.evaluation.circuit_id)
    found = []
    for cid in (client.compute.inferenceCircuitOf(evaluation), client.compute.batchCircuitOf(evaluation)):
        if int.from_bytes(bytes(cid), "big"):
            found.append(str(client.verifiers.circuit(cid).verifier))
    return found


def job_uri(client: ComputeClient, job_id: int) -> str:
    """The input URI a job was posted with (it lives in the JobPosted event, not in storage)."""
    for log in _logs(client.compute.JobPosted, client.from_block, jobId=job_id):
        return str(log.inputUri)
    raise ApiaryCliError(f"no JobPosted event for job #{job_id}")


def post_job(client: ComputeClient, requester: Any, ic: Any, model_id: int, input_file: Path, *, token: str,
             price: str, collateral: str, hours: float, mode: str, provider: str | None = None,
             uri: str | None = None, log: Log = _quiet) -> int:
    """Escrow a payment for running model #`model_id` on `input_file`; returns the job id."""
    from ..zk import inference
    from .data import _approve

    if mode not in MODES:
        raise ApiaryCliError(f"--mode must be one of {', '.join(MODES)}")
    x = inference.read_input(ic, input_file)
    commitment = inference.input_commitment(ic, x)
    from ape import chain

    pay, stake = client.token(token), Token.at(str(client.compute.stakeToken()))
    amount, locked = pay.parse(price), stake.parse(collateral)
    uri = _published_input(ic, input_file, commitment, uri, log)

    deadline = int(chain.pending_timestamp) + int(hours * 3600)
    _approve(pay.address, requester, client.compute.address, amount, log)
    # An optimistic job's audit seed: kept here before anything is sent, revealed after the challenge window.
    seed_hash = new_audit_seed(client) if mode == "optimistic" else bytes(32)
    request = (model_id, commitment, uri, pay.address, amount, locked, deadline, MODES[mode], provider or ZERO,
               seed_hash)
    receipt = send(client.compute.postJob, request, sender=requester)
    # The id from this transaction's own event: another requester's job may land right after it.
    job_id = int(next(iter(receipt.decode_logs(client.compute.JobPosted))).jobId)
    log(f"job #{job_id}: model #{model_id} on input {_hex(commitment)}, {mode}, due {format_time(deadline)}")
    return job_id


def _published_input(ic: Any, input_file: Path, commitment: bytes, uri: str | None, log: Log) -> str:
    """The URI to publish for the job's input, checked before anything is sent: providers elsewhere fetch it, so
    off a dev chain it is a URL that serves exactly `input_file` (fetched here as a provider would)."""
    from ape import chain

    from ..zk import inference
    from . import fetch

    if uri is None:
        if int(chain.chain_id) not in fetch.DEV_CHAIN_IDS:
            raise ApiaryCliError("providers on other machines cannot read a local file: give the input's URL with "
                                 "--uri https://…/x.csv (serve a folder with `apiary serve --files DIR`); nothing sent")
        return f"file://{Path(input_file).resolve()}"
    served = fetch_input(ic, uri)
    if inference.input_commitment(ic, served) != commitment:
        raise ApiaryCliError(f"{uri} does not serve the input in {input_file} (another input): nothing sent")
    log(f"input checked at {uri}")
    return uri


def outputs_of(client: ComputeClient, job_id: int) -> list[int] | None:
    """The outputs a provider posted for the job (signed integers), or None before any."""
    from ..zk import inference

    for log in _logs(client.compute.ResultPosted, client.from_block, jobId=job_id):
        return inference.from_instances([int(v) for v in log.outputs])
    return None


def _write_secret(path: Path, value: bytes) -> None:
    """Write a secret (0600, atomically: data._secret) before the transaction that depends on it is sent."""
    from .data import _secret

    _secret(path, {"secret": "0x" + value.hex()})


def _read_secret(path: Path) -> bytes | None:
    import json

    try:
        return bytes.fromhex(json.loads(path.read_text())["secret"][2:])
    except FileNotFoundError:
        return None


def seed_hash(seed: bytes) -> bytes:
    """keccak256(abi.encode(seed)): what a job commits of its requester's audit seed."""
    from eth_utils import keccak

    return keccak(bytes(seed).rjust(32, b"\0"))


def new_audit_seed(client: ComputeClient) -> bytes:
    """A fresh secret audit seed, saved under the market's secrets folder; returns its hash (for postJob)."""
    import os

    seed = os.urandom(32)
    h = seed_hash(seed)
    _write_secret(client.secrets() / f"audit-{h.hex()}.json", seed)
    return h


def audit_seed(client: ComputeClient, job: Any) -> bytes | None:
    """The requester's seed of a job, if it was posted from this machine (None otherwise, or without a seed)."""
    h = bytes(job.auditSeedHash)
    if not any(h):
        return None
    return _read_secret(client.secrets() / f"audit-{h.hex()}.json")


def reveal_window(job: Any) -> tuple[int, int]:
    """When the requester may reveal the audit seed: after the challenge window, within the response window."""
    closes = int(job.resultAt) + int(job.terms.challengeWindow)
    return closes + 1, closes + int(job.terms.responseWindow)


def reveal_audit(client: ComputeClient, sender: Any, job_id: int, log: Log = _quiet) -> bool | None:
    """Reveal the job's audit seed (kept on this machine by `post_job`) once the challenge window has closed;
    returns whether the result is audited, or None when it cannot be revealed now (too early, too late, settled,
    no seed here)."""
    from ape import chain

    j = client.compute.job(job_id)
    if STATUS[int(j.status)] != "submitted":
        return None
    if j.drawn:
        return bool(j.audited)
    seed = audit_seed(client, j)
    opens, closes = reveal_window(j)
    if seed is None or not opens <= int(chain.pending_timestamp) <= closes:
        return None
    send(client.compute.revealAudit, job_id, seed, sender=sender)
    audited = bool(client.compute.job(job_id).audited)
    log(f"job #{job_id}: {'audited: the provider must prove its result' if audited else 'not audited'}")
    return audited


def challenge_commitment(job_id: int, challenger: str, salt: bytes) -> bytes:
    """keccak256(abi.encode(jobId, challenger, salt)): a challenge bound to its author, hiding its job."""
    from eth_abi import encode
    from eth_utils import keccak

    return keccak(encode(["uint256", "address", "bytes32"], [int(job_id), str(challenger), bytes(salt)]))


def _challenge_salt_path(client: ComputeClient, sender: Any, job_id: int) -> Path:
    return client.secrets() / f"challenge-{int(job_id)}-{sender.address.lower()}.json"


def kept_challenge(client: ComputeClient, sender: Any, job_id: int) -> bool:
    """Whether `sender` committed a challenge of the job from this machine and has not revealed it yet (a crash or
    a restart in between): reveal it with `challenge_job`, which reuses the salt."""
    salt = _read_secret(_challenge_salt_path(client, sender, job_id))
    if salt is None:
        return False
    commitment = challenge_commitment(job_id, sender.address, salt)
    return bool(int(client.compute.challengeCommit(commitment, sender.address).atBlock))


def challenge_job(client: ComputeClient, sender: Any, job_id: int, log: Log = _quiet) -> bool:
    """Challenge a posted result: commit (the bond and a hash that hides the job), then reveal in a later block.
    The salt is saved before the commitment is sent, so a rerun after a crash reveals the same commitment
    instead of locking a second bond. Returns True if this challenge holds the job, False if someone else's
    landed first (the bond then comes back)."""
    import os

    from .data import _approve

    c = client.compute
    j = c.job(job_id)
    path = _challenge_salt_path(client, sender, job_id)
    salt = _read_secret(path)
    if salt is None:
        salt = os.urandom(32)
        _write_secret(path, salt)
    commitment = challenge_commitment(job_id, sender.address, salt)
    if not int(c.challengeCommit(commitment, sender.address).atBlock):
        bond, stake = int(j.terms.challengeBond), Token.at(str(c.stakeToken()))
        _approve(stake.address, sender, c.address, bond, log)
        send(c.commitChallenge, commitment, bond, sender=sender)
        log(f"job #{job_id}: challenge committed (bond {stake.format(bond)})")
    # The commitment's block is mined (its receipt came back): the reveal lands in a later one.
    send(c.challenge, job_id, salt, sender=sender)
    path.unlink(missing_ok=True)
    held = c.job(job_id).challenger == sender.address
    if not held:
        log(f"job #{job_id}: someone else challenged it first; the bond was returned")
    return held


SETTLED = ("paid", "slashed", "refunded")
UNTIL = {
    "result": lambda j: STATUS[int(j.status)] in ("submitted", *SETTLED),   # a result is posted (or the job settled)
    # a proof is due: challenged, or caught by the sampled audit (which the market then does not let anyone challenge)
    "challenged": lambda j: j.challenger != ZERO or int(j.proofDue) != 0 or STATUS[int(j.status)] in SETTLED,
    "settled": lambda j: STATUS[int(j.status)] in SETTLED,
}


def wait_result(client: ComputeClient, job_id: int, timeout: float = 0.0, poll: float = 1.0,
                until: str = "settled", revealer: Any = None) -> tuple[str, list[int] | None, bool]:
    """Wait until the job reaches `until` (see UNTIL: a result posted, challenged, or settled: paid, slashed,
    refunded) or `timeout` seconds pass; returns (status, outputs, whether `until` was reached). With `revealer`
    (the requester's account), the job's audit seed, if kept on this machine, is revealed once it can be."""
    reached = UNTIL[until]
    deadline = time.monotonic() + timeout
    while True:
        j = client.compute.job(job_id)
        if (revealer is not None and revealer.address == j.requester and STATUS[int(j.status)] == "submitted"
                and not j.drawn and any(bytes(j.auditSeedHash))):
            if reveal_audit(client, revealer, job_id) is not None:
                j = client.compute.job(job_id)
        done = reached(j)
        if done or time.monotonic() >= deadline:
            return STATUS[int(j.status)], outputs_of(client, job_id), done
        time.sleep(poll)


def describe(client: ComputeClient, job_id: int) -> str:
    j = client.compute.job(job_id)
    status = STATUS[int(j.status)]
    pay, stake = Token.at(str(j.token)), Token.at(str(client.compute.stakeToken()))
    parts = [f"job #{job_id}: {MODE_NAMES[int(j.mode)]}, model #{int(j.modelId)}, {status}",
             f"requester {j.requester}", f"provider {j.provider if j.provider != ZERO else '-'}",
             f"price {pay.format(int(j.price))}", f"collateral {stake.format(int(j.collateral))}",
             f"due {format_time(int(j.deadline))}"]
    if int(j.resultAt):
        closes = int(j.resultAt) + int(j.terms.challengeWindow)
        parts.append(f"challenge window closes {format_time(closes)}")
    if j.challenger != ZERO:
        parts.append(f"challenged by {j.challenger}")
    if j.drawn:
        parts.append("audited" if j.audited else "not audited")
    elif any(bytes(j.auditSeedHash)) and int(j.resultAt):
        opens, closes = reveal_window(j)
        parts.append(f"audit seed revealed by the requester from {format_time(opens)} to {format_time(closes)}")
    if int(j.proofDue):
        parts.append(f"proof due {format_time(int(j.proofDue))}")
    outputs = outputs_of(client, job_id)
    if outputs is not None:
        parts.append(f"outputs {outputs}")
    return "; ".join(parts)


def settle_if_due(client: ComputeClient, sender: Any, job_id: int) -> str | None:
    """Whatever settles the job now, if anything: finalize, slash an unproven result, or expire. Returns what
    was done (or None)."""
    from ape import chain

    j = client.compute.job(job_id)
    status, now = STATUS[int(j.status)], int(chain.pending_timestamp)
    if status == "submitted":
        if int(j.proofDue) and now > int(j.proofDue):
            send(client.compute.slashUnproven, job_id, sender=sender)
            return "slashed"
        if j.challenger == ZERO and now > int(j.resultAt) + int(j.terms.challengeWindow) and not (j.drawn and j.audited):
            if any(bytes(j.auditSeedHash)) and not j.drawn:
                # the requester's own job: its seed, if it lives on this machine (nobody else reveals it)
                audited = reveal_audit(client, sender, job_id) if sender.address == j.requester else None
                if audited:
                    return "audited"
                if audited is None and now <= reveal_window(j)[1]:
                    return None  # the requester may still reveal its seed: finalize once the response window passed
            send(client.compute.finalize, job_id, sender=sender)
            return "finalized"
    elif status in ("open", "accepted") and now > int(j.deadline):
        send(client.compute.expire, job_id, sender=sender)
        return "expired"
    return None
