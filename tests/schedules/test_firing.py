"""Firing with an injected clock: once per slot, under overlapping ticks too; missed slots
skipped and recorded after a gap; off schedules, lost rights and deleted jobs recorded."""

from __future__ import annotations

import datetime
import threading

from chalicelib.core.identity import service as identity
from chalicelib.schedules import firing, targets
from chalicelib.schedules.models import ScheduleModel

from .conftest import ADMIN_USER, PROJECT

OWNER = f"jobx:{PROJECT}"


def utc(*parts: int) -> int:
    return int(datetime.datetime(*parts, tzinfo=datetime.UTC).timestamp())


def schedule(crontabs, **fields) -> tuple[dict, ScheduleModel]:
    status, body = crontabs.create(**fields)
    assert status == 200, body
    return body["data"], ScheduleModel.get(OWNER, f"{body['id']:010d}")


def at(item: ScheduleModel, next_run: int) -> ScheduleModel:
    """The schedule as if set earlier: its next run at `next_run`."""
    item.update(actions=[ScheduleModel.next_run.set(next_run)])
    return item


def tasks(crontabs) -> list[dict]:
    return crontabs.ok("GET", f"/task/{PROJECT}")["data"]


def shown(crontabs, made: dict) -> dict:
    return crontabs.ok("GET", f"/crontab/{PROJECT}/{made['id']}")["data"]


def test_a_slot_fires_once_and_the_next_slot_fires_next(crontabs):
    made, item = schedule(crontabs, cron="*/5 * * * *", variable={"version": "v1"})
    slot = utc(2026, 5, 4, 10, 0)
    at(item, slot)
    assert firing.tick(now=slot - 1)["fired"] == 0  # not due yet
    assert firing.tick(now=slot + 20)["fired"] == 1
    assert firing.tick(now=slot + 40)["fired"] == 0  # the same slot, again
    [task] = tasks(crontabs)
    assert task["name"] == "j1" and task["calltype"] == "crontab" and task["user"] == "Member01"
    assert "version: v1" in task["variable"]  # JOBX shows the variables as YAML
    view = shown(crontabs, made)
    assert view["last_fire"]["result"] == "submitted" and view["last_fire"]["task"] == task["uuid"]
    assert view["last_fire"]["slot"] == "2026-05-04T10:00:00+00:00"
    assert view["next_run"] == "2026-05-04T10:05:00+00:00" and view["fired"] == 1
    assert firing.tick(now=slot + 300 + 5)["fired"] == 1
    assert len(tasks(crontabs)) == 2
    assert shown(crontabs, made)["missed"]["count"] == 0


def test_overlapping_ticks_submit_one_task(crontabs):
    made, item = schedule(crontabs, cron="* * * * *")
    slot = utc(2026, 5, 4, 10, 0)
    at(item, slot)
    results: list[dict] = []
    barrier = threading.Barrier(8)

    def tick():
        barrier.wait()
        results.append(firing.tick(now=slot + 3))

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["fired"] for r in results) == 1, results
    assert sum(r["errors"] for r in results) == 0, results
    assert len(tasks(crontabs)) == 1
    assert shown(crontabs, made)["fired"] == 1


def test_missed_slots_are_skipped_and_recorded_after_a_gap(crontabs):
    made, item = schedule(crontabs, cron="*/5 * * * *")
    first = utc(2026, 5, 4, 10, 0)
    at(item, first)
    # stopped for three hours: only the slot within the grace of now fires
    counts = firing.tick(now=first + 3 * 3600 + 30)
    assert counts["fired"] == 1 and counts["missed"] == 36
    assert len(tasks(crontabs)) == 1
    missed = shown(crontabs, made)["missed"]
    assert missed["count"] == 36 and missed["at_least"] is False
    assert missed["first"] == "2026-05-04T10:00:00+00:00"
    assert missed["last"] == "2026-05-04T12:55:00+00:00"
    assert len(missed["recent"]) == 20 and missed["recent"][-1] == missed["last"]
    assert missed["recent"][0] == "2026-05-04T11:20:00+00:00"
    # stopped again, and back past the grace of the latest slot: nothing fires
    counts = firing.tick(now=first + 4 * 3600 + 150)
    assert counts["fired"] == 0 and counts["missed"] == 12
    view = shown(crontabs, made)
    assert view["missed"]["count"] == 48 and view["missed"]["last"] == "2026-05-04T14:00:00+00:00"
    assert view["missed"]["first"] == "2026-05-04T10:00:00+00:00"
    assert view["next_run"] == "2026-05-04T14:05:00+00:00"
    assert len(tasks(crontabs)) == 1


