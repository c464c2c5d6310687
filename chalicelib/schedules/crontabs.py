"""JOBX crontabs: the JOBX face's use of schedules (a job by name over a group)."""

from __future__ import annotations

from typing import Any

from ..jobs import FACE
from . import setting, store, views
from .schemas import CrontabIn
from .targets import JOBX_KIND


def _owner(project: str) -> str:
    return f"{FACE}:{project}"


def _label(crontabid: str) -> str:
    return f"crontab {crontabid[:24]}"


def _target(project: str, body: CrontabIn) -> dict[str, Any]:
    return {
        "project": project,
        "jobname": body.jobname,
        "group": body.group,
        "variable": body.given(),
    }


def _spec(body: CrontabIn, run_as: str) -> setting.Spec:
    return setting.Spec(body.name, body.cron, body.timezone, body.status == "available", run_as)


def listing(project: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
    items, more = store.page(_owner(project), limit, cursor)
    return [views.render(i) for i in items], more


def count(project: str) -> dict[str, int]:
    """open-c3's count: how many are on (available) and off (unavailable)."""
    items = store.of_owner(_owner(project))
    on = sum(1 for i in items if i.enabled)
    return {"available": on, "unavailable": len(items) - on}


def get(project: str, crontabid: str) -> dict[str, Any]:
    return views.render(store.load(_owner(project), store.parse_id(crontabid), _label(crontabid)))


def create(project: str, user: str, body: CrontabIn, run_as: str) -> dict[str, Any]:
    item = setting.create(JOBX_KIND, _target(project, body), _spec(body, run_as), user)
    return views.render(item)


def update(project: str, crontabid: str, user: str, body: CrontabIn, run_as: str):
    label = _label(crontabid)
    item = store.load(_owner(project), store.parse_id(crontabid), label)
    spec = _spec(body, run_as)
    return views.render(setting.update(item, _target(project, body), spec, user, label))


def switch(project: str, crontabid: str, user: str, enabled: bool) -> dict[str, Any]:
    label = _label(crontabid)
    item = store.load(_owner(project), store.parse_id(crontabid), label)
    return views.render(setting.switch(item, enabled, user, label))


def delete(project: str, crontabid: str) -> None:
    sid = store.parse_id(crontabid)
    label = _label(crontabid)
    store.load(_owner(project), sid, label)
    store.remove(_owner(project), sid, label)
