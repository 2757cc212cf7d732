"""Fast read-only calls for the state machines' invariants.

ape's contract-call path costs ~8 ms a call on the embedded chain; an `eth_call` through the provider, encoded
and decoded here with the contract's ABI, ~1.5 ms. The invariants make tens to a hundred reads after every step,
so the machines read through `FastView` and send transactions through ape as before: the same calls at the same
block, only less Python around them.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from eth_abi import decode, encode
from eth_utils import keccak


class FastView:
    """`FastView(contract, provider, caller).method(*args)`: a view call through `eth_call` at the latest block.
    Arguments with an `.address` are passed as that address; a struct comes back with its fields as attributes,
    several outputs as a tuple, amounts as ints."""

    def __init__(self, contract: Any, provider: Any, caller: Any = None):
        self.address = contract.address
        # the embedded chain wants a sender that can pay for the call's gas; views here do not read msg.sender
        if caller is None:
            from ape import accounts

            caller = accounts.test_accounts[0]
        self._provider, self._caller = provider, getattr(caller, "address", caller)
        self._methods = {m.name: m for m in contract.contract_type.view_methods}
        self._readers: dict = {}

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._readers:
            self._readers[name] = self._reader(self._methods[name])
        return self._readers[name]

    def _reader(self, abi: Any):
        selector = keccak(text=abi.selector)[:4]
        ins, outs = [i.canonical_type for i in abi.inputs], [o.canonical_type for o in abi.outputs]

        def read(*args):
            data = selector + encode(ins, [getattr(a, "address", a) for a in args])
            tx = {"to": self.address, "from": self._caller, "data": "0x" + data.hex()}
            raw = self._provider.make_request("eth_call", [tx, "latest"])
            values = decode(outs, bytes.fromhex(raw[2:]) if isinstance(raw, str) else bytes(raw))
            return _fields(abi.outputs[0], values[0]) if len(values) == 1 else values

        return read


_VIEWS: dict = {}


def fast(contract: Any) -> FastView:
    """A FastView of `contract` on the connected provider (one per address and contract type: the machines'
    contracts are deployed again at the same addresses in every example)."""
    if isinstance(contract, FastView):
        return contract
    key = (contract.address, contract.contract_type.name, id(contract.provider))
    if key not in _VIEWS:
        _VIEWS[key] = FastView(contract, contract.provider)
    return _VIEWS[key]


def _fields(abi_type: Any, value: Any) -> Any:
    if abi_type.components:
        return SimpleNamespace(**{c.name: _fields(c, v) for c, v in zip(abi_type.components, value)})
    return value
