"""Model bounty actions shared by the CLI (scripts/market.py) and the agents to come.

Each action checks locally what it can, then sends every transaction through `tx.send` (simulated at the pending
block first, nothing sent on a would-be revert) and raises `ApiaryCliError` with one line otherwise.

    market = Market.from_manifest(manifest)
    terms = CreateTerms(circuit, token, amount, threshold, chunks, sealed=True)
    bounty_id = create_bounty(market, sponsor, terms, manifest.state_dir("bounties"))
    reveal_bounty(market, sponsor, bounty_id, manifest.state_dir("bounties"))
    prove_and_submit(market, prover, bounty_id, model_id, circuit, model, log=print)

Multi-step actions are atomic or resumable:

* `create_bounty` validates the terms against the chain (circuit active, direction, threshold, window floors,
  balance) before anything is sent, approves only the missing allowance, simulates the creation and, if it would
  revert, sets the allowance back. A sealed bounty's secret (chunks, salt, encoded test data) is written under
  `secrets_dir` *before* the creation is sent, keyed by its test-set commitment, so a crash never loses it;
  `reveal_bounty` finds it by the commitment the chain holds.
* `register_model` keeps a pending seal's salt under `state_dir` before the seal is sent and resumes from the
  chain (a seal already landed is revealed, an expired one replaced, a model already registered to the account
  reported).
* `prove_and_submit` reads the published test data from the chain, checks it against the chunk commitments,
  skips chunks already proven and caches proofs by (circuit, model commitment, chunk commitment).
"""

from __future__ import annotations

import json
import os
import secrets as _secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..paths import PROJECT_ROOT, locked, write_atomic
from .amounts import Token, format_duration, format_time
from .errors import ApiaryCliError
from .market import BountyView, Direction, Metric, Mode, Phase, Status, circuit_id, label
from .tx import commit_seal, seal_expired, send, simulate

Log = Callable[[str], None]
PROOF_CACHE = PROJECT_ROOT / "build" / "proofs"  # proofs depend on model and data only: shared by deployments
# The first window of a bounty is measured from the block that includes the creation, which lands after the
# deadlines were computed: this much slack keeps a window asked at its floor above the floor.
INCLUSION_SLACK = 300
HOUR, DAY = 3_600, 86_400

_ERC20_ABI = [
    {"type": "function", "name": name, "stateMutability": mutability, "inputs": inputs,
     "outputs": [{"name": "", "type": out}]}
    for name, mutability, inputs, out in (
        ("balanceOf", "view", [{"name": "account", "type": "address"}], "uint256"),
        ("allowance", "view", [{"name": "owner", "type": "address"}, {"name": "spender", "type": "address"}],
         "uint256"),
        ("approve", "nonpayable", [{"name": "spender", "type": "address"}, {"name": "value", "type": "uint256"}],
         "bool"),
        ("transfer", "nonpayable", [{"name": "to", "type": "address"}, {"name": "value", "type": "uint256"}], "bool"),
    )
]


def _quiet(_message: str) -> None:
    pass


def _hex(data: bytes) -> str:
    return "0x" + bytes(data).hex()


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def deployment_token(names: dict[str, str], text: str) -> Token:
    """A token by address or by a contract name of the deployment (`ApiaryToken`); a token without decimals() is
    refused rather than guessed."""
    from eth_utils import is_hex_address

    if text in names:
        text = names[text]
    elif not is_hex_address(text):
        known = ", ".join(sorted(names)) or "none"
        raise ApiaryCliError(f"--token '{text}' is neither an address nor a contract of this deployment ({known})")
    token = Token.at(text)
    if token.warning:
        raise ApiaryCliError(f"{token.warning}; refusing to guess the amounts of a token without decimals()")
    return token


def erc20(address: str) -> Any:
    """An ape contract for the ERC20 calls the market needs (balanceOf, allowance, approve) at `address`."""
    from ape import chain
    from ethpm_types import ContractType

    contract_type = ContractType.model_validate({"contractName": "ERC20", "abi": _ERC20_ABI})
    return chain.contracts.instance_at(address, contract_type=contract_type, fetch_from_explorer=False,
                                       detect_proxy=False)


