"""update2 / update3: partial updates, codes, stale stamps, status and sprint counters."""

from __future__ import annotations

import pytest

from .conftest import DANA, DOING, DONE, LOW, PEI, SPRINT2, SPRINT3, TEAM, TODO, VERA


@pytest.mark.parametrize("version", ["update2", "update3"])
def test_partial_update_and_codes(ones, version):
    a = ones.new("updateA1")
    ones.new("updateB1")
    bad = ones.update(
        {
            "uuid": a["uuid"],
            "summary": "renamed",
            "priority": LOW,
            "deadline": 1700000000,
            "owner": PEI,
            "assess_manhour": 5,
            "number": 77,
        },  # not updatable: ignored
        {"uuid": "DU6krHBNmissing1", "summary": "x"},  # 603
        {"uuid": "DU6krHBNupdateB1", "summary": "x" * 1025},  # 801
        {"uuid": "DU6krHBNupdateB1", "desc": "x" * 65537},  # 801
        {"uuid": "DU6krHBNupdateB1", "priority": "NoSuchOp"},  # 801
        {
            "uuid": "DU6krHBNupdateB1",
            "field_values": [{"field_uuid": "FnUm0001", "type": 3, "value": 1.5}],
        },  # 611
        {
            "uuid": "DU6krHBNupdateB1",
            "field_values": [{"field_uuid": "field008", "type": 13, "value": [PEI]}],
        },  # 801 not updatable
        {"uuid": "DU6krHBNupdateB1", "parent_uuid": "DU6krHBNmissing2"},  # 610
        {"uuid": "DU6krHBNupdateB1", "parent_uuid": "DU6krHBNupdateB1"},  # 801
        version=version,
    )
    assert [(b["uuid"], b["code"]) for b in bad] == [
        ("DU6krHBNmissing1", 603),
        ("DU6krHBNupdateB1", 801),
        ("DU6krHBNupdateB1", 801),
        ("DU6krHBNupdateB1", 801),
        ("DU6krHBNupdateB1", 611),
        ("DU6krHBNupdateB1", 801),
        ("DU6krHBNupdateB1", 610),
        ("DU6krHBNupdateB1", 801),
    ]
    info = ones.info(a["uuid"])
    assert (info["summary"], info["priority"], info["deadline"]) == ("renamed", LOW, 1700000000)
    assert info["owner"] == DANA and info["assess_manhour"] is None and info["number"] == 1
    assert info["server_update_stamp"] > a["server_update_stamp"]
    assert ones.info("DU6krHBNupdateB1")["summary"] == "task updateB1"


def test_stale_server_update_stamp_is_820(ones):
    task = ones.new("stamp001")
    stamp = task["server_update_stamp"]
    assert ones.update({"uuid": task["uuid"], "summary": "one", "server_update_stamp": stamp}) == []
    bad = ones.update({"uuid": task["uuid"], "summary": "two", "server_update_stamp": stamp})
    assert [(b["code"], b["uuid"]) for b in bad] == [(820, task["uuid"])]
    assert ones.info(task["uuid"])["summary"] == "one"


def test_permissions_on_update(ones):
    task = ones.new("perm0001", project_uuid="PRZy8efJ3HohVuf2")
    bad = ones.update({"uuid": task["uuid"], "summary": "viewer"}, user=VERA)
    assert [b["code"] for b in bad] == [403]
    assert ones.update({"uuid": task["uuid"], "summary": "member"}, user=PEI) == []


def test_status_through_field005_follows_transitions(ones):
    task = ones.new("status01", sprint_uuid=SPRINT2)
    bad = ones.update(
        {
            "uuid": task["uuid"],
            "field_values": [{"field_uuid": "field005", "type": 12, "value": TODO + "x"}],
        }
    )
    assert [b["code"] for b in bad] == [611]
    assert (
        ones.update(
            {
                "uuid": task["uuid"],
                "field_values": [{"field_uuid": "field005", "type": 12, "value": DOING}],
            }
        )
        == []
    )
    bad = ones.update(
        {
            "uuid": task["uuid"],
            "field_values": [{"field_uuid": "field005", "type": 12, "value": TODO}],
        }
    )  # no transition DOING -> TODO
    assert [b["code"] for b in bad] == [801]
    assert ones.project_counts() == (0, 1, 0)
    assert ones.sprint_counts(SPRINT2) == (0, 1, 0)
    # sprint and status in one update move the count between sprints and categories
    assert (
        ones.update(
            {
                "uuid": task["uuid"],
                "sprint_uuid": SPRINT3,
                "field_values": [{"field_uuid": "field005", "type": 12, "value": DONE}],
            }
        )
        == []
    )
    assert ones.sprint_counts(SPRINT2) == (0, 0, 0)
    assert ones.sprint_counts(SPRINT3) == (0, 0, 1)
    assert ones.project_counts() == (0, 0, 1)
    assert ones.update({"uuid": task["uuid"], "sprint_uuid": ""}) == []
    assert ones.sprint_counts(SPRINT3) == (0, 0, 0)
    assert ones.info(task["uuid"])["sprint_uuid"] is None


