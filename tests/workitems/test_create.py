"""add2: every documented code per task, partial batch failure, login and credentials."""

from __future__ import annotations

from .conftest import DANA, OSCAR, P1, P2, PEI, SUB_TYPE, TASK_TYPE, TEAM, TOKENS, VERA


def task(uuid, **extra):
    return {
        "uuid": uuid,
        "assign": uuid[:8],
        "summary": "s",
        "project_uuid": P2,
        "issue_type_uuid": TASK_TYPE,
        **extra,
    }


def codes(body):
    return {b["uuid"]: b["code"] for b in body["bad_tasks"]}


def test_login_returns_user_and_a_working_token(ones):
    status, body = ones.call(
        "POST", "/auth/login", {"email": "dana@example.com", "password": "pa55word"}, user=None
    )
    assert status == 200, body
    user = body["user"]
    assert (user["uuid"], user["name"], user["email"]) == (DANA, "Dana", "dana@example.com")
    assert body["teams"] == [{"uuid": TEAM, "name": "Team"}]
    headers = {"Ones-User-Id": DANA, "Ones-Auth-Token": user["token"]}
    status, _ = ones.call("GET", f"/team/{TEAM}/task_stats", user=None, headers=headers)
    assert status == 200
    status, _ = ones.call(
        "GET",
        f"/team/{TEAM}/task_stats",
        user=None,
        headers={"Authorization": f"Bearer {user['token']}"},
    )
    assert status == 200


def test_login_failures(ones):
    status, body = ones.call(
        "POST", "/auth/login", {"email": "dana@example.com", "password": "wrong"}, user=None
    )
    assert status == 401 and body["code"] == 401 and body["type"] == "Unauthorized"
    status, body = ones.call("POST", "/auth/login", {"email": "x"}, user=None)
    assert status == 400 and body["code"] == 801 and body["errcode"] == "InvalidParameter"
    status, body = ones.call("POST", "/auth/login", raw="{nope", user=None)
    assert status == 400 and body["code"] == 801


def test_user_id_must_match_token(ones):
    headers = {"Ones-User-Id": PEI, "Ones-Auth-Token": TOKENS[DANA]}
    status, body = ones.call("GET", f"/team/{TEAM}/task_stats", user=None, headers=headers)
    assert status == 401 and set(body) >= {"code", "errcode", "type"}


def test_partial_batch_failure_creates_the_good_tasks(ones):
    body = ones.add(
        task("DU6krHBNgood0001"),
        task("DU6krHBNshort"),  # 607 length
        task("PRZy8efJwrongown"),  # 607 creator prefix (creator is the caller)
        task("DU6krHBNgood0001"),  # 608 twice in the batch
        task("DU6krHBNlongsumm", summary="x" * 1025),  # 801
        task("DU6krHBNlongdesc", desc="x" * 65537),  # 801
        task("DU6krHBNnosummar", summary=""),  # 801
        task(
            "DU6krHBNbadfield",
            field_values=[{"field_uuid": "field012", "type": 1, "value": "NoSuchOp"}],
        ),  # 611
        task("DU6krHBNnoparent", parent_uuid="DU6krHBNmissing1"),  # 610
        task("DU6krHBNnoprojec", project_uuid="NoSuchProject001"),  # 404
        task("DU6krHBNgood0002"),
        "not an object",
    )
    assert [t["uuid"] for t in body["tasks"]] == ["DU6krHBNgood0001", "DU6krHBNgood0002"]
    assert [t["number"] for t in body["tasks"]] == [1, 2]
    assert codes(body) == {
        "DU6krHBNshort": 607,
        "PRZy8efJwrongown": 607,
        "DU6krHBNgood0001": 608,
        "DU6krHBNlongsumm": 801,
        "DU6krHBNlongdesc": 801,
        "DU6krHBNnosummar": 801,
        "DU6krHBNbadfield": 611,
        "DU6krHBNnoparent": 610,
        "DU6krHBNnoprojec": 404,
        "": 801,
    }
    assert all(b["desc"] for b in body["bad_tasks"])
    assert ones.project_counts() == (2, 0, 0)


def test_duplicate_of_an_existing_task_is_608(ones):
    ones.new("dup00001")
    body = ones.add(task("DU6krHBNdup00001"))
    assert codes(body) == {"DU6krHBNdup00001": 608}
    assert ones.project_counts() == (1, 0, 0)


