"""Scans that name callback URLs: TCA's scan create announces the job's close (a success, a
cancel), and refuses a URL off the team's allow-list with nothing written."""

from __future__ import annotations

from chalicelib.scans.models import JobModel
from tests.scans.conftest import MEMBER, ORG, TEAM, drain
from tests.webhooks.conftest import allow

TEAM_NS = f"{ORG}/{TEAM}"


def setup(tca, git_repo, apply_workspace, receiver):
    apply_workspace({"webhooks": [allow("tca", TEAM_NS, receiver.url("/scans/*"))]})
    git_repo.commit({"app/ok.py": "def add(a, b):\n    return a + b\n"})
    repo_id = tca.repo()
    return repo_id, tca.project(repo_id, tca.template())


def test_a_scan_that_closes_delivers_one_signed_event(
    tca, git_repo, apply_workspace, receiver, hooks
):
    repo_id, project_id = setup(tca, git_repo, apply_workspace, receiver)
    created = tca.scan(repo_id, project_id, incr_scan=False, callbacks=[receiver.url("/scans/ci")])
    job_id = created["job"]["id"]
    drain()
    assert tca.detail(repo_id, project_id, job_id)["result_code"] == 0
    assert hooks.drain() == 1
    assert receiver.refused == []
    (got,) = receiver.received
    body = got["body"]
    assert body["event"] == "scan.ended" and got["headers"]["X-Taskhub-Event"] == "scan.ended"
    assert (body["face"], body["namespace"], body["id"]) == ("tca", TEAM_NS, str(job_id))
    assert (body["status"], body["result_code"]) == ("success", 0)
    assert body["scan_id"] == created["scan"]["id"]
    assert body["link"] == (
        f"/server/main/api/orgs/{ORG}/teams/{TEAM}/repos/{repo_id}/projects/{project_id}"
        f"/jobs/{job_id}/detail/"
    )


def test_a_cancelled_scan_is_announced_once(tca, git_repo, apply_workspace, receiver, hooks):
    repo_id, project_id = setup(tca, git_repo, apply_workspace, receiver)
    created = tca.scan(repo_id, project_id, callbacks=[receiver.url("/scans/ci")])
    job_id = created["job"]["id"]
    path = (
        f"/server/main/api/v3/orgs/{ORG}/teams/{TEAM}/repos/{repo_id}/projects/{project_id}"
        f"/jobs/{job_id}/cancel/"
    )
    for remarks in ("not now", "again"):  # a closed job stays as it is
        status, body = tca.api.call("POST", path, {"remarks": remarks}, MEMBER)
        assert status == 200, body
    drain(duplicate=True)
    hooks.drain()
    (got,) = receiver.received
    assert got["body"]["status"] == "cancelled" and got["body"]["result_code"] == 301


def test_a_scan_callback_off_the_allow_list_is_refused_with_nothing_written(
    tca, git_repo, apply_workspace, receiver, hooks
):
    repo_id, project_id = setup(tca, git_repo, apply_workspace, receiver)
    path = f"/repos/{repo_id}/projects/{project_id}/scans/create/"
    status, body = tca.call("POST", path, {"callbacks": [receiver.url("/other")]})
    assert status == 400 and body["code"] != 0, body
    assert "allow-list" in body["msg"]
    assert list(JobModel.query(project_id)) == []
    assert hooks.receive() == []