def test_reparent_moves_subtask_counts(ones):
    p1, p2 = ones.new("parentA1"), ones.new("parentB1")
    child = ones.new("childAB1", parent_uuid=p1["uuid"])
    assert ones.transit(child["uuid"], "TrShort1")[0] == 200
    assert ones.info(p1["uuid"])["subtask_count"] == [1, 1]
    assert ones.update({"uuid": child["uuid"], "parent_uuid": p2["uuid"]}) == []
    assert ones.info(p1["uuid"])["subtask_count"] == [0, 0]
    assert ones.info(p2["uuid"])["subtask_count"] == [1, 1]
    assert ones.info(child["uuid"])["path"] == f"{p2['uuid']}-{child['uuid']}"
    bad = ones.update({"uuid": p2["uuid"], "parent_uuid": child["uuid"]})  # a cycle
    assert [b["code"] for b in bad] == [801]
    assert ones.update({"uuid": child["uuid"], "parent_uuid": ""}) == []
    assert ones.info(child["uuid"])["path"] == child["uuid"]
    assert ones.info(p2["uuid"])["subtask_count"] == [0, 0]


def test_unknown_team_and_empty_update(ones):
    status, body = ones.call("POST", "/team/NoTeam00/tasks/update2", {"tasks": [{"uuid": "x"}]})
    assert status == 403 and body["code"] == 403
    task = ones.new("noop0001")
    assert ones.update({"uuid": task["uuid"]}) == []
    assert ones.info(task["uuid"])["server_update_stamp"] == task["server_update_stamp"]
    status, body = ones.call("GET", f"/team/{TEAM}/task/{task['uuid']}/activities")
    assert [a["action"] for a in body["activities"]] == ["create"]


def test_descriptions_that_would_not_fit_an_item_are_801(ones):
    wide = "描" * 60000  # 180 KB of UTF-8 each
    body = ones.add(
        {
            "uuid": "DU6krHBNwideDesc",
            "assign": DANA,
            "summary": "s",
            "project_uuid": "DU6krHBNXuPAbpv8",
            "issue_type_uuid": "FF78d8EL",
            "desc": wide,
            "desc_rich": wide,
        }
    )
    assert [b["code"] for b in body["bad_tasks"]] == [801]
    task = ones.new("wideDes2", desc=wide)
    assert [b["code"] for b in ones.update({"uuid": task["uuid"], "desc_rich": wide})] == [801]
    assert ones.update({"uuid": task["uuid"], "desc": "short"}) == []
    status, body = ones.call("GET", f"/team/{TEAM}/task/{task['uuid']}/activities")
    assert status == 200
    (change,) = [c for c in body["activities"][1]["changes"] if c["field"] == "desc"]
    assert change["new"] == "short" and len(change["old"]) == 2001 and change["old"][-1] == "…"


def test_moving_a_task_moves_its_subtree(ones):
    old, new = ones.new("oldParnt"), ones.new("newParnt")
    mid = ones.new("midTask1", parent_uuid=old["uuid"])
    leaf = ones.new("leafTsk1", parent_uuid=mid["uuid"])
    assert ones.transit(leaf["uuid"], "TrShort1")[0] == 200
    assert ones.update({"uuid": mid["uuid"], "parent_uuid": new["uuid"]}) == []
    assert ones.info(mid["uuid"])["path"] == f"{new['uuid']}-{mid['uuid']}"
    assert ones.info(leaf["uuid"])["path"] == f"{new['uuid']}-{mid['uuid']}-{leaf['uuid']}"
    assert ones.info(old["uuid"])["subtask_count"] == [0, 0]
    assert ones.info(new["uuid"])["subtask_count"] == [1, 0]
    assert ones.info(mid["uuid"])["subtask_count"] == [1, 1]
    bad = ones.update({"uuid": new["uuid"], "parent_uuid": leaf["uuid"]})
    assert [b["code"] for b in bad] == [801]  # under its own subtask
    assert ones.update({"uuid": mid["uuid"], "parent_uuid": ""}) == []
    assert ones.info(leaf["uuid"])["path"] == f"{mid['uuid']}-{leaf['uuid']}"
