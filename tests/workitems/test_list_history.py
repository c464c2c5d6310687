"""Beyond ONES: the paged, filtered task list and the change history."""

from __future__ import annotations

import base64
import json

from bench.ones_data import bulk_tasks
from chalicelib.core.metering import count_calls

from .conftest import DANA, P1, P2, PEI, SPRINT2, TASK_TYPE, TEAM, TODO, VERA


def listing(ones, user=DANA, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return ones.call("GET", f"/team/{TEAM}/tasks?{query}", user=user)


def test_list_filters_and_pages_in_a_stable_order(ones):
    made = [
        ones.new(
            f"list{i:04d}",
            assign=PEI if i % 2 else DANA,
            sprint_uuid=SPRINT2 if i % 3 == 0 else None,
        )
        for i in range(7)
    ]
    ones.new("listP1xx", project_uuid=P1)
    ones.transit(made[0]["uuid"], "TrShort1")
    status, body = listing(ones, project_uuid=P2, limit=3)
    assert status == 200 and body["has_more"] and body["count"] == 3
    seen = [t["uuid"] for t in body["tasks"]]
    while body["has_more"]:
        status, body = listing(ones, project_uuid=P2, limit=3, cursor=body["cursor"])
        assert status == 200
        seen += [t["uuid"] for t in body["tasks"]]
    assert seen == [t["uuid"] for t in reversed(made)]  # newest first, no gaps or repeats

    status, body = listing(ones, assign=PEI)
    assert [t["number"] for t in body["tasks"]] == [6, 4, 2]
    status, body = listing(ones, sprint_uuid=SPRINT2, assign=DANA)
    assert [t["number"] for t in body["tasks"]] == [7, 1]
    status, body = listing(ones, status_category="done")
    assert [t["uuid"] for t in body["tasks"]] == [made[0]["uuid"]]
    status, body = listing(ones, status_category="to_do", project_uuid=P2, limit=100)
    assert body["count"] == 6 and not body["has_more"] and body["cursor"] is None
    status, body = listing(ones, limit=2)
    assert [t["number"] for t in body["tasks"]] == [8, 7]


def test_list_respects_project_permissions_and_bad_input(ones):
    ones.new("listPrm1")
    ones.new("listPrm2", project_uuid=P1)
    status, body = listing(ones, user=VERA)
    assert status == 200 and [t["project_uuid"] for t in body["tasks"]] == [P1]
    status, body = listing(ones, user=VERA, project_uuid=P2)
    assert status == 404 and body["code"] == 404  # as a project that does not exist
    for params in (
        {"limit": 0},
        {"limit": "many"},
        {"status_category": "later"},
        {"cursor": "!!!"},
        {"cursor": "e30"},
    ):
        status, body = listing(ones, **params)
        assert status == 400 and body["code"] == 801, params
    status, body = listing(ones, project_uuid="NoSuchProject001")
    assert status == 404


def test_activities_record_who_changed_what(ones):
    task = ones.new("history1")
    ones.update(
        {
            "uuid": task["uuid"],
            "summary": "renamed",
            "field_values": [{"field_uuid": "FnUm0001", "type": 3, "value": 300000}],
        },
        user=PEI,
    )
    ones.transit(task["uuid"], "TrStart1")
    status, body = ones.call("GET", f"/team/{TEAM}/task/{task['uuid']}/activities?limit=2")
    assert status == 200 and body["has_more"]
    first, second = body["activities"]
    assert first["action"] == "create" and first["user_uuid"] == DANA
    assert second["action"] == "update" and second["user_uuid"] == PEI
    assert {"field": "summary", "old": "task history1", "new": "renamed"} in second["changes"]
    assert {"field": "FnUm0001", "old": None, "new": 300000} in second["changes"]
    assert second["time"] > first["time"]
    status, body = ones.call(
        "GET", f"/team/{TEAM}/task/{task['uuid']}/activities?limit=2&cursor={body['cursor']}"
    )
    (third,) = body["activities"]
    assert third["action"] == "transit" and not body["has_more"]
    assert third["changes"] == [{"field": "status_uuid", "old": "MZQu4VaM", "new": "4HfKoazf"}]
    status, body = ones.call("GET", f"/team/{TEAM}/task/{task['uuid']}/activities", user=VERA)
    assert status == 404
    status, body = ones.call("GET", f"/team/{TEAM}/task/DU6krHBNmissing1/activities")
    assert status == 404


def _cursor(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def test_odd_cursors_are_801_and_never_reach_dynamodb(ones):
    task = ones.new("cursor01")
    for data in (
        {"n": True, "u": task["uuid"]},
        {"n": 1, "u": ""},
        {"n": 1, "u": "not a task uuid"},
        {"n": -1, "u": task["uuid"]},
        {"n": 10**40, "u": task["uuid"]},
        {"n": 1.5, "u": task["uuid"]},
        [1, 2],
    ):
        status, body = listing(ones, cursor=_cursor(data))
        assert status == 400 and body["code"] == 801, (data, body)
    path = f"/team/{TEAM}/task/{task['uuid']}/activities"
    for data in ({"s": True}, {"s": -5}, {"s": 10**40}, {"s": "1"}, {}):
        status, body = ones.call("GET", f"{path}?cursor={_cursor(data)}")
        assert status == 400 and body["code"] == 801, (data, body)


def test_a_cursor_belongs_to_its_query(ones):
    for i in range(3):
        ones.new(f"cursorQ{i}", assign=PEI)
    status, body = listing(ones, assign=PEI, limit=1)
    assert status == 200 and body["has_more"]
    status, other = listing(ones, assign=DANA, limit=1, cursor=body["cursor"])
    assert status == 400 and other["code"] == 801
    status, other = listing(ones, assign=PEI, project_uuid=P2, limit=1, cursor=body["cursor"])
    assert status == 400 and other["code"] == 801
    status, same = listing(ones, assign=PEI, limit=5, cursor=body["cursor"])
    assert status == 200 and same["count"] == 2


def test_a_sparse_filter_reads_a_bounded_window_and_pages_on(ones):
    """Each request is one Query of at most MAX_EXAMINED tasks: a page the filters leave
    short (or empty) says has_more and gives the cursor to go on from; walking the cursors
    finds every match once."""
    first = ones.new("sparse01")
    bulk_tasks(
        450, 2, team=TEAM, user=DANA, project=P2, sprint=SPRINT2, issue_type=TASK_TYPE, status=TODO
    )
    last = ones.new("sparse02")
    for task in (first, last):
        assert ones.transit(task["uuid"], "TrShort1")[0] == 200
    pages, cursor = [], None
    while True:
        params = {"project_uuid": P2, "status_category": "done", "limit": 20}
        with count_calls() as calls:
            status, body = listing(ones, **params, **({"cursor": cursor} if cursor else {}))
        assert status == 200 and calls["dynamodb.Query"] == 2  # the catalog, one page
        pages.append([t["number"] for t in body["tasks"]])
        assert body["has_more"] == (body["cursor"] is not None)
        if not body["has_more"]:
            break
        cursor = body["cursor"]
    assert pages == [[452], [], [1]]  # 452 tasks, MAX_EXAMINED = 200 a request


def test_a_viewer_of_one_project_lists_it_from_its_own_index(ones):
    ones.new("viewLst1", project_uuid=P1)
    bulk_tasks(
        300, 2, team=TEAM, user=DANA, project=P2, sprint=SPRINT2, issue_type=TASK_TYPE, status=TODO
    )
    with count_calls() as calls:
        status, body = listing(ones, user=VERA, limit=5)
    assert status == 200 and [t["number"] for t in body["tasks"]] == [1]
    assert not body["has_more"] and calls["dynamodb.Query"] == 2
