"""The seller's delivery agent: watches the data market for purchases of its listings, delivers each buyer the
package key encrypted to the buyer's one-time key, and settles sales whose dispute window closed.

    ape run data deliver-agent --account seller --network …      (one process per seller; Ctrl-C stops it)

It keeps no secret of its own: package keys are the ones `ape run data list` stored. Restart-safe: the state
file records the next sale id to look at, the sales still open and what was done (`deliver:<id>`); before acting
the agent asks the chain (`saleState`), so a crash between a delivery and its mark never delivers twice (the
contract would refuse it anyway, and the simulation sends nothing then).
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
                 poll_interval: float = 2.0, log: Callable[[str], None] = print, settle: bool = True):
        super().__init__(state_path, poll_interval=poll_interval, log=log)
        self.client, self.seller, self.key_dir, self.settle = client, seller, Path(key_dir), settle
        self.state.setdefault("next_sale", 1)
        self.state.setdefault("open", [])

    def _scan(self) -> None:
        m = self.client.market
        while not self.stopping:
            sale_id = int(self.state["next_sale"])
            try:
                s = m.sale(sale_id)
            except Exception:  # noqa: BLE001 - DataMarketUnknownSale: no sale with this id yet
                return
            listing = m.listing(int(s.listingId))
            if str(listing.seller) == self.seller.address and sale_id not in self.state["open"]:
                self.state["open"].append(sale_id)
                self.log(f"{self.name}: sale #{sale_id} of listing #{int(s.listingId)} by {s.buyer}")
            self.state["next_sale"] = sale_id + 1
            self.save()

    def tick(self) -> None:
        self._scan()
        m = self.client.market
        for sale_id in list(self.state["open"]):
            if self.stopping:
                return
            state = sdk.SALE_STATES[int(m.saleState(sale_id))]
            if state == "paid":
                if self.seen(f"deliver:{sale_id}"):
                    continue  # marked but not on chain yet (a pending transaction): never send a second one
                listing_id = int(m.sale(sale_id).listingId)
                key = sdk.listing_key(self.key_dir, bytes(m.listing(listing_id).cipherRoot))
                if key is None:
                    self.log(f"{self.name}: no package key for listing #{listing_id} in "
                             f"{self.key_dir}: cannot deliver sale #{sale_id}")
                    continue
                sdk.deliver_sale(self.client, self.seller, sale_id, key)
                self.mark(f"deliver:{sale_id}")
                self.log(f"{self.name}: delivered sale #{sale_id}")
            elif state == "delivered":
                if not self.seen(f"deliver:{sale_id}"):
                    self.mark(f"deliver:{sale_id}", note="found delivered on chain")
            elif state == "settleable" and self.settle:
                from ..sdk.tx import send

                send(m.settle, sale_id, sender=self.seller)
                self.mark(f"settle:{sale_id}")
                self.log(f"{self.name}: settled sale #{sale_id}")
                self.state["open"].remove(sale_id)
            elif state in ("settled", "refunded", "expired"):
                self.state["open"].remove(sale_id)
                self.log(f"{self.name}: sale #{sale_id} is {state}")
        self.save()

    def status(self) -> dict:
        delivered = sorted(int(k.split(":")[1]) for k in self.state["seen"] if k.startswith("deliver:"))
        return {"next_sale": self.state["next_sale"], "open": self.state["open"], "delivered": delivered}
