"""Walking a sparse deadline index that is spread over shards (`<prefix>NN` hash keys), as
the reapers do: every item due by `now`, shard by shard, page by page, until the time
budget is spent."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any


def due(
    index: Any, deadline: Any, prefix: str, shards: int, now: int, budget_s: float, page: int = 100
) -> Iterator[Any]:
    """The index's items with `deadline <= now`; stops early once `budget_s` is spent."""
    until = time.monotonic() + budget_s
    for shard in range(shards):
        start = None
        while time.monotonic() < until:
            found = index.query(
                f"{prefix}{shard:02d}", deadline <= now, limit=page, last_evaluated_key=start
            )
            yield from found
            start = found.last_evaluated_key
            if not start:
                break
