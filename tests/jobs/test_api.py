"""The JOBX surface: groups, jobs, inventory, task list/count/analysis, logs, third party."""

import time

from chalicelib.core.metering import count_calls
from chalicelib.jobs import engine

from .conftest import MEMBER, OUTSIDER, PROJECT, VIEWER, drain, receive, workspace


def test_group_crud_validation_and_batches(jobx):
    group = jobx.group(name="pct", group_type="percent", percent="1:2")
    assert jobx.ok("GET", f"/group/{PROJECT}/{group['id']}/node")["data"] == [
        ["n01"],
        ["n02", "n03"],
        ["n04", "n05"],
    ]
    for bad in ("%10", "0", "1:2:%10:5%"):
        status, body = jobx.call(
            "POST", f"/group/{PROJECT}", {"name": "x", "group_type": "percent", "percent": bad}
        )
        assert (
            status == 400
            and body == {"stat": False, "info": body["info"]}
            and "check format fail percent" in body["info"]
        )
    status, body = jobx.call(
        "POST", f"/group/{PROJECT}", {"name": "pct", "group_type": "list", "node": "a"}
    )
    assert status == 409
    status, body = jobx.call("POST", f"/group/{PROJECT}", {"name": "y", "group_type": "tree"})
    assert status == 400 and body["info"].startswith("check format fail group_type")
    assert (
        jobx.call(
            "POST", f"/group/{PROJECT}", {"name": "z" * 200, "group_type": "list", "node": "a"}
        )[0]
        == 400
    )
    assert (
        jobx.ok(
            "POST",
            f"/group/{PROJECT}/{group['id']}",
            {"name": "renamed", "group_type": "list", "node": "n01;n02"},
        )["data"]
        is True
    )
    updated = jobx.ok("GET", f"/group/{PROJECT}/{group['id']}")["data"]
    assert (updated["name"], updated["node"], "percent" in updated) == ("renamed", "n01;n02", False)
    assert [g["name"] for g in jobx.ok("GET", f"/group/{PROJECT}")["data"]] == ["renamed"]
    jobx.group(name="pct", node="n01")  # the old name is free again
    first = jobx.ok("GET", f"/group/{PROJECT}?page_size=1")
    second = jobx.ok("GET", f"/group/{PROJECT}?page_size=1&cursor={first['cursor']}")
    assert sorted(g["name"] for g in first["data"] + second["data"]) == ["pct", "renamed"]
    assert jobx.call("DELETE", f"/group/{PROJECT}/{group['id']}")[0] == 403  # members lack delete
    assert jobx.call("GET", f"/group/{PROJECT}/nope")[0] == 400
    assert jobx.call("GET", f"/group/{PROJECT}/999")[0] == 404
    assert jobx.call("GET", f"/group/{PROJECT}", headers=OUTSIDER)[0] == 403
    assert (
        jobx.call(
            "POST", f"/group/{PROJECT}", {"name": "v", "group_type": "list", "node": "a"}, VIEWER
        )[0]
        == 403
    )


def test_group_delete_by_admin_and_job_crud(jobx, admin):
    group = jobx.group()
    jobx.ok("DELETE", f"/group/{PROJECT}/{group['id']}", headers=admin)
    assert jobx.call("GET", f"/group/{PROJECT}/{group['id']}")[0] == 404
    job = jobx.job(variable={"v": 1})
    assert job["variable"] == {"v": "1"} and len(job["steps"][0]["uuid"]) == 12
    assert job["steps"][0]["timeout"] == 60 and job["steps"][0]["kind"] == "cmd"
    steps = [{"name": "gate", "plugin_type": "approval"}]
    again = jobx.ok("POST", f"/job/{PROJECT}/{job['uuid']}", {"name": "j2", "steps": steps})["data"]
    assert again["steps"][0]["timeout"] == 86400
    assert [j["name"] for j in jobx.ok("GET", f"/job/{PROJECT}")["data"]] == ["j2"]
    for bad in (
        {"name": "b", "steps": []},
        {"name": "b", "steps": [{"name": "s", "plugin_type": "cmd"}]},
        {
            "name": "b",
            "steps": [{"name": "s", "plugin_type": "scp", "content": "x", "dst": "rel/path"}],
        },
        {
            "name": "b",
            "steps": [{"name": "s", "plugin_type": "cmd", "script": "x", "user": "root;id"}],
        },
        {"name": "b", "steps": [{"name": "s", "script": "x"}], "variable": {"bad name": "1"}},
    ):
        status, body = jobx.call("POST", f"/job/{PROJECT}", bad)
        assert (
            status == 400 and body["stat"] is False and body["info"].startswith("check format fail")
        ), body
    jobx.ok("DELETE", f"/job/{PROJECT}/{job['uuid']}", headers=admin)
    assert jobx.ok("GET", f"/job/{PROJECT}")["data"] == []


