"""Slots in a time zone across daylight-saving changes, and a schedule fired across one."""

from __future__ import annotations

import datetime
import itertools

import pytest

from chalicelib.core.errors import BadRequest
from chalicelib.schedules import firing, timing
from chalicelib.schedules.models import ScheduleModel

from .conftest import PROJECT


def utc(*parts: int) -> int:
    return int(datetime.datetime(*parts, tzinfo=datetime.UTC).timestamp())


def iso(moment: int) -> str:
    return datetime.datetime.fromtimestamp(moment, tz=datetime.UTC).isoformat()


def test_a_local_time_stays_local_across_spring_forward():
    # Berlin moves from UTC+1 to UTC+2 at 01:00 UTC on 29 March 2026
    runs = timing.next_runs("0 9 * * *", "Europe/Berlin", utc(2026, 3, 27, 12, 0), 4)
    assert [iso(r) for r in runs] == [
        "2026-03-28T08:00:00+00:00",
        "2026-03-29T07:00:00+00:00",
        "2026-03-30T07:00:00+00:00",
        "2026-03-31T07:00:00+00:00",
    ]


def test_a_local_time_stays_local_across_fall_back():
    # New York moves from UTC-4 to UTC-5 at 06:00 UTC on 1 November 2026
    runs = timing.next_runs("0 9 * * *", "America/New_York", utc(2026, 10, 30, 18, 0), 3)
    assert [iso(r) for r in runs] == [
        "2026-10-31T13:00:00+00:00",
        "2026-11-01T14:00:00+00:00",
        "2026-11-02T14:00:00+00:00",
    ]


def test_a_skipped_wall_clock_time_fires_right_after_the_gap():
    runs = timing.next_runs("30 2 * * *", "Europe/Berlin", utc(2026, 3, 28, 12, 0), 2)
    assert [iso(r) for r in runs] == ["2026-03-29T01:00:00+00:00", "2026-03-30T00:30:00+00:00"]


def test_hourly_slots_across_spring_forward_are_one_real_hour_apart():
    runs = timing.next_runs("0 * * * *", "Europe/Berlin", utc(2026, 3, 28, 23, 30), 4)
    assert [b - a for a, b in itertools.pairwise(runs)] == [3600, 3600, 3600]


@pytest.mark.parametrize(
    ("cron", "tz", "field"),
    [
        ("* * *", "UTC", "cron"),
        ("0 0 30 2 *", "UTC", "cron"),
        ("* * * * *", "Not/AZone", "timezone"),
    ],
)
def test_refusals_name_their_field(cron, tz, field):
    with pytest.raises(BadRequest) as caught:
        timing.after(timing.check_cron(cron), tz, 0)
    assert caught.value.field == field


def test_a_schedule_fires_at_local_nine_on_both_sides_of_the_change(crontabs):
    status, body = crontabs.create(cron="0 9 * * *", timezone="Europe/Berlin")
    assert status == 200, body
    item = ScheduleModel.get(f"jobx:{PROJECT}", f"{body['id']:010d}")
    item.update(actions=[ScheduleModel.next_run.set(utc(2026, 3, 28, 8, 0))])
    assert firing.tick(now=utc(2026, 3, 28, 8, 0, 30))["fired"] == 1
    view = crontabs.ok("GET", f"/crontab/{PROJECT}/{body['id']}")["data"]
    assert view["next_run"] == "2026-03-29T09:00:00+02:00"
    assert firing.tick(now=utc(2026, 3, 29, 6, 59, 30))["fired"] == 0  # 08:59 local
    assert firing.tick(now=utc(2026, 3, 29, 7, 0, 30))["fired"] == 1
    view = crontabs.ok("GET", f"/crontab/{PROJECT}/{body['id']}")["data"]
    assert view["last_fire"]["slot"] == "2026-03-29T09:00:00+02:00"
    assert view["missed"]["count"] == 0
