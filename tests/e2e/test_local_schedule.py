"""`@app.schedule` runs under `chalice local`: within the same minutes, the JOBX reaper refuses
a timed-out approval and a `* * * * *` crontab starts a task (the pump runs each schedule every
minute; both are waited for together, so the suite waits for the minute once)."""

from __future__ import annotations

from .conftest import wait_for

TOKEN = "sched-token-" * 2


def test_the_reaper_and_a_crontab_run_under_chalice_local(server):
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    server.admin(
        {
            "users": [{"uuid": "SchedUs1", "name": "S", "email": "s@x.io", "token": TOKEN}],
            "namespaces": [{"face": "jobx", "id": "sched", "members": {"SchedUs1": "member"}}],
            "jobx_nodes": [{"project": "sched", "name": "s1"}],
        }
    )
    group = {"name": "one", "group_type": "list", "node": "s1"}
    assert server.call("POST", "/jobx/group/sched", group, bearer)[0] == 200
    ask = {"name": "ask", "steps": [{"name": "ok?", "plugin_type": "approval", "timeout": 5}]}
    tick = {"name": "tick", "steps": [{"name": "ok", "plugin_type": "cmd", "script": "true"}]}
    for job in (ask, tick):
        status, body = server.call("POST", "/jobx/job/sched", job, bearer)
        assert status == 200, body
    status, body = server.call(
        "POST", "/jobx/task/sched/job/byname", {"jobname": "ask", "group": "one"}, bearer
    )
    assert status == 200, body
    asked = body["uuid"]
    crontab = {"name": "every minute", "jobname": "tick", "group": "one", "cron": "* * * * *"}
    status, made = server.call("POST", "/jobx/crontab/sched", crontab, bearer)
    assert status == 200 and made["stat"] is True, made

    def task(uuid):
        return server.call("GET", f"/jobx/task/sched/{uuid}", None, bearer)[1]["data"]

    def fired():
        listed = server.call("GET", "/jobx/task/sched", None, bearer)[1]["data"]
        return [t for t in listed if t["calltype"] == "crontab"]

    # the reaper refuses the 5 s approval at its next run; the crontab fires the next
    # minute's slot at the pump's next run of `fire_schedules` after it
    assert wait_for(lambda: task(asked)["status"] == "refuse" and fired(), seconds=150, every=1)
    assert task(asked)["reason"] == "approval timed out"
    started = fired()[0]
    assert started["user"] == "SchedUs1" and started["name"] == "tick"
    view = server.call("GET", f"/jobx/crontab/sched/{made['id']}", None, bearer)[1]["data"]
    assert view["fired"] >= 1 and view["last_fire"]["result"] == "submitted"
    assert view["last_fire"]["task"] in {t["uuid"] for t in fired()}