def test_inventory_by_workspace_and_routes(jobx, apply_workspace, admin):
    nodes = jobx.ok("GET", f"/node/{PROJECT}")["data"]
    assert [n["name"] for n in nodes] == ["n01", "n02", "n03", "n04", "n05"]
    bad = {"jobx_nodes": [{"project": PROJECT, "name": "x", "executor": "ssm"}]}
    status, _ = jobx.api.call("PUT", "/admin/v1/workspace", bad, admin)
    assert status == 400
    status, _ = jobx.api.call(
        "PUT", "/admin/v1/workspace", {"jobx_nodes": [{"project": "nope", "name": "x"}]}, admin
    )
    assert status == 400
    assert apply_workspace(workspace())["jobx_nodes"] == {
        "created": 0,
        "updated": 0,
        "unchanged": 5,
    }
    node = jobx.ok("POST", f"/node/{PROJECT}", {"name": "n06", "labels": {"role": "db"}})["data"]
    assert node == {
        "name": "n06",
        "address": "n06",
        "labels": {"role": "db"},
        "executor": "local",
        "instance_id": None,
    }
    page = jobx.ok("GET", f"/node/{PROJECT}?page_size=4")
    rest = jobx.ok("GET", f"/node/{PROJECT}?page_size=4&cursor={page['cursor']}")
    assert [n["name"] for n in page["data"] + rest["data"]] == [f"n0{i}" for i in range(1, 7)]
    jobx.ok("DELETE", f"/node/{PROJECT}/n06", headers=admin)
    assert jobx.call("DELETE", f"/node/{PROJECT}/n06", headers=admin)[0] == 404


def test_run_refuses_unknown_job_group_and_nodes(jobx):
    jobx.job()
    jobx.group(name="ghost", node="n01,zz9")
    assert (
        jobx.call("POST", f"/task/{PROJECT}/job/byname", {"jobname": "nope", "group": "ghost"})[0]
        == 404
    )
    assert (
        jobx.call("POST", f"/task/{PROJECT}/job/byname", {"jobname": "j1", "group": "nope"})[0]
        == 404
    )
    status, body = jobx.call(
        "POST", f"/task/{PROJECT}/job/byname", {"jobname": "j1", "group": "ghost"}
    )
    assert status == 400 and "zz9" in body["info"]
    status, body = jobx.call(
        "POST", f"/task/{PROJECT}/job/byname", {"jobname": "j1", "group": "ghost", "max_fail": "x"}
    )
    assert status == 400 and body["info"].startswith("check format fail max_fail")
    assert jobx.ok("GET", f"/task/{PROJECT}")["data"] == []


def test_task_uuid_given_is_used_once(jobx):
    jobx.group()
    jobx.job()
    uuid = jobx.run(uuid="abcdefABCDEf")
    assert uuid == "abcdefABCDEf"
    assert jobx.run(uuid="abcdefABCDEf") == uuid
    # an upper-case last letter names a rollback; a deploy's uuid ends in a-z
    run = {"jobname": "j1", "group": "g1", "uuid": "abcdefABCDEF"}
    status, body = jobx.call("POST", f"/task/{PROJECT}/job/byname", run)
    assert status == 400 and body["info"].startswith("check format fail uuid")
    assert len(jobx.ok("GET", f"/task/{PROJECT}")["data"]) == 1


