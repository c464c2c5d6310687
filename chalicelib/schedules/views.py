"""A schedule as the wire shows it: open-c3's crontab row (id, name, cron, status, who and
when) with the target, the zone, the next run and what the firings did."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .models import ScheduleModel


def stamp(moment: float | None, tz: str = "UTC") -> str | None:
    """ISO 8601 in the schedule's zone, with its offset."""
    if moment is None:
        return None
    try:
        zone = ZoneInfo(tz)
    except (ValueError, KeyError):
        zone = ZoneInfo("UTC")
    return datetime.datetime.fromtimestamp(moment, tz=zone).isoformat()


def render(item: ScheduleModel) -> dict[str, Any]:
    tz = item.timezone or "UTC"
    target = dict(item.target or {})
    last = dict(item.last_fire) if item.last_fire else None
    if last is not None:
        last["slot"] = stamp(last.get("slot"), tz)
        last["at"] = stamp(last.get("at"), tz)
    return {
        "id": int(item.sid),
        "name": item.name,
        **{k: v for k, v in target.items() if k not in ("project",)},
        "cron": item.cron,
        "timezone": tz,
        "status": "available" if item.enabled else "unavailable",
        "enabled": bool(item.enabled),
        "run_as": item.run_as,
        "next_run": stamp(item.next_run, tz) if item.enabled else None,
        "last_fire": last,
        "fired": int(item.fired or 0),
        "refused": int(item.refused or 0),
        "failed": int(item.failed or 0),
        "missed": {
            "count": int(item.missed_count or 0),
            "at_least": bool(item.missed_more),
            "first": stamp(item.missed_first, tz),
            "last": stamp(item.missed_last, tz),
            "recent": [stamp(s, tz) for s in item.missed_recent or []],
        },
        "create_user": item.create_user,
        "create_time": stamp(item.create_time, tz),
        "edit_user": item.edit_user,
        "edit_time": stamp(item.edit_time, tz),
    }
