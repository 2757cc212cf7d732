"""The base every daemon shares: a poll loop, a JSON state file written atomically, an idempotency record and a
clean shutdown on SIGINT/SIGTERM.

    class Prover(Agent):
        def tick(self):
            for job in open_jobs():
                key = f"submit:{job.id}"
                if self.seen(key) or already_on_chain(job):
                    continue
                submit(job)
                self.mark(key, tx=receipt.txn_hash)   # persisted before the next action

The state file records what this agent did; it is a cache of intent, not the truth. An action is marked right
after it succeeds, so a crash between the action and the mark repeats at most that one action, which is why
`tick` should also check the chain before acting (a submitted proof is visible as `chunkProven`).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..paths import write_atomic

STATE_VERSION = 1


class AgentStateError(RuntimeError):
    """The state file exists but cannot be read; the message says which file and what to do."""


class Agent(ABC):
    """Subclass and implement `tick()`; `run()` calls it every `poll_interval` seconds until stopped.

    `state` is a JSON-serialisable dict persisted to `state_path`; `state["seen"]` maps idempotency keys to
    what was recorded when they were marked. A `tick` that raises is reported through `log` and retried on the
    next poll (after `max_failures` consecutive failures the loop stops and re-raises the last error).
    """

    name = "agent"

    def __init__(self, state_path: Path, poll_interval: float = 12.0, max_failures: int = 10,
                 log: Callable[[str], None] = print):
        if poll_interval < 0:
            raise ValueError(f"poll_interval must be >= 0, got {poll_interval}")
        self.state_path = Path(state_path)
        self.poll_interval = poll_interval
        self.max_failures = max_failures
        self.log = log
        self.ticks = 0
        self._stop = threading.Event()
        self._failing: dict[Any, str] = {}  # item → the failure last logged for it (memory: `attempt`)
        self.state = self._load()

    # ---------------------------------------------------------------- state

    def _load(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {"version": STATE_VERSION, "seen": {}}
        try:
            state = json.loads(self.state_path.read_text())
        except (OSError, ValueError) as exc:
            raise AgentStateError(f"cannot read the agent state {self.state_path} ({exc}): fix or move the file "
                                  "away; the agent then rebuilds what it needs from the chain") from None
        if not isinstance(state, dict) or not isinstance(state.get("seen"), dict):
            raise AgentStateError(f"{self.state_path} is not an agent state file (no 'seen' record)")
        return state

    def save(self) -> None:
        """Persist `state` atomically: after a crash the file is the old state or the new one, never half."""
        write_atomic(self.state_path, json.dumps(self.state, indent=2, sort_keys=True, default=str) + "\n")

    def seen(self, key: str) -> bool:
        """True when `mark(key)` was called before (in this run or an earlier one)."""
        return key in self.state["seen"]

    def mark(self, key: str, **record: Any) -> None:
        """Record that the action `key` is done (with optional details, e.g. a tx hash) and persist at once."""
        self.state["seen"][key] = {"at": int(time.time()), **record}
        self.save()

    def attempt(self, key: Any, what: str, action: Callable[[], Any]) -> None:
        """Run one item's `action`; if it fails, log why once (again only when the reason changes) and go on, so
        one failing item (a job, a sale) never fails the tick for the others. It is retried next tick."""
        try:
            action()
            self._failing.pop(key, None)
        except Exception as exc:  # noqa: BLE001 - reported, retried next tick
            if self._failing.get(key) != str(exc):
                self._failing[key] = str(exc)
                self.log(f"{self.name}: {what}: {exc} (retrying)")

    # ---------------------------------------------------------------- loop

    @abstractmethod
    def tick(self) -> None:
        """One pass over the work: read the chain, act on what is due. Must be safe to repeat."""

    def stop(self) -> None:
        """Ask the loop to finish after the current tick (signal-safe)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        """Long ticks can check this between items to stop early."""
        return self._stop.is_set()

    def run(self, max_ticks: int | None = None) -> int:
        """Loop until stopped (SIGINT/SIGTERM, `stop()`) or `max_ticks` passes; returns the ticks run."""
        previous = self._install_signal_handlers()
        failures = 0
        try:
            while not self._stop.is_set() and (max_ticks is None or self.ticks < max_ticks):
                try:
                    self.tick()
                    failures = 0
                except Exception as exc:  # noqa: BLE001 - a daemon reports and retries; see max_failures
                    failures += 1
                    self.log(f"{self.name}: tick failed ({failures}/{self.max_failures}): {exc}")
                    if failures >= self.max_failures:
                        raise
                self.ticks += 1
                self.save()
                if max_ticks is not None and self.ticks >= max_ticks:
                    break
                self._stop.wait(self.poll_interval)  # returns at once when a signal asks to stop
        finally:
            self._restore_signal_handlers(previous)
            self.save()
        return self.ticks

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}  # signals are delivered to the main thread only; stop() still works

        def handler(signum: int, _frame: Any) -> None:
            self.log(f"{self.name}: {signal.Signals(signum).name} received, stopping after the current step")
            self.stop()

        return {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    @staticmethod
    def _restore_signal_handlers(previous: dict[int, Any]) -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)
