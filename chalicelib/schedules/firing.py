"""Firing due schedules, once a minute (`@app.schedule` in app.py calls `tick`).

Due schedules come from the sharded deadline index (`core.deadlines`, as the reapers walk
theirs): a tick costs a Query per shard and a few calls per schedule that is due, however
many schedules exist. For each, the latest slot at or before now fires if it is within
`GRACE_S` of now; slots before it since the last one handled are skipped and recorded, so a
scheduler that was stopped does not fire a backlog when it starts again.

At most once per slot: the slot is claimed by one conditional write on the schedule (its
version as read, and a `last_slot` before this slot), so of overlapping ticks, or a tick and
its retry, one wins. The winner submits with an id derived from the slot (targets.py) and
then records the outcome and the next run. A tick killed in between leaves the claim
`pending`; once `LEASE_S` has passed, the next tick submits the same slot again (the derived
id gives back what the first submission made, if it got that far) and records it.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from ..core import deadlines, ids
from ..core.conditions import applied
from . import store, targets, timing
from .models import ScheduleModel

log = logging.getLogger("taskhub.schedules")

GRACE_S = 120  # a slot fires only this close to its time
LEASE_S = 120  # a claim not recorded after this long is driven again
COUNTS = ("fired", "refused", "failed", "missed", "skipped", "errors")
GIVE_UP_S = 900  # a claim still not submitted this long after its slot is recorded failed


def tick(now: float | None = None, budget_s: float = 50.0, page: int = 100) -> dict[str, int]:
    """Fire what is due at `now` (epoch seconds; the clock by default)."""
    moment = int(ids.now_s() if now is None else now)
    counts: Counter = Counter()
    for key in deadlines.due(
        ScheduleModel.by_due, ScheduleModel.next_run, "s", store.SHARDS, moment, budget_s, page
    ):
        try:
            _one(key.owner, key.sid, moment, counts)
        except Exception:  # the store failing: its claim, if made, is driven again later
            log.exception("schedule %s/%s: not fired this tick", key.owner, key.sid)
            counts["errors"] += 1
    return {k: counts[k] for k in COUNTS}


def _one(owner: str, sid: str, now: int, counts: Counter) -> None:
    item = store.get(owner, sid)
    if item is None or not item.enabled or item.next_run is None or item.next_run > now:
        return  # deleted, switched off or moved on since the index was read
    if item.pending_slot is not None:
        if (item.pending_until or 0) > now:
            counts["skipped"] += 1  # another tick holds this claim
            return
        version = int(item.version or 0)
        target = ScheduleModel(owner, sid)
        if not applied(  # take the claim over, so one tick drives it again
            lambda: target.update(
                actions=[
                    ScheduleModel.pending_until.set(now + LEASE_S),
                    ScheduleModel.version.set(version + 1),
                ],
                condition=ScheduleModel.version == version,
            )
        ):
            counts["skipped"] += 1
            return
        _submit(item, int(item.pending_slot), now, counts, version=version + 1)
        return
    try:
        due = timing.due(item.cron, item.timezone, int(item.next_run), now, GRACE_S)
    except Exception:  # an expression stored before a rule it breaks: never a crash loop
        log.exception("schedule %s/%s: cannot compute its slots", owner, sid)
        _disable(item, "its cron expression or time zone can no longer be read")
        counts["failed"] += 1
        return
    claimed = _claim(item, due, now)
    if not claimed:
        counts["skipped"] += 1
        return
    counts["missed"] += due.missed.count
    if due.slot is not None:
        _submit(item, due.slot, now, counts, version=int(item.version or 0) + 1)


def _claim(item: ScheduleModel, due: timing.Due, now: int) -> bool:
    """One conditional write: record the skipped slots, and either claim `due.slot` (left due
    until its outcome is recorded) or move on to the next run."""
    version = int(item.version or 0)
    actions: list[Any] = [ScheduleModel.version.set(version + 1)]
    missed = due.missed
    if missed.count:
        recent = (list(item.missed_recent or []) + missed.recent)[-timing.RECENT :]
        actions += [
            ScheduleModel.missed_count.add(missed.count),
            ScheduleModel.missed_last.set(missed.last),
            ScheduleModel.missed_recent.set(recent),
        ]
        if item.missed_first is None:
            actions.append(ScheduleModel.missed_first.set(missed.first))
        if missed.more:
            actions.append(ScheduleModel.missed_more.set(True))
    condition = (ScheduleModel.version == version) & (ScheduleModel.enabled == True)  # noqa: E712
    if due.slot is None:
        actions.append(ScheduleModel.next_run.set(due.next_run))
    else:
        actions += [
            ScheduleModel.last_slot.set(due.slot),
            ScheduleModel.pending_slot.set(due.slot),
            ScheduleModel.pending_until.set(now + LEASE_S),
        ]
        condition &= ScheduleModel.last_slot.does_not_exist() | (ScheduleModel.last_slot < due.slot)
    target = ScheduleModel(item.owner, item.sid)
    return applied(lambda: target.update(actions=actions, condition=condition))


def _submit(item: ScheduleModel, slot: int, now: int, counts: Counter, *, version: int) -> None:
    if now - slot > GIVE_UP_S:
        outcome = targets.Outcome("failed", "not submitted in time (the scheduler kept failing)")
    else:
        outcome = targets.submit(
            item.kind, item.owner, item.sid, item.target, item.run_as or "", slot
        )
    counts[outcome.result if outcome.result != "submitted" else "fired"] += 1
    if outcome.result != "submitted":
        log.warning(
            "schedule %s/%s slot %s %s: %s",
            item.owner,
            item.sid,
            slot,
            outcome.result,
            outcome.detail,
        )
    _record(item, slot, now, outcome, version)


def _record(item: ScheduleModel, slot: int, now: int, outcome: targets.Outcome, version: int):
    """The outcome and the next run, on the claim (`pending_slot`). An edit since the claim
    set its own next run: then only the outcome is recorded."""
    counter = {"submitted": "fired", "refused": "refused"}.get(outcome.result, "failed")
    record = {"slot": slot, "at": now, "result": outcome.result, "detail": outcome.detail}
    record.update(outcome.made)
    base = [
        ScheduleModel.pending_slot.remove(),
        ScheduleModel.pending_until.remove(),
        ScheduleModel.last_fire.set(record),
        getattr(ScheduleModel, counter).add(1),
    ]
    target = ScheduleModel(item.owner, item.sid)
    claim = ScheduleModel.pending_slot == slot
    following = timing.after(item.cron, item.timezone, slot)
    moved = [ScheduleModel.next_run.set(following), ScheduleModel.version.set(version + 1)]
    if applied(
        lambda: target.update(
            actions=base + moved, condition=claim & (ScheduleModel.version == version)
        )
    ):
        return
    applied(lambda: target.update(actions=[*base, ScheduleModel.version.add(1)], condition=claim))


def _disable(item: ScheduleModel, reason: str) -> None:
    record = {"slot": None, "at": ids.now_s(), "result": "failed", "detail": reason}
    target = ScheduleModel(item.owner, item.sid)
    applied(
        lambda: target.update(
            actions=[
                ScheduleModel.enabled.set(False),
                ScheduleModel.due_shard.remove(),
                ScheduleModel.last_fire.set(record),
                ScheduleModel.failed.add(1),
                ScheduleModel.version.add(1),
            ],
            condition=ScheduleModel.version == item.version,
        )
    )


def run() -> dict[str, int]:
    """The scheduled function's body: a tick, its counts as metrics and one log line."""
    from ..core import observability

    counts = tick()
    for name, metric in (
        ("fired", "SchedulesFired"),
        ("refused", "SchedulesRefused"),
        ("failed", "SchedulesFailed"),
        ("missed", "ScheduleSlotsMissed"),
    ):
        observability.metric(metric, counts[name])
    if any(counts.values()):
        log.info("schedules: %s", counts)
    return counts
