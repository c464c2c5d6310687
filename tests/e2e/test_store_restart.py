"""What a real `chalice local` acknowledged survives SIGTERM and kill -9; a job running when
it died leaves no process or file behind and goes on after the restart, the node it was
running recorded lost."""

from __future__ import annotations

import glob
import os
import subprocess
import tempfile
import time

from .conftest import LocalServer, wait_for
from .ones import ONES, new_task, ones_login


def _load(server: LocalServer) -> dict:
    """Something of every face, acknowledged: what a restart must keep."""
    headers = ones_login(server)
    workspace = {
        "users": [{"uuid": "KeepUsr1", "name": "K", "email": "k@x.io", "token": "keep-token-" * 3}],
        "namespaces": [
            {"face": "jobx", "id": "keep", "members": {"KeepUsr1": "member"}},
            {"face": "dtask", "id": "default", "members": {"KeepUsr1": "member"}},
        ],
        "jobx_nodes": [{"project": "keep", "name": "k1"}],
    }
    server.admin(workspace)
    bearer = {"Authorization": "Bearer " + "keep-token-" * 3}
    status, body = server.call(
        "POST", f"{ONES}/tasks/add2", {"tasks": [new_task("DU6krHBNkeep0001")]}, headers
    )
    assert body["bad_tasks"] == [], body
    status, body = server.call("POST", "/dtask/task", None, bearer)
    assert status == 200, body
    dtask = body["result"]
    status, body = server.call("PUT", f"/dtask/task/{dtask}/link/bugzilla/42", None, bearer)
    assert status == 200, body
    group = {"name": "keep", "group_type": "list", "node": "k1"}
    status, body = server.call("POST", "/jobx/group/keep", group, bearer)
    assert status == 200, body
    job = {"name": "hello", "steps": [{"name": "s", "plugin_type": "cmd", "script": "echo kept"}]}
    assert server.call("POST", "/jobx/job/keep", job, bearer)[0] == 200
    status, body = server.call(
        "POST", "/jobx/task/keep/job/byname", {"jobname": "hello", "group": "keep"}, bearer
    )
    assert status == 200, body
    return {"ones": headers, "bearer": bearer, "dtask": dtask, "jobx_task": body["uuid"]}


def _check(server: LocalServer, kept: dict) -> None:
    status, body = server.call("GET", f"{ONES}/task/DU6krHBNkeep0001/info", None, kept["ones"])
    assert status == 200 and body["summary"] == "DU6krHBNkeep0001", body
    status, body = server.call("GET", f"/dtask/task/{kept['dtask']}", None, kept["bearer"])
    assert status == 200 and body["result"]["link"] == {"bugzilla": ["42"]}, body
    status, body = server.call("GET", "/jobx/group/keep", None, kept["bearer"])
    assert status == 200 and [g["name"] for g in body["data"]] == ["keep"], body
    task = wait_for(
        lambda: (
            server.call("GET", f"/jobx/task/keep/{kept['jobx_task']}", None, kept["bearer"])[1][
                "data"
            ]["status"]
            == "success"
        ),
        seconds=120,
    )
    assert task


def test_acknowledged_data_survives_sigterm_and_kill_9(fresh_server):
    server = fresh_server.start()
    kept = _load(server)
    assert server.stop() == 0  # SIGTERM: a graceful stop
    server.start()
    _check(server, kept)
    # written just before a kill -9: acknowledged, so kept
    status, body = server.call(
        "POST",
        f"{ONES}/tasks/add2",
        {"tasks": [new_task("DU6krHBNkeep0002", "last")]},
        kept["ones"],
    )
    assert body["bad_tasks"] == [], body
    server.kill()
    server.start()
    _check(server, kept)
    status, body = server.call("GET", f"{ONES}/task/DU6krHBNkeep0002/info", None, kept["ones"])
    assert status == 200 and body["summary"] == "last"


def _step_processes(marker: str) -> list[str]:
    done = subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True)
    return [line for line in done.stdout.splitlines() if "pgrep" not in line]


def test_a_job_interrupted_by_kill_9_leaves_nothing_running_and_goes_on(fresh_server):
    server = fresh_server.start()
    bearer = {"Authorization": "Bearer " + "crash-token-" * 2}
    server.admin(
        {
            "users": [
                {"uuid": "CrashUs1", "name": "C", "email": "c@x.io", "token": "crash-token-" * 2}
            ],
            "namespaces": [{"face": "jobx", "id": "crash", "members": {"CrashUs1": "member"}}],
            "jobx_nodes": [{"project": "crash", "name": n} for n in ("c1", "c2")],
        }
    )
    assert (
        server.call(
            "POST",
            "/jobx/group/crash",
            {"name": "two", "group_type": "list", "node": "c1;c2"},
            bearer,
        )[0]
        == 200
    )
    marker = f"8.{time.time_ns() % 10**6:06d}"  # an 8 s sleep no other process has
    script = f"echo started; sleep {marker}; echo finished"
    job = {
        "name": "slow",
        "steps": [{"name": "s", "plugin_type": "cmd", "script": script, "timeout": 120}],
    }
    assert server.call("POST", "/jobx/job/crash", job, bearer)[0] == 200
    status, body = server.call(
        "POST", "/jobx/task/crash/job/byname", {"jobname": "slow", "group": "two"}, bearer
    )
    assert status == 200, body
    uuid = body["uuid"]
    assert wait_for(lambda: _step_processes(f"sleep {marker}"), seconds=60)
    pid = server.proc.pid
    assert glob.glob(os.path.join(tempfile.gettempdir(), f"taskhub-{pid}-*"))
    server.kill()
    # the step died with its server, and its scratch files went with it
    assert wait_for(lambda: not _step_processes(f"sleep {marker}"), seconds=30)
    assert wait_for(
        lambda: not glob.glob(os.path.join(tempfile.gettempdir(), f"taskhub-{pid}-*")), seconds=30
    )
    server.start()
    path = f"/jobx/task/crash/{uuid}"
    # the node that was running when the server died is recorded lost, never run again in
    # that attempt: the batch waits for a decision, as any failed batch does
    waiting = wait_for(
        lambda: server.call("GET", path, None, bearer)[1]["data"]["phase"] == "wait_confirm",
        seconds=120,
        every=0.5,
    )
    assert waiting, server.call("GET", path, None, bearer)[1]["data"]
    rows = server.call("GET", f"/jobx/subtask/crash/{uuid}-0/node", None, bearer)[1]["data"]
    assert [(r["status"], r["error"]) for r in rows] == [
        ("fail", "lost: the runner stopped while the step ran")
    ]
    status, body = server.call(
        "PUT", f"/jobx/subtask/crash/{uuid}-0/retry", {"only_failed": True}, bearer
    )
    assert status == 200, body
    ended = wait_for(
        lambda: (
            server.call("GET", path, None, bearer)[1]["data"]["status"] not in ("init", "running")
        ),
        seconds=120,
        every=0.5,
    )
    task = server.call("GET", path, None, bearer)[1]["data"]
    assert ended and task["status"] == "success", task
    subtasks = server.call("GET", f"/jobx/subtask/crash/{uuid}", None, bearer)[1]["data"]
    assert [s["status"] for s in subtasks] == ["success", "success"]
