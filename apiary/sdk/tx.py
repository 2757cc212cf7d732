"""Transactions that are simulated before they are sent: a call that would revert sends nothing.

    receipt = send(vault.setFeeBps, 250, sender=account)      # eth_call at the pending block, then broadcast
    contract = deploy(project.FeeVault, owner, token, 1000, 100, sender=account)

On failure both raise `ApiaryCliError` with one line (the decoded custom error and what to do); the account's
nonce is untouched because nothing was broadcast.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiaryCliError, explain


def _label(method: Any) -> str:
    abi = getattr(method, "abis", None)
    name = abi[0].name if abi else getattr(method, "name", None) or "transaction"
    return str(name)


def _would_fail(label: str, exc: Exception) -> ApiaryCliError:
    from ape.exceptions import ContractLogicError

    from .errors import revert_data

    line = explain(exc)
    if isinstance(exc, ContractLogicError) or revert_data(exc) is not None:
        return ApiaryCliError(f"{label} would revert, nothing was sent: {line}")
    return ApiaryCliError(f"{label} not sent: {line}")


def simulate(method: Any, *args: Any, sender: Any, **kwargs: Any) -> Any:
    """eth_call of exactly this transaction (same sender, value, data) against the pending block.

    Returns the prepared transaction. Raises `ApiaryCliError` when it would revert or cannot be prepared
    (insufficient funds, node down), without sending anything.
    """
    from ape import networks

    try:
        txn = method.as_transaction(*args, sender=sender, **kwargs)
        networks.provider.send_call(txn, block_id="pending", skip_trace=True)  # no call-tree print
    except ApiaryCliError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes one explained line
        raise _would_fail(_label(method), exc) from exc
    return txn


def send(method: Any, *args: Any, sender: Any, **kwargs: Any) -> Any:
    """Simulate, then send `method(*args)` from `sender`; returns the receipt.

    `method` is an ape contract method (`contract.setFeeBps`); `kwargs` are transaction options (value,
    gas_limit, …). A would-be revert raises `ApiaryCliError` before anything is broadcast.
    """
    simulate(method, *args, sender=sender, **kwargs)
    try:
        return method(*args, sender=sender, **kwargs)
    except ApiaryCliError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. the state changed between simulation and inclusion
        raise ApiaryCliError(f"{_label(method)} failed: {explain(exc)}") from exc


def deploy(container: Any, *args: Any, sender: Any, **kwargs: Any) -> Any:
    """Deploy `container` (an ape ContractContainer) after simulating its constructor; returns the instance."""
    from ape import networks

    name = getattr(container.contract_type, "name", None) or "contract"
    try:
        txn = container.constructor.serialize_transaction(*args, sender=sender, **kwargs)
        networks.provider.send_call(txn, block_id="pending", skip_trace=True)  # no call-tree print
    except Exception as exc:  # noqa: BLE001
        raise _would_fail(f"deploying {name}", exc) from exc
    try:
        return container.deploy(*args, sender=sender, **kwargs)
    except Exception as exc:  # noqa: BLE001
        raise ApiaryCliError(f"deploying {name} failed: {explain(exc)}") from exc


def commit_seal(book: Any, seal: bytes, *, sender: Any, **kwargs: Any) -> int:
    """Land the commitment `seal` in a seal book (`book.commit` for registrations, or pass the bound method to
    use, e.g. `commit=book.commitChallenge`); returns the block it landed in.

    A hash already pending is used as it is, never sent again: our own from a run that crashed before it wrote
    the block down, or a copy someone sent in front of ours from the mempool. Either binds our address, and a
    copy only numbers it earlier (ISealBook), so a front-runner cannot make the commit or its retries fail.
    """
    commit = kwargs.pop("commit", None) or book.commit
    pending = book.pendingSeal(seal)
    if int(pending.number):
        return int(pending.blockNumber)
    try:
        return int(send(commit, seal, sender=sender, **kwargs).block_number)
    except ApiaryCliError:
        pending = book.pendingSeal(seal)
        if int(pending.number):  # landed in front of ours
            return int(pending.blockNumber)
        raise


def seal_expired(book: Any, landed: int | None, log: Any = None) -> bool:
    """True when the seal that landed in block `landed` can no longer be revealed by a transaction sent now (past
    the book's `sealWindow`): the caller seals again with a fresh salt. False when nothing landed."""
    from ape import chain

    window = int(book.sealWindow())
    if landed is None or chain.blocks.height + 1 <= int(landed) + window:
        return False
    if log is not None:
        log(f"the seal sent at block {landed} expired (window {window} blocks): sealing again")
    return True
