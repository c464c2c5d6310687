"""Per-project counters of JOBX tasks (seed 002 analysis), kept atomically on write.

Each change of a task's status adds ADD-updates of the counters to the same TransactWrite as
the task change, so the analysis endpoints read a month item and at most 30 day items and
never the tasks themselves. Times are UTC.
"""

from __future__ import annotations

import time
from typing import Any

from pynamodb.transactions import TransactWrite

from .models import RUNTIME_BUCKETS, StatsModel

FINAL = ("success", "fail", "refuse")


def stamps(ms: int) -> tuple[str, str, str]:
    """(month, day, hour) keys of a moment."""
    t = time.gmtime(ms / 1000)
    return time.strftime("%Y-%m", t), time.strftime("%Y-%m-%d", t), time.strftime("%H", t)


def _attr(name: str) -> Any:
    return getattr(StatsModel, name)


def on_create(
    tx: TransactWrite, project: str, month: str, day: str, hour: str, status: str
) -> None:
    tx.update(StatsModel(project, f"m#{month}"), actions=[_attr(f"c_{status}").add(1)])
    tx.update(
        StatsModel(project, f"d#{day}"),
        actions=[StatsModel.total.add(1), _attr(f"h{hour}").add(1)],
    )


def on_status(tx: TransactWrite, project: str, month: str, old: str, new: str) -> None:
    if old != new:
        tx.update(
            StatsModel(project, f"m#{month}"),
            actions=[_attr(f"c_{old}").add(-1), _attr(f"c_{new}").add(1)],
        )


def bucket_of(runtime_s: float) -> str:
    for _, name, limit in RUNTIME_BUCKETS:
        if limit is None or runtime_s < limit:
            return name
    return RUNTIME_BUCKETS[-1][1]  # pragma: no cover


def on_finish(
    tx: TransactWrite, project: str, month: str, day: str, old: str, new: str, runtime_s: float
) -> None:
    on_status(tx, project, month, old, new)
    actions = [StatsModel.finished.add(1), _attr(bucket_of(runtime_s)).add(1)]
    if new == "success":
        actions.append(StatsModel.success.add(1))
    tx.update(StatsModel(project, f"d#{day}"), actions=actions)


def month_counts(project: str, month: str) -> dict[str, int]:
    try:
        item = StatsModel.get(project, f"m#{month}")
    except StatsModel.DoesNotExist:
        item = None
    counts = {"success": 0, "running": 0, "fail": 0}
    if item is not None:
        for status in ("init", "running", "success", "fail", "refuse"):
            value = getattr(item, f"c_{status}", None)
            if value:
                counts[status] = int(value)
    return counts


def days(project: str, first: str, last: str) -> dict[str, Any]:
    """Day items between two `YYYY-MM-DD` keys (one Query, at most ~31 items)."""
    return {
        item.key[2:]: item
        for item in StatsModel.query(project, StatsModel.key.between(f"d#{first}", f"d#{last}"))
    }
