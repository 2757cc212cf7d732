"""The daemon base: idempotency survives a restart, state is written atomically, signals stop the loop cleanly."""

import json
import os
import signal
import threading

import pytest

from apiary.agents.base import Agent, AgentStateError


class Counter(Agent):
    name = "counter"

    def __init__(self, *args, actions=None, fail_times=0, **kwargs):
        super().__init__(*args, log=lambda _m: None, **kwargs)
        self.actions = actions if actions is not None else []
        self.fail_times = fail_times

    def tick(self):
        if self.fail_times:
            self.fail_times -= 1
            raise RuntimeError("rpc down")
        for item in ("a", "b"):
            if not self.seen(f"act:{item}"):
                self.actions.append(item)
                self.mark(f"act:{item}", tx="0x01")


def test_mark__survives_a_restart__no_action_twice(tmp_path):
    actions = []
    assert Counter(tmp_path / "state.json", poll_interval=0, actions=actions).run(max_ticks=3) == 3
    assert Counter(tmp_path / "state.json", poll_interval=0, actions=actions).run(max_ticks=2) == 2
    assert actions == ["a", "b"]
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["seen"]["act:a"]["tx"] == "0x01"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left behind


def test_tick_failure__is_retried_on_the_next_poll(tmp_path):
    agent = Counter(tmp_path / "s.json", poll_interval=0, fail_times=2)
    agent.run(max_ticks=3)
    assert agent.actions == ["a", "b"]


def test_tick_failure__too_many_in_a_row__reraises(tmp_path):
    agent = Counter(tmp_path / "s.json", poll_interval=0, fail_times=5, max_failures=3)
    with pytest.raises(RuntimeError, match="rpc down"):
        agent.run()


def test_sigterm__stops_the_loop_and_restores_handlers(tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    agent = Counter(tmp_path / "s.json", poll_interval=30)
    threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGTERM)).start()
    assert agent.run() == 1  # the 30 s wait was cut short by the signal
    assert signal.getsignal(signal.SIGTERM) is before
    assert json.loads((tmp_path / "s.json").read_text())["seen"].keys() == {"act:a", "act:b"}


def test_corrupt_state_file__refused_with_a_hint(tmp_path):
    (tmp_path / "s.json").write_text("{not json")
    with pytest.raises(AgentStateError, match="move the file away"):
        Counter(tmp_path / "s.json")
