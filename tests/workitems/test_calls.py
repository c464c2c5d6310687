"""DynamoDB calls of info/update/delete/stats/list do not grow with the team's task count,
nor do those of a list whose filters match nothing, or of a viewer of one project listing a
team whose tasks are all in another."""

from __future__ import annotations

from bench.ones_data import bulk_tasks
from chalicelib.core.metering import count_calls

from .conftest import DANA, P2, SPRINT2, TASK_TYPE, TEAM, TODO, VERA


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


def measure(ones, tag: str) -> dict[str, tuple[int, int]]:
    """Per request: (DynamoDB calls, of which Queries)."""
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
        "list_sparse": (
            "GET",
            f"/team/{TEAM}/tasks?project_uuid={P2}&status_category=done&limit=20",
            None,
        ),
        "list_viewer": ("GET", f"/team/{TEAM}/tasks?limit=20", None, VERA),
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
    for name, (method, path, body, *user) in requests.items():
        with count_calls() as calls:
            status, answer = ones.call(method, path, body, user=user[0] if user else DANA)
        assert status == 200, (name, answer)
        assert "bad_tasks" not in answer or answer["bad_tasks"] == [], answer
        assert calls["dynamodb.Scan"] == 0, name
        counts[name] = (calls["dynamodb"], calls["dynamodb.Query"])
    return counts


def test_call_counts_are_flat_from_10_to_2000_tasks(ones):
    seed(10, 1)
    small = measure(ones, "aaa")
    seed(1990, 20)
    large = measure(ones, "bbb")
    assert small == large
    assert all(n <= 20 for n, _queries in small.values()), small
    for name in ("list_page", "list_sparse", "list_viewer"):
        assert small[name][1] == 2, (name, small)  # the team's catalog, then one page
    status, body = ones.call("GET", f"/team/{TEAM}/tasks?project_uuid={P2}&limit=100")
    assert status == 200 and body["count"] == 100 and body["has_more"]
