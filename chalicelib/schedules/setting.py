"""Setting schedules: create, edit, switch on or off, delete. Everything is checked before
anything is written: the expression (croniter), the zone (zoneinfo), the target (the job
and group, or the scan project, exist) and that run_as may run it there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core import ids
from ..core.errors import BadRequest
from . import store, targets, timing
from .models import ScheduleModel
from .targets import JOBX_KIND, Refused


@dataclass
class Spec:
    """When a schedule fires and as whom."""

    name: str
    cron: str
    timezone: str
    enabled: bool
    run_as: str


def check(kind: str, target: dict[str, Any], spec: Spec, now: float | None = None) -> int:
    """Validate everything; the next run if enabled now. Refusals are BadRequests naming the
    field (cron, timezone, run_as, jobname, group, project)."""
    spec.cron = timing.check_cron(spec.cron)
    timing.zone(spec.timezone)
    next_run = timing.after(spec.cron, spec.timezone, ids.now_s() if now is None else now)
    try:
        if kind == JOBX_KIND:
            targets.check_jobx(target, spec.run_as)
        else:
            targets.check_scan(target, targets.principal(spec.run_as))
    except Refused as exc:
        raise BadRequest(exc.message, field="run_as") from None
    return next_run


def _timing_fields(owner: str, sid: str, enabled: bool, next_run: int) -> dict[str, Any]:
    return {
        "enabled": enabled,
        "next_run": next_run,
        "due_shard": store.due_shard(owner, sid) if enabled else None,
    }


def create(kind: str, target: dict[str, Any], spec: Spec, user: str) -> ScheduleModel:
    owner = targets.owner_of(kind, target)
    next_run = check(kind, target, spec)
    if store.count(owner) >= store.MAX_PER_OWNER:
        raise BadRequest(f"at most {store.MAX_PER_OWNER} schedules per project", field="name")
    sid = store.take_id(owner)
    now = ids.now_s()
    item = ScheduleModel(
        owner,
        sid,
        kind=kind,
        kind_key=f"{owner}#{sid}",
        name=spec.name,
        target=target,
        cron=spec.cron,
        timezone=spec.timezone,
        run_as=spec.run_as,
        create_user=user,
        create_time=now,
        edit_user=user,
        edit_time=now,
        version=1,
        fired=0,
        refused=0,
        failed=0,
        missed_count=0,
        **_timing_fields(owner, sid, spec.enabled, next_run),
    )
    store.insert(item)
    return item


def update(
    item: ScheduleModel, target: dict[str, Any], spec: Spec, user: str, label: str
) -> ScheduleModel:
    """Replace what the schedule runs and when. The next run is kept while the expression,
    zone and switch stay as they were; otherwise it is the first slot from now (slots while
    a schedule was off are not missed ones)."""
    next_run = check(item.kind, target, spec)

    def change(current: ScheduleModel) -> list[Any]:
        fields = _wanted(current, target, spec)
        if not fields:
            return []
        same_timing = (current.cron, current.timezone, bool(current.enabled)) == (
            spec.cron,
            spec.timezone,
            spec.enabled,
        )
        if not same_timing:
            fields.update(_timing_fields(current.owner, current.sid, spec.enabled, next_run))
        fields.update(edit_user=user, edit_time=ids.now_s())
        return _actions(fields)

    return store.revise(item.owner, item.sid, label, change)


def _wanted(current: ScheduleModel, target: dict[str, Any], spec: Spec) -> dict[str, Any]:
    want = {
        "name": spec.name,
        "target": target,
        "cron": spec.cron,
        "timezone": spec.timezone,
        "enabled": spec.enabled,
        "run_as": spec.run_as,
    }
    return {k: v for k, v in want.items() if getattr(current, k) != v}


def _actions(fields: dict[str, Any]) -> list[Any]:
    actions = []
    for name, value in fields.items():
        attr = getattr(ScheduleModel, name)
        actions.append(attr.remove() if value is None else attr.set(value))
    return actions


def switch(item: ScheduleModel, enabled: bool, user: str, label: str) -> ScheduleModel:
    """On or off. Switched on, it waits for its next slot from now."""

    def change(current: ScheduleModel) -> list[Any]:
        if bool(current.enabled) == enabled:
            return []
        fields: dict[str, Any] = {"enabled": enabled}
        if enabled:
            run_as = current.run_as or ""
            try:  # run_as may have lost its right while it was off
                if current.kind == JOBX_KIND:
                    targets.check_jobx(current.target, run_as)
                else:
                    targets.check_scan(current.target, targets.principal(run_as))
            except Refused as exc:
                raise BadRequest(exc.message, field="run_as") from None
            next_run = timing.after(current.cron, current.timezone, ids.now_s())
            fields.update(_timing_fields(current.owner, current.sid, True, next_run))
        else:
            fields["due_shard"] = None
        fields.update(edit_user=user, edit_time=ids.now_s())
        return _actions(fields)

    return store.revise(item.owner, item.sid, label, change)


def differs(current: ScheduleModel, target: dict[str, Any], spec: Spec) -> bool:
    return bool(_wanted(current, target, spec))