# ---------------------------------------------------------------- the deployment


@dataclass
class Market:
    bounties: Any
    models: Any
    verifiers: Any
    from_block: int = 0  # event scans start here (the deployment block)
    names: dict[str, str] = field(default_factory=dict)  # contract name → address (token names for --token)

    @classmethod
    def from_manifest(cls, manifest: Any) -> Market:
        return cls(manifest.contract("ModelBounties"), manifest.contract("ModelRegistry"),
                   manifest.contract("VerifierRegistry"), manifest.block, manifest.addresses)

    def token(self, text: str) -> Token:
        """A token by address or by a contract name of the deployment (`ApiaryToken`)."""
        return deployment_token(self.names, text)

    def circuit_name(self, cid: bytes, manifest: Any = None) -> str:
        """The built-in circuit, or the circuit folder recorded by deploy-verifier, whose id is `cid` (the id in
        hex when neither is known here)."""
        from .cli import known_circuits

        for name in known_circuits():
            if circuit_id(name) == bytes(cid):
                return name
        for name, entry in (getattr(manifest, "circuits", None) or {}).items():
            if circuit_id(name) == bytes(cid) and entry.get("folder"):
                from ..paths import PROJECT_ROOT

                return str(PROJECT_ROOT / entry["folder"])  # recorded relative to the project
        return _hex(cid)

    def check_circuit_folder(self, circuit: Any, *, retired_ok: bool = False) -> Any:
        """The registry's record of the circuit (active, unless `retired_ok`: bounties keep the verifier they were
        created with, so proofs for them stay valid), refused unless it registers exactly this folder's manifest
        (another folder of the same name would make proofs the registered verifier rejects) and the folder's files
        are the manifest's and state what its spec says (`pipeline.check_statement`)."""
        from ..zk import pipeline
        from ..zk.errors import ZkError

        try:
            circuit.check_files()
            pipeline.check_statement(circuit)
        except ZkError as exc:
            raise ApiaryCliError(str(exc)) from None
        record = self.active_circuit(circuit.circuit_id, retired_ok=retired_ok)
        if bytes(record.manifestHash) != circuit.manifest_sha256:
            raise ApiaryCliError(f"circuit {circuit.circuit_id} is registered with manifest hash {_hex(bytes(record.manifestHash))}, "
                                 f"but {circuit.root} has {_hex(circuit.manifest_sha256)}: use the registered circuit folder")
        return record

    def view(self, bounty_id: int) -> BountyView:
        count = int(self.bounties.bountyCount())
        if bounty_id >= count:
            raise ApiaryCliError(f"no bounty #{bounty_id}: there {'is' if count == 1 else 'are'} {count} "
                                 f"(ids 0..{count - 1})" if count else f"no bounty #{bounty_id}: none created yet")
        return BountyView.read(self.bounties, bounty_id)

    def active_circuit(self, name: str, *, retired_ok: bool = False) -> Any:
        """The registry's record of circuit `name`, refused unless registered and (unless `retired_ok`) not retired."""
        cid = circuit_id(name)
        if not self.verifiers.isRegistered(cid):
            raise ApiaryCliError(f"circuit {name} is not registered in the VerifierRegistry: run deploy-verifier and "
                                 "propose-circuit, then vote, queue and execute the proposal (ape run gov …)")
        record = self.verifiers.circuit(cid)
        if record.retired and not retired_ok:
            raise ApiaryCliError(f"circuit {name} is retired in the VerifierRegistry: no new bounty or model can "
                                 "use it")
        return record


# ---------------------------------------------------------------- sealed-bounty secrets


