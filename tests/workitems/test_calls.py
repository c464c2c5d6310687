"""DynamoDB calls of info/update/delete/stats/list do not grow with the team's task count."""

from __future__ import annotations

from bench.ones_data import bulk_tasks
from chalicelib.core.metering import count_calls

from .conftest import DANA, P2, SPRINT2, TASK_TYPE, TEAM, TODO


def seed(count: int, first_number: int) -> None:
    """`count` plain tasks straight in the tables (fast), numbered after the others."""
    bulk_tasks(
        count,
        first_number,
        team=TEAM,
        user=DANA,
        project=P2,
        sprint=SPRINT2,
        issue_type=TASK_TYPE,
        status=TODO,
    )


def measure(ones, tag: str) -> dict[str, int]:
    target = ones.new(f"{tag}tgt00")
    other = ones.new(f"{tag}oth00", parent_uuid=target["uuid"])
    uuid = target["uuid"]
    requests = {
        "info": ("GET", f"/team/{TEAM}/task/{uuid}/info", None),
        "info_by_number": ("GET", f"/team/{TEAM}/task/{target['number']}/info", None),
        "tasks_info": ("POST", f"/team/{TEAM}/tasks/info", {"ids": [uuid, other["uuid"]]}),
        "update2": (
            "POST",
            f"/team/{TEAM}/tasks/update2",
            {"tasks": [{"uuid": uuid, "summary": "changed"}]},
        ),
        "transit": (
            "POST",
            f"/team/{TEAM}/task/{uuid}/new_transit",
            {"transition_uuid": "TrStart1"},
        ),
        "task_stats": ("GET", f"/team/{TEAM}/task_stats", None),
        "list_page": ("GET", f"/team/{TEAM}/tasks?sprint_uuid={SPRINT2}&limit=20", None),
        "delete_leaf": ("POST", f"/team/{TEAM}/task/{other['uuid']}/delete", None),
        "add2": (
            "POST",
            f"/team/{TEAM}/tasks/add2",
            {
                "tasks": [
                    {
                        "uuid": f"{DANA}{tag}new00",
                        "assign": DANA,
                        "summary": "n",
                        "project_uuid": P2,
                        "issue_type_uuid": TASK_TYPE,
                    }
                ]
            },
        ),
    }
    counts = {}
    for name, (method, path, body) in requests.items():
        with count_calls() as calls:
            status, answer = ones.call(method, path, body)
        assert status == 200, (name, answer)
        assert "bad_tasks" not in answer or answer["bad_tasks"] == [], answer
        assert calls["dynamodb.Scan"] == 0, name
        counts[name] = calls["dynamodb"]
    return counts


def test_call_counts_are_flat_from_10_to_2000_tasks(ones):
    seed(10, 1)
    small = measure(ones, "aaa")
    seed(1990, 20)
    large = measure(ones, "bbb")
    assert small == large
    assert all(n <= 20 for n in small.values()), small
    status, body = ones.call("GET", f"/team/{TEAM}/tasks?project_uuid={P2}&limit=100")
    assert status == 200 and body["count"] == 100 and body["has_more"]
