"""Schedule fixtures: the JOBX project of tests/jobs (members, nodes), a group and a job,
and a helper over `/jobx/crontab`."""

from __future__ import annotations

import pytest

from tests.jobs.conftest import MEMBER, OUTSIDER, PROJECT, VIEWER, Jobx, workspace

__all__ = ["MEMBER", "OUTSIDER", "PROJECT", "VIEWER"]

ADMIN_USER = {"Authorization": "Bearer sched-padmin-token-0123456789"}


class Crontabs(Jobx):
    def create(self, headers=None, **fields):
        body = {"name": "nightly", "jobname": "j1", "group": "g1", "cron": "*/5 * * * *"}
        body.update(fields)
        return self.call("POST", f"/crontab/{PROJECT}", body, headers)

    def listing(self, headers=None):
        return self.ok("GET", f"/crontab/{PROJECT}", headers=headers)["data"]


@pytest.fixture(autouse=True)
def local_steps(monkeypatch):
    """Nodes run by the local executor, which the test stage allows when switched on."""
    monkeypatch.setenv("TASKHUB_JOBX_LOCAL", "on")


@pytest.fixture
def crontabs(api, apply_workspace):
    document = workspace()
    document["users"].append(
        {
            "uuid": "PAdmin01",
            "name": "PA",
            "email": "pa@x.io",
            "token": ADMIN_USER["Authorization"][7:],
        }
    )
    document["namespaces"][0]["members"]["PAdmin01"] = "admin"
    apply_workspace(document)
    jobx = Crontabs(api)
    jobx.group()
    jobx.job()
    return jobx
