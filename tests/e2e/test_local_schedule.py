"""`@app.schedule` runs under `chalice local`: the JOBX reaper refuses a timed-out approval."""

from __future__ import annotations

from .conftest import wait_for


def test_the_reaper_schedule_runs_under_chalice_local(server):
    bearer = {"Authorization": "Bearer " + "sched-token-" * 2}
    server.admin(
        {
            "users": [
                {"uuid": "SchedUs1", "name": "S", "email": "s@x.io", "token": "sched-token-" * 2}
            ],
            "namespaces": [{"face": "jobx", "id": "sched", "members": {"SchedUs1": "member"}}],
            "jobx_nodes": [{"project": "sched", "name": "s1"}],
        }
    )
    assert (
        server.call(
            "POST", "/jobx/group/sched", {"name": "one", "group_type": "list", "node": "s1"}, bearer
        )[0]
        == 200
    )
    job = {"name": "ask", "steps": [{"name": "ok?", "plugin_type": "approval", "timeout": 5}]}
    status, body = server.call("POST", "/jobx/job/sched", job, bearer)
    assert status == 200, body
    status, body = server.call(
        "POST", "/jobx/task/sched/job/byname", {"jobname": "ask", "group": "one"}, bearer
    )
    assert status == 200, body
    path = f"/jobx/task/sched/{body['uuid']}"
    # the reaper runs every minute: the 5 s approval is refused at its next run
    assert wait_for(
        lambda: server.call("GET", path, None, bearer)[1]["data"]["status"] == "refuse",
        seconds=150,
        every=1,
    )
    assert server.call("GET", path, None, bearer)[1]["data"]["reason"] == "approval timed out"
