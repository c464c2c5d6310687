"""The `schedules` workspace section: JOBX runs and TCA scan projects, checked before any
write, idempotent, exported by Query and applied back unchanged; a scan schedule fires a
scan as its run_as."""

from __future__ import annotations

import copy
import datetime

import pytest

from chalicelib.schedules import firing
from chalicelib.schedules.models import ScheduleModel
from tests.scans.test_workspace import DOC, TEAM, URL

from .conftest import ADMIN_USER, PROJECT

SCHEDULES = [
    {
        "name": "nightly deploy",
        "cron": "30 2 * * *",
        "timezone": "Europe/Berlin",
        "enabled": True,
        "run_as": "Member01",
        "jobx": {"project": PROJECT, "jobname": "j1", "group": "g1", "variable": {"v": 2}},
    },
    {
        "name": "weekly scan",
        "cron": "0 6 * * 1",
        "timezone": "Asia/Shanghai",
        "enabled": False,
        "run_as": "Scanner1",
        "scan": {"team": TEAM, "repo": URL, "branch": "master", "scheme": "python"},
    },
]


def document(schedules=None) -> dict:
    doc = copy.deepcopy({k: v for k, v in DOC.items() if k != "namespaces"})
    doc["users"] = [{"uuid": "Scanner1", "name": "scanner", "email": "scan@x.io"}]
    doc["namespaces"] = copy.deepcopy(DOC["namespaces"])
    doc["namespaces"][1]["members"] = {"Scanner1": "member"}  # the team acme/backend
    doc["schedules"] = copy.deepcopy(SCHEDULES if schedules is None else schedules)
    return doc


@pytest.fixture(autouse=True)
def git_hosts(monkeypatch):
    monkeypatch.setenv("TASKHUB_SCAN_GIT_HOSTS", "git.example.com")


def test_apply_is_idempotent_and_export_round_trips(crontabs, apply_workspace, export_workspace):
    first = apply_workspace(document())
    assert first["schedules"] == {"created": 2, "updated": 0, "unchanged": 0}
    again = apply_workspace(document())
    assert again["schedules"] == {"created": 0, "updated": 0, "unchanged": 2}
    exported, _pages = export_workspace(limit=1)
    assert exported["schedules"] == SCHEDULES
    assert apply_workspace(exported)["schedules"] == {"created": 0, "updated": 0, "unchanged": 2}
    # the JOBX one shows on the JOBX face
    [row] = crontabs.listing()
    assert row["name"] == "nightly deploy" and row["next_run"].endswith(("+01:00", "+02:00"))
    assert row["create_user"] == "workspace"
    # an edit is an update of the same schedule
    changed = document()
    changed["schedules"][0]["cron"] = "45 2 * * *"
    assert apply_workspace(changed)["schedules"] == {"created": 0, "updated": 1, "unchanged": 1}
    assert crontabs.listing()[0]["cron"] == "45 2 * * *"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"cron": "99 * * * *"}, "not a valid cron expression"),
        ({"timezone": "Nowhere/Else"}, "unknown IANA time zone"),
        ({"run_as": "Ghost001"}, "unknown user Ghost001"),
        ({"run_as": "Viewer01"}, "user Viewer01 has no write permission in jobx p1"),
        ({"jobx": {"project": PROJECT, "jobname": "gone", "group": "g1"}}, "job gone not found"),
        ({"jobx": None}, "one of a jobx job, a scan project or a codearts task"),
    ],
)
def test_a_bad_schedule_writes_nothing(crontabs, api, admin, change, message):
    bad = document([{**SCHEDULES[0], **change}])
    status, body = api.call("PUT", "/admin/v1/workspace", bad, admin)
    assert status == 400 and message in body["error"]["message"], body
    assert crontabs.listing() == []
    assert api.call("GET", "/server/main/api/orgs/acme/teams/backend/repos", None, admin)[0] == 404


def test_a_scan_project_that_is_not_there_is_refused(crontabs, api, admin):
    bad = document([{**SCHEDULES[1], "scan": {**SCHEDULES[1]["scan"], "branch": "dev"}}])
    status, body = api.call("PUT", "/admin/v1/workspace", bad, admin)
    assert status == 400 and "unknown scan project" in body["error"]["message"], body


def test_a_scan_schedule_fires_a_scan_as_run_as(crontabs, api, admin, apply_workspace):
    on = [{**SCHEDULES[1], "enabled": True}]
    apply_workspace(document(on))
    [key] = list(ScheduleModel.by_kind.query("scan"))
    item = ScheduleModel.get(key.owner, key.sid)
    # Monday 06:00 in Shanghai is Sunday 22:00 UTC
    slot = int(datetime.datetime(2026, 5, 3, 22, 0, tzinfo=datetime.UTC).timestamp())
    item.update(actions=[ScheduleModel.next_run.set(slot)])
    counts = firing.tick(now=slot + 10)
    item.refresh()
    assert counts["fired"] == 1, (counts, item.last_fire)
    assert firing.tick(now=slot + 20)["fired"] == 0
    item.refresh()
    made = item.last_fire
    assert made["result"] == "submitted" and made["scan"] >= 1
    target = item.target
    path = (
        f"/server/main/api/orgs/acme/teams/backend/repos/{target['repo_id']}"
        f"/projects/{target['project_id']}/jobs/{made['job']}/detail"
    )
    status, body = api.call("GET", path, None, admin)
    assert status == 200, body
    assert body["data"]["creator"] == "scanner" and body["data"]["created_from"] == "schedule"
    assert ADMIN_USER  # the project admin of the JOBX fixture is not involved here
