"""The compute provider's agent: watches the compute market for jobs of the models it serves, checks each job's
input against its commitment, runs the model (the exact integer network its circuit proves), and takes the job:

* proof mode: proves first, then takes the job and submits the proof in one transaction — a proof that cannot
  be made never costs collateral. Where governance enabled a batch circuit for the model's circuit
  (`setBatchCircuit`) and its folder is here (`apiary zk build-inference --slots k`), proof-mode jobs are queued
  and proven k at a time, one `submitProofBatch` per proof: at the digits MLP's 2^17 rows a proof of 16 inputs
  takes about the time of one;
* optimistic mode: takes the job and posts the outputs in one transaction; answers a challenge or a positive
  audit with a proof, and finalizes its jobs when the challenge window closes.

    ape run compute provider-agent --model 1=model.onnx --account provider --network …

Restart-safe: the state file records the next job id to look at and the jobs it holds; every action first asks
the chain (`job(id).status`), so a crash between a transaction and its mark never submits twice (the contract
would refuse a second submission anyway, and the simulation sends nothing then). `lie=True` makes a provider that
posts wrong outputs (tests and demos of the watchdog and of sampled audits).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..sdk import compute as sdk
from ..sdk.tx import send
from .base import Agent


MAX_WAITING_PER_OPEN = 2  # jobs waiting for free stake, at most this many times max_open


class _Full(Exception):
    """The agent holds max_open jobs: new ones wait."""


class ProviderAgent(Agent):
    name = "provider"

    def __init__(self, client: sdk.ComputeClient, account: Any, served: dict[int, tuple[Any, Any]], state_path: Path,
                 *, poll_interval: float = 2.0, log: Callable[[str], None] = print, lie: bool = False,
                 margin: int = 30, base_dir: Path | None = None, max_open: int = 200,
                 prices: dict[str, int] | None = None, collateral_per_price: dict[str, Fraction] | None = None,
                 requester_share: Fraction | None = None):
        super().__init__(state_path, poll_interval=poll_interval, log=log)
        self.client, self.account, self.served, self.lie, self.margin = client, account, served, lie, margin
        # token address → the least payment taken, in its base units (None: any job; `ape run compute
        # provider-agent` always passes a policy, by default the deployment's ApiaryToken at any positive price)
        self.prices = None if prices is None else {str(token).lower(): int(least) for token, least in prices.items()}
        # token address → the most collateral (stake base units) asked per base unit of net payment in that token:
        # a job paying 2 wei cannot lock the whole stake for a challenge window (None: no bound)
        self.collateral_per_price = None if collateral_per_price is None else {
            str(token).lower(): Fraction(ratio) for token, ratio in collateral_per_price.items()}
        # the most of the stake that one requester's jobs may hold locked at once (None: no bound)
        self.requester_share = None if requester_share is None else Fraction(requester_share)
        self.base_dir = base_dir
        self.state.setdefault("next_job", 1)
        self.state.setdefault("mine", [])
        self.state.setdefault("skipped", [])
        self.state.setdefault("prove_seconds", 0.0)
        self.state.setdefault("inputs", {})
        self.state.setdefault("queued", [])  # proof-mode jobs naming us, waiting for a batch proof
        self.state.setdefault("reserve", {})  # queued job → its collateral (locked on chain when its batch lands)
        # open jobs whose collateral the free stake did not cover yet: job → [collateral, deadline]
        if not isinstance(self.state.setdefault("waiting", {}), dict):
            self.state["waiting"] = {}
        self.max_open = max_open
        self.batch = {model_id: self._batch_circuit(ic) for model_id, (ic, _net) in served.items()}
        self._uris: dict[int, str] = {}
        self._uri_block = int(client.from_block)
        self._event_block = int(client.from_block)  # Challenged/AuditDrawn scanned up to here (memory: a restart rescans)
        self._quiet_until: dict[int, int] = {}  # job → end of its challenge window (memory)
        self._told_waiting: set[int] = set()  # waiting jobs already logged (memory)
        self._min_stake = int(client.compute.params()[0])  # Params.minStake, read again every tick

    # ---------------------------------------------------------------- helpers

    def _batch_circuit(self, ic: Any) -> Any:
        """The largest batch circuit built here that the market has enabled for `ic`'s evaluation circuit, or None."""
        from ..sdk.market import circuit_id
        from ..zk import inference

        enabled = bytes(self.client.compute.batchCircuitOf(circuit_id(ic.evaluation.circuit_id)))
        for slots in reversed(inference.batch_sizes(ic.evaluation)):
            batch = inference.open_inference(ic.evaluation, slots)
            if circuit_id(batch.circuit_id) == enabled:
                return batch
        return None

    def _uri(self, job_id: int) -> str:
        """The job's input URI, from JobPosted events read once per block range (kept in memory)."""
        from ape import chain

        if job_id not in self._uris:
            head = int(chain.blocks.head.number)
            for log in self.client.compute.JobPosted.range(self._uri_block, head + 1):
                self._uris[int(log.jobId)] = str(log.inputUri)
            self._uri_block = head + 1
        if job_id not in self._uris:
            return sdk.job_uri(self.client, job_id)
        return self._uris[job_id]

    def _input(self, job_id: int, ic: Any) -> Any:
        import numpy as np

        kept = self.state["inputs"].get(str(job_id))
        if kept is not None:
            return np.asarray(kept, dtype=np.int64).reshape(1, -1)
        return sdk.fetch_input(ic, self._uri(job_id), self.base_dir)

    def _checked_input(self, job_id: int, ic: Any) -> Any:
        """The job's input, kept or fetched again (after a crash), checked against its commitment."""
        from ..zk import inference

        x = self._input(job_id, ic)
        if inference.input_commitment(ic, x) != bytes(self.client.compute.job(job_id).inputCommitment):
            raise ValueError(f"the input of job #{job_id} no longer matches its commitment")
        return x

    def _outputs(self, net: Any, x: Any) -> list[int]:
        from ..zk import inference

        outputs = inference.outputs_of(net, x)
        if self.lie:
            outputs[0] += 1
        return outputs

    def _prove(self, ic: Any, net: Any, x: Any) -> Any:
        """A proof for input x, or for a list of inputs with a batch circuit."""
        from ..zk import inference

        start = time.perf_counter()
        proof = inference.prove_inference_batch(ic, net, x) if ic.slots > 1 else inference.prove_inference(ic, net, x)
        self.state["prove_seconds"] = float(self.state["prove_seconds"]) + time.perf_counter() - start
        return proof

    def _unpaid(self, j: Any) -> str | None:
        """Why the job pays too little to be worth the gas, the proof and the locked collateral; None if it pays.
        Without a policy, anyone could keep the agent busy with jobs paid in a token of their own, or with nothing."""
        if self.prices is None:
            return None
        token, price = str(j.token), int(j.price)
        least = self.prices.get(token.lower())
        if least is None:
            return f"it pays in {token}, a token this agent does not take (--min-price TOKEN=AMOUNT)"
        fee_bps = int(j.terms.feeBps)
        net = price - (price * fee_bps + 9_999) // 10_000  # what reaches the provider: the fee is rounded up
        if net < least:
            return f"it pays {net} base units of {token} after the protocol fee, under this agent's minimum of {least}"
        if self.collateral_per_price is not None:
            ratio = self.collateral_per_price.get(token.lower())
            if ratio is not None and int(j.collateral) > net * ratio:
                return (f"it asks {int(j.collateral)} base units of collateral for {net} of {token} after the fee: more "
                        f"than this agent's {float(ratio):g} per unit of payment (--max-collateral-ratio)")
        return None

    def _over_requester_share(self, j: Any) -> str | None:
        """Why taking the job would lock more of the stake for one requester than the policy allows; None if not.
        Counts the collateral of this agent's open jobs of that requester (held or queued)."""
        if self.requester_share is None:
            return None
        c = self.client.compute
        requester = str(j.requester)
        held = int(j.collateral)
        for job_id in self.state["mine"]:
            other = c.job(job_id)
            if str(other.requester) == requester and sdk.STATUS[int(other.status)] in ("open", "accepted", "submitted"):
                held += int(other.collateral)
        stake = int(c.providerOf(self.account.address).stake)
        if held > stake * self.requester_share:
            return (f"its requester {requester} would hold {held} of the {stake} staked locked, more than this agent's "
                    f"share of {float(self.requester_share):.0%} per requester (--max-requester-share)")
        return None

    def _skip(self, job_id: int, why: str) -> None:
        self.state["skipped"].append(job_id)
        self.log(f"{self.name}: skipping job #{job_id}: {why}")

    # ---------------------------------------------------------------- new jobs

    def _consider(self, job_id: int) -> None:
        from ape import chain

        from ..zk import inference

        c = self.client.compute
        j = c.job(job_id)
        status = sdk.STATUS[int(j.status)]
        served = self.served.get(int(j.modelId))
        if served is None or str(j.provider) not in (sdk.ZERO, self.account.address):
            return
        if status in ("accepted", "submitted") and str(j.provider) == self.account.address:
            if job_id not in self.state["mine"]:  # taken before a crash that lost the record: finish it
                self.state["mine"].append(job_id)
                self.log(f"{self.name}: resuming job #{job_id} ({status} on chain)")
            return
        if status != "open":
            return
        if (unpaid := self._unpaid(j)) is not None:
            return self._skip(job_id, unpaid)
        if (crowded := self._over_requester_share(j)) is not None:
            return self._skip(job_id, crowded)
        if int(chain.pending_timestamp) + self.margin > int(j.deadline):
            return self._skip(job_id, "too close to its deadline")
        # Queued named jobs lock their collateral only when their batch is sent: count it as taken already.
        free = self._free()
        if free < int(j.collateral):
            return self._wait(job_id, int(j.collateral), int(j.deadline))
        if len(self.state["mine"]) >= self.max_open:
            self.state["next_job"] = job_id  # come back to it when a held job settles
            raise _Full()
        ic, net = served
        try:
            x = self._input(job_id, ic)
            if inference.input_commitment(ic, x) != bytes(j.inputCommitment):
                return self._skip(job_id, "its input does not match the commitment")
        except Exception as exc:  # noqa: BLE001 - an input that cannot be fetched or read: never accept the job
            return self._skip(job_id, f"input unavailable ({exc})")
        # Only inputs the circuit can prove: an optimistic result that could not be proven when challenged or
        # audited would be slashed, a proof-mode job never paid.
        from ..zk.network import MAX_ABS_VALUE

        if net.peak(x) >= MAX_ABS_VALUE // 2:
            return self._skip(job_id, "the model's values on its input leave the circuit's range: no proof possible")
        proof = None
        # Only jobs that name us wait for a batch: they are taken by the batch transaction itself, so nothing is
        # locked before the proof exists (an open job is proven, accepted and submitted on its own, as before).
        batched = (int(j.mode) == sdk.MODES["proof"] and str(j.provider) == self.account.address
                   and self.batch.get(int(j.modelId)) is not None)
        if int(j.mode) == sdk.MODES["proof"] and not batched:
            try:
                proof = self._prove(ic, net, x)
            except Exception as exc:  # noqa: BLE001 - a job that cannot be proven is never taken
                return self._skip(job_id, f"cannot prove it ({exc})")
        # The input is kept with the job: a later proof (challenge, audit, crash) never fetches it again, so a
        # requester who swaps or deletes the file after the result cannot make the proof impossible.
        self.state["inputs"][str(job_id)] = x.reshape(-1).tolist()
        if job_id not in self.state["mine"]:
            self.state["mine"].append(job_id)
        self.save()
        self.log(f"{self.name}: taking job #{job_id} ({sdk.MODE_NAMES[int(j.mode)]})")
        if batched:
            self.state["queued"].append(job_id)  # proven with others at the end of the tick
            self.state["reserve"][str(job_id)] = int(j.collateral)
            self.save()
            return
        if str(j.provider) != self.account.address:
            # a job open to all: accept first (nothing revealed), then submit — a result in the mempool of a job
            # not yet ours could be copied by anyone staked
            try:
                send(c.accept, job_id, sender=self.account)
            except Exception as exc:  # noqa: BLE001 - another provider took it first, or the node failed us
                self._drop(job_id)
                return self._skip(job_id, f"could not accept it ({exc})")
        self._submit(job_id, ic, net, x, proof)

    def _wait(self, job_id: int, collateral: int, deadline: int) -> None:
        """A job whose collateral the free stake does not cover: not skipped for good, since stake freed by settled
        jobs (or staked later) may cover it before its deadline. Unless it could never fit, or the list is full:
        anyone can post jobs asking for any collateral."""
        if collateral > int(self.client.compute.providerOf(self.account.address).stake):
            return self._skip(job_id, f"its collateral {collateral} exceeds the whole stake")
        waiting = self.state["waiting"]
        if str(job_id) not in waiting and len(waiting) >= MAX_WAITING_PER_OPEN * self.max_open:
            return self._skip(job_id, f"its collateral {collateral} exceeds the free stake and {len(waiting)} jobs "
                                      "wait already")
        waiting[str(job_id)] = [collateral, deadline]
        if job_id not in self._told_waiting:
            self._told_waiting.add(job_id)
            self.log(f"{self.name}: job #{job_id} waits: its collateral {collateral} exceeds the free stake")

    def _take_waiting(self, now: int) -> None:
        """Jobs that waited for free stake, oldest first: those past their margin leave the list; those whose
        collateral now fits are considered again (one free-stake read per tick, no call for the others)."""
        waiting = self.state["waiting"]
        free = self._free()
        for key, (collateral, deadline) in sorted(waiting.items(), key=lambda item: int(item[0])):
            if self.stopping or len(self.state["mine"]) >= self.max_open:
                return
            if now + self.margin > deadline:
                del waiting[key]
                self._skip(int(key), "its deadline came while it waited for free stake")
            elif collateral <= free:
                self.attempt(f"waiting:{key}", f"job #{key}", lambda job_id=int(key): self._reconsider(job_id))
                free = self._free()

    def _reconsider(self, job_id: int) -> None:
        """A job that waited for free stake, considered again: taken, still waiting, or gone (taken by another
        provider, too close to its deadline)."""
        entry = self.state["waiting"].pop(str(job_id))
        try:
            self._consider(job_id)
        except Exception:
            self.state["waiting"].setdefault(str(job_id), entry)
            raise

    def _free(self, *, reserved: bool = True) -> int:
        """What the agent can still lock: the free stake, less the collateral of queued jobs (`reserved`); nothing
        while the active stake (unbonding excluded) is under the market's minimum (read once a tick), which
        `accept` requires. One call: the provider record, from which the contract's freeStake is derived."""
        mine = self.client.compute.providerOf(self.account.address)
        active = int(mine.stake) - int(mine.unbonding)
        if active < self._min_stake:
            return 0
        return active - int(mine.locked) - (self._reserved() if reserved else 0)  # freeStake: stake − locked − unbonding

    def _reserved(self) -> int:
        return sum(int(v) for v in self.state["reserve"].values())

    def _drop(self, job_id: int) -> None:
        """Forget a job: not ours (any more) to work on."""
        for key in ("mine", "queued"):
            if job_id in self.state[key]:
                self.state[key].remove(job_id)
        self.state["inputs"].pop(str(job_id), None)
        self.state["reserve"].pop(str(job_id), None)

    def _unqueue(self, job_id: int) -> None:
        if job_id in self.state["queued"]:
            self.state["queued"].remove(job_id)
        self.state["reserve"].pop(str(job_id), None)

    def _prove_queued(self) -> None:
        """Prove the queued proof-mode jobs k at a time per model (k: the batch circuit's slots, read from the
        chain now) and settle each group with one `submitProofBatch`. A group only holds jobs whose collateral fits
        the free stake and whose deadline leaves `margin` seconds; a group that fails falls back to one proof per
        job; a job that cannot be settled at all leaves the queue (logged): one job never stops the others. Without
        a usable batch circuit (disabled, retired, folder missing) every job is proven on its own."""
        c = self.client.compute
        ready: dict[int, list[int]] = {}
        for job_id in sorted(set(self.state["queued"])):
            j = c.job(job_id)
            named = sdk.STATUS[int(j.status)] == "open" and str(j.provider) == self.account.address
            if not named:
                self._unqueue(job_id)  # settled (a batch that landed) or gone: `_advance` tidies up
                continue
            if int(j.modelId) not in self.served:
                self._drop(job_id)  # never taken: it expires to its requester, nothing of ours is locked
                self._skip(job_id, "its model is no longer served here")
                continue
            ready.setdefault(int(j.modelId), []).append(job_id)
        for model_id, jobs in ready.items():
            ic, net = self.served[model_id]
            batch = self._batch_circuit(ic)
            self.batch[model_id] = batch
            size = batch.slots if batch is not None else 1
            while jobs and not self.stopping:
                group = self._fitting(jobs[:size])
                jobs = jobs[len(group) or size:]
                if not group:
                    continue
                if batch is not None and len(group) > 1:
                    try:
                        self._send_batch(batch, net, ic, group)
                        continue
                    except Exception as exc:  # noqa: BLE001 - fall back to one proof per job
                        self.log(f"{self.name}: batch of jobs {group} failed ({exc}): proving them one by one")
                for job_id in group:
                    try:
                        self._unqueue(job_id)
                        self._submit(job_id, ic, net, self._checked_input(job_id, ic))
                    except Exception as exc:  # noqa: BLE001 - this job only
                        self._drop(job_id)
                        self._skip(job_id, f"cannot settle it ({exc})")
                self.save()

    def _fitting(self, group: list[int]) -> list[int]:
        """The longest prefix of `group` whose collateral the free stake covers now and whose deadlines leave
        `margin` seconds (re-read per group: proving earlier groups took time); jobs that no longer fit leave the
        queue."""
        from ape import chain

        c = self.client.compute
        free, now, fitting = self._free(reserved=False), int(chain.pending_timestamp), []
        for job_id in group:
            j = c.job(job_id)
            if now + self.margin > int(j.deadline):
                self._drop(job_id)  # never taken: it expires to its requester, nothing of ours is locked
                self._skip(job_id, "its deadline is too close")
                continue
            if int(j.collateral) > free:  # the stake shrank since it was queued (unbonding, a slash): it waits
                self._drop(job_id)
                self._wait(job_id, int(j.collateral), int(j.deadline))
                continue
            free -= int(j.collateral)
            fitting.append(job_id)
        return fitting

    def _send_batch(self, batch: Any, net: Any, ic: Any, group: list[int]) -> None:
        c = self.client.compute
        proof = self._prove(batch, net, [self._checked_input(job_id, ic) for job_id in group])
        send(c.submitProofBatch, group, proof.proof, proof.instances, sender=self.account)
        for job_id in group:
            self._unqueue(job_id)
            self.mark(f"submit:{job_id}")
        self.save()
        self.log(f"{self.name}: jobs {', '.join(f'#{j}' for j in group)} proven in one batch proof and paid")

    def _submit(self, job_id: int, ic: Any, net: Any, x: Any, proof: Any = None) -> None:
        from ..zk import inference

        c = self.client.compute
        if int(c.job(job_id).mode) == sdk.MODES["proof"]:
            proof = proof or self._prove(ic, net, x)
            send(c.submitProof, job_id, proof.proof, proof.instances, sender=self.account)
            self.log(f"{self.name}: job #{job_id} proven and paid")
        else:
            send(c.submitResult, job_id, inference.to_instances(self._outputs(net, x)), sender=self.account)
            self.log(f"{self.name}: job #{job_id} result posted")
        self.mark(f"submit:{job_id}")

    # ---------------------------------------------------------------- jobs held

    def _advance(self, job_id: int) -> None:
        from ape import chain

        c = self.client.compute
        j = c.job(job_id)
        status = sdk.STATUS[int(j.status)]
        ic, net = self.served[int(j.modelId)]
        if str(j.provider) not in (sdk.ZERO, self.account.address):
            # another provider accepted it first (a race for an open job): not ours
            self._drop(job_id)
            self.log(f"{self.name}: job #{job_id} was taken by {j.provider}")
            return
        if status == "open":
            # recorded, then the accept or the submission failed or never landed: take it now if there is still time
            if int(chain.pending_timestamp) + self.margin > int(j.deadline):
                self._drop(job_id)
                return
            if str(j.provider) == sdk.ZERO:
                send(c.accept, job_id, sender=self.account)  # open to all: accept first, then submit
            self._submit(job_id, ic, net, self._checked_input(job_id, ic))
        elif status == "accepted":
            # accepted but not submitted (a crash in between): submit now if there is still time
            if int(chain.pending_timestamp) <= int(j.deadline):
                self._submit(job_id, ic, net, self._checked_input(job_id, ic))
        elif status == "submitted":
            if not int(j.proofDue) and j.challenger == sdk.ZERO:
                # Nothing to do inside the challenge window, nor while the requester may still reveal its audit
                # seed (a reveal that audits the result arrives as an AuditDrawn event and wakes the job up).
                opens, closes = sdk.reveal_window(j)
                self._quiet_until[job_id] = closes + 1 if any(bytes(j.auditSeedHash)) and not j.drawn else opens
            if int(j.proofDue) and not self.seen(f"prove:{job_id}") and not self.seen(f"unprovable:{job_id}"):
                posted = sdk.outputs_of(self.client, job_id)
                x = self._checked_input(job_id, ic)
                from ..zk import inference

                if posted != inference.outputs_of(net, x):
                    self.mark(f"unprovable:{job_id}")
                    self.log(f"{self.name}: job #{job_id} is {'challenged' if j.challenger != sdk.ZERO else 'audited'} "
                             "and its posted outputs are not the model's: no proof exists")
                    return
                proof = self._prove(ic, net, x)
                send(c.proveResult, job_id, proof.proof, proof.instances, sender=self.account)
                self.mark(f"prove:{job_id}")
                self.log(f"{self.name}: job #{job_id} {'challenge answered' if j.challenger != sdk.ZERO else 'audit passed'} "
                         "with a proof")
            elif not int(j.proofDue):
                done = sdk.settle_if_due(self.client, self.account, job_id)
                if done:
                    self.log(f"{self.name}: job #{job_id} {done}")
        elif status in ("paid", "slashed", "refunded"):
            self._drop(job_id)
            self.log(f"{self.name}: job #{job_id} {status}")

    def tick(self) -> None:
        from ape import chain

        c = self.client.compute
        now, head = int(chain.pending_timestamp), int(chain.blocks.head.number)
        self._min_stake = int(c.params()[0])  # Params.minStake: governance may change it
        # First what is due: challenges and audits of our jobs need a proof now, whatever the window says.
        urgent = set()
        if head >= self._event_block:
            for event in (c.Challenged, c.AuditDrawn):
                urgent |= {int(log.jobId) for log in event.range(self._event_block, head + 1)}
            self._event_block = head + 1
        queued = set(self.state["queued"])
        held = [job_id for job_id in self.state["mine"] if job_id not in queued]  # queued: proven in batches below
        for job_id in sorted(held, key=lambda j: j not in urgent):
            if self.stopping:
                return
            if job_id not in urgent and now < self._quiet_until.get(job_id, 0):
                continue  # a posted result inside its challenge window: nothing to do until it closes
            self.attempt(job_id, f"job #{job_id}", lambda job_id=job_id: self._advance(job_id))
        # Then new jobs, up to max_open held at once: first those that waited for free stake, then the next ones.
        total = int(c.totalJobs())
        try:
            self._take_waiting(now)
            while int(self.state["next_job"]) <= total and not self.stopping:
                job_id = int(self.state["next_job"])
                self._consider(job_id)
                self.state["next_job"] = job_id + 1
                self.save()
        except _Full:
            pass
        self._prove_queued()
        self.save()

    def status(self) -> dict:
        submitted = sorted(int(k.split(":")[1]) for k in self.state["seen"] if k.startswith("submit:"))
        return {"next_job": self.state["next_job"], "holding": self.state["mine"], "submitted": submitted,
                "skipped": self.state["skipped"], "queued": self.state["queued"],
                "waiting": sorted(int(k) for k in self.state["waiting"]),
                "prove_seconds": round(float(self.state["prove_seconds"]), 2)}
