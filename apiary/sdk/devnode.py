"""Moving blocks and time on a development chain only: anvil (`./dev node`, ape-foundry) or the embedded test
chain. Public networks are refused: there time passes on its own.

ape's `chain.mine` is not available through the plain `node` provider (ethereum:local:node), so anvil is
driven through its own RPC methods (`evm_increaseTime`, `anvil_mine`) there.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from .errors import ApiaryCliError

DEV_CHAIN_IDS = (1337, 31337)


def is_dev_chain() -> bool:
    """A local network or a dev chain id (anvil's 31337, `./dev node`'s 1337)."""
    from ape import networks

    provider = networks.provider
    return provider.network.name == "local" or int(provider.chain_id) in DEV_CHAIN_IDS


def require_dev_chain(what: str = "moving time") -> None:
    from ape import networks

    if not is_dev_chain():
        network = networks.provider.network
        raise ApiaryCliError(f"{what} only works on a dev node (a local network or chain id 1337/31337), not on "
                             f"{network.ecosystem.name}:{network.name} (chain id {networks.provider.chain_id}): "
                             "there blocks and time pass on their own")


def advance(blocks: int = 0, seconds: int = 0) -> tuple[int, int]:
    """Move the dev chain `seconds` forward and mine `blocks` (one at least when time moves, so that the new
    time is on chain). Returns the new head's (number, timestamp)."""
    from ape import chain, networks

    require_dev_chain()
    if blocks < 0 or seconds < 0:
        raise ApiaryCliError("blocks and seconds must not be negative: a chain never goes back")
    blocks = max(blocks, 1 if seconds else 0)
    provider = networks.provider
    if provider.name == "test" or not hasattr(provider, "make_request"):
        if blocks:
            chain.mine(blocks, deltatime=seconds or None)
    else:
        if seconds:
            provider.make_request("evm_increaseTime", [int(seconds)])
        if blocks:
            try:
                provider.make_request("anvil_mine", [hex(blocks)])
            except Exception:  # noqa: BLE001 - not anvil (hardhat, ganache): one evm_mine per block
                for _ in range(blocks):
                    provider.make_request("evm_mine", [])
    head = chain.blocks.head
    return int(head.number), int(head.timestamp)


def wait_for_block(number: int, poll: float = 2.0, timeout: float = 600.0,
                   log: Callable[[str], None] = lambda _m: None) -> None:
    """Until the head is at `number`: mined at once on a dev chain, awaited on a public one."""
    from ape import chain

    if chain.blocks.height >= number:
        return
    if is_dev_chain():
        advance(blocks=number - chain.blocks.height)
        return
    log(f"waiting for block {number} (head {chain.blocks.height})")
    deadline = time.monotonic() + timeout
    while chain.blocks.height < number:
        if time.monotonic() > deadline:
            raise ApiaryCliError(f"block {number} did not arrive within {timeout:.0f} s (head {chain.blocks.height}): "
                                 "is the node syncing? run the command again later")
        time.sleep(poll)