def test_task_list_filters_paging_count_and_analysis(jobx):
    jobx.group()
    jobx.job(name="deploy-web")
    jobx.job(name="backup", steps=[{"name": "x", "plugin_type": "cmd", "script": "false"}])
    made = [jobx.run(jobname="deploy-web") for _ in range(3)] + [jobx.run(jobname="backup")]
    drain()
    # the default is JOBX's: every task, oldest first, no cursor
    everything = jobx.ok("GET", f"/task/{PROJECT}")
    assert [t["uuid"] for t in everything["data"]] == made and everything["cursor"] is None
    newest = jobx.ok("GET", f"/task/{PROJECT}?order=desc")["data"]
    assert [t["uuid"] for t in newest] == made[::-1]
    # pages are the opt-in, newest first unless order=asc
    listed = jobx.ok("GET", f"/task/{PROJECT}?page_size=3")
    assert [t["uuid"] for t in listed["data"]] == made[::-1][:3]
    more = jobx.ok("GET", f"/task/{PROJECT}?page_size=3&cursor={listed['cursor']}")
    assert [t["uuid"] for t in more["data"]] == [made[0]]
    oldest = jobx.ok("GET", f"/task/{PROJECT}?page_size=3&order=asc")["data"]
    assert [t["uuid"] for t in oldest] == made[:3]
    assert jobx.call("GET", f"/task/{PROJECT}?order=up")[0] == 400
    assert [t["uuid"] for t in jobx.ok("GET", f"/task/{PROJECT}?name=web")["data"]] == made[:3]
    assert [t["uuid"] for t in jobx.ok("GET", f"/task/{PROJECT}?status=running")["data"]] == [
        made[3]
    ]
    assert len(jobx.ok("GET", f"/task/{PROJECT}?user=Member01")["data"]) == 4
    assert jobx.ok("GET", f"/task/{PROJECT}?user=someone")["data"] == []
    assert [t["uuid"] for t in jobx.ok("GET", f"/task/{PROJECT}?taskuuid={made[1]}")["data"]] == [
        made[1]
    ]
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert len(jobx.ok("GET", f"/task/{PROJECT}?time_start={today}&time_end={today}")["data"]) == 4
    assert jobx.ok("GET", f"/task/{PROJECT}?time_end=2001-01-01")["data"] == []
    assert jobx.call("GET", f"/task/{PROJECT}?time_start=yesterday")[0] == 400
    assert jobx.call("GET", f"/task/{PROJECT}?cursor=%%%")[0] == 400
    # count: this month's tasks by status (success/running/fail always present)
    assert jobx.ok("GET", f"/task/{PROJECT}/count")["data"] == {
        "success": 3,
        "running": 1,
        "fail": 0,
    }
    jobx.ok("DELETE", f"/task/{PROJECT}/{made[3]}")
    assert jobx.ok("GET", f"/task/{PROJECT}/count")["data"] == {
        "success": 3,
        "running": 0,
        "fail": 1,
    }
    last = jobx.ok("GET", f"/task/{PROJECT}/analysis/last?count=2")["data"]
    assert [(x["name"], x["status"], x["user"]) for x in last] == [
        ("backup", "fail", "Member01"),
        ("deploy-web", "success", "Member01"),
    ]
    dates = jobx.ok("GET", f"/task/{PROJECT}/analysis/date")["data"]
    assert len(dates) == 30 and dates[-1] == [today, 4, 3] and dates[0][1:] == [0, 0]
    hours = jobx.ok("GET", f"/task/{PROJECT}/analysis/hour")["data"]
    assert len(hours) == 24 and sum(n for _, n in hours) == 4
    assert hours[int(time.strftime("%H", time.gmtime()))][1] in (
        4,
        0,
    )  # the hour may just have turned
    runtime = jobx.ok("GET", f"/task/{PROJECT}/analysis/runtime")["data"]
    assert runtime == {
        "0-1": "100.00",
        "1-3": "0.00",
        "3-5": "0.00",
        "5-10": "0.00",
        "10-30": "0.00",
        "30+": "0.00",
    }


def test_analysis_reads_counters_not_tasks(jobx):
    jobx.group()
    jobx.job()
    for _ in range(2):
        jobx.run()
    with count_calls() as few:
        jobx.ok("GET", f"/task/{PROJECT}/analysis/date")
    for _ in range(6):
        jobx.run()
    with count_calls() as many:
        jobx.ok("GET", f"/task/{PROJECT}/analysis/date")
    assert few["dynamodb"] == many["dynamodb"]


def test_operation_log_newest_first_and_paged(jobx, admin):
    group = jobx.group()
    jobx.job()
    uuid = jobx.run()
    jobx.ok("DELETE", f"/task/{PROJECT}/{uuid}")
    jobx.ok("DELETE", f"/group/{PROJECT}/{group['id']}", headers=admin)
    page = jobx.ok("GET", f"/log/{PROJECT}?page_size=3")
    rest = jobx.ok("GET", f"/log/{PROJECT}?page_size=3&cursor={page['cursor']}")
    actions = [(x["action"], x["user"]) for x in page["data"] + rest["data"]]
    assert actions == [
        ("delete group", "admin000"),
        ("stop task", "Member01"),
        ("start task", "Member01"),
        ("create job", "Member01"),
        ("create group", "Member01"),
    ]


