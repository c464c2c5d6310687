"""Whether a task exists is told only to those who may view it.

A caller with no role in the team is refused (403) on every task route before any task is
read; a caller in the team who cannot view a task's project gets what a missing task gets:
the same status, code, message and the same number of reads.
"""

from __future__ import annotations

import json

import pytest

from chalicelib.core.metering import count_calls

from .conftest import DANA, OSCAR, P1, TASK_TYPE, TEAM, TODO, VERA

MISSING = "DU6krHBNmissing1"
MARA, MARA_TOKEN = "MaRa0001", "mara-token-0123456789abcdef"
TASK_ROUTES = {
    "info": ("GET", "/task/{uuid}/info", None),
    "transitions": ("GET", "/task/{uuid}/transitions", None),
    "activities": ("GET", "/task/{uuid}/activities", None),
    "new_transit": ("POST", "/task/{uuid}/new_transit", {"transition_uuid": "TrStart1"}),
    "related_tasks": ("POST", "/task/{uuid}/related_tasks", {"task_uuids": ["{visible}"]}),
    "unrelate": ("POST", "/task/{uuid}/delete/related_tasks", {"task_uuids": ["{visible}"]}),
    "delete": ("POST", "/task/{uuid}/delete", None),
    "copy": (
        "POST",
        "/task/{uuid}/copy",
        {"project_uuid": P1, "issue_type_uuid": TASK_TYPE, "status_uuid": TODO},
    ),
    "update2": ("POST", "/tasks/update2", {"tasks": [{"uuid": "{uuid}", "summary": "x"}]}),
    "update3": ("POST", "/tasks/update3", {"tasks": [{"uuid": "{uuid}", "summary": "x"}]}),
    "tasks_info_get": ("GET", "/tasks/info?ids={uuid}", None),
    "tasks_info_post": ("POST", "/tasks/info", {"ids": ["{uuid}"]}),
}


def fill(value, **names):
    text = json.dumps(value)
    for name, replacement in names.items():
        text = text.replace("{" + name + "}", replacement)
    return json.loads(text)


def answers(ones, routes, uuid, team=TEAM, user=None, headers=None, **names):
    """Each route's (status, body with the uuid and team blanked, DynamoDB calls)."""
    out = {}
    for name, (method, path, body) in routes.items():
        url = f"/team/{team}" + path.replace("{uuid}", uuid)
        with count_calls() as calls:
            status, answer = ones.call(
                method, url, fill(body, uuid=uuid, **names), user=user, headers=headers
            )
        text = json.dumps(answer).replace(uuid, "<uuid>").replace(team, "<team>")
        out[name] = (status, json.loads(text), calls["dynamodb"])
    return out


def as_if_missing(ones, routes, uuid, **kwargs):
    """The answers about `uuid`, checked to be those about a task that does not exist."""
    existing = answers(ones, routes, uuid, **kwargs)
    assert existing == answers(ones, routes, MISSING, **kwargs)
    return existing


@pytest.fixture
def tasks(ones):
    """A task in P2 (hidden from Vera) and one in P1 (that she views)."""
    hidden = ones.new("hidden01")
    visible = ones.new("visible1", project_uuid=P1)
    return hidden, visible


def test_no_role_in_the_team_is_403_before_any_task_is_read(ones, tasks):
    hidden, visible = tasks
    names = {"visible": visible["uuid"]}
    existing = as_if_missing(ones, TASK_ROUTES, hidden["uuid"], user=OSCAR, **names)
    for status, body, _calls in existing.values():
        assert status == 403 and body["code"] == 403, body
    lists = {
        "list": ("GET", "/tasks", None),
        "task_stats": ("GET", "/task_stats", None),
        "add2": ("POST", "/tasks/add2", {"tasks": [{"uuid": "OsCar001newtask1"}]}),
    }
    here = answers(ones, {**TASK_ROUTES, **lists}, MISSING, user=OSCAR, **names)
    nowhere = answers(ones, {**TASK_ROUTES, **lists}, MISSING, "NoTeam00", user=OSCAR, **names)
    # nor whether the team exists (the answers are the same; a missing team costs fewer reads)
    assert {k: a[:2] for k, a in here.items()} == {k: a[:2] for k, a in nowhere.items()}
    assert all(status == 403 for status, _body, _calls in here.values())
    assert ones.info(hidden["uuid"])["server_update_stamp"] == hidden["server_update_stamp"]


def test_a_task_the_caller_cannot_view_is_answered_as_a_missing_one(ones, tasks):
    hidden, visible = tasks
    names = {"visible": visible["uuid"]}
    existing = as_if_missing(ones, TASK_ROUTES, hidden["uuid"], user=VERA, **names)
    codes = {name: (status, body.get("code")) for name, (status, body, _c) in existing.items()}
    assert codes["info"] == codes["delete"] == codes["copy"] == (404, 404)
    assert codes["new_transit"] == codes["related_tasks"] == (404, 603)
    assert existing["update2"][1]["bad_tasks"][0]["code"] == 603
    assert existing["tasks_info_post"][1]["errors"][0]["code"] == 610
    assert ones.info(hidden["uuid"])["server_update_stamp"] == hidden["server_update_stamp"]
    assert ones.project_counts() == (1, 0, 0) and ones.project_counts(P1) == (1, 0, 0)


def test_a_referenced_task_the_caller_cannot_view_is_a_missing_one(ones, tasks, apply_workspace):
    """Mara may change P1 but not view P2: a P2 task named as a related task, a parent or a
    task field value is as unknown to her as one that does not exist."""
    hidden, visible = tasks
    apply_workspace(
        {
            "users": [
                {"uuid": MARA, "name": "Mara", "email": "mara@example.com", "token": MARA_TOKEN}
            ],
            "projects": [
                {
                    "uuid": P1,
                    "team": "3pDzCwAe",
                    "name": "Project one",
                    "members": {VERA: "viewer", MARA: "member"},
                }
            ],
        }
    )
    mara = {"Ones-User-Id": MARA, "Ones-Auth-Token": MARA_TOKEN}
    new = {"uuid": f"{MARA}child001", "assign": MARA, "summary": "s", "project_uuid": P1}
    routes = {
        "related_tasks": (
            "POST",
            f"/task/{visible['uuid']}/related_tasks",
            {"task_uuids": ["{uuid}"]},
        ),
        "add2_parent": (
            "POST",
            "/tasks/add2",
            {"tasks": [{**new, "issue_type_uuid": TASK_TYPE, "parent_uuid": "{uuid}"}]},
        ),
        "update_parent": (
            "POST",
            "/tasks/update2",
            {"tasks": [{"uuid": visible["uuid"], "parent_uuid": "{uuid}"}]},
        ),
        "update_field014": (
            "POST",
            "/tasks/update2",
            {
                "tasks": [
                    {
                        "uuid": visible["uuid"],
                        "field_values": [{"field_uuid": "field014", "type": 10, "value": "{uuid}"}],
                    }
                ]
            },
        ),
    }
    existing = as_if_missing(ones, routes, hidden["uuid"], headers=mara)
    status, body, _calls = existing["related_tasks"]
    assert status == 404 and body["code"] == 610
    assert [b["code"] for b in existing["add2_parent"][1]["bad_tasks"]] == [610]
    assert [b["code"] for b in existing["update_parent"][1]["bad_tasks"]] == [610]
    assert [b["code"] for b in existing["update_field014"][1]["bad_tasks"]] == [611]
    assert ones.info(visible["uuid"], user=DANA)["related_task_count"] == [0, 0]
