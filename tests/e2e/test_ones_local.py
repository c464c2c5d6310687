"""The ONES face through a real `chalice local` server: the README's curl walk-through."""

from tests.workitems.conftest import DANA, P1, PREFIX, TEAM, WORKSPACE

from .conftest import ADMIN_TOKEN


def test_login_add_info_stats_list_history(server):
    status, body = server.call(
        "PUT", "/admin/v1/workspace", WORKSPACE, {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert status == 200, body
    status, body = server.call(
        "POST", f"{PREFIX}/auth/login", {"email": "dana@example.com", "password": "pa55word"}
    )
    assert status == 200, body
    headers = {"Ones-User-Id": DANA, "Ones-Auth-Token": body["user"]["token"]}
    task = {
        "uuid": "DU6krHBNe2eTask1",
        "assign": DANA,
        "summary": "over HTTP",
        "project_uuid": P1,
        "issue_type_uuid": "FF78d8EL",
    }
    status, body = server.call(
        "POST", f"{PREFIX}/team/{TEAM}/tasks/add2", {"tasks": [task]}, headers
    )
    assert status == 200 and body["bad_tasks"] == [], body
    number = body["tasks"][0]["number"]
    status, body = server.call(
        "POST",
        f"{PREFIX}/team/{TEAM}/tasks/update2",
        {"tasks": [{"uuid": task["uuid"], "summary": "renamed"}]},
        headers,
    )
    assert (status, body) == (200, {"bad_tasks": []})
    status, body = server.call("GET", f"{PREFIX}/team/{TEAM}/task/{number}/info", None, headers)
    assert status == 200 and body["summary"] == "renamed"
    status, body = server.call("GET", f"{PREFIX}/team/{TEAM}/task_stats", None, headers)
    assert {"project_uuid": P1, "to_do": 1, "in_progress": 0, "done": 0} in body[
        "task_count_by_project"
    ]
    status, body = server.call(
        "GET", f"{PREFIX}/team/{TEAM}/tasks?project_uuid={P1}", None, headers
    )
    assert [t["uuid"] for t in body["tasks"]] == [task["uuid"]]
    status, body = server.call(
        "GET", f"{PREFIX}/team/{TEAM}/task/{task['uuid']}/activities", None, headers
    )
    assert [a["action"] for a in body["activities"]] == ["create", "update"]
    status, body = server.call(
        "POST", f"{PREFIX}/team/{TEAM}/tasks/add2", {"tasks": [task]}, headers
    )
    assert body["bad_tasks"][0]["code"] == 608
    status, body = server.call("GET", f"{PREFIX}/team/{TEAM}/task_stats")
    assert status == 401 and body["code"] == 401
