"""A JOBX job run end to end through `chalice local`: workspace, group, job, run, poll."""

import time

from .conftest import ADMIN_TOKEN

TOKEN = {"Authorization": "Bearer e2e-jobx-token-0123456789abcdef"}
WORKSPACE = {
    "users": [
        {
            "uuid": "E2Ejobx1",
            "name": "Ops",
            "email": "ops@example.com",
            "token": TOKEN["Authorization"][7:],
        }
    ],
    "namespaces": [{"face": "jobx", "id": "e2eproj", "members": {"E2Ejobx1": "member"}}],
    "jobx_nodes": [
        {"project": "e2eproj", "name": f"web{i}", "address": f"10.1.0.{i}"} for i in range(1, 6)
    ],
}


def _workspace(server):
    status, body = server.call(
        "PUT", "/admin/v1/workspace", WORKSPACE, {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert status == 200, body


def _until(server, path, done):
    """Poll a GET until `done(data)`; the data of the last answer."""
    deadline = time.monotonic() + 60
    while True:
        data = (server.call("GET", path, None, TOKEN)[1] or {}).get("data")
        if done(data) or time.monotonic() > deadline:
            return data
        time.sleep(0.2)


def test_a_rolling_job_runs_to_success(server):
    _workspace(server)
    group = {"name": "web", "group_type": "percent", "percent": "1:2"}
    status, body = server.call("POST", "/jobx/group/e2eproj", group, TOKEN)
    assert status == 200 and body["stat"], body
    status, body = server.call("GET", f"/jobx/group/e2eproj/{body['id']}/node", None, TOKEN)
    assert body["data"] == [["web1"], ["web2", "web3"], ["web4", "web5"]]
    job = {
        "name": "hello",
        "steps": [{"name": "say", "plugin_type": "cmd", "script": 'echo "hi $node of $ip"'}],
    }
    assert server.call("POST", "/jobx/job/e2eproj", job, TOKEN)[0] == 200
    status, body = server.call(
        "POST", "/jobx/task/e2eproj/job/byname", {"jobname": "hello", "group": "web"}, TOKEN
    )
    assert status == 200, body
    uuid = body["uuid"]
    running = ("init", "running")
    task = _until(server, f"/jobx/task/e2eproj/{uuid}", lambda d: d["status"] not in running)
    assert task["status"] == "success", task
    subtasks = server.call("GET", f"/jobx/subtask/e2eproj/{uuid}", None, TOKEN)[1]["data"]
    assert [s["status"] for s in subtasks] == ["success"] * 3
    results = server.call("GET", f"/jobx/subtask/e2eproj/{uuid}-2/node", None, TOKEN)[1]["data"]
    assert sorted(r["tail"] for r in results) == [
        "hi web4 of web4,web5\n",
        "hi web5 of web4,web5\n",
    ]


def test_stop_kills_the_running_batch_through_the_local_pump(server):
    _workspace(server)
    group = {"name": "stopme", "group_type": "list", "node": "web1,web2;web3"}
    assert server.call("POST", "/jobx/group/e2eproj", group, TOKEN)[0] == 200
    script = "echo started; sleep 60; echo never"
    job = {"name": "slow", "steps": [{"name": "s", "script": script, "timeout": 120}]}
    assert server.call("POST", "/jobx/job/e2eproj", job, TOKEN)[0] == 200
    run = {"jobname": "slow", "group": "stopme"}
    uuid = server.call("POST", "/jobx/task/e2eproj/job/byname", run, TOKEN)[1]["uuid"]
    subtasks = _until(server, f"/jobx/subtask/e2eproj/{uuid}", lambda d: d[0]["status"] != "init")
    assert subtasks[0]["status"] == "running", subtasks
    for node in ("web1", "web2"):  # both nodes have started and said so
        path = f"/jobx/subtask/e2eproj/{uuid}-0/node/{node}?step=0"
        live = _until(server, path, lambda d: d and d.get("output") == "started\n")
        assert live["status"] == "running", live
    status, body = server.call("DELETE", f"/jobx/task/e2eproj/{uuid}", None, TOKEN)
    assert status == 200 and body["data"]["status"] == "fail", body
    assert body["data"]["reason"] == "stopped by E2Ejobx1"
    results = _until(
        server,
        f"/jobx/subtask/e2eproj/{uuid}-0/node",
        lambda d: len(d) == 2 and all(r["status"] == "fail" for r in d),
    )
    assert [(r["status"], r["error"], r["tail"]) for r in results] == [
        ("fail", "killed: task stopped", "started\n")
    ] * 2
    subtasks = server.call("GET", f"/jobx/subtask/e2eproj/{uuid}", None, TOKEN)[1]["data"]
    assert [s["status"] for s in subtasks] == ["fail", "cancel"]
    assert server.call("GET", f"/jobx/task/e2eproj/{uuid}", None, TOKEN)[1]["data"]["status"] == (
        "fail"
    )
