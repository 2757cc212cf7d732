"""The seller's delivery agent: watches the data market for purchases of its listings, delivers each buyer the
package key encrypted to the buyer's one-time key, and settles sales whose dispute window closed.

    ape run data deliver-agent --account seller --network …      (one process per seller; Ctrl-C stops it)

It keeps no secret of its own: package keys are the ones `ape run data list` stored. Restart-safe: the state
file records the next sale id to look at, the sales still open and what was done (`deliver:<id>`); before acting
the agent asks the chain (`saleState`), so a crash between a delivery and its mark never delivers twice (the
contract would refuse it anyway, and the simulation sends nothing then). A delivery still not on chain
`redeliver_blocks` blocks after it was sent (dropped, or undone by a reorg) is sent again. One sale that fails
(a closed listing, a settlement that reverts) is reported and skipped, never stopping the others.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..sdk import data as sdk
from .base import Agent


class DeliveryAgent(Agent):
    name = "delivery"

    def __init__(self, client: sdk.DataClient, seller: Any, key_dir: Path, state_path: Path,
                 poll_interval: float = 2.0, log: Callable[[str], None] = print, settle: bool = True,
                 redeliver_blocks: int = 20):
        super().__init__(state_path, poll_interval=poll_interval, log=log)
        self.client, self.seller, self.key_dir, self.settle = client, seller, Path(key_dir), settle
        self.redeliver_blocks = redeliver_blocks
        self.state.setdefault("next_sale", 1)
        self.state.setdefault("open", [])
        self.state.setdefault("sent_at", {})  # sale → block a delivery was sent at

    def _scan(self) -> None:
        m = self.client.market
        total = int(m.totalSales())  # one read per tick: no call for a sale that does not exist yet
        while not self.stopping and int(self.state["next_sale"]) <= total:
            sale_id = int(self.state["next_sale"])
            s = m.sale(sale_id)
            listing = m.listing(int(s.listingId))
            if str(listing.seller) == self.seller.address and sale_id not in self.state["open"]:
                self.state["open"].append(sale_id)
                self.log(f"{self.name}: sale #{sale_id} of listing #{int(s.listingId)} by {s.buyer}")
            self.state["next_sale"] = sale_id + 1
            self.save()

    def tick(self) -> None:
        self._scan()
        for sale_id in list(self.state["open"]):
            if self.stopping:
                return
            self.attempt(sale_id, f"sale #{sale_id}", lambda sale_id=sale_id: self._handle(sale_id))
        self.save()

    def _handle(self, sale_id: int) -> None:
        from ape import chain

        m = self.client.market
        state = sdk.SALE_STATES[int(m.saleState(sale_id))]
        dataset_id = sdk.sale_dataset(self.client, sale_id) if state in ("paid", "settleable") else None
        if dataset_id is not None and self.client.datasets.isDuplicate(dataset_id):
            self._close(sale_id)  # neither delivered nor settled: the buyer refunds
            self.log(f"{self.name}: dataset #{dataset_id} was proven a duplicate: sale #{sale_id} is refunded to its "
                     "buyer, not delivered")
            return
        if state == "paid":
            head = int(chain.blocks.head.number)
            sent = self.state["sent_at"].get(str(sale_id))
            if self.seen(f"deliver:{sale_id}") and (sent is None or head < int(sent) + self.redeliver_blocks):
                return  # sent and not on chain yet (a pending transaction): never a second one this soon
            s = m.sale(sale_id)  # one snapshot: the listing's key and the buyer key named on chain
            listing_id = int(s.listingId)
            key = sdk.listing_key(self.key_dir, bytes(m.listing(listing_id).cipherRoot))
            if key is None:
                raise RuntimeError(f"no package key for listing #{listing_id} in {self.key_dir}")
            if self.seen(f"deliver:{sale_id}"):
                self.log(f"{self.name}: the delivery of sale #{sale_id} sent at block {sent} is not on chain: resending")
            sdk.deliver_sale(self.client, self.seller, sale_id, key, sale=s)
            self.state["sent_at"][str(sale_id)] = head
            self.mark(f"deliver:{sale_id}")
            self.log(f"{self.name}: delivered sale #{sale_id}")
        elif state == "delivered":
            if not self.seen(f"deliver:{sale_id}"):
                self.mark(f"deliver:{sale_id}", note="found delivered on chain")
        elif state == "settleable" and self.settle:
            from ..sdk.amounts import format_time
            from ..sdk.tx import send

            payable_at = sdk.payable_at(self.client, dataset_id)
            if int(chain.blocks.head.timestamp) < payable_at:
                # No sale settles while the dataset can still be proven a duplicate (DataMarketDatasetContestable).
                if not self.seen(f"wait:{sale_id}"):
                    self.mark(f"wait:{sale_id}")
                    self.log(f"{self.name}: sale #{sale_id} settles from {format_time(payable_at)}, when dataset "
                             f"#{dataset_id}'s duplicate challenges close")
                return
            send(m.settle, sale_id, sender=self.seller)
            self.mark(f"settle:{sale_id}")
            self.log(f"{self.name}: settled sale #{sale_id}")
            self._close(sale_id)
        elif state in ("settled", "refunded", "expired"):
            self._close(sale_id)
            self.log(f"{self.name}: sale #{sale_id} is {state}")

    def _close(self, sale_id: int) -> None:
        self.state["open"].remove(sale_id)
        self.state["sent_at"].pop(str(sale_id), None)

    def status(self) -> dict:
        delivered = sorted(int(k.split(":")[1]) for k in self.state["seen"] if k.startswith("deliver:"))
        return {"next_sale": self.state["next_sale"], "open": self.state["open"], "delivered": delivered}