def test_field_values_types_and_not_settable_fields(ones):
    cases = {
        "DU6krHBNtype0001": ([{"field_uuid": "FnUm0001", "type": 3, "value": "7"}], 611),
        "DU6krHBNtype0002": ([{"field_uuid": "FnUm0001", "type": 2, "value": 7}], 611),
        "DU6krHBNtype0003": ([{"field_uuid": "FoPt0001", "type": 1, "value": "OpNone01"}], 611),
        "DU6krHBNtype0004": ([{"field_uuid": "FuSr0001", "type": 13, "value": ["Nobody01"]}], 611),
        "DU6krHBNtype0005": ([{"field_uuid": "field004", "type": 8, "value": "Nobody01"}], 611),
        "DU6krHBNtype0006": ([{"field_uuid": "field011", "type": 7, "value": "HdEkBV6o"}], 611),
        "DU6krHBNtype0007": ([{"field_uuid": "field013", "type": 5, "value": "tomorrow"}], 611),
        "DU6krHBNtype0008": ([{"field_uuid": "FnoSuch1", "type": 2, "value": "x"}], 611),
        "DU6krHBNtype0009": ([{"field_uuid": "field015", "type": 14, "value": 9}], 801),
        "DU6krHBNtype0010": ([{"field_uuid": "field008", "type": 13, "value": [DANA]}], 801),
        "DU6krHBNtype0011": ([{"field_uuid": "field002", "type": 8, "value": PEI}], 801),
        "DU6krHBNtype0012": ([{"field_uuid": "field001", "type": 2}], 801),
    }
    body = ones.add(*[task(u, field_values=fv) for u, (fv, _) in cases.items()])
    assert body["tasks"] == []
    assert codes(body) == {u: code for u, (_, code) in cases.items()}


def test_field_values_set_builtins_and_custom_fields(ones):
    created = ones.new(
        "fields01",
        number=999,  # not settable on create: ignored
        create_time=1,
        field_values=[
            {"field_uuid": "field001", "type": 2, "value": "from field001"},
            {"field_uuid": "field013", "type": 5, "value": 1700000000},
            {"field_uuid": "FnUm0001", "type": 3, "value": 500000},
            {"field_uuid": "FoPt0001", "type": 1, "value": "OpLarge1"},
            {"field_uuid": "FuSr0001", "type": 13, "value": [PEI, DANA, PEI]},
            {"field_uuid": "FtXt0001", "type": 2, "value": "note"},
        ],
    )
    assert created["summary"] == "from field001" and created["deadline"] == 1700000000
    assert created["number"] == 1 and created["create_time"] > 1
    values = {f["field_uuid"]: f for f in created["field_values"]}
    assert values["FnUm0001"] == {
        "field_uuid": "FnUm0001",
        "type": 3,
        "value": 500000,
        "value_type": 0,
    }
    assert values["FuSr0001"]["value"] == [PEI, DANA]
    assert values["field001"]["value"] == "from field001"
    assert created["priority"] == "7tKAV46c"  # the default priority option


def test_permissions_on_create(ones):
    body = ones.add(task("VeRa0001viewer01", project_uuid=P1), user=VERA)
    assert codes(body) == {"VeRa0001viewer01": 403}
    status, body = ones.call(
        "POST", f"/team/{TEAM}/tasks/add2", {"tasks": [task("OsCar001outsider")]}, user=OSCAR
    )
    assert status == 403 and body["code"] == 403  # no role in the team: the whole request
    body = ones.add(task("PRZy8efJmember01"), user=PEI)
    assert body["bad_tasks"] == []


def test_subtask_rules(ones):
    parent = ones.new("parent01")
    body = ones.add(
        task("DU6krHBNsubnopar", sub_issue_type_uuid=SUB_TYPE, issue_type_uuid=""),
        task("DU6krHBNsubother", parent_uuid=parent["uuid"], project_uuid=P1),
        task("DU6krHBNsubgood1", parent_uuid=parent["uuid"], sub_issue_type_uuid=SUB_TYPE),
        task("DU6krHBNsubsub01", parent_uuid="DU6krHBNsubgood1", sub_issue_type_uuid=SUB_TYPE),
    )
    assert codes(body) == {"DU6krHBNsubnopar": 801, "DU6krHBNsubother": 801}
    assert body["tasks"][1]["path"] == f"{parent['uuid']}-DU6krHBNsubgood1-DU6krHBNsubsub01"
    assert ones.info(parent["uuid"])["subtask_count"] == [1, 0]
    info = ones.info(parent["uuid"])
    assert [s["uuid"] for s in info["subtasks"]] == ["DU6krHBNsubgood1"]


