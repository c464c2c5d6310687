"""The example requests of seed 001, sent as written (headers and bodies from the document)."""

from __future__ import annotations

from .conftest import DANA, DANA_TOKEN, P1, P2, PREFIX, STORY_TYPE, TEAM, TODO

HEADERS = {
    "Content-Type": "application/json",
    "Ones-Auth-Token": DANA_TOKEN,
    "Ones-User-Id": DANA,
    "Referer": "https://your-host-name",
    "cache-control": "no-cache",
}

ADD_EXAMPLE_ONE = """{
    "tasks": [
        {
            "uuid": "PRZy8efJcXillNhX",
            "owner": "PRZy8efJ",
            "assign": "PRZy8efJ",
            "summary": "test title",
            "parent_uuid": "",
            "field_values": [
                {
                    "field_uuid": "field004",
                    "type": 8,
                    "value": "PRZy8efJ"
                },
                {
                    "field_uuid": "field012",
                    "type": 1,
                    "value": "PRXB3jQU"
                },
                {
                    "field_uuid": "field011",
                    "type": 7,
                    "value": "HdEkBV6o"
                },
                {
                    "field_uuid": "field013",
                    "type": 5,
                    "value": null
                }
            ],
            "project_uuid": "PRZy8efJ3HohVuf2",
            "issue_type_uuid": "FF78d8EL",
            "watchers": [
                "PRZy8efJ"
            ]
        }
    ]
}"""

ADD_EXAMPLE_TWO = """{
    "tasks":[
        {
            "uuid":"DU6krHBNNGEQpcnW5",
            "assign":"DU6krHBN",
            "summary":"task_test",
            "parent_uuid":"DU6krHBNNKSnnHNj",
            "sprint_uuid":"LJZM6N3J",
            "project_uuid":"DU6krHBNXuPAbpv8",
            "issue_type_uuid":"",
            "sub_issue_type_uuid":"Cdm9fgFS",
            "priority":"7tKAV46c",
            "field_values":[
                {
                    "field_uuid": "field012",
                    "type": 1,
                    "value": "YQ3yGULf" // 选项类型，value 是选项的 uuid
                },
                {
                    "field_uuid":"field016",
                    "type":2,
                    "value":"<p>描述</p>\\n"
                }
            ]
        }
    ]
}"""

UPDATE_EXAMPLE = """{
    "tasks": [
        {
            "uuid": "DU6krHBNNKSnnHNI",
            "desc_rich": "<p>update task test .&nbsp;</p>\\n"
        }
    ]
}"""

COPY_EXAMPLE = """{
    "project_uuid": "PRZy8efJ3HohVuf2",
    "issue_type_uuid": "FF78d8EL",
    "status_uuid": "MZQu4VaM",
    "reserve_contents": [
        "cycle",
        "relatedTask",
        "subTask",
        "testing",
        "relatedWiki",
        "attachment",
        "watcher"
    ]
}"""

INFO_EXAMPLE = """{
    "ids": [
        "DU6krHBNJPoQgfJv",
        "DU6krHBNNKSnnHNI"
    ]
}"""


def send(api, method, path, raw=None):
    return api.call(method, PREFIX + path, None, HEADERS, raw=raw)


def test_add_example_one_creates_the_task_for_its_owner(ones, api):
    status, body = send(api, "POST", f"/team/{TEAM}/tasks/add2", ADD_EXAMPLE_ONE)
    assert status == 200, body
    assert body["bad_tasks"] == []
    (task,) = body["tasks"]
    assert task["uuid"] == "PRZy8efJcXillNhX"
    assert task["owner"] == "PRZy8efJ" and task["assign"] == "PRZy8efJ"
    assert task["project_uuid"] == P1 and task["issue_type_uuid"] == "FF78d8EL"
    assert task["priority"] == "PRXB3jQU" and task["sprint_uuid"] == "HdEkBV6o"
    assert task["deadline"] is None and task["parent_uuid"] == "" and task["number"] == 1
    assert task["status_uuid"] == TODO and task["path"] == "PRZy8efJcXillNhX"
    assert task["watchers"] == ["PRZy8efJ"]
    assert task["subtask_count"] == [0, 0] and task["related_task_count"] == [0, 0]
    assert len(str(task["create_time"])) == 16  # microseconds


def test_add_example_two_reports_the_17_character_uuid(ones, api):
    status, body = send(api, "POST", f"/team/{TEAM}/tasks/add2", ADD_EXAMPLE_TWO)
    assert status == 200, body
    assert body["tasks"] == []
    assert body["bad_tasks"] == [
        {"uuid": "DU6krHBNNGEQpcnW5", "code": 607, "desc": "uuid must be 16 letters or digits"}
    ]


def test_example_two_with_a_16_character_uuid_creates_a_subtask(ones, api):
    ones.new("NKSnnHNj")
    fixed = ADD_EXAMPLE_TWO.replace("DU6krHBNNGEQpcnW5", "DU6krHBNNGEQpcnW")
    status, body = send(api, "POST", f"/team/{TEAM}/tasks/add2", fixed)
    assert status == 200 and body["bad_tasks"] == [], body
    (task,) = body["tasks"]
    assert task["parent_uuid"] == "DU6krHBNNKSnnHNj"
    assert task["path"] == "DU6krHBNNKSnnHNj-DU6krHBNNGEQpcnW"
    assert task["sub_issue_type_uuid"] == "Cdm9fgFS" and task["priority"] == "YQ3yGULf"
    assert task["desc_rich"] == "<p>描述</p>\n" and task["desc"] == "描述"
    assert task["sprint_uuid"] == "LJZM6N3J"
    assert ones.info("DU6krHBNNKSnnHNj")["subtask_count"] == [1, 0]