def test_slave_log_of_a_task_and_of_one_step(jobx, api):
    jobx.group(node="n01;n02")
    job = jobx.job(
        steps=[{"name": "say", "plugin_type": "cmd", "script": 'echo "hello from $node"'}]
    )
    uuid = jobx.run()
    drain()
    step = job["steps"][0]
    response = api.client.http.get(f"/jobx/slave/any/log/{uuid}", headers=MEMBER)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    text = response.body.decode()
    assert "batch 2/2 [n02] success" in text and "n01: success exit 0" in text
    # each node's result line is followed by its output of the step
    assert "n01: success exit 0" in text.split("    hello from n01\n")[0].splitlines()[-1]
    assert "    hello from n02\n" in text
    response = api.client.http.get(f"/jobx/slave/any/log/{uuid}{step['uuid']}cmd", headers=MEMBER)
    assert (
        "hello from n01\n" in response.body.decode()
        and "hello from n02\n" in response.body.decode()
    )
    assert api.client.http.get(f"/jobx/slave/any/log/{uuid}", headers=OUTSIDER).status_code == 403
    assert (
        api.client.http.get("/jobx/slave/any/log/AAAAAAAAAAAA", headers=MEMBER).status_code == 404
    )


def test_the_task_log_pages_by_outputs_read_and_caps_each_output(jobx, api, monkeypatch):
    from chalicelib.jobs import reports

    jobx.group(node="n01,n02,n03")
    jobx.job(
        steps=[{"name": "say", "plugin_type": "cmd", "script": 'printf "%0300d" 0; echo $node'}]
    )
    uuid = jobx.run()
    drain()
    monkeypatch.setattr(reports, "LOG_OUTPUTS", 2)
    monkeypatch.setattr(reports, "TASK_LOG_OUTPUT", 100)
    first = api.client.http.get(f"/jobx/slave/any/log/{uuid}", headers=MEMBER)
    cursor = first.headers["X-Taskhub-Cursor"]
    rest = api.client.http.get(f"/jobx/slave/any/log/{uuid}?cursor={cursor}", headers=MEMBER)
    assert "X-Taskhub-Cursor" not in rest.headers
    text = first.body.decode() + rest.body.decode()
    assert [line.split()[4] for line in text.splitlines() if " step 1 " in line] == [
        "n01:",
        "n02:",
        "n03:",
    ]
    assert text.count("    " + "0" * 100 + "\n") == 3 and text.count("... 204 more bytes") == 3


