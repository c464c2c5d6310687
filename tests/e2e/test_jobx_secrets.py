"""A JOBX step cannot reach the server's secrets: they are out of the server's environment
once it has started, and the step runs in a fresh environment, as an unprivileged user when
the server runs as root (as on CI), so it cannot read the server's or the warden's
`/proc/*/environ` or memory either."""

from __future__ import annotations

import os
import urllib.request

from .conftest import ADMIN_TOKEN, wait_for

TOWER_SECRET = "tower-oauth-secret-0123456789"
TOKEN = {"Authorization": "Bearer e2e-secrets-token-0123456789"}


def test_a_step_reads_no_secret_of_the_server(fresh_server):
    fresh_server.extra_env["TASKHUB_TOWER_TOKEN"] = TOWER_SECRET
    server = fresh_server.start()
    pid = server.proc.pid
    with open(f"/proc/{pid}/environ", "rb") as fh:
        initial = fh.read().decode("latin-1")
    assert ADMIN_TOKEN not in initial and TOWER_SECRET not in initial
    server.admin(
        {
            "users": [
                {
                    "uuid": "SecrUsr1",
                    "name": "S",
                    "email": "s@x.io",
                    "token": TOKEN["Authorization"][7:],
                }
            ],
            "namespaces": [{"face": "jobx", "id": "sec", "members": {"SecrUsr1": "member"}}],
            "jobx_nodes": [{"project": "sec", "name": "s1"}],
        }
    )
    assert (
        server.call(
            "POST", "/jobx/group/sec", {"name": "g", "group_type": "list", "node": "s1"}, TOKEN
        )[0]
        == 200
    )
    script = (
        "id -u; env; tr '\\0' '\\n' < /proc/$PPID/environ 2>&1; "
        "tr '\\0' '\\n' < /proc/$SERVER/environ 2>&1; head -c 64 /proc/$SERVER/mem 2>&1; true"
    )
    job = {"name": "peek", "steps": [{"name": "p", "plugin_type": "cmd", "script": script}]}
    assert server.call("POST", "/jobx/job/sec", job, TOKEN)[0] == 200
    run = {"jobname": "peek", "group": "g", "variable": {"SERVER": str(pid)}}
    status, body = server.call("POST", "/jobx/task/sec/job/byname", run, TOKEN)
    assert status == 200, body
    path = f"/jobx/task/sec/{body['uuid']}"
    assert wait_for(lambda: server.call("GET", path, None, TOKEN)[1]["data"]["status"] == "success")
    out = server.call(
        "GET", f"/jobx/subtask/sec/{body['uuid']}-0/node/s1?step=0&limit=1048576", None, TOKEN
    )[1]["data"]["output"]
    assert ADMIN_TOKEN not in out and TOWER_SECRET not in out, out
    assert "TASKHUB_" not in out and "AWS_SECRET" not in out, out
    # the task's text log carries the same output, and no more of the server's secrets
    request = urllib.request.Request(
        f"{server.base}/jobx/slave/any/log/{body['uuid']}", headers=TOKEN
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        log = response.read().decode()
    assert f"    {out.split()[0]}\n" in log, log
    assert ADMIN_TOKEN not in log and TOWER_SECRET not in log and "TASKHUB_" not in log, log
    uid = int(out.split()[0])
    if os.geteuid() == 0:  # the server runs as root: the step does not
        assert uid != 0
        assert "Permission denied" in out
