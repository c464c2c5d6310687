"""A `* * * * *` JOBX crontab fires under `chalice local`: the pump runs `fire_schedules`
every minute, and a task started by the schedule appears."""

from __future__ import annotations

from .conftest import wait_for

TOKEN = "crontab-e2e-token-" * 2


def test_a_crontab_fires_through_the_pump(server):
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    server.admin(
        {
            "users": [{"uuid": "CronUsr1", "name": "C", "email": "c@x.io", "token": TOKEN}],
            "namespaces": [{"face": "jobx", "id": "cronp", "members": {"CronUsr1": "member"}}],
            "jobx_nodes": [{"project": "cronp", "name": "c1"}],
        }
    )
    group = {"name": "one", "group_type": "list", "node": "c1"}
    assert server.call("POST", "/jobx/group/cronp", group, bearer)[0] == 200
    job = {"name": "tick", "steps": [{"name": "ok", "plugin_type": "cmd", "script": "true"}]}
    assert server.call("POST", "/jobx/job/cronp", job, bearer)[0] == 200
    body = {"name": "every minute", "jobname": "tick", "group": "one", "cron": "* * * * *"}
    status, made = server.call("POST", "/jobx/crontab/cronp", body, bearer)
    assert status == 200 and made["stat"] is True, made

    def tasks():
        return server.call("GET", "/jobx/task/cronp", None, bearer)[1]["data"]

    # the next minute's slot, fired by the pump's next run of the schedule after it
    assert wait_for(lambda: len(tasks()) >= 1, seconds=150, every=2)
    task = tasks()[0]
    assert task["calltype"] == "crontab" and task["user"] == "CronUsr1"
    view = server.call("GET", f"/jobx/crontab/cronp/{made['id']}", None, bearer)[1]["data"]
    assert view["fired"] >= 1 and view["last_fire"]["result"] == "submitted"
    assert view["last_fire"]["task"] in {t["uuid"] for t in tasks()}