def test_update_delete_stats_copy_info_examples(ones, api):
    ones.new("NKSnnHNI")
    ones.new("JPoQgfJv")
    ones.new("7TS9TKx7")
    status, body = send(api, "POST", f"/team/{TEAM}/tasks/update2", UPDATE_EXAMPLE)
    assert (status, body) == (200, {"bad_tasks": []})
    updated = ones.info("DU6krHBNNKSnnHNI")
    assert updated["desc_rich"] == "<p>update task test .&nbsp;</p>\n"
    assert updated["desc"] == "update task test ."

    status, body = send(api, "POST", f"/team/{TEAM}/task/DU6krHBN7TS9TKx7/delete")
    assert (status, body) == (200, {"code": 200, "errcode": "OK", "type": "OK"})

    status, body = send(api, "GET", f"/team/{TEAM}/task_stats")
    assert status == 200
    assert {"project_uuid": P2, "to_do": 2, "in_progress": 0, "done": 0} in body[
        "task_count_by_project"
    ]
    assert {"sprint_uuid": "9a7pD8HD", "to_do": 0, "in_progress": 0, "done": 0} in body[
        "task_count_by_sprint"
    ]
    assert len(str(body["server_update_stamp"])) == 16

    status, body = send(api, "POST", f"/team/{TEAM}/task/DU6krHBNNKSnnHNI/copy", COPY_EXAMPLE)
    assert status == 200, body
    copy = body["task"]
    assert copy["uuid"].startswith(DANA) and copy["uuid"] != "DU6krHBNNKSnnHNI"
    assert copy["project_uuid"] == P1 and copy["status_uuid"] == "MZQu4VaM"
    assert copy["desc_rich"] == updated["desc_rich"] and copy["number"] == 4

    status, body = send(api, "GET", f"/team/{TEAM}/task/DU6krHBNJPoQgfJv/info")
    assert status == 200 and body["uuid"] == "DU6krHBNJPoQgfJv"

    status, body = send(api, "POST", f"/team/{TEAM}/tasks/info", INFO_EXAMPLE)
    assert status == 200
    assert body["count"] == 2 and body["errors"] == []
    assert [t["uuid"] for t in body["tasks"]] == ["DU6krHBNJPoQgfJv", "DU6krHBNNKSnnHNI"]


# every key of the seed's `task/:uuid/info` answer (返回示例 of 获取工作项详情)
INFO_EXAMPLE_KEYS = [
    "uuid",
    "owner",
    "assign",
    "tags",
    "sprint_uuid",
    "project_uuid",
    "issue_type_scope_uuid",
    "issue_type_uuid",
    "sub_issue_type_uuid",
    "status_uuid",
    "create_time",
    "deadline",
    "status",
    "summary",
    "desc",
    "desc_rich",
    "parent_uuid",
    "position",
    "number",
    "priority",
    "assess_manhour",
    "total_manhour",
    "remaining_manhour",
    "estimate_variance",
    "time_progress",
    "attribute",
    "watchers",
    "field_values",
    "server_update_stamp",
    "related_tasks",
    "links",
    "subtasks",
    "path",
    "code_commits",
    "related_task_count",
    "visible_subtask_count",
    "subtask_count",
    "discussion_count",
    "attachment_count",
    "related_cases",
    "related_plan_cases",
    "related_testcase_plans",
    "related_wiki_pages",
    "related_activities",
    "related_devops_commits",
    "publish_version",
    "publish_content",
    "publish_content_done_count",
    "publish_content_count",
    "manhours",
    "product_uuids",
    "SkipCheckFieldPermissions",
    "manhourStatisticMode",
    "link_source_task",
]


def test_every_task_view_has_every_key_of_the_info_example(ones, api):
    added = ones.new("keysTsk1")
    status, body = send(api, "POST", f"/team/{TEAM}/task/{added['uuid']}/copy", COPY_EXAMPLE)
    assert status == 200, body
    copied = body["task"]
    info = ones.info(added["uuid"])
    _status, batch = send(api, "GET", f"/team/{TEAM}/tasks/info?ids={added['uuid']}")
    _status, page = send(api, "GET", f"/team/{TEAM}/tasks?project_uuid={P2}")
    for name, task in (
        ("add2", added),
        ("copy", copied),
        ("info", info),
        ("tasks/info", batch["tasks"][0]),
        ("list", page["tasks"][0]),
    ):
        assert set(INFO_EXAMPLE_KEYS) <= set(task), (name, set(INFO_EXAMPLE_KEYS) - set(task))


def test_issue_type_scope_is_one_stable_uuid_per_project_and_issue_type(ones):
    one, two = ones.new("scopeA01"), ones.new("scopeA02")
    story = ones.new("scopeB01", issue_type_uuid=STORY_TYPE)
    elsewhere = ones.new("scopeC01", project_uuid=P1)
    scope = one["issue_type_scope_uuid"]
    assert len(scope) == 8 and scope.isalnum() and scope.isascii()
    assert two["issue_type_scope_uuid"] == scope == ones.info(one["uuid"])["issue_type_scope_uuid"]
    assert story["issue_type_scope_uuid"] != scope
    assert elsewhere["issue_type_scope_uuid"] not in (scope, story["issue_type_scope_uuid"])
