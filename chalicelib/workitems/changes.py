"""One task change of the ONES face (seed 001) as one DynamoDB TransactWrite.

`Change` collects what a change writes — the task (conditional on the
`server_update_stamp` it was read with), counters of other tasks, stats counters, puts and
deletes — and merges everything per item, because a transaction may touch an item once.
Stats deltas go to one shard of the team's stats rows, picked at random for each try.
`retry` re-reads and re-applies a change whose conditions failed, for as long as
`core.retry` allows.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import TransactWriteError

from ..core import ids, resources
from ..core.counters import shard_key
from ..core.errors import Stale
from ..core.retry import until_done
from .models import ActivityModel, TaskModel, TeamCounterModel

# The stats rows (per project and sprint) are split over this many partitions: every create,
# delete and status-category move of a project writes its row in a transaction, and one
# item lets through about one transaction per transaction latency (see core.counters).
STATS_SHARDS = 8
HISTORY_TEXT = 2000  # longer texts are kept in history as their first characters + "…"


def shorten(value: Any) -> Any:
    """History keeps what changed, not every byte of a 64 KiB description twice."""
    if isinstance(value, str) and len(value) > HISTORY_TEXT:
        return value[:HISTORY_TEXT] + "…"
    return value


class Change:
    """Everything one task change writes, merged per item (a transaction touches an item once)."""

    def __init__(self, team_uuid: str, stamp: int):
        self.team = team_uuid
        self.stamp = stamp
        self.sets: dict[str, dict[str, Any]] = defaultdict(dict)
        self.adds: dict[str, Counter] = defaultdict(Counter)
        self.conditions: dict[str, Any] = {}
        self.stats: dict[str, Counter] = defaultdict(Counter)
        self.puts: list[tuple[Any, Any]] = []
        self.deletes: list[tuple[Any, Any]] = []

    def set(self, uuid: str, attrs: dict[str, Any], condition: Any = None) -> None:
        self.sets[uuid].update(attrs)
        self.require(uuid, condition)

    def add(self, uuid: str, condition: Any = None, **deltas: int) -> None:
        self.adds[uuid].update(deltas)
        self.require(uuid, condition)

    def require(self, uuid: str, condition: Any) -> None:
        if condition is not None:
            prev = self.conditions.get(uuid)
            self.conditions[uuid] = condition if prev is None else (prev & condition)

    def count_at(self, project: str, sprint: str | None, category: str, delta: int) -> None:
        """Stats of one project and sprint for one status category."""
        self.stats[f"project#{project}"][category] += delta
        if sprint:
            self.stats[f"sprint#{sprint}"][category] += delta

    def count(self, task: TaskModel, delta: int) -> None:
        self.count_at(task.project_uuid, task.sprint_uuid, task.status_category, delta)

    def recount(self, task: TaskModel, sprint: str | None, category: str) -> None:
        """Move the task's count when its sprint or status category changes."""
        if (sprint, category) != (task.sprint_uuid, task.status_category):
            self.count(task, -1)
            self.count_at(task.project_uuid, sprint, category, +1)

    def activity(self, task_uuid: str, user: str, action: str, changes: list[dict]) -> None:
        self.puts.append(
            (
                ActivityModel(
                    task_uuid=task_uuid,
                    stamp=self.stamp,
                    team_uuid=self.team,
                    user_uuid=user,
                    action=action,
                    changes=json.dumps(
                        [
                            {**c, "old": shorten(c.get("old")), "new": shorten(c.get("new"))}
                            for c in changes
                        ],
                        ensure_ascii=False,
                    ),
                ),
                None,
            )
        )

    def commit(self) -> bool:
        """True when written; False when a condition failed (the caller re-reads and retries)."""
        try:
            with resources.transaction() as tx:
                for model, condition in self.puts:
                    tx.save(model, condition=condition)
                for model, condition in self.deletes:
                    tx.delete(model, condition=condition)
                for uuid in sorted(set(self.sets) | set(self.adds)):
                    actions = []
                    for attr, value in self.sets.get(uuid, {}).items():
                        column = getattr(TaskModel, attr)
                        actions.append(column.remove() if value is None else column.set(value))
                    for attr, delta in self.adds.get(uuid, Counter()).items():
                        if delta:
                            actions.append(getattr(TaskModel, attr).add(delta))
                    if not actions:
                        actions.append(TaskModel.uuid.set(uuid))
                    condition = self.conditions.get(uuid, TaskModel.uuid.exists())
                    tx.update(TaskModel(uuid), actions=actions, condition=condition)
                shard = shard_key(self.team, STATS_SHARDS)  # each try picks afresh
                for name, deltas in sorted(self.stats.items()):
                    actions = [getattr(TeamCounterModel, c).add(d) for c, d in deltas.items() if d]
                    if actions:
                        actions.append(TeamCounterModel.stamp.set(self.stamp))
                        tx.update(TeamCounterModel(shard, name), actions=actions)
        except TransactWriteError as exc:
            reasons = getattr(exc, "cancellation_reasons", None) or []
            if exc.cause_response_code == "TransactionCanceledException" and any(
                r is not None and r.code in ("ConditionalCheckFailed", "TransactionConflict")
                for r in reasons
            ):
                return False
            raise
        return True


def next_stamp(previous: int = 0) -> int:
    return max(ids.now_us(), previous + 1)


def retry(step: Callable[[int], bool], what: str) -> None:
    """Run `step(attempt)` until it commits; it raises for answers other than retry."""
    if not until_done(step):
        raise Stale(f"{what}: too many concurrent changes, try again")