def test_third_party_flow(jobx):
    jobx.group(name="web", node="n01;n02")
    jobx.job(
        name="deploy", steps=[{"name": "x", "plugin_type": "cmd", "script": '[ "$node" != n02 ]'}]
    )
    body = {
        "project_id": PROJECT,
        "uuid": "third0000001",
        "params": {"jobname": "deploy", "group": "web", "variable": {"a": "1"}},
    }
    status, data = jobx.api.call(
        "POST", "/jobx/third/option/groupname", {"project_id": PROJECT}, MEMBER
    )
    assert data == {"stat": True, "data": ["web"]}
    status, data = jobx.api.call("POST", "/jobx/third/interface/dry-run", body, MEMBER)
    # the task's uuid: the caller's first 11 characters and the letter of retry_count
    assert (status, data) == (200, {"stat": True, "uuid": "third000000a", "msg": "ok"})
    for params in ({"jobname": "nope", "group": "web"}, {"jobname": "deploy", "group": "nope"}):
        status, data = jobx.api.call(
            "POST", "/jobx/third/interface/dry-run", {**body, "params": params}, MEMBER
        )
        assert status == 404 and data["stat"] is False
    assert (
        jobx.api.call("POST", "/jobx/third/interface/dry-run", {**body, "uuid": "short"}, MEMBER)[0]
        == 400
    )
    assert jobx.ok("GET", f"/task/{PROJECT}")["data"] == []  # dry-run wrote nothing
    status, data = jobx.api.call("POST", "/jobx/third/interface/invoke", body, MEMBER)
    assert data == {"stat": True, "uuid": "third000000a", "data": 1, "msg": "ok"}
    status, data = jobx.api.call("POST", "/jobx/third/interface/invoke", body, MEMBER)
    assert data == {
        "stat": True,
        "info": "This task has been successfully created",
        "uuid": "third000000a",
    }
    assert len(jobx.ok("GET", f"/task/{PROJECT}")["data"]) == 1
    # dry-run refuses a uuid invoke would answer as already created
    status, data = jobx.api.call("POST", "/jobx/third/interface/dry-run", body, MEMBER)
    assert (status, data) == (409, {"stat": False, "info": "uuid has already existed in the task"})
    retry = {**body, "retry_count": 1}
    status, data = jobx.api.call("POST", "/jobx/third/interface/dry-run", retry, MEMBER)
    assert (status, data["uuid"]) == (200, "third000000b")
    retry = {**body, "retry_count": "99"}
    status, data = jobx.api.call("POST", "/jobx/third/interface/dry-run", retry, MEMBER)
    assert (status, data["uuid"]) == (200, "third000000z")
    drain()
    status, data = jobx.api.call(
        "POST", "/jobx/third/interface/query", {"uuid": "third0000001"}, MEMBER
    )
    assert (data["status"], data["type"], data["progress"]) == ("running", "deployonly", [2, 2])
    assert (data["msg"], data["ctrl"]) == (
        "Wait for manual treatment",
        ["/#/detailforflow/p1/third000000a"],
    )
    assert data["detail"] == "batch 2 failed and waits for confirm"
    status, data = jobx.api.call(
        "POST", "/jobx/third/interface/stop", {"uuid": "third0000001"}, MEMBER
    )
    assert data == {"stat": True, "uuid": "third000000a", "msg": "ok"}
    status, data = jobx.api.call(
        "POST", "/jobx/third/interface/query", {"uuid": "third0000001"}, MEMBER
    )
    assert (data["status"], data["msg"], data["detail"]) == ("fail", "", "stopped by Member01")
    assert "ctrl" not in data
    assert (
        jobx.api.call("POST", "/jobx/third/interface/query", {"uuid": "third0000001"}, OUTSIDER)[0]
        == 403
    )


def test_third_stop_records_no_rollback(jobx):
    jobx.group(name="web", node="n01")
    jobx.job(name="deploy", steps=[{"name": "x", "plugin_type": "cmd", "script": "sleep 0"}])
    params = {"jobname": "deploy", "group": "web", "variable": {"_rollbackVersion_": "v0"}}
    body = {"project_id": PROJECT, "uuid": "third0000002", "params": params}
    jobx.api.call("POST", "/jobx/third/interface/invoke", body, MEMBER)
    jobx.api.call("POST", "/jobx/third/interface/stop", {"uuid": "third0000002"}, MEMBER)
    data = jobx.api.call("POST", "/jobx/third/interface/query", {"uuid": "third0000002"}, MEMBER)[1]
    assert (data["type"], data["rollback"], data["status"]) == ("deployonly", "norollback", "fail")
    drain()
    assert engine.load("third000000a").status == "fail"


def test_bad_bodies_get_the_face_envelope(jobx):
    status, body = jobx.api.call("POST", f"/jobx/group/{PROJECT}", None, MEMBER, raw="{not json")
    assert (
        status == 400 and body["info"] == "check format fail body: request body is not valid JSON"
    )
    status, body = jobx.api.call("POST", f"/jobx/group/{PROJECT}", None, MEMBER, raw="[1]")
    assert body["info"] == "check format fail body: request body must be a JSON object"
    status, body = jobx.api.call(
        "POST",
        f"/jobx/task/{PROJECT}/job/byname",
        {"jobname": "j", "group": "g", "variable": "x"},
        MEMBER,
    )
    assert status == 400 and body["info"].startswith("check format fail variable")


def test_odd_path_values_are_404_not_500(jobx, admin):
    long = "x" * 3000
    for path in (
        f"/group/{PROJECT}/{long}",
        f"/job/{PROJECT}/{long}",
        f"/task/{PROJECT}/{long}",
        f"/subtask/{PROJECT}/{long}",
        f"/subtask/{PROJECT}/{long}-1/node",
        f"/subtask/{PROJECT}/abcdefABCDEF-99999999999/node",
        f"/subtask/{PROJECT}/abcdefABCDEF-1/node/{long}",
    ):
        status, body = jobx.call("GET", path, headers=admin)
        assert status in (400, 404) and body["stat"] is False, (path[:60], status, body)
    assert jobx.call("DELETE", f"/node/{PROJECT}/{long}", headers=admin)[0] == 404
    assert jobx.call("GET", f"/task/{long}", headers=admin)[0] == 400


