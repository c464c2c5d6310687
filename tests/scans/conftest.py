"""Fixtures of the scan tests. Sectioned by owner: add yours in a section of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scans.gitserver import GitRepo, GitServer

# --- git: a loopback smart-HTTP server and a repository it serves ------------------------


@pytest.fixture
def git_root(tmp_path: Path) -> Path:
    """The directory `git_server` serves; each repository is a directory in it."""
    root = tmp_path / "repos"
    root.mkdir()
    return root


@pytest.fixture
def git_server(git_root: Path) -> Iterator[GitServer]:
    with GitServer(git_root) as server:
        yield server


@pytest.fixture
def git_repo(git_root: Path) -> Iterator[GitRepo]:
    """An empty bare repository `demo.git` (default branch master): `git_server.url("demo.git")`."""
    repo = GitRepo.init(git_root / "demo.git")
    yield repo
    repo.close()


# --- the TCA face and the engine: a team, its users, a template, a queue drainer ----------

ORG, TEAM = "org1", "team1"
MEMBER = {"Authorization": "Token tca-member-token-0123456789"}
VIEWER = {"Authorization": "Token tca-viewer-token-0123456789"}
OUTSIDER = {"Authorization": "Token tca-outsider-token-01234567"}
MAIN = f"/server/main/api/orgs/{ORG}/teams/{TEAM}"
ANALYSIS = f"/server/analysis/api/orgs/{ORG}/teams/{TEAM}"


def tca_workspace() -> dict:
    def user(uuid: str, headers: dict) -> dict:
        token = headers["Authorization"].split(" ", 1)[1]
        return {"uuid": uuid, "name": uuid.lower(), "email": f"{uuid}@t.io", "token": token}

    return {
        "users": [user("Member01", MEMBER), user("Viewer01", VIEWER), user("Outsid01", OUTSIDER)],
        "namespaces": [
            {"face": "tca", "id": ORG, "members": {"Member01": "member"}},
            {
                "face": "tca",
                "id": f"{ORG}/{TEAM}",
                "parent": ORG,
                "members": {"Viewer01": "viewer"},
            },
        ],
    }


def drain(queue_name: str = "scans", rounds: int = 400, duplicate: bool = False) -> list[str]:
    """Deliver the scan queue's messages to the worker until it is empty; the ops handled.

    A message the handler reports as failed is made visible again at once (SQS would wait
    out the visibility timeout). With `duplicate`, every message is delivered twice, the
    copy in a later batch, as SQS may.
    """
    from chalicelib.core import aws as aws_clients
    from chalicelib.core import resources
    from chalicelib.core.pump import sqs_event
    from chalicelib.scans import worker

    sqs = aws_clients.client("sqs")
    url = resources.queue_url(queue_name)
    arn = f"arn:aws:sqs:us-east-1:000000000000:{resources.QUEUES[queue_name].queue_name}"
    outcomes: list[str] = []
    for _ in range(rounds):
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return outcomes
        if duplicate:
            for m in messages:
                body = json.loads(m["Body"])
                if not body.pop("copy", False):
                    resources.send(queue_name, {**body, "copy": True})
        result = worker.handle_sqs(sqs_event(messages, arn))
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
                outcomes.append(json.loads(m["Body"]).get("op"))
    raise AssertionError(f"the scan queue did not drain in {rounds} rounds")


class Tca:
    """TCA's calls as a CI script makes them, over the Chalice test client."""

    def __init__(self, api, git_server):
        self.api = api
        self.git = git_server

    def call(self, method, path, body=None, headers=None, raw=None, server=MAIN):
        return self.api.call(method, server + path, body, headers or MEMBER, raw=raw)

    def ok(self, method, path, body=None, headers=None, server=MAIN, status=200):
        got, data = self.call(method, path, body, headers, server=server)
        assert got == status and data["code"] == 0, (got, data)
        return data["data"]

    def template(self, **fields) -> int:
        from chalicelib.scans import owners, schemes

        values = {
            "languages": ["python", "shell"],
            "lint_enabled": True,
            "metric": {"cc_scan_enabled": True, "min_ccn": 3, "dup_scan_enabled": True},
            **fields,
        }
        scheme = schemes.new_scheme(owners.org_key("tca", ORG), "default", "admin", **values)
        scheme.save()
        return scheme.scheme_id

    def repo(self, name: str = "demo.git") -> int:
        body = {"scm_url": self.git.url(name), "scm_type": "git"}
        return self.ok("POST", "/repos/", body, status=201)["id"]

    def project(self, repo_id: int, template: int, branch: str = "master") -> int:
        body = {"branch": branch, "global_scheme_id": template}
        return self.ok("POST", f"/repos/{repo_id}/projects/", body, status=201)["id"]

    def scan(self, repo_id: int, project_id: int, headers=None, **body) -> dict:
        path = f"/repos/{repo_id}/projects/{project_id}/scans/create/"
        return self.ok("POST", path, body, headers)

    def detail(self, repo_id: int, project_id: int, job_id: int) -> dict:
        return self.ok("GET", f"/repos/{repo_id}/projects/{project_id}/jobs/{job_id}/detail/")

    def analysis(self, repo_id: int, project_id: int, path: str) -> dict:
        return self.ok("GET", f"/repos/{repo_id}/projects/{project_id}/{path}", server=ANALYSIS)


@pytest.fixture
def tca(api, apply_workspace, git_server, monkeypatch):
    monkeypatch.setenv("TASKHUB_SCAN_ALLOW_LOOPBACK", "1")
    apply_workspace(tca_workspace())
    return Tca(api, git_server)