def test_a_gap_too_long_to_count_is_recorded_as_a_floor(crontabs):
    made, item = schedule(crontabs, cron="* * * * *")
    first = utc(2026, 5, 4, 0, 0)
    at(item, first)
    counts = firing.tick(now=first + 30 * 86400 + 10)
    assert counts["fired"] == 1 and counts["missed"] == 1000
    missed = shown(crontabs, made)["missed"]
    assert missed["count"] == 1000 and missed["at_least"] is True
    assert missed["last"] == "2026-06-02T23:59:00+00:00"


def test_a_switched_off_schedule_does_not_fire(crontabs):
    made, item = schedule(crontabs, cron="* * * * *", status="unavailable")
    assert item.due_shard is None  # not in the deadline index at all
    slot = utc(2026, 5, 4, 10, 0)
    at(item, slot)
    assert firing.tick(now=slot + 5) == dict.fromkeys(firing.COUNTS, 0)
    assert tasks(crontabs) == []
    crontabs.ok("POST", f"/crontab/{PROJECT}/{made['id']}/status", {"status": "available"})
    crontabs.ok("POST", f"/crontab/{PROJECT}/{made['id']}/status", {"status": "unavailable"})
    assert firing.tick(now=firing.ids.now_s() + 3600)["fired"] == 0
    assert tasks(crontabs) == []


def test_a_run_as_that_lost_its_right_is_refused_and_recorded(crontabs):
    made, item = schedule(crontabs, cron="*/10 * * * *")
    slot = utc(2026, 5, 4, 10, 0)
    at(item, slot)
    identity.set_membership("jobx", PROJECT, "Member01", "viewer")
    counts = firing.tick(now=slot + 5)
    assert counts["refused"] == 1 and counts["fired"] == 0
    assert firing.tick(now=slot + 50)["refused"] == 0  # that slot is done with
    view = shown(crontabs, made)
    assert view["refused"] == 1 and view["last_fire"]["result"] == "refused"
    assert view["last_fire"]["detail"] == "user Member01 has no write permission in jobx p1"
    assert view["next_run"] == "2026-05-04T10:10:00+00:00"
    assert tasks(crontabs) == []
    identity.set_membership("jobx", PROJECT, "Member01", "member")
    assert firing.tick(now=slot + 600 + 5)["fired"] == 1


def test_a_deleted_job_fails_clearly(crontabs):
    made, item = schedule(crontabs, cron="*/10 * * * *")
    job = crontabs.ok("GET", f"/job/{PROJECT}")["data"][0]
    crontabs.ok("DELETE", f"/job/{PROJECT}/{job['uuid']}", headers=ADMIN_USER)
    slot = utc(2026, 5, 4, 10, 0)
    at(item, slot)
    assert firing.tick(now=slot + 5)["failed"] == 1
    view = shown(crontabs, made)
    assert view["last_fire"]["result"] == "failed" and view["failed"] == 1
    assert view["last_fire"]["detail"] == "job j1 not found"
    assert view["next_run"] == "2026-05-04T10:10:00+00:00"


def test_a_claim_left_by_a_failed_tick_is_driven_again_once(crontabs, monkeypatch):
    made, item = schedule(crontabs, cron="*/10 * * * *")
    slot = utc(2026, 5, 4, 10, 0)
    at(item, slot)
    submit = targets.submit

    def store_down(*args, **kwargs):
        raise RuntimeError("the store is down")

    monkeypatch.setattr(targets, "submit", store_down)
    assert firing.tick(now=slot + 5)["errors"] == 1
    monkeypatch.setattr(targets, "submit", submit)
    assert firing.tick(now=slot + 60)["skipped"] == 1  # the claim's lease still holds
    assert firing.tick(now=slot + 5 + firing.LEASE_S + 1)["fired"] == 1
    assert firing.tick(now=slot + 5 + firing.LEASE_S + 2)["fired"] == 0
    assert len(tasks(crontabs)) == 1
    assert shown(crontabs, made)["next_run"] == "2026-05-04T10:10:00+00:00"


def test_a_repeated_submission_of_a_slot_makes_no_second_task(crontabs):
    """The derived uuid: submitting the same slot twice gives back the first task."""
    _, item = schedule(crontabs, cron="*/10 * * * *")
    slot = utc(2026, 5, 4, 10, 0)
    first = targets.submit("jobx", OWNER, item.sid, item.target, "Member01", slot)
    again = targets.submit("jobx", OWNER, item.sid, item.target, "Member01", slot)
    assert first.result == again.result == "submitted" and first.made == again.made
    assert len(tasks(crontabs)) == 1
