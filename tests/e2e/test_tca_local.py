"""TCA's reference client flow against a real `chalice local`, as `ScriptsAPI.py` makes its
calls: `Authorization: Token <key>` and nothing else, form-urlencoded bodies, empty POST
and PUT bodies without a Content-Type, the detail polled until `data.state == 2`, then
the analysis server's views. The repository is served over smart HTTP on loopback, and a
second one is scanned from a path on disk, as the README's walk-through does."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode

import pytest

from tests.scans.gitserver import GitRepo, GitServer

from .conftest import wait_for

TOKEN = "e2e-tca-token-0123456789abcdef"
ORG, TEAM = "e2eorg", "e2eteam"
MAIN = f"/server/main/api/orgs/{ORG}/teams/{TEAM}/repos/"
ANALYSIS = f"/server/analysis/api/orgs/{ORG}/teams/{TEAM}/repos/"
WORKSPACE = {
    "users": [{"uuid": "E2Etca01", "name": "ci", "email": "ci@example.com", "token": TOKEN}],
    "namespaces": [
        {"face": "tca", "id": ORG, "members": {"E2Etca01": "member"}},
        {"face": "tca", "id": f"{ORG}/{TEAM}", "parent": ORG},
    ],
    "tca_schemes": [
        {
            "org": ORG,
            "name": "python-default",
            "languages": ["python", "shell"],
            "lint": {"enabled": True},
            "metric": {"cc_scan_enabled": True, "min_ccn": 1, "dup_scan_enabled": True},
        }
    ],
}


class ScriptsClient:
    """The requests ScriptsAPI.py sends, byte for byte where it matters."""

    def __init__(self, base: str):
        self.host = base.removeprefix("http://")

    def send(self, method: str, path: str, form: dict | None = None) -> tuple[int, object]:
        headers = {
            "User-Agent": "python-requests/2.32.3",
            "Accept-Encoding": "gzip, deflate",
            "Accept": "*/*",
            "Connection": "keep-alive",
            "Authorization": f"Token {TOKEN}",
        }
        body = b""
        if form is not None:
            body = urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(self.host, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, json.loads(raw)

    def data(self, method: str, path: str, form: dict | None = None, status: int = 200):
        got, body = self.send(method, path, form)
        assert got == status and body["code"] == 0 and body["status_code"] == status, body
        return body["data"]


@pytest.fixture
def served(tmp_path):
    repo = GitRepo.init(tmp_path / "repos" / "demo.git")
    repo.commit(
        {
            "src/app.py": "import os\n\n\ndef check(x):\n    if x:\n        return x == None\n",
            "tools/run.sh": "#!/bin/sh\necho $1\n",
        }
    )
    with GitServer(tmp_path / "repos") as server:
        yield server, repo


def scan_to_the_end(client: ScriptsClient, repo_id: int, project_id: int) -> dict:
    job = client.data("POST", f"{MAIN}{repo_id}/projects/{project_id}/scans/create/")
    detail = f"{MAIN}{repo_id}/projects/{project_id}/jobs/{job['job']['id']}/detail/"

    def closed():
        status, body = client.send("GET", detail)
        assert status == 200, body
        return body["data"] if body["data"]["state"] == 2 else None

    found = wait_for(closed, seconds=240, every=0.5)
    assert found, "the scan did not close in time"
    return found


def test_scripts_api_flow_against_make_run(server, served, tmp_path):
    server.admin(WORKSPACE)
    git, _ = served
    client = ScriptsClient(server.base)
    templates = client.data("GET", f"/server/main/api/orgs/{ORG}/schemes/")
    template = next(t["id"] for t in templates["results"] if t["name"] == "python-default")

    # create_repository: a form body
    repo = client.data(
        "POST", MAIN, {"scm_url": git.url("demo.git"), "scm_type": "git"}, status=201
    )
    # create_project: a form body naming a template
    project = client.data(
        "POST",
        f"{MAIN}{repo['id']}/projects/",
        {"global_scheme_id": template, "branch": "master"},
        status=201,
    )
    scheme = project["scan_scheme"]["id"]
    # update_scheme_settings: an empty PUT changes nothing and answers the configuration
    before = client.data("GET", f"{MAIN}{repo['id']}/schemes/{scheme}/metricconf/")
    after = client.data("PUT", f"{MAIN}{repo['id']}/schemes/{scheme}/metricconf/")
    assert after == before and after["min_ccn"] == 1
    # create_scans with an empty body, then get_scan_cons's poll
    job = scan_to_the_end(client, repo["id"], project["id"])
    assert job["result_code"] == 0, job
    assert {t["task_name"] for t in job["tasks"]} >= {"ruff", "shellcheck", "codecount"}

    base = f"{ANALYSIS}{repo['id']}/projects/{project['id']}/"
    overview = client.data("GET", base + "overview/")
    assert overview["lintscan"]["active_issue_num"] > 0, overview
    issues = client.data("GET", base + "codelint/issues/")
    assert issues["count"] >= 2 and len(issues["results"]) <= 10
    first = issues["results"][0]
    assert client.data("GET", base + f"codelint/issues/{first['id']}/")["id"] == first["id"]
    cc = client.data("GET", base + "codemetric/ccissues/")
    assert [r["func_name"] for r in cc["results"]] == ["check"], cc
    assert client.data("GET", base + "codemetric/dupfiles/")["count"] == 0

    # the same client, a repository on disk (allowed in the local stage)
    on_disk = GitRepo.init(tmp_path / "checkout.git")
    on_disk.commit({"main.py": "print('hi')\n"})
    local = client.data(
        "POST", MAIN, {"scm_url": str(tmp_path / "checkout.git"), "scm_type": "git"}, status=201
    )
    local_project = client.data(
        "POST",
        f"{MAIN}{local['id']}/projects/",
        {"global_scheme_id": template, "branch": "master"},
        status=201,
    )
    job = scan_to_the_end(client, local["id"], local_project["id"])
    assert job["result_code"] == 0 and job["code_line_num"] == 1, job
