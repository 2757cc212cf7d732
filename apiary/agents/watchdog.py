"""The watchdog: re-executes optimistic results of the models it knows and challenges the wrong ones, then slashes
the provider when no proof arrives in the response window (the challenger's bond comes back with its share).

    ape run compute watchdog --model 1=model.onnx --account watcher --network …

Restart-safe: the state file records the next block to scan for results and the jobs it challenged; before
challenging it asks the chain (a job challenged already, or past its window, is left alone). A challenge is
committed, then revealed a block later (ComputeMarket.commitChallenge/challenge); its salt is saved before the
commitment is sent, so a restart in between reveals it rather than losing the bond.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..sdk import compute as sdk
from ..sdk.tx import send
from .base import Agent

# Seconds of challenge window a wrong result must have left for the watchdog to commit and then reveal (a block
# each): a commitment revealed too late is forfeited.
REVEAL_MARGIN = 30


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

        from ..zk import inference

        c = self.client.compute
        j = c.job(job_id)
        if sdk.kept_challenge(self.client, self.account, job_id):
            # Committed before a restart, never revealed: reveal it now, whatever happened since (its bond comes
            # back if someone else challenged first; unrevealed it would be forfeited).
            self.mark(f"challenge:{job_id}")
            try:
                held = sdk.challenge_job(self.client, self.account, job_id)
            except Exception as exc:  # noqa: BLE001 - e.g. the window closed meanwhile: say so, keep going
                self.log(f"{self.name}: job #{job_id}: the challenge committed before the restart could not be "
                         f"revealed: {exc}")
                return
            self.state["watching"].append(job_id)
            self.log(f"{self.name}: job #{job_id}: revealed the challenge committed before the restart"
                     + ("" if held else " (someone else challenged first: bond returned)"))
            return
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
        closes = int(j.resultAt) + int(j.terms.challengeWindow)
        if int(chain.pending_timestamp) + REVEAL_MARGIN > closes:
            self.log(f"{self.name}: job #{job_id} has wrong outputs but its challenge window closes too soon to "
                     "commit and reveal a challenge")
            return
        # Commit (the bond, the job hidden), then reveal in a later block: a copy of the reveal lands nowhere.
        # Whether the sampled audit also catches it is unknown until the window closes: challenge every lie.
        held = sdk.challenge_job(self.client, self.account, job_id)
        self.mark(f"challenge:{job_id}")
        self.state["watching"].append(job_id)
        if held:
            self.log(f"{self.name}: challenged job #{job_id}: posted {posted}, the model gives another result")
        else:
            self.log(f"{self.name}: job #{job_id} was challenged by someone else first (bond returned): watching it")

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
                if not any(self.seen(f"{k}:{job_id}") for k in ("challenge", "unchecked")):
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