def test_jobs_too_large_for_one_item_are_refused(jobx):
    steps = [{"name": f"s{i}", "plugin_type": "cmd", "script": "#" * 60000} for i in range(6)]
    status, body = jobx.call("POST", f"/job/{PROJECT}", {"name": "big", "steps": steps})
    assert status == 400 and "larger than" in body["info"]


def test_variables_too_large_are_refused(jobx):
    jobx.group()
    jobx.job()
    variable = {f"v{i}": "x" * 4000 for i in range(20)}
    body = {"jobname": "j1", "group": "g1", "variable": variable}
    status, data = jobx.call("POST", f"/task/{PROJECT}/job/byname", body)
    assert status == 400 and data["info"].startswith("check format fail variable")


def test_runtime_analysis_is_a_share_of_minute_buckets(jobx, monkeypatch):
    from chalicelib.jobs import engine

    jobx.group(node="n01")
    jobx.job()
    start = time.time()
    for minutes in (0, 2, 2):  # one task under a minute, two of two minutes
        monkeypatch.setattr(engine, "clock", lambda start=start: start)
        jobx.run()
        monkeypatch.setattr(engine, "clock", lambda m=minutes, start=start: start + m * 60 + 1)
        drain()
    runtime = jobx.ok("GET", f"/task/{PROJECT}/analysis/runtime")["data"]
    assert runtime == {
        "0-1": "33.33",
        "1-3": "66.67",
        "3-5": "0.00",
        "5-10": "0.00",
        "10-30": "0.00",
        "30+": "0.00",
    }
    last = jobx.ok("GET", f"/task/{PROJECT}/analysis/last")["data"]
    assert sorted(x["runtime"] for x in last) == ["1.000", "121.000", "121.000"]
    assert sorted(x["duration"] for x in last) == [1.0, 121.0, 121.0]


def test_the_operation_log_covers_every_write_and_control(jobx, admin):
    jobx.ok("POST", f"/node/{PROJECT}", {"name": "x1"})
    jobx.ok("DELETE", f"/node/{PROJECT}/x1", headers=admin)
    group = jobx.group(node="n01;n02")
    jobx.ok(
        "POST",
        f"/group/{PROJECT}/{group['id']}",
        {"name": "g1", "group_type": "list", "node": "n01;n02"},
    )
    job = jobx.job(steps=[{"name": "x", "script": '[ "$node" != n01 ]'}])
    jobx.ok(
        "POST",
        f"/job/{PROJECT}/{job['uuid']}",
        {"name": "j1", "steps": [{"name": "x", "script": '[ "$node" != n01 ]'}]},
    )
    jobx.job(name="paused", steps=[{"name": "p", "script": "true", "pause": True}])
    jobx.job(name="gate", steps=[{"name": "a", "plugin_type": "approval"}])
    rollback = {"_rollbackVersion_": "v1"}
    first = jobx.run(variable=rollback)
    drain()
    jobx.ok("PUT", f"/subtask/{PROJECT}/{first}-0/retry", {"only_failed": True})
    drain()
    jobx.ok("PUT", f"/subtask/{PROJECT}/{first}-0/confirm")
    drain()
    jobx.ok("PUT", f"/task/{PROJECT}/{first}/norollback")
    second = jobx.run(variable=rollback)
    drain()
    jobx.ok("DELETE", f"/task/{PROJECT}/{second}")
    jobx.ok("PUT", f"/task/{PROJECT}/{second}/rollback")
    paused = jobx.run(jobname="paused")
    drain()
    jobx.ok("PUT", f"/subtask/{PROJECT}/{paused}-0/next")
    gate = jobx.run(jobname="gate")
    drain()
    jobx.ok("PUT", f"/subtask/{PROJECT}/{gate}-0/approve", {"opinion": "agree"})
    third = {
        "project_id": PROJECT,
        "uuid": "third0000077",
        "params": {"jobname": "j1", "group": "g1"},
    }
    jobx.ok("POST", "/third/interface/invoke", third)
    jobx.ok("POST", "/third/interface/stop", {"uuid": "third0000077"})
    jobx.ok("DELETE", f"/job/{PROJECT}/{job['uuid']}", headers=admin)
    jobx.ok("DELETE", f"/group/{PROJECT}/{group['id']}", headers=admin)
    logged, cursor = [], ""
    while True:
        page = jobx.ok("GET", f"/log/{PROJECT}?page_size=7&cursor={cursor}")
        logged += page["data"]
        if not page["cursor"]:
            break
        cursor = page["cursor"]
    actions = [x["action"] for x in logged][::-1]
    assert actions == [
        "save node",
        "delete node",
        "create group",
        "update group",
        "create job",
        "update job",
        "create job",
        "create job",
        "start task",
        "retry failed nodes",
        "confirm subtask",
        "norollback",
        "start task",
        "stop task",
        "rollback task",
        "start task",
        "next",
        "start task",
        "approval agree",
        "start task",
        "stop task",
        "delete job",
        "delete group",
    ]
    assert {x["user"] for x in logged} == {"Member01", "admin000"}


