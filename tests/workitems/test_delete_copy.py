"""delete (cascades to subtasks), copy with reserve_contents, info by uuid or number."""

from __future__ import annotations

from .conftest import DANA, DOING, OSCAR, P1, P2, PEI, SPRINT2, STORY_TYPE, TEAM, VERA


def delete(ones, uuid, user=DANA):
    return ones.call("POST", f"/team/{TEAM}/task/{uuid}/delete", user=user)


def test_delete_parent_deletes_its_subtasks_and_keeps_counts_exact(ones):
    parent = ones.new("delParnt", sprint_uuid=SPRINT2)
    child = ones.new("delChild", parent_uuid=parent["uuid"], sprint_uuid=SPRINT2)
    grandchild = ones.new("delGrand", parent_uuid=child["uuid"])
    other = ones.new("delOther")
    assert ones.transit(grandchild["uuid"], "TrShort1")[0] == 200
    status, _ = ones.call(
        "POST", f"/team/{TEAM}/task/{other['uuid']}/related_tasks", {"task_uuids": [child["uuid"]]}
    )
    assert status == 200
    assert ones.project_counts() == (3, 0, 1)
    assert ones.sprint_counts(SPRINT2) == (2, 0, 0)

    assert delete(ones, parent["uuid"], user=PEI)[0] == 403  # members cannot delete
    status, body = delete(ones, parent["uuid"])
    assert (status, body) == (200, {"code": 200, "errcode": "OK", "type": "OK"})
    for uuid in (parent["uuid"], child["uuid"], grandchild["uuid"]):
        status, body = ones.call("GET", f"/team/{TEAM}/task/{uuid}/info")
        assert status == 404 and body["code"] == 404
    assert ones.project_counts() == (1, 0, 0)
    assert ones.sprint_counts(SPRINT2) == (0, 0, 0)
    survivor = ones.info(other["uuid"])
    assert survivor["related_task_count"] == [0, 0] and survivor["related_tasks"] == []
    status, body = ones.call("GET", f"/team/{TEAM}/task/1/info")
    assert status == 404
    assert ones.new("afterDel")["number"] == 5  # numbers are never reused
    status, body = delete(ones, parent["uuid"])
    assert status == 404 and body["code"] == 404


def test_delete_subtask_updates_parent(ones):
    parent = ones.new("parent02")
    a = ones.new("subtaskA", parent_uuid=parent["uuid"])
    ones.new("subtaskB", parent_uuid=parent["uuid"])
    assert ones.transit(a["uuid"], "TrShort1")[0] == 200
    assert ones.info(parent["uuid"])["subtask_count"] == [2, 1]
    assert delete(ones, a["uuid"])[0] == 200
    assert ones.info(parent["uuid"])["subtask_count"] == [1, 0]


def test_info_by_uuid_or_number_and_permissions(ones):
    task = ones.new("byNumber")
    assert ones.info("1")["uuid"] == task["uuid"]
    status, body = ones.call("GET", f"/team/{TEAM}/task/42/info")
    assert status == 404 and body["code"] == 404
    status, body = ones.call("GET", f"/team/{TEAM}/task/{task['uuid']}/info", user=VERA)
    assert status == 404 and body["code"] == 404  # Vera cannot view P2: as if it were missing
    status, body = ones.call("GET", f"/team/OtherTm1/task/{task['uuid']}/info")
    assert status == 403 and body["type"] == "PermissionDenied"
    for odd in ("²", "١", "0", "-1", "1.0", "0x1"):  # numbers are ASCII digits only
        status, body = ones.call("GET", f"/team/{TEAM}/task/{odd}/info")
        assert status == 404 and body["code"] == 404, (odd, body)


def test_batch_info_get_and_post(ones):
    a, b = ones.new("batchA01"), ones.new("batchB01")
    status, body = ones.call("GET", f"/team/{TEAM}/tasks/info?ids={a['uuid']},{b['uuid']}")
    assert status == 200 and body["count"] == 2 and body["errors"] == []
    status, body = ones.call(
        "POST", f"/team/{TEAM}/tasks/info", {"ids": [a["uuid"], "DU6krHBNmissing1", "short"]}
    )
    assert status == 200 and body["count"] == 1
    assert [(e["uuid"], e["code"]) for e in body["errors"]] == [
        ("DU6krHBNmissing1", 610),
        ("short", 801),
    ]
    status, body = ones.call("POST", f"/team/{TEAM}/tasks/info", {"ids": [a["uuid"], a["uuid"]]})
    assert status == 400 and body["code"] == 801
    status, body = ones.call("GET", f"/team/{TEAM}/tasks/info")
    assert status == 400 and body["code"] == 801
    status, body = ones.call("POST", f"/team/{TEAM}/tasks/info", {"ids": [a["uuid"]]}, user=VERA)
    assert body["count"] == 0 and body["errors"][0]["code"] == 610


