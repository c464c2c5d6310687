"""A workspace with exactly the IDs of seed 001's examples, and helpers to call the face."""

from __future__ import annotations

import pytest

import chalicelib.workitems.api  # noqa: F401  (registers the tables before `aws` creates them)

PREFIX = "/project/api/project"
TEAM = "3pDzCwAe"
DANA, PEI, VERA, OSCAR = "DU6krHBN", "PRZy8efJ", "VeRa0001", "OsCar001"
DANA_TOKEN = "CUVZQSUJwRLfcVGSQoHEzI14LumPflYxJasP8MZHOLLgcjV5Rlnxy3YOjRN4z75w"
TOKENS = {
    DANA: DANA_TOKEN,
    PEI: "pei-token-0123456789abcdef",
    VERA: "vera-token-0123456789abcdef",
    OSCAR: "oscar-token-0123456789abcdef",
}
P1, P2 = "PRZy8efJ3HohVuf2", "DU6krHBNXuPAbpv8"
TASK_TYPE, STORY_TYPE, SUB_TYPE = "FF78d8EL", "GLLfcQxq", "Cdm9fgFS"
TODO, DOING, DONE = "MZQu4VaM", "4HfKoazf", "DoNe0001"
START, FINISH, REOPEN, SHORTCUT = "TrStart1", "TrDone01", "TrReopen", "TrShort1"
HIGH, NORMAL, LOW = "PRXB3jQU", "7tKAV46c", "YQ3yGULf"
SPRINT1, SPRINT2, SPRINT3 = "HdEkBV6o", "LJZM6N3J", "9a7pD8HD"

WORKSPACE = {
    "users": [
        {
            "uuid": DANA,
            "name": "Dana",
            "email": "dana@example.com",
            "password": "pa55word",
            "token": TOKENS[DANA],
        },
        {"uuid": PEI, "name": "Pei", "email": "pei@example.com", "token": TOKENS[PEI]},
        {"uuid": VERA, "name": "Vera", "email": "vera@example.com", "token": TOKENS[VERA]},
        {"uuid": OSCAR, "name": "Oscar", "email": "oscar@example.com", "token": TOKENS[OSCAR]},
    ],
    "teams": [{"uuid": TEAM, "name": "Team", "members": {DANA: "admin", PEI: "member"}}],
    "projects": [
        {"uuid": P1, "team": TEAM, "name": "Project one", "members": {VERA: "viewer"}},
        {"uuid": P2, "team": TEAM, "name": "Project two"},
    ],
    "statuses": [
        {"uuid": TODO, "team": TEAM, "name": "To do", "category": "to_do", "default": True},
        {"uuid": DOING, "team": TEAM, "name": "Doing", "category": "in_progress"},
        {"uuid": DONE, "team": TEAM, "name": "Done", "category": "done"},
    ],
    "issue_types": [
        {"uuid": TASK_TYPE, "team": TEAM, "name": "Task"},
        {"uuid": STORY_TYPE, "team": TEAM, "name": "Story"},
        {"uuid": SUB_TYPE, "team": TEAM, "name": "Subtask", "sub_issue_type": True},
    ],
    "transitions": [
        {"uuid": START, "team": TEAM, "name": "Start", "start_status": TODO, "end_status": DOING},
        {"uuid": FINISH, "team": TEAM, "name": "Finish", "start_status": DOING, "end_status": DONE},
        {"uuid": REOPEN, "team": TEAM, "name": "Reopen", "start_status": DONE, "end_status": TODO},
        {
            "uuid": SHORTCUT,
            "team": TEAM,
            "name": "Done now",
            "start_status": TODO,
            "end_status": DONE,
        },
    ],
    "priorities": [
        {"uuid": HIGH, "team": TEAM, "value": "High"},
        {"uuid": NORMAL, "team": TEAM, "value": "Normal", "default": True},
        {"uuid": LOW, "team": TEAM, "value": "Low"},
    ],
    "fields": [
        {"uuid": "FtXt0001", "team": TEAM, "name": "Notes", "type": 2},
        {"uuid": "FnUm0001", "team": TEAM, "name": "Points", "type": 3},
        {
            "uuid": "FoPt0001",
            "team": TEAM,
            "name": "Size",
            "type": 1,
            "options": [{"uuid": "OpSmall1", "value": "S"}, {"uuid": "OpLarge1", "value": "L"}],
        },
        {"uuid": "FuSr0001", "team": TEAM, "name": "Reviewers", "type": 13},
    ],
    "sprints": [
        {"uuid": SPRINT1, "team": TEAM, "project": P1, "name": "Sprint 1"},
        {"uuid": SPRINT2, "team": TEAM, "project": P2, "name": "Sprint 2"},
        {"uuid": SPRINT3, "team": TEAM, "project": P2, "name": "Sprint 3"},
    ],
}


def auth(user: str) -> dict[str, str]:
    return {"Ones-User-Id": user, "Ones-Auth-Token": TOKENS[user]}


class Ones:
    """Calls the face as a given user; paths are relative to the face prefix."""

    def __init__(self, api):
        self.api = api

    def call(self, method, path, body=None, user=DANA, raw=None, headers=None):
        hdrs = {**auth(user), **(headers or {})} if user else dict(headers or {})
        return self.api.call(method, PREFIX + path, body, hdrs, raw=raw)

    def add(self, *tasks, user=DANA):
        status, body = self.call("POST", f"/team/{TEAM}/tasks/add2", {"tasks": list(tasks)}, user)
        assert status == 200, body
        return body

    def new(self, suffix: str, user=DANA, **fields):
        """Create one task `<user><suffix>` and return its view."""
        task = {
            "uuid": user + suffix,
            "assign": user,
            "summary": f"task {suffix}",
            "project_uuid": P2,
            "issue_type_uuid": TASK_TYPE,
            **fields,
        }
        body = self.add(task, user=user)
        assert body["bad_tasks"] == [], body
        return body["tasks"][0]

    def update(self, *tasks, user=DANA, version="update2"):
        status, body = self.call(
            "POST", f"/team/{TEAM}/tasks/{version}", {"tasks": list(tasks)}, user
        )
        assert status == 200, body
        return body["bad_tasks"]

    def info(self, uuid, user=DANA):
        status, body = self.call("GET", f"/team/{TEAM}/task/{uuid}/info", user=user)
        assert status == 200, body
        return body

    def transit(self, uuid, transition, user=DANA):
        return self.call(
            "POST", f"/team/{TEAM}/task/{uuid}/new_transit", {"transition_uuid": transition}, user
        )

    def stats(self, user=DANA):
        status, body = self.call("GET", f"/team/{TEAM}/task_stats", user=user)
        assert status == 200, body
        return body

    def project_counts(self, project=P2):
        rows = self.stats()["task_count_by_project"]
        row = next(r for r in rows if r["project_uuid"] == project)
        return row["to_do"], row["in_progress"], row["done"]

    def sprint_counts(self, sprint):
        rows = self.stats()["task_count_by_sprint"]
        row = next(r for r in rows if r["sprint_uuid"] == sprint)
        return row["to_do"], row["in_progress"], row["done"]


@pytest.fixture
def ones(api, apply_workspace):
    apply_workspace(WORKSPACE)
    return Ones(api)
