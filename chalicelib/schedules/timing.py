"""Cron expressions and time zones: validated with croniter and zoneinfo, never parsed here.

A slot is a moment a schedule's expression names, in its time zone, kept as epoch seconds.
croniter walks wall-clock time in the zone, so a `0 9 * * *` schedule fires at 09:00 local
on both sides of a daylight-saving change (07:00 or 08:00 UTC in Berlin). A wall-clock time
that a spring-forward skips fires at the first moment after the gap (croniter's rule).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

from ..core.errors import BadRequest

_RANDOM = re.compile(r"(?<![A-Za-z])[RrHh](?![A-Za-z])")
MAX_COUNT = 1000  # slots counted per gap; a longer gap is recorded as at least this many
RECENT = 20  # missed slots kept per schedule, the newest


def check_cron(expression: str) -> str:
    """Five fields (minute hour day month weekday), as crontab and open-c3 take them."""
    text = " ".join(expression.split())
    if len(text.split(" ")) != 5:
        raise BadRequest("cron takes five fields: minute hour day month weekday", field="cron")
    try:
        valid = croniter.is_valid(text)
    except (CroniterError, ValueError, TypeError):
        valid = False
    if not valid or _RANDOM.search(text):  # croniter's R (random) and H (hashed) vary by instance
        raise BadRequest(f"not a valid cron expression: {text[:64]}", field="cron")
    return text


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise BadRequest(f"unknown IANA time zone: {name[:64]}", field="timezone") from None


def _local(moment: float, tz: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(moment, tz=tz)


def after(cron: str, tz: str, moment: float) -> int:
    """The first slot strictly after `moment`; BadRequest for an expression that never fires
    (`0 0 31 2 *`)."""
    try:
        nxt = croniter(cron, _local(moment, zone(tz))).get_next(float)
    except (CroniterBadDateError, CroniterBadCronError):
        raise BadRequest(f"cron {cron} never fires", field="cron") from None
    return int(nxt)


def latest(cron: str, tz: str, moment: float) -> int:
    """The latest slot at or before `moment`."""
    return int(croniter(cron, _local(int(moment) + 1, zone(tz))).get_prev(float))


def next_runs(cron: str, tz: str, moment: float, count: int) -> list[int]:
    it = croniter(cron, _local(moment, zone(tz)))
    return [int(it.get_next(float)) for _ in range(count)]


@dataclass
class Missed:
    """Slots skipped in one gap: how many (a floor when `more`), the first and last, and the
    newest few."""

    count: int = 0
    more: bool = False
    first: int | None = None
    last: int | None = None
    recent: list[int] = field(default_factory=list)


@dataclass
class Due:
    """What a tick does with a schedule due since `next_run`: fire `slot` (or nothing), skip
    `missed`, and wait for `next_run` after that."""

    slot: int | None
    missed: Missed
    next_run: int


def due(cron: str, tz: str, next_run: int, now: float, grace_s: int) -> Due:
    """Only the latest slot at or before `now` may fire, and only within `grace_s` of it;
    every earlier slot since `next_run` (the first not yet handled) is skipped."""
    newest = latest(cron, tz, now)
    following = after(cron, tz, max(newest, now))
    if newest < next_run:  # nothing in between (the expression was edited meanwhile)
        return Due(None, Missed(), following)
    fire = newest if now - newest <= grace_s else None
    last_missed = newest if fire is None else latest(cron, tz, newest - 1)
    missed = Missed()
    if last_missed >= next_run:
        missed = _count(cron, tz, next_run, last_missed)
    return Due(fire, missed, following)


def _count(cron: str, tz: str, first: int, last: int) -> Missed:
    it = croniter(cron, _local(first - 1, zone(tz)))
    count = 0
    for _ in range(MAX_COUNT):
        if int(it.get_next(float)) > last:
            break
        count += 1
    else:
        return Missed(count, True, first, last, _recent(cron, tz, last))
    return Missed(count, False, first, last, _recent(cron, tz, last, count))


def _recent(cron: str, tz: str, last: int, count: int = RECENT) -> list[int]:
    back = croniter(cron, _local(last + 1, zone(tz)))
    found = [int(back.get_prev(float)) for _ in range(min(count, RECENT))]
    return sorted(found)