def test_copy_with_and_without_reserve_contents(ones):
    source = ones.new(
        "copySrc1",
        deadline=1700000000,
        assess_manhour=500000,
        watchers=[PEI],
        sprint_uuid=SPRINT2,
        field_values=[{"field_uuid": "FtXt0001", "type": 2, "value": "n"}],
    )
    sub = ones.new("copySub1", parent_uuid=source["uuid"])
    ones.new("copySub2", parent_uuid=sub["uuid"])
    rel = ones.new("copyRel1")
    assert ones.transit(rel["uuid"], "TrShort1")[0] == 200
    status, _ = ones.call(
        "POST", f"/team/{TEAM}/task/{source['uuid']}/related_tasks", {"task_uuids": [rel["uuid"]]}
    )
    assert status == 200

    path = f"/team/{TEAM}/task/{source['uuid']}/copy"
    status, body = ones.call(
        "POST", path, {"project_uuid": P2, "issue_type_uuid": STORY_TYPE, "status_uuid": DOING}
    )
    assert status == 200, body
    bare = body["task"]
    assert bare["uuid"].startswith(DANA) and bare["owner"] == DANA
    assert bare["issue_type_uuid"] == STORY_TYPE and bare["status_uuid"] == DOING
    assert bare["deadline"] is None and bare["watchers"] == [DANA]
    assert bare["assess_manhour"] is None
    assert bare["subtask_count"] == [0, 0] and bare["related_task_count"] == [0, 0]
    assert bare["sprint_uuid"] == SPRINT2
    assert {f["field_uuid"]: f["value"] for f in bare["field_values"]}["FtXt0001"] == "n"

    status, body = ones.call(
        "POST",
        path,
        {
            "project_uuid": P2,
            "issue_type_uuid": STORY_TYPE,
            "status_uuid": DOING,
            "reserve_contents": [
                "cycle",
                "relatedTask",
                "subTask",
                "testing",
                "relatedWiki",
                "attachment",
                "watcher",
                "allManhour",
            ],
        },
    )
    assert status == 200, body
    full = body["task"]
    assert full["deadline"] == 1700000000 and full["watchers"] == [PEI, DANA]
    assert full["assess_manhour"] == 500000
    assert full["subtask_count"] == [1, 0] and full["related_task_count"] == [1, 1]
    assert [r["uuid"] for r in full["related_tasks"]] == [rel["uuid"]]
    (sub_copy,) = full["subtasks"]
    assert sub_copy["uuid"] != sub["uuid"]
    assert ones.info(sub_copy["uuid"])["subtask_count"] == [1, 0]
    assert ones.info(rel["uuid"])["related_task_count"] == [2, 0]
    # 4 originals, the bare copy, the full copy with its subtask and sub-subtask
    assert ones.project_counts() == (5, 2, 1)

    status, body = ones.call(
        "POST", path, {"project_uuid": P1, "issue_type_uuid": "nope", "status_uuid": DOING}
    )
    assert status == 400 and body["code"] == 801
    status, body = ones.call(
        "POST",
        path,
        {
            "project_uuid": P2,
            "issue_type_uuid": STORY_TYPE,
            "status_uuid": DOING,
            "reserve_contents": ["x"],
        },
    )
    assert status == 400 and body["code"] == 801
    status, body = ones.call(
        "POST",
        path,
        {"project_uuid": P1, "issue_type_uuid": STORY_TYPE, "status_uuid": DOING},
        user=VERA,
    )
    assert status == 404  # the source is in P2, which Vera cannot view


def test_copy_needs_view_tasks_on_the_target_as_documented(ones):
    source = ones.new("viewCpy1", project_uuid=P1)
    sub = ones.new("viewCpy2", project_uuid=P1, parent_uuid=source["uuid"])
    rel = ones.new("viewCpy3", project_uuid=P1)
    status, _ = ones.call(
        "POST", f"/team/{TEAM}/task/{source['uuid']}/related_tasks", {"task_uuids": [rel["uuid"]]}
    )
    assert status == 200
    path = f"/team/{TEAM}/task/{source['uuid']}/copy"
    request = {
        "project_uuid": P1,
        "issue_type_uuid": STORY_TYPE,
        "status_uuid": DOING,
        "reserve_contents": ["relatedTask", "subTask"],
    }
    # Vera only views P1: enough to copy within it (seed 001: 目标 issueType 下 view_tasks)
    status, body = ones.call("POST", path, request, user=VERA)
    assert status == 200, body
    copy = body["task"]
    assert copy["uuid"].startswith(VERA) and copy["owner"] == VERA
    assert copy["subtask_count"] == [1, 0] and copy["related_task_count"] == [1, 0]
    assert copy["subtasks"][0]["uuid"] != sub["uuid"]
    assert ones.info(rel["uuid"])["related_task_count"] == [2, 0]
    assert ones.project_counts(P1) == (4, 1, 0)
    # without view_tasks on the target (P2) or at all, nothing is written
    status, body = ones.call("POST", path, {**request, "project_uuid": P2}, user=VERA)
    assert status == 400 and body["code"] == 801  # P2 is as unknown to her as a missing one
    status, body = ones.call("POST", path, request, user=OSCAR)
    assert status == 403 and body["code"] == 403
    assert ones.project_counts(P1) == (4, 1, 0) and ones.project_counts(P2) == (0, 0, 0)


def test_copy_refused_before_writing_when_a_relation_cannot_be_copied(ones, monkeypatch):
    from chalicelib.workitems import relations

    monkeypatch.setattr(relations, "MAX_LINKS", 2)
    source, full, other = ones.new("cpFull01"), ones.new("cpFull02"), ones.new("cpFull03")
    for uuid in (source["uuid"], other["uuid"]):
        status, _ = ones.call(
            "POST", f"/team/{TEAM}/task/{full['uuid']}/related_tasks", {"task_uuids": [uuid]}
        )
        assert status == 200
    request = {"project_uuid": P2, "issue_type_uuid": STORY_TYPE, "status_uuid": DOING}
    path = f"/team/{TEAM}/task/{source['uuid']}/copy"
    status, body = ones.call("POST", path, {**request, "reserve_contents": ["relatedTask"]})
    assert status == 400 and body["code"] == 801, body
    assert ones.project_counts() == (3, 0, 0)  # no copy was written
    assert ones.new("cpFull04")["number"] == 4
    status, body = ones.call("POST", path, request)
    assert status == 200 and body["task"]["related_task_count"] == [0, 0]