def test_bad_batch_shapes_are_801(ones):
    for payload in ({}, {"tasks": []}, {"tasks": "x"}, {"tasks": [{}] * 101}):
        status, body = ones.call("POST", f"/team/{TEAM}/tasks/add2", payload)
        assert status == 400 and body["code"] == 801, payload
    status, body = ones.call("POST", "/team/NoTeam00/tasks/add2", {"tasks": [task("x")]})
    assert status == 403 and body["code"] == 403  # as any team the caller is not in


def test_unexpected_failure_is_a_500_in_the_envelope(ones, monkeypatch):
    from chalicelib.workitems import queries

    def broken(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(queries, "task_stats", broken)
    status, body = ones.call("GET", f"/team/{TEAM}/task_stats")
    assert status == 500
    assert body == {
        "code": 500,
        "errcode": "ServerError",
        "type": "ServerError",
        "desc": "internal error",
    }


def test_deadline_is_in_seconds(ones):
    """A millisecond timestamp (year 54,000) is refused rather than stored as seconds."""
    body = ones.add(
        task("DU6krHBNdead0001", deadline=1671206399),
        task("DU6krHBNdead0002", deadline=1671206399000),
        task(
            "DU6krHBNdead0003",
            field_values=[{"field_uuid": "field013", "type": 5, "value": 1671206399000}],
        ),
    )
    assert [t["deadline"] for t in body["tasks"]] == [1671206399]
    assert codes(body) == {"DU6krHBNdead0002": 801, "DU6krHBNdead0003": 611}
    bad = ones.update({"uuid": "DU6krHBNdead0001", "deadline": 1671206399000})
    assert [b["code"] for b in bad] == [801]
    assert ones.info("DU6krHBNdead0001")["deadline"] == 1671206399


SEED_TASK_FIELDS = {  # seed 001 "工作项" table: field -> JSON type (None: may be null)
    "uuid": str,
    "owner": str,
    "assign": str,
    "sprint_uuid": (str, type(None)),
    "project_uuid": str,
    "issue_type_uuid": str,
    "status_uuid": str,
    "create_time": int,
    "summary": str,
    "desc": str,
    "desc_rich": str,
    "parent_uuid": str,
    "path": str,
    "position": int,
    "number": int,
    "priority": str,
    "deadline": (int, type(None)),
    "field_values": list,
    "watchers": list,
    "code_commits": list,
    "update_time": int,
    "server_update_stamp": int,
    "related_task_count": list,
    "subtask_count": list,
    "discussion_count": int,
    "attachment_count": int,
    "assess_manhour": (int, type(None)),
    "total_manhour": int,
    "remaining_manhour": (int, type(None)),
    "manhours": list,
    "gantt": (dict, type(None)),
    "product_uuids": (list, type(None)),
}


def test_task_model_has_every_documented_field_with_its_unit(ones):
    """assess_manhour is settable on create (only update lists it as not settable)."""
    created = ones.new("model001", assess_manhour=300000)
    for field, kind in SEED_TASK_FIELDS.items():
        assert isinstance(created[field], kind), (field, created.get(field))
    assert created["assess_manhour"] == 300000
    assert (
        len(str(created["create_time"])) == 16 and created["update_time"] >= created["create_time"]
    )
    values = {f["field_uuid"]: f for f in created["field_values"]}
    assert values["field009"]["type"] == 5
    assert values["field009"]["value"] == created["create_time"] // 1_000_000  # date: seconds
    assert ones.update({"uuid": created["uuid"], "assess_manhour": 1, "summary": "x"}) == []
    assert ones.info(created["uuid"])["assess_manhour"] == 300000


def test_uuids_with_a_trailing_newline_are_607(ones):
    body = ones.add(task("DU6krHBNnewline1\n"), task("DU6krHBNnewline2", assign="DU6krHBN\n"))
    assert body["tasks"] == []
    assert codes(body) == {"DU6krHBNnewline1\n": 607, "DU6krHBNnewline2": 801}
