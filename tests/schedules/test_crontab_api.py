"""`/jobx/crontab/{projectid}`: open-c3's JOB crontab routes on the JOBX face. Every refusal
is JOBX's envelope with nothing written."""

from __future__ import annotations

import pytest

from chalicelib.core.identity import service as identity

from .conftest import ADMIN_USER, OUTSIDER, PROJECT, VIEWER


def test_create_list_get_edit_switch_delete(crontabs):
    status, body = crontabs.create(variable={"version": 3}, timezone="Asia/Shanghai")
    assert status == 200 and body["stat"] is True, body
    made = body["data"]
    assert body["id"] == made["id"]
    assert made["status"] == "available" and made["enabled"] is True
    assert made["run_as"] == "Member01" and made["create_user"] == "Member01"
    assert made["jobname"] == "j1" and made["group"] == "g1" and made["variable"] == {"version": 3}
    assert made["next_run"].endswith("+08:00") and made["next_run"][14:16] in {
        f"{m:02d}" for m in range(0, 60, 5)
    }
    assert crontabs.listing() == [made]
    one = crontabs.ok("GET", f"/crontab/{PROJECT}/{made['id']}")["data"]
    assert one == made
    edit = {"name": "hourly", "jobname": "j1", "group": "g1", "cron": "0 * * * *"}
    edited = crontabs.ok("POST", f"/crontab/{PROJECT}/{made['id']}", edit)["data"]
    assert edited["name"] == "hourly" and edited["next_run"][14:19] == "00:00"
    assert edited["timezone"] == "UTC" and edited["variable"] == {}
    off = crontabs.ok("POST", f"/crontab/{PROJECT}/{made['id']}/status", {"status": "unavailable"})
    assert off["data"]["status"] == "unavailable" and off["data"]["next_run"] is None
    assert crontabs.ok("GET", f"/crontab/{PROJECT}/count")["data"] == {
        "available": 0,
        "unavailable": 1,
    }
    assert (
        crontabs.ok("DELETE", f"/crontab/{PROJECT}/{made['id']}", headers=ADMIN_USER)["data"] == 1
    )
    assert crontabs.listing() == []
    status, body = crontabs.call("GET", f"/crontab/{PROJECT}/{made['id']}")
    assert status == 404 and body == {"stat": False, "info": f"crontab {made['id']} not found"}


@pytest.mark.parametrize(
    ("fields", "info"),
    [
        ({"cron": "61 * * * *"}, "check format fail cron: not a valid cron expression: 61 * * * *"),
        ({"cron": "* * * *"}, "check format fail cron: cron takes five fields"),
        ({"cron": "R * * * *"}, "check format fail cron: not a valid cron expression: R"),
        ({"cron": "0 0 31 2 *"}, "check format fail cron: cron 0 0 31 2 * never fires"),
        ({"timezone": "Mars/Olympus"}, "check format fail timezone: unknown IANA time zone"),
        ({"jobname": "nope"}, "check format fail jobname: job nope not found"),
        ({"group": "nope"}, "check format fail group: group nope not found"),
    ],
)
def test_bad_schedules_are_refused_with_nothing_written(crontabs, fields, info):
    status, body = crontabs.create(**fields)
    assert status == 400 and body["stat"] is False, body
    assert body["info"].startswith(info), body
    assert crontabs.listing() == []


def test_run_as_must_exist_and_may_run_the_job(crontabs):
    # an unknown user (a project admin may name others)
    status, body = crontabs.create(ADMIN_USER, run_as="Nobody01")
    assert (status, body["stat"]) == (400, False)
    assert body["info"] == "check format fail run_as: unknown user Nobody01"
    # a viewer of the project may not run jobs there
    status, body = crontabs.create(ADMIN_USER, run_as="Viewer01")
    assert (status, body["stat"]) == (400, False)
    assert body["info"] == (
        "check format fail run_as: user Viewer01 has no write permission in jobx p1"
    )
    # a member may not name another user
    status, body = crontabs.create(run_as="PAdmin01")
    assert status == 400 and "only a project admin" in body["info"]
    assert crontabs.listing(ADMIN_USER) == []
    # the project admin may name a member
    status, body = crontabs.create(ADMIN_USER, run_as="Member01")
    assert status == 200 and body["data"]["run_as"] == "Member01"
    assert body["data"]["create_user"] == "PAdmin01"


def test_permissions_are_jobx_ones(crontabs):
    status, body = crontabs.create(VIEWER)
    assert (status, body) == (403, {"stat": False, "info": "permission denied: write"})
    status, body = crontabs.call("GET", f"/crontab/{PROJECT}", headers=OUTSIDER)
    assert (status, body) == (403, {"stat": False, "info": "permission denied: read"})
    made = crontabs.create()[1]["data"]
    assert crontabs.listing(VIEWER)[0]["id"] == made["id"]
    status, body = crontabs.call("DELETE", f"/crontab/{PROJECT}/{made['id']}")  # a member
    assert (status, body) == (403, {"stat": False, "info": "permission denied: delete"})
    assert crontabs.ok("DELETE", f"/crontab/{PROJECT}/{made['id']}", headers=ADMIN_USER)


def test_bad_ids_and_bodies(crontabs):
    for crontabid in ("abc", "0", "1" * 11):
        status, body = crontabs.call("GET", f"/crontab/{PROJECT}/{crontabid}")
        assert status == 404 and body["stat"] is False
    status, body = crontabs.call("POST", f"/crontab/{PROJECT}/1/status", {"status": "on"})
    assert status == 400 and body["info"].startswith("check format fail status")
    status, body = crontabs.create(extra="x")
    assert status == 400 and body["info"].startswith("check format fail extra")
    assert identity.get_user("Member01") is not None
