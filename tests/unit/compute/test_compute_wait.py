"""`wait_result` (behind `ape run compute wait --until`): it returns as soon as the job gets where the caller waits
for, and says so; at the timeout it reports that the job did not get there (the CLI then fails)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from apiary.sdk import compute as sdk

CHALLENGER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"


def _client(states):
    """A client whose job walks through `states` (status name, challenger[, proof due]), one step per read."""
    seen = iter(states)
    last = {}

    def job(job_id):
        try:
            last["j"] = next(seen)
        except StopIteration:
            pass
        status, challenger, *due = last["j"]
        return SimpleNamespace(status=sdk.STATUS.index(status), challenger=challenger, proofDue=due[0] if due else 0)

    return SimpleNamespace(compute=SimpleNamespace(job=job))


@pytest.fixture(autouse=True)
def _no_logs(monkeypatch):
    monkeypatch.setattr(sdk, "outputs_of", lambda client, job_id: None)


@pytest.mark.parametrize("until, states, status", [
    ("result", [("accepted", sdk.ZERO), ("submitted", sdk.ZERO)], "submitted"),
    ("result", [("accepted", sdk.ZERO), ("paid", sdk.ZERO)], "paid"),
    ("challenged", [("submitted", sdk.ZERO), ("submitted", CHALLENGER)], "submitted"),
    ("challenged", [("submitted", sdk.ZERO), ("paid", sdk.ZERO)], "paid"),
    ("challenged", [("submitted", sdk.ZERO), ("submitted", sdk.ZERO, 1_800_000_000)], "submitted"),  # audited
    ("settled", [("submitted", sdk.ZERO), ("submitted", CHALLENGER), ("slashed", CHALLENGER)], "slashed"),
])
def test_wait__reaches_what_it_waits_for(until, states, status):
    assert sdk.wait_result(_client(states), 1, timeout=5, poll=0, until=until) == (status, None, True)


@pytest.mark.parametrize("until, state", [
    ("result", ("accepted", sdk.ZERO)), ("challenged", ("submitted", sdk.ZERO)), ("settled", ("submitted", CHALLENGER)),
])
def test_wait__timeout_says_the_job_did_not_get_there(until, state):
    assert sdk.wait_result(_client([state]), 1, timeout=0.05, poll=0.01, until=until) == (state[0], None, False)
