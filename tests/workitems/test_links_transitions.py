"""Transitions, related tasks (821/610), and the done counts they keep on other tasks."""

from __future__ import annotations

from .conftest import DOING, DONE, P1, PEI, SPRINT2, TEAM, TODO, VERA


def relate(ones, uuid, others, user="DU6krHBN", **extra):
    return ones.call(
        "POST",
        f"/team/{TEAM}/task/{uuid}/related_tasks",
        {"task_uuids": others, **extra},
        user=user,
    )


def unrelate(ones, uuid, others):
    return ones.call(
        "POST", f"/team/{TEAM}/task/{uuid}/delete/related_tasks", {"task_uuids": others}
    )


def test_transitions_and_new_transit(ones):
    task = ones.new("transit1", sprint_uuid=SPRINT2)
    status, body = ones.call("GET", f"/team/{TEAM}/task/{task['uuid']}/transitions")
    assert status == 200
    assert [(t["uuid"], t["end_status_uuid"]) for t in body["transitions"]] == [
        ("TrShort1", DONE),
        ("TrStart1", DOING),
    ]
    assert ones.transit(task["uuid"], "TrStart1") == (
        200,
        {"code": 200, "errcode": "OK", "type": "OK"},
    )
    assert ones.info(task["uuid"])["status_uuid"] == DOING
    assert ones.project_counts() == (0, 1, 0) and ones.sprint_counts(SPRINT2) == (0, 1, 0)
    status, body = ones.transit(task["uuid"], "TrStart1")  # no longer starts at the status
    assert status == 400 and body["code"] == 801
    status, body = ones.transit(task["uuid"], "NoSuchTr")
    assert status == 400 and body["code"] == 801
    status, body = ones.transit("DU6krHBNmissing1", "TrStart1")
    assert status == 404 and body["code"] == 603
    assert ones.transit(task["uuid"], "TrDone01")[0] == 200
    assert ones.project_counts() == (0, 0, 1)
    assert ones.transit(task["uuid"], "TrReopen")[0] == 200
    assert ones.project_counts() == (1, 0, 0) and ones.sprint_counts(SPRINT2) == (1, 0, 0)
    assert ones.info(task["uuid"])["status_uuid"] == TODO


def test_transit_permission(ones):
    task = ones.new("transit2", project_uuid=P1)
    status, body = ones.transit(task["uuid"], "TrStart1", user=VERA)
    assert status == 403 and body["code"] == 403
    assert ones.transit(task["uuid"], "TrStart1", user=PEI)[0] == 200


def test_related_tasks_both_ends_and_done_counts(ones):
    a, b, c = ones.new("relateA1"), ones.new("relateB1"), ones.new("relateC1")
    status, body = relate(ones, a["uuid"], [a["uuid"]])
    assert status == 400 and body["code"] == 821
    status, body = relate(ones, a["uuid"], [b["uuid"], "DU6krHBNmissing1"])
    assert status == 404 and body["code"] == 610
    assert ones.info(a["uuid"])["related_task_count"] == [0, 0]  # nothing written
    assert relate(ones, a["uuid"], [b["uuid"], c["uuid"]])[0] == 200
    assert relate(ones, a["uuid"], [b["uuid"]])[0] == 200  # linking twice changes nothing
    assert ones.transit(b["uuid"], "TrShort1")[0] == 200
    info = ones.info(a["uuid"])
    assert info["related_task_count"] == [2, 1]
    assert sorted(r["uuid"] for r in info["related_tasks"]) == sorted([b["uuid"], c["uuid"]])
    assert {lk["link_desc_type"] for lk in info["links"]} == {"link_out_desc"}
    b_info = ones.info(b["uuid"])
    assert b_info["related_task_count"] == [1, 0]
    assert b_info["links"][0]["link_desc_type"] == "link_in_desc"
    assert ones.transit(a["uuid"], "TrShort1")[0] == 200
    assert ones.info(b["uuid"])["related_task_count"] == [1, 1]
    assert unrelate(ones, a["uuid"], [b["uuid"]]) == (
        200,
        {"code": 200, "errcode": "OK", "type": "OK"},
    )
    assert ones.info(a["uuid"])["related_task_count"] == [1, 0]
    assert ones.info(b["uuid"])["related_task_count"] == [0, 0]
    status, body = relate(ones, a["uuid"], [c["uuid"]], user=VERA)
    assert status == 404 and body["code"] == 603  # a is in P2, which Vera cannot view


def test_subtask_done_count_follows_transits(ones):
    parent = ones.new("parent03")
    child = ones.new("child003", parent_uuid=parent["uuid"])
    assert ones.transit(child["uuid"], "TrStart1")[0] == 200
    assert ones.info(parent["uuid"])["subtask_count"] == [1, 0]
    assert ones.transit(child["uuid"], "TrDone01")[0] == 200
    assert ones.info(parent["uuid"])["subtask_count"] == [1, 1]
    assert ones.transit(child["uuid"], "TrReopen")[0] == 200
    assert ones.info(parent["uuid"])["subtask_count"] == [1, 0]


def test_related_task_in_a_project_the_caller_cannot_view(ones):
    a = ones.new("visibleA", project_uuid=P1)
    b = ones.new("hiddenB1")
    assert relate(ones, a["uuid"], [b["uuid"]])[0] == 200
    (related,) = ones.info(a["uuid"], user=VERA)["related_tasks"]
    assert related["uuid"] == b["uuid"] and related["readable"] is False
    assert related["summary"] == ""
    (related,) = ones.info(a["uuid"])["related_tasks"]
    assert related["readable"] is True and related["summary"] == "task hiddenB1"


def test_both_ends_of_a_relation_record_it_in_their_history(ones):
    a, b = ones.new("histRelA"), ones.new("histRelB")
    assert relate(ones, a["uuid"], [b["uuid"]])[0] == 200
    assert unrelate(ones, a["uuid"], [b["uuid"]])[0] == 200

    def history(uuid):
        status, body = ones.call("GET", f"/team/{TEAM}/task/{uuid}/activities")
        assert status == 200
        return [(x["action"], x["changes"]) for x in body["activities"][1:]]

    rel = [{"field": "related_tasks", "old": None, "new": [b["uuid"]]}]
    unrel = [{"field": "related_tasks", "old": [b["uuid"]], "new": None}]
    assert history(a["uuid"]) == [("relate", rel), ("unrelate", unrel)]
    rel = [{"field": "related_tasks", "old": None, "new": [a["uuid"]]}]
    unrel = [{"field": "related_tasks", "old": [a["uuid"]], "new": None}]
    assert history(b["uuid"]) == [("relate", rel), ("unrelate", unrel)]
