"""The watchdog: re-executes optimistic results of the models it knows and challenges the wrong ones, then slashes
the provider when no proof arrives in the response window (the challenger's bond comes back with its share).

    ape run compute watchdog --model 1=model.onnx --account watcher --network …

Restart-safe: the state file records the next block to scan for results and the jobs it challenged; before
challenging it asks the chain (a job challenged already, or past its window, is left alone).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..sdk import compute as sdk
from ..sdk.tx import send
from .base import Agent


class Watchdog(Agent):
    name = "watchdog"

    def __init__(self, client: sdk.ComputeClient, account: Any, served: dict[int, tuple[Any, Any]], state_path: Path,
                 *, poll_interval: float = 2.0, log: Callable[[str], None] = print, base_dir: Path | None = None):
        super().__init__(state_path, poll_interval=poll_interval, log=log)
        self.client, self.account, self.served, self.base_dir = client, account, served, base_dir
        self.state.setdefault("next_block", int(client.from_block))
        self.state.setdefault("watching", [])
        self.state.setdefault("checked", 0)

    def _check(self, job_id: int, posted: list[int]) -> None:
        from ape import chain

        from ..sdk.data import _approve
        from ..zk import inference

        c = self.client.compute
        j = c.job(job_id)
        served = self.served.get(int(j.modelId))
        if served is None or sdk.STATUS[int(j.status)] != "submitted" or j.challenger != sdk.ZERO:
            return
        ic, net = served
        try:
            x = sdk.fetch_input(ic, sdk.job_uri(self.client, job_id), self.base_dir)
            if inference.input_commitment(ic, x) != bytes(j.inputCommitment):
                raise ValueError("the file does not match the job's input commitment")
        except Exception as exc:  # noqa: BLE001 - never challenge on an input it cannot vouch for
            self.mark(f"unchecked:{job_id}", why=str(exc)[:200])
            self.log(f"{self.name}: job #{job_id} not checked: {exc}")
            return
        self.state["checked"] = int(self.state["checked"]) + 1
        if inference.outputs_of(net, x) == posted:
            return
        if int(chain.pending_timestamp) > int(j.resultAt) + int(j.terms.challengeWindow):
            self.log(f"{self.name}: job #{job_id} has wrong outputs but its challenge window closed")
            return
        # The bond's approval first: it is a transaction too, and the draw below must be read at the block the
        # challenge itself lands in.
        _approve(str(c.stakeToken()), self.account, c.address, int(j.terms.challengeBond), lambda _m: None)
        if self._audited(job_id):
            return
        try:
            send(c.challenge, job_id, sender=self.account)
        except Exception:
            # Another transaction landed first and the draw's block came to exist: the market drew the audit
            # inside `challenge` and refused it. Then the result is audited, and watched as one.
            if self._audited(job_id):
                return
            raise
        self.mark(f"challenge:{job_id}")
        self.state["watching"].append(job_id)
        self.log(f"{self.name}: challenged job #{job_id}: posted {posted}, the model gives another result")

    def _audited(self, job_id: int) -> bool:
        """Whether the market's audit already catches the job: then record the draw (it starts the response
        window) and watch it like a challenged one. The draw is computed off chain first: a drawAudit sent for
        every doubted result would point copiers at them. The market refuses to challenge an audited result."""
        c = self.client.compute
        j = c.job(job_id)
        if not sdk.audit_outcome(job_id, j, int(c.auditBlock(job_id))):
            return False
        if not j.drawn:
            send(c.drawAudit, job_id, sender=self.account)
        self.mark(f"audited:{job_id}")
        self.state["watching"].append(job_id)
        self.log(f"{self.name}: job #{job_id} has wrong outputs and its audit requires a proof: watching it")
        return True

    def tick(self) -> None:
        from ape import chain

        from ..zk import inference

        head = int(chain.blocks.head.number)
        start = int(self.state["next_block"])
        if head >= start:
            for log in self.client.compute.ResultPosted.range(start, head + 1):
                if self.stopping:
                    return
                job_id = int(log.jobId)
                if not any(self.seen(f"{k}:{job_id}") for k in ("challenge", "unchecked", "audited")):
                    self._check(job_id, inference.from_instances([int(v) for v in log.outputs]))
            self.state["next_block"] = head + 1
            self.save()
        for job_id in list(self.state["watching"]):
            status = sdk.STATUS[int(self.client.compute.job(job_id).status)]
            if status == "submitted":
                done = sdk.settle_if_due(self.client, self.account, job_id)
                if done:
                    self.log(f"{self.name}: job #{job_id} {done}")
            else:
                self.state["watching"].remove(job_id)
                self.log(f"{self.name}: job #{job_id} {status}")
        self.save()

    def status(self) -> dict:
        challenged = sorted(int(k.split(":")[1]) for k in self.state["seen"] if k.startswith("challenge:"))
        return {"next_block": self.state["next_block"], "checked": self.state["checked"], "challenged": challenged,
                "watching": self.state["watching"]}