@dataclass(frozen=True)
class SealedSecret:
    """What a sealed bounty's sponsor must keep until the reveal: chunk commitments, salt, encoded test data."""

    chunks: list[bytes]
    salt: bytes
    test_data: bytes

    @property
    def commitment(self) -> bytes:
        from ..zk.pipeline import test_set_commitment
        from ..zk.testdata import data_hash

        return test_set_commitment(self.chunks, data_hash(self.test_data), self.salt)

    def to_json(self, **extra: Any) -> str:
        return json.dumps({"commitment": _hex(self.commitment), "chunks": [_hex(c) for c in self.chunks],
                           "salt": _hex(self.salt), "test_data": _hex(self.test_data), **extra}, indent=2) + "\n"


def secret_path(secrets_dir: Path, commitment: bytes) -> Path:
    return Path(secrets_dir) / f"sealed-{bytes(commitment).hex()}.json"


def save_secret(secrets_dir: Path, secret: SealedSecret, **extra: Any) -> Path:
    """Write the secret atomically, readable by the owner only (it is what wins the reveal)."""
    path = write_atomic(secret_path(secrets_dir, secret.commitment), secret.to_json(**extra))
    os.chmod(path, 0o600)
    return path


def load_secret(secrets_dir: Path, commitment: bytes) -> SealedSecret:
    path = secret_path(secrets_dir, commitment)
    if not path.is_file():
        raise ApiaryCliError(f"no secret for test-set commitment {_hex(commitment)} under {secrets_dir}: only the "
                             "machine (and deployment) that created the bounty can reveal it")
    try:
        body = json.loads(path.read_text())
        secret = SealedSecret([_unhex(c) for c in body["chunks"]], _unhex(body["salt"]), _unhex(body["test_data"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ApiaryCliError(f"{path} is not a sealed-bounty secret ({exc}): restore it from a backup") from None
    if secret.commitment != bytes(commitment):
        raise ApiaryCliError(f"{path} does not hash to the bounty's commitment {_hex(commitment)} (edited?): "
                             "restore it from a backup")
    return secret


def link_secret(secrets_dir: Path, secret: SealedSecret, bounty_id: int) -> Path:
    """Record the bounty id in the secret file and add `bounty-<id>.json` pointing at it."""
    path = save_secret(secrets_dir, secret, bounty_id=bounty_id)
    link = Path(secrets_dir) / f"bounty-{bounty_id}.json"
    write_atomic(link, json.dumps({"bounty_id": bounty_id, "secret": path.name}) + "\n")
    return path


# ---------------------------------------------------------------- creation


@dataclass
class CreateTerms:
    circuit: str  # circuit id under verifiers/
    token: Token
    amount: int  # base units
    threshold: int
    chunks: list[bytes]  # chunk commitments
    test_data: bytes  # testdata.encode(...) of the same chunks
    sealed: bool = False
    commit_seconds: int = DAY
    reveal_seconds: int = DAY
    prove_seconds: int = 7 * DAY


def test_set_of(circuit: Any, num_chunks: int, data: Path | None = None, label: str | None = None) -> tuple[list[bytes], bytes]:
    """Chunk commitments and encoded test data of `num_chunks` chunks: of the test-set file `data` (CSV, .npy,
    .npz; chunk i is rows [i·S, (i+1)·S)), or of a built-in circuit's held-out test set."""
    from ..zk import pipeline, tasks, testdata
    from ..zk.errors import ZkError

    try:
        if data is not None:
            chunks = tasks.load_test_set(circuit.spec, data, num_chunks, label).chunks
        else:
            chunks = tasks.builtin_test_set(circuit.spec, num_chunks).chunks
    except ZkError as exc:
        raise ApiaryCliError(str(exc)) from None
    return [pipeline.chunk_commitment(circuit, x, y) for x, y in chunks], testdata.encode(chunks)


def deadlines(terms: CreateTerms, now: int) -> tuple[int, int, int]:
    """(commit, reveal, proofs) deadlines for a creation computed at chain time `now` (open: only the last)."""
    if not terms.sealed:
        return 0, 0, now + INCLUSION_SLACK + terms.prove_seconds
    commit = now + INCLUSION_SLACK + terms.commit_seconds
    reveal = commit + terms.reveal_seconds
    return commit, reveal, reveal + terms.prove_seconds


def check_create(market: Market, sponsor: Any, terms: CreateTerms) -> tuple[Any, Direction]:
    """Every check the chain would make that can be made before sending: one line per failure."""
    record = market.active_circuit(terms.circuit)
    direction = Direction.AT_LEAST if Metric(record.metric) == Metric.CORRECT_COUNT else Direction.AT_MOST
    b = market.bounties
    if not 1 <= len(terms.chunks) <= int(b.MAX_CHUNKS()):
        raise ApiaryCliError(f"--chunks {len(terms.chunks)}: a bounty has 1..{int(b.MAX_CHUNKS())} chunks")
    if len(terms.test_data) > int(b.MAX_TEST_DATA()):
        raise ApiaryCliError(f"the encoded test data is {len(terms.test_data):,} bytes, above the contract's "
                             f"{int(b.MAX_TEST_DATA()):,}: use fewer chunks")
    if terms.amount <= 0:
        raise ApiaryCliError("--reward must be more than 0")
    max_score = len(terms.chunks) * int(record.samples)
    if direction == Direction.AT_LEAST and not 1 <= terms.threshold <= max_score:
        raise ApiaryCliError(f"--threshold {terms.threshold}: circuit {terms.circuit} counts correct predictions, "
                             f"so the threshold must be within 1..{max_score} ({len(terms.chunks)} chunk(s) × "
                             f"{int(record.samples)} samples)")
    floors = [("prove", terms.prove_seconds, int(b.MIN_PROVE_WINDOW()), "--prove-days")]
    if terms.sealed:
        floors = [("commit", terms.commit_seconds, int(b.MIN_COMMIT_WINDOW()), "--commit-hours"),
                  ("reveal", terms.reveal_seconds, int(b.MIN_REVEAL_WINDOW()), "--reveal-hours")] + floors
    for window, length, floor, option in floors:
        if length < floor:
            raise ApiaryCliError(f"{option}: the {window} window of {format_duration(length)} is shorter than the "
                                 f"contract's minimum of {format_duration(floor)}")
    total = sum(length for _w, length, _f, _o in floors) + INCLUSION_SLACK
    if total > int(b.MAX_DURATION()):
        raise ApiaryCliError(f"the bounty would run {format_duration(total)}, longer than the contract's maximum of "
                             f"{format_duration(int(b.MAX_DURATION()))}")
    balance = int(erc20(terms.token.address).balanceOf(sponsor.address))
    if balance < terms.amount:
        raise ApiaryCliError(f"{sponsor.address} holds {terms.token.format(balance)}, less than the reward of "
                             f"{terms.token.format(terms.amount)}")
    return record, direction


def create_bounty(market: Market, sponsor: Any, terms: CreateTerms, secrets_dir: Path | None = None,
                  log: Log = _quiet) -> int:
    """Create an open or sealed bounty atomically; returns its id.

    Order: local checks → the sealed secret on disk → approve only what is missing → simulate the creation; if it
    would revert, the allowance is set back to what it was and the one-line error raised → send the creation.
    """
    from ape import chain

    _record, direction = check_create(market, sponsor, terms)
    bounties, cid = market.bounties, circuit_id(terms.circuit)
    _c, _r, _d = deadlines(terms, int(chain.pending_timestamp))
    secret = None
    if terms.sealed:
        if secrets_dir is None:
            raise ApiaryCliError("a sealed bounty needs a place to keep its secret (secrets_dir)")
        secret = SealedSecret(list(terms.chunks), _secrets.token_bytes(32), terms.test_data)
        path = save_secret(secrets_dir, secret)  # before anything is sent: a crash never loses the reveal
        log(f"secret (chunks, salt, test data) kept in {path}")
        method = bounties.createSealed
        params = (terms.token.address, terms.amount, cid, secret.commitment, len(terms.chunks), terms.threshold,
                  int(direction), _c, _r, _d)
    else:
        method = bounties.createOpen
        params = (terms.token.address, terms.amount, cid, list(terms.chunks), terms.test_data, terms.threshold,
                  int(direction), _d)

    token = erc20(terms.token.address)
    before = int(token.allowance(sponsor.address, bounties.address))
    approved = before < terms.amount
    if approved:
        send(token.approve, bounties.address, terms.amount, sender=sponsor)
        log(f"approved {terms.token.format(terms.amount)} for ModelBounties "
            f"(allowance was {terms.token.format(before)})")
    try:
        simulate(method, params, sender=sponsor)
    except ApiaryCliError as exc:
        if approved:
            send(token.approve, bounties.address, before, sender=sponsor)  # nothing dangling
            exc.message += f" (allowance set back to {terms.token.format(before)})"
        if secret is not None:
            secret_path(secrets_dir, secret.commitment).unlink(missing_ok=True)  # no bounty will ever need it
        raise
    receipt = send(method, params, sender=sponsor)
    bounty_id = _created_id(bounties, receipt)
    if secret is not None:
        link_secret(secrets_dir, secret, bounty_id)
    return bounty_id


def _created_id(bounties: Any, receipt: Any) -> int:
    for event in receipt.decode_logs(bounties.BountyCreated):
        return int(event.bountyId)
    return int(bounties.bountyCount()) - 1


# ---------------------------------------------------------------- sealed flow


def commit_model(market: Market, owner: Any, bounty_id: int, model_id: int) -> Any:
    market.view(bounty_id)
    return send(market.bounties.commitModel, bounty_id, model_id, sender=owner)


def reveal_bounty(market: Market, sponsor: Any, bounty_id: int, secrets_dir: Path) -> SealedSecret:
    """Reveal with the secret kept at creation, found by the commitment the chain holds."""
    view = market.view(bounty_id)
    if view.mode != Mode.SEALED:
        raise ApiaryCliError(f"bounty #{bounty_id} is open: its test set was published at creation")
    if view.revealed:
        raise ApiaryCliError(f"bounty #{bounty_id} is revealed already")
    commitment = bytes(market.bounties.bounty(bounty_id).testSetCommitment)
    secret = load_secret(secrets_dir, commitment)
    send(market.bounties.reveal, bounty_id, secret.chunks, secret.salt, secret.test_data, sender=sponsor)
    return secret


# ---------------------------------------------------------------- proofs


def published_test_data(market: Market, bounty_id: int) -> bytes:
    """The encoded test data of the bounty, from its `TestSetRevealed` event."""
    from ape import chain

    event_type = market.bounties.TestSetRevealed
    for event in event_type.range(market.from_block, chain.blocks.height + 1, search_topics={"bountyId": bounty_id}):
        if int(event.bountyId) == bounty_id:
            return bytes(event.testData)
    raise ApiaryCliError(f"bounty #{bounty_id} has no TestSetRevealed event after block {market.from_block}: "
                         "not revealed yet, or the node has pruned its logs")


def proof_cache_path(circuit: Any, model_commitment: bytes, chunk_commitment: bytes, root: Path = PROOF_CACHE) -> Path:
    """Keyed by the circuit's manifest too: a circuit rebuilt (another verifying key) or another folder of the same
    name never reuses a proof its verifier would reject."""
    version = circuit.manifest_sha256.hex()[:16]
    return Path(root) / f"{circuit.circuit_id}-{version}" / f"{bytes(model_commitment).hex()}-{bytes(chunk_commitment).hex()}.json"


def cached_or_new_proof(circuit: Any, model: Any, features: Any, labels: Any, model_commitment: bytes,
                        chunk_commitment: bytes, root: Path = PROOF_CACHE, log: Log = _quiet) -> tuple[Any, bool]:
    """(proof bundle, from cache?): a cached proof is used only if it opens this model and this chunk."""
    from ..zk import pipeline
    from ..zk.errors import ArtefactError

    path = proof_cache_path(circuit, model_commitment, chunk_commitment, root)
    with locked(path.parent / f".{path.name}.lock"):  # two provers of one chunk: the second waits and reuses it
        if path.is_file():
            try:
                bundle = pipeline.load_proof(path)
                if (bundle.model_commitment, bundle.chunk_commitment) == (bytes(model_commitment), bytes(chunk_commitment)):
                    return bundle, True
                log(f"cached proof {path.name} is for another model or chunk: proving again")
            except ArtefactError as exc:
                log(f"cached proof unusable ({exc}): proving again")
        return pipeline.prove(circuit, model, features, labels, path, progress=log), False


@dataclass
class ChunkResult:
    index: int
    status: str  # "proven" (sent now), "skipped" (on chain already)
    score: int | None = None
    cached: bool = False
    gas: int | None = None


def prove_and_submit(market: Market, sender: Any, bounty_id: int, model_id: int, circuit: Any, model: Any,
                     cache: Path = PROOF_CACHE, log: Log = _quiet) -> list[ChunkResult]:
    """Prove `model` (model #`model_id`) on every chunk of the bounty not yet proven and submit each proof.

    Checks before any proving: the bounty accepts proofs now, the circuit and the weights are model #`model_id`'s,
    a sealed bounty has the model committed, and the test data published on chain opens every chunk commitment.
    """
    from ..zk import pipeline, testdata

    view = market.view(bounty_id)
    if view.phase != Phase.PROVE:
        raise ApiaryCliError(f"bounty #{bounty_id} is in phase {label(view.phase)}: proofs are accepted in phase "
                             f"prove ({_phase_hint(view)})")
    cid = circuit_id(circuit.circuit_id)
    if cid != view.circuit_id:
        raise ApiaryCliError(f"bounty #{bounty_id} is for circuit {market.circuit_name(view.circuit_id)}, not "
                             f"{circuit.circuit_id}")
    if not 1 <= model_id <= int(market.models.totalModels()):
        raise ApiaryCliError(f"no model #{model_id} in the ModelRegistry "
                             f"({int(market.models.totalModels())} registered)")
    model_cid, on_chain, _contestable_until = market.models.commitmentOf(model_id)
    commitment = pipeline.model_commitment(circuit, model)
    if bytes(model_cid) != cid or bytes(on_chain) != commitment:
        raise ApiaryCliError(f"the model file is not model #{model_id}: its weight commitment is {_hex(commitment)}, "
                             f"model #{model_id} has {_hex(bytes(on_chain))} for circuit "
                             f"{market.circuit_name(bytes(model_cid))}")
    if view.mode == Mode.SEALED and not int(market.bounties.entry(bounty_id, model_id).commitIndex):
        raise ApiaryCliError(f"model #{model_id} was not committed to sealed bounty #{bounty_id} before its commit "
                             "deadline: it cannot compete")

    chunks = testdata.decode(published_test_data(market, bounty_id))
    commitments = [bytes(c) for c in market.bounties.chunksOf(bounty_id)]
    bad = testdata.check_against_commitments(circuit, chunks, commitments)
    if bad:
        raise ApiaryCliError(f"the sponsor published test data that does not match chunk(s) "
                             f"{', '.join(map(str, bad))} of bounty #{bounty_id}'s commitments: nobody can prove "
                             "those chunks (the reward is burned if nobody qualifies)")
    results = []
    for index, ((features, labels), chunk) in enumerate(zip(chunks, commitments)):
        if market.bounties.chunkProven(bounty_id, model_id, index):
            log(f"chunk {index}: proven on chain already, skipped")
            results.append(ChunkResult(index, "skipped"))
            continue
        log(f"chunk {index}: proving {len(labels)} samples")
        bundle, cached = cached_or_new_proof(circuit, model, features, labels, commitment, chunk, cache,
                                             log=lambda m: log(f"  {m}"))
        if cached:
            log(f"chunk {index}: proof from the cache")
        receipt = send(market.bounties.submitChunk, bounty_id, model_id, index, bundle.proof, bundle.instances,
                       sender=sender)
        log(f"chunk {index}: score {bundle.score} verified on chain (gas {int(receipt.gas_used):,})")
        results.append(ChunkResult(index, "proven", bundle.score, cached, int(receipt.gas_used)))
    return results


# ---------------------------------------------------------------- settlement


def finalize(market: Market, sender: Any, bounty_id: int) -> Any:
    market.view(bounty_id)
    return send(market.bounties.finalize, bounty_id, sender=sender)


def withdraw(market: Market, account: Any, token: Token) -> int:
    """Withdraw everything ModelBounties owes `account` in `token`; returns the amount."""
    owed = int(market.bounties.owed(account.address, token.address))
    if not owed:
        raise ApiaryCliError(f"ModelBounties owes {account.address} nothing in {token.symbol} ({token.address}): "
                             "nothing to withdraw")
    send(market.bounties.withdraw, token.address, sender=account)
    return owed


def flush_fees(market: Market, sender: Any, token: Token) -> int:
    pending = int(market.bounties.feesPending(token.address))
    if not pending:
        raise ApiaryCliError(f"no fees pending in {token.symbol} ({token.address}): nothing to flush to the vault")
    send(market.bounties.flushFees, token.address, sender=sender)
    return pending


# ---------------------------------------------------------------- model registration (resumable)


def register_model(market: Market, owner: Any, circuit_name: str, commitment: bytes, uri: str, state_dir: Path,
                   log: Log = _quiet) -> tuple[int, bool]:
    """Register a model (commit a seal, reveal it after MIN_SEAL_AGE blocks, wait until final); resumable.

    Returns (model id, newly registered?). The salt is written to `state_dir` before the seal is sent; a rerun
    after a crash reveals the seal that landed (or replaces one that expired) instead of starting over, and a
    commitment already registered to `owner` is only reported.
    """
    from ape import chain

    from .devnode import is_dev_chain, wait_for_block
    from .market import wait_until_final

    models, cid = market.models, circuit_id(circuit_name)
    existing = int(models.modelIdOf(cid, commitment))
    record_path = Path(state_dir) / f"seal-{bytes(commitment).hex()}.json"
    if existing and str(models.ownerOf(existing)) == owner.address:
        if is_dev_chain():
            wait_until_final(models, existing, log)
        record_path.unlink(missing_ok=True)
        return existing, False
    market.active_circuit(circuit_name)  # register() needs an active circuit: say so before sending a seal
    record = json.loads(record_path.read_text()) if record_path.is_file() else None
    if record and record.get("owner") != owner.address:
        record = None
    if existing and record is None:
        raise ApiaryCliError(f"these weights are model #{existing} already, owned by {models.ownerOf(existing)}: "
                             "a commitment is registered once")
    salt = _unhex(record["salt"]) if record else _secrets.token_bytes(32)
    seal = bytes(models.seal(owner.address, cid, commitment, salt))
    landed = (int(models.pendingSeal(seal).blockNumber) or None) if record else None
    if seal_expired(models, landed, log):
        salt, landed = _secrets.token_bytes(32), None
        seal = bytes(models.seal(owner.address, cid, commitment, salt))
    if landed is None:
        write_atomic(record_path, json.dumps({"owner": owner.address, "circuit": circuit_name,
                                              "commitment": _hex(commitment), "salt": _hex(salt)}) + "\n")
        os.chmod(record_path, 0o600)
        landed = commit_seal(models, seal, sender=owner)
        log(f"seal committed in block {landed}")
    else:
        log(f"resuming: seal committed in block {landed}")
    wait_for_block(landed + int(models.MIN_SEAL_AGE()) - 1, log=log)
    send(models.register, cid, commitment, salt, uri, sender=owner)
    record_path.unlink(missing_ok=True)
    model_id = int(models.modelIdOf(cid, commitment))
    until = int(models.contestableUntil(model_id))
    if chain.blocks.height <= until:
        log(f"model #{model_id}: final after block {until} (seal window): sealed bounties take its commitment now, "
            "open bounties its proofs after that block")
    if is_dev_chain():
        wait_until_final(models, model_id, log)  # mined at once; on public networks nobody should wait a day here
    return model_id, True


# ---------------------------------------------------------------- reading


def _phase_hint(view: BountyView) -> str:
    now = None
    if view.phase == Phase.COMMIT:
        return f"commitments close {format_time(view.commit_deadline, now)}"
    if view.phase == Phase.REVEAL:
        return f"the sponsor reveals until {format_time(view.reveal_deadline, now)}"
    if view.phase == Phase.PROVE:
        return f"proofs until {format_time(view.deadline, now)}"
    if view.phase == Phase.SETTLE:
        return "finalize it"
    return f"closed: {label(view.status)}"


def next_step(view: BountyView, names: dict[str, str] | None = None) -> str:
    """The command that moves the bounty on; its token by the deployment's contract name where it has one."""
    b = view.id
    token = next((name for name, address in (names or {}).items() if str(address).lower() == str(view.token).lower()),
                 view.token)
    return {
        Phase.COMMIT: f"ape run market commit --bounty {b} --model-id ID (until {format_time(view.commit_deadline)})",
        Phase.REVEAL: f"the sponsor: ape run market reveal --bounty {b} (until {format_time(view.reveal_deadline)})",
        Phase.PROVE: f"ape run market prove-and-submit --bounty {b} --model-id ID --model FILE "
                     f"(until {format_time(view.deadline)})",
        Phase.SETTLE: f"ape run market finalize --bounty {b}",
        Phase.CLOSED: (f"payees withdraw: ape run market withdraw --token {token}"
                       if view.status != Status.ACTIVE else "nothing"),
    }[view.phase]


def entrants(market: Market, bounty_id: int) -> list[int]:
    """Model ids committed to or scored on the bounty (from its events), in order of first appearance."""
    from ape import chain

    head = chain.blocks.height + 1
    seen: dict[int, None] = {}
    for event_type in (market.bounties.ModelCommitted, market.bounties.ChunkScored):
        for event in event_type.range(market.from_block, head, search_topics={"bountyId": bounty_id}):
            seen.setdefault(int(event.modelId), None)
    return list(seen)


def report(market: Market, bounty_id: int) -> str:
    """A bounty's terms, phase, readable times and amounts, leaderboard and next step."""
    from .market import describe, leaderboard

    view = market.view(bounty_id)
    token = Token.at(view.token)
    lines = describe(market.bounties, bounty_id, amount=token.format, when=format_time).splitlines()
    lines.insert(1, f"  circuit {market.circuit_name(view.circuit_id)}; sponsor {view.sponsor}")
    rows = leaderboard(market.bounties, market.models, bounty_id, entrants(market, bounty_id))
    for rank, row in enumerate(rows, 1):
        lines.append(f"  #{rank} model {row['model']} (owner {row['owner']}): {row['chunks']} chunks, "
                     f"score {row['score']}")
    if not rows:
        lines.append("  no model committed or proven yet")
    lines.append(f"  next: {next_step(view, market.names)}")
    return "\n".join(lines)


def summary_line(market: Market, view: BountyView, tokens: dict[str, Token] | None = None) -> str:
    tokens = tokens if tokens is not None else {}
    token = tokens.get(view.token) or tokens.setdefault(view.token, Token.at(view.token))
    op = "≥" if view.direction == Direction.AT_LEAST else "≤"
    end = view.commit_deadline if view.phase == Phase.COMMIT else view.reveal_deadline if view.phase == Phase.REVEAL \
        else view.deadline
    when = f", until {format_time(end)}" if view.phase in (Phase.COMMIT, Phase.REVEAL, Phase.PROVE) else ""
    best = f", best model #{view.best} ({view.best_score})" if view.best else ""
    return (f"#{view.id} {label(view.mode)} {label(view.phase)}/{label(view.status)} "
            f"{market.circuit_name(view.circuit_id)} {op} {view.threshold} over {view.num_chunks} chunk(s), "
            f"reward {token.format(view.reward)}{when}{best}")


def all_bounties(market: Market) -> Sequence[BountyView]:
    return [BountyView.read(market.bounties, i) for i in range(int(market.bounties.bountyCount()))]
