"""How deep the state machines run: a modest depth in CI, as deep as asked with `APIARY_DEEP`.

    APIARY_DEEP unset     ci_examples runs of ci_steps steps (the suite's default: minutes for the whole suite)
    APIARY_DEEP=N         at least N rule steps in all: ceil(N / 100) runs of 100 steps each
    APIARY_DEEP=1         the same as APIARY_DEEP=10000

No example database is written (`database=None`): the suite runs under pytest-xdist and writes nowhere but its
temporary folders; a failure is reported with the steps that reproduce it.
"""

from __future__ import annotations

import math
import os

from hypothesis import HealthCheck, settings

DEEP_STEPS_PER_RUN = 100
DEEP_DEFAULT = 10_000


def deep_steps() -> int | None:
    """The total number of steps `APIARY_DEEP` asks for, or None when it is unset or empty."""
    value = os.environ.get("APIARY_DEEP", "").strip()
    if not value:
        return None
    try:
        steps = int(value)
    except ValueError:
        raise ValueError(f"APIARY_DEEP must be a whole number of steps (1 means {DEEP_DEFAULT:,}), "
                         f"got {value!r}") from None
    if steps < 1:
        raise ValueError(f"APIARY_DEEP must be at least 1, got {steps}")
    return DEEP_DEFAULT if steps == 1 else steps


def machine_settings(ci_examples: int, ci_steps: int) -> settings:
    """Settings for `run_state_machine_as_test`: `ci_examples` × `ci_steps` by default, at least APIARY_DEEP steps
    when it is set. Each run's initialize rule counts as one of hypothesis's steps, so a deep run asks for one more."""
    steps = deep_steps()
    if steps is None:
        examples, per_run = ci_examples, ci_steps
    else:
        examples, per_run = math.ceil(steps / DEEP_STEPS_PER_RUN), DEEP_STEPS_PER_RUN + 1
    return settings(max_examples=examples, stateful_step_count=per_run, deadline=None,
                    suppress_health_check=list(HealthCheck), database=None)
