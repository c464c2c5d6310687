"""A CodeArts check task on a schedule: set in the workspace, fired as run_as through the
task's own `run`, once per slot; a run_as without `task:execute` is refused."""

from __future__ import annotations

import datetime

import pytest

from chalicelib.schedules import firing
from chalicelib.schedules.models import ScheduleModel
from tests.codearts.conftest import PROJECT, codearts, git_repo, git_server  # noqa: F401

SLOT = int(datetime.datetime(2026, 5, 4, 6, 0, tzinfo=datetime.UTC).timestamp())


def schedule(task_id: str, run_as: str = "Member01") -> dict:
    return {
        "name": "nightly check",
        "cron": "0 6 * * *",
        "run_as": run_as,
        "codearts": {"project": PROJECT, "task_id": task_id},
    }


def test_a_check_task_runs_on_its_schedule(codearts, apply_workspace, export_workspace):  # noqa: F811
    task_id = codearts.create()
    applied = apply_workspace({"schedules": [schedule(task_id)]})
    assert applied["schedules"] == {"created": 1, "updated": 0, "unchanged": 0}
    exported, _ = export_workspace()
    assert exported["schedules"] == [{**schedule(task_id), "timezone": "UTC", "enabled": True}]
    [key] = list(ScheduleModel.by_kind.query("scan"))
    item = ScheduleModel.get(key.owner, key.sid)
    assert item.owner == f"codearts:{PROJECT}"
    item.update(actions=[ScheduleModel.next_run.set(SLOT)])
    assert firing.tick(now=SLOT + 10)["fired"] == 1
    assert firing.tick(now=SLOT + 30)["fired"] == 0
    item.refresh()
    assert item.last_fire["result"] == "submitted", item.last_fire
    progress = codearts.progress(task_id)
    assert progress["task_status"] in (0, 1, 2), progress  # a run exists: checking or done


@pytest.mark.parametrize(
    ("run_as", "message"),
    [("Viewer01", "has no task:execute permission in codearts"), ("Ghost001", "unknown user")],
)
def test_a_run_as_who_may_not_run_it_is_refused(codearts, api, admin, run_as, message):  # noqa: F811
    task_id = codearts.create()
    status, body = api.call(
        "PUT", "/admin/v1/workspace", {"schedules": [schedule(task_id, run_as)]}, admin
    )
    assert status == 400 and message in body["error"]["message"], body
    assert list(ScheduleModel.by_kind.query("scan")) == []


def test_an_unknown_task_is_refused(codearts, api, admin):  # noqa: F811
    status, body = api.call(
        "PUT", "/admin/v1/workspace", {"schedules": [schedule("0" * 32)]}, admin
    )
    assert status == 400 and "unknown task" in body["error"]["message"], body
