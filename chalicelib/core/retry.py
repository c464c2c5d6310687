"""Optimistic retries: run a step until it commits, backing off with full jitter.

A conditional write that loses a race means someone else committed, so every round lets at
least one writer through. The pause before attempt n is uniform in [0, min(cap, base * 2^n)]
("full jitter"), so N writers racing for one item spread out instead of colliding again, and
the budget is time, not a count: a burst of writers on one item all get through, and only a
step that keeps losing for the whole budget gives up.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

BUDGET_S = 15.0  # well inside API Gateway's 29 s
BASE_S = 0.004
CAP_S = 0.25


def pause(attempt: int, *, base_s: float = BASE_S, cap_s: float = CAP_S) -> float:
    """How long to wait before `attempt` (0: not at all)."""
    if attempt <= 0:
        return 0.0
    return random.uniform(0, min(cap_s, base_s * 2 ** min(attempt, 30)))  # noqa: S311


def until_done(
    step: Callable[[int], bool],
    *,
    budget_s: float = BUDGET_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Call `step(attempt)` until it returns True; False once `budget_s` is spent. `step`
    raises for outcomes that are not worth another try."""
    deadline = clock() + budget_s
    attempt = 0
    while True:
        if step(attempt):
            return True
        attempt += 1
        wait = pause(attempt)
        if clock() + wait > deadline:
            return False
        sleep(wait)