def test_third_stop_of_a_finished_task_past_its_decision_answers_ok(jobx, monkeypatch):
    from chalicelib.jobs import engine as jobs_engine

    jobx.group(name="web", node="n01")
    jobx.job(name="deploy", steps=[{"name": "x", "script": "true"}])
    params = {"jobname": "deploy", "group": "web", "variable": {"_rollbackVersion_": "v0"}}
    body = {"project_id": PROJECT, "uuid": "third0000003", "params": params}
    jobx.ok("POST", "/third/interface/invoke", body)
    drain()
    later = time.time() + 8 * 86400
    monkeypatch.setattr(jobs_engine, "clock", lambda: later)
    status, data = jobx.call("POST", "/third/interface/stop", {"uuid": "third0000003"})
    assert status == 200 and data["stat"] is True, data
    query = jobx.ok("POST", "/third/interface/query", {"uuid": "third0000003"})
    assert (query["status"], query["rollback"]) == ("complete", "expired")


def test_permission_matrix_of_every_route(jobx, admin):
    """viewer: read only; member: read, write, control; admin: also delete; someone outside
    the project: nothing. A refused call writes nothing (the operation log stays as it was)."""
    group = jobx.group(node="n01")
    job = jobx.job()
    uuid = jobx.run()
    drain()
    g, j, s = group["id"], job["uuid"], f"{uuid}-0"
    run = {"jobname": "j1", "group": "g1"}
    third = {"project_id": PROJECT, "uuid": "third0000042", "params": run}
    reads = [
        ("GET", f"/node/{PROJECT}", None),
        ("GET", f"/group/{PROJECT}", None),
        ("GET", f"/group/{PROJECT}/{g}", None),
        ("GET", f"/group/{PROJECT}/{g}/node", None),
        ("GET", f"/job/{PROJECT}", None),
        ("GET", f"/job/{PROJECT}/{j}", None),
        ("GET", f"/task/{PROJECT}", None),
        ("GET", f"/task/{PROJECT}/count", None),
        ("GET", f"/task/{PROJECT}/{uuid}", None),
        ("GET", f"/task/{PROJECT}/analysis/last", None),
        ("GET", f"/task/{PROJECT}/analysis/date", None),
        ("GET", f"/task/{PROJECT}/analysis/hour", None),
        ("GET", f"/task/{PROJECT}/analysis/runtime", None),
        ("GET", f"/subtask/{PROJECT}/{uuid}", None),
        ("GET", f"/subtask/{PROJECT}/{s}/node", None),
        ("GET", f"/subtask/{PROJECT}/{s}/node/n01", None),
        ("GET", f"/log/{PROJECT}", None),
        ("POST", "/third/option/groupname", {"project_id": PROJECT}),
        ("POST", "/third/interface/query", {"uuid": uuid, "retry_count": ord(uuid[-1]) - 97}),
    ]
    writes = [
        ("POST", f"/node/{PROJECT}", {"name": "x9"}),
        ("POST", f"/group/{PROJECT}", {"name": "g9", "group_type": "list", "node": "n01"}),
        ("POST", f"/group/{PROJECT}/{g}", {"name": "g1", "group_type": "list", "node": "n02"}),
        ("POST", f"/job/{PROJECT}", {"name": "j9", "steps": [{"name": "s", "script": "true"}]}),
        ("POST", f"/job/{PROJECT}/{j}", {"name": "j1", "steps": [{"name": "s", "script": "id"}]}),
        ("POST", f"/task/{PROJECT}/job/byname", run),
        ("POST", "/third/interface/dry-run", third),
        ("POST", "/third/interface/invoke", third),
        ("PUT", f"/task/{PROJECT}/{uuid}/rollback", None),
        ("PUT", f"/task/{PROJECT}/{uuid}/norollback", None),
        ("PUT", f"/task/{PROJECT}/{uuid}", None),
        ("DELETE", f"/task/{PROJECT}/{uuid}", None),
        ("PUT", f"/subtask/{PROJECT}/{s}/confirm", None),
        ("PUT", f"/subtask/{PROJECT}/{s}/next", None),
        ("PUT", f"/subtask/{PROJECT}/{s}/retry", {}),
        ("PUT", f"/subtask/{PROJECT}/{s}/approve", {"opinion": "agree"}),
        ("POST", "/third/interface/stop", {"uuid": uuid, "retry_count": ord(uuid[-1]) - 97}),
    ]
    deletes = [
        ("DELETE", f"/node/{PROJECT}/n01", None),
        ("DELETE", f"/group/{PROJECT}/{g}", None),
        ("DELETE", f"/job/{PROJECT}/{j}", None),
    ]
    logged = jobx.ok("GET", f"/log/{PROJECT}?page_size=200", headers=admin)["data"]
    for method, path, body in reads:
        assert jobx.call(method, path, body, VIEWER)[0] == 200, (method, path)
        assert jobx.call(method, path, body, OUTSIDER)[0] == 403, (method, path)
    for method, path, body in writes + deletes:
        assert jobx.call(method, path, body, VIEWER)[0] == 403, (method, path)
        assert jobx.call(method, path, body, OUTSIDER)[0] == 403, (method, path)
    for method, path, body in deletes:
        assert jobx.call(method, path, body, MEMBER)[0] == 403, (method, path)
    assert jobx.ok("GET", f"/log/{PROJECT}?page_size=200", headers=admin)["data"] == logged
    assert jobx.task(uuid)["status"] == "success" and receive() == []
    assert jobx.ok("GET", f"/group/{PROJECT}/{g}")["data"]["node"] == "n01"


