"""DynamoDB calls of info/update/delete/stats/list do not grow with the team's task count."""

from __future__ import annotations

from chalicelib.core import ids
from chalicelib.core.metering import count_calls
from chalicelib.workitems.models import TaskModel, TaskNumberModel, TeamCounterModel

from .conftest import DANA, P2, SPRINT2, TASK_TYPE, TEAM, TODO


def seed(count: int, first_number: int) -> None:
    """Write `count` plain tasks straight to the tables (fast), numbered after the others."""
    stamp = ids.now_us()
    with TaskModel.batch_write() as tasks, TaskNumberModel.batch_write() as numbers:
        for i in range(count):
            number = first_number + i
            uuid = f"{DANA}{number:08d}"
            tasks.save(
                TaskModel(
                    uuid=uuid,
                    team_uuid=TEAM,
                    number=number,
                    owner=DANA,
                    assign=DANA,
                    project_uuid=P2,
                    issue_type_uuid=TASK_TYPE,
                    status_uuid=TODO,
                    status_category="to_do",
                    sprint_uuid=SPRINT2,
                    summary=f"bulk {number}",
                    path=uuid,
                    create_time=stamp,
                    update_time=stamp,
                    server_update_stamp=stamp,
                    team_key=TEAM,
                    project_key=f"{TEAM}#{P2}",
                    category_key=f"{TEAM}#to_do",
                    assign_key=f"{TEAM}#{DANA}",
                    sprint_key=f"{TEAM}#{SPRINT2}",
                )
            )
            numbers.save(TaskNumberModel(team_uuid=TEAM, number=number, task_uuid=uuid))
    last = first_number + count - 1
    TeamCounterModel(TEAM, "number").update(actions=[TeamCounterModel.value.set(last)])


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