def _cursor(value) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


def test_every_list_pages_with_its_cursor_and_refuses_forged_ones(jobx):
    jobx.group(name="g1", node="n01,n02")
    jobx.group(name="g2", node="n03")
    jobx.job(name="j1")
    jobx.job(name="j2")
    uuid = jobx.run()
    jobx.run(group="g2")
    drain()
    lists = {
        f"/node/{PROJECT}": 5,
        f"/group/{PROJECT}": 2,
        f"/job/{PROJECT}": 2,
        f"/task/{PROJECT}": 2,
        f"/subtask/{PROJECT}/{uuid}-0/node": 2,
        f"/log/{PROJECT}": 6,
    }
    forged = [
        {"a": 1},
        {"project": "p1"},
        {"project": {"S": "p1"}, "at": {"N": "1"}},
        {"project": {"S": "other"}, "at": {"S": "1"}, "id": {"S": "x"}},
        {"project": {"S": "other"}, "name": {"S": "x"}},
        {"key": {"S": "other#0"}, "rk": {"S": "x"}},
        {"project": {"S": "other"}, "start_key": {"S": "1"}, "uuid": {"S": "x"}},
        ["project"],
    ]
    for path, total in lists.items():
        seen, cursor = [], ""
        while True:
            page = jobx.ok("GET", f"{path}?page_size=1&cursor={cursor}")
            seen += page["data"]
            cursor = page["cursor"]
            if not cursor:
                break
        assert len(seen) == total, path
        for value in forged:
            status, body = jobx.call("GET", f"{path}?cursor={_cursor(value)}")
            assert (status, body["info"]) == (400, "check format fail cursor"), (path, value)


def test_a_body_nested_too_deep_is_a_client_error(jobx):
    deep = "[" * 50000 + "]" * 50000
    status, body = jobx.api.call("POST", f"/jobx/group/{PROJECT}", None, MEMBER, raw=deep)
    assert (status, body["info"]) == (400, "check format fail body: request body is not valid JSON")
    note = '{"name": "g", "group_type": "list", "node": "n01", "note": ' + deep + "}"
    status, body = jobx.api.call("POST", f"/jobx/group/{PROJECT}", None, MEMBER, raw=note)
    assert status == 400 and jobx.ok("GET", f"/group/{PROJECT}")["data"] == []
