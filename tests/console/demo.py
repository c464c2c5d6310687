"""Demo data on a real local server, for the browser tests and the screenshots: one user
(Dana) who runs a JOBX project, belongs to a TCA organisation and a ONES team; a job whose
batches wait for gate files (so the caller decides when each node finishes), a finished
job, two finished scans of a repository on a loopback git server, and ONES tasks with sub-tasks."""

from __future__ import annotations

import copy
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.local import LocalServer, wait_for
from tests.e2e.ones import new_task
from tests.scans.gitserver import GitRepo, GitServer
from tests.workitems.conftest import DANA, DANA_TOKEN, SUB_TYPE, WORKSPACE
from tests.workitems.conftest import TEAM as ONES_TEAM

TOKEN = DANA_TOKEN
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PROJECT = "web"
ORG, TEAM = "acme", "backend"
NODES = ("web1", "web2", "web3", "web4", "web5")
BATCHES = "web1;web2,web3;web4,web5"  # three batches
WAIT = 'while [ ! -e "$GATE/$node" ]; do sleep 0.1; done; echo "deployed $node"'
PY_V1 = (
    "import os\nimport sys\n\n\ndef check(x):\n    if x == None:\n        return 1\n    return x\n"
)
PY_V2 = "import sys\n\n\ndef check(x):\n    if x is None:\n        return 1\n    return x\n"
SH = "#!/bin/sh\necho $1\ncd $2\n"
JS = "function add(a, b) {\n  return a + b;\n}\n\nmodule.exports = { add };\n"


@dataclass
class Demo:
    server: LocalServer
    gate: Path
    running: str  # the JOBX task waiting on gate files
    finished: str
    repo_id: int
    project_id: int
    jobs: list[int]

    def release(self, *nodes: str) -> None:
        """Let these nodes' step finish."""
        for node in nodes:
            (self.gate / node).touch()

    def url(self, path: str) -> str:
        return self.server.base + path

    @property
    def task_page(self) -> str:
        return f"/console/jobx/{PROJECT}/{self.running}"

    @property
    def scans_page(self) -> str:
        return f"/console/tca/{ORG}/{TEAM}/{self.repo_id}/{self.project_id}"

    @property
    def scan_page(self) -> str:
        return f"{self.scans_page}/{self.jobs[-1]}"

    @property
    def ones_page(self) -> str:
        return f"/console/ones/{ONES_TEAM}"


def _ok(server: LocalServer, method: str, path: str, body=None, status: int = 200) -> dict:
    got, answer = server.call(method, path, body, AUTH)
    assert got == status, (method, path, got, answer)
    return answer


def workspace() -> dict:
    doc = copy.deepcopy(WORKSPACE)
    doc["namespaces"] = [
        {"face": "jobx", "id": PROJECT, "name": "Web fleet", "members": {DANA: "member"}},
        {"face": "tca", "id": ORG, "kind": "org", "name": "Acme", "members": {DANA: "member"}},
        {"face": "tca", "id": f"{ORG}/{TEAM}", "kind": "team", "name": "Backend", "parent": ORG},
    ]
    doc["jobx_nodes"] = [{"project": PROJECT, "name": n} for n in NODES]
    doc["tca_schemes"] = [
        {
            "org": ORG,
            "name": "default",
            "languages": ["python", "shell"],
            "lint": {"enabled": True},
            "metric": {"cc_scan_enabled": True, "min_ccn": 1, "dup_scan_enabled": True},
        }
    ]
    return doc


def _jobx(server: LocalServer, gate: Path) -> tuple[str, str]:
    jobx = f"/jobx/{{}}/{PROJECT}"
    _ok(
        server, "POST", jobx.format("group"), {"name": "web", "group_type": "list", "node": BATCHES}
    )
    steps = [
        {"name": "deploy", "plugin_type": "cmd", "script": WAIT, "timeout": 600},
        {"name": "verify", "plugin_type": "cmd", "script": 'echo "ok $node"'},
    ]
    _ok(server, "POST", jobx.format("job"), {"name": "rolling-deploy", "steps": steps})
    hello = [{"name": "hello", "plugin_type": "cmd", "script": 'echo "hello from $node"'}]
    _ok(server, "POST", jobx.format("job"), {"name": "hello", "steps": hello})
    run = jobx.format("task") + "/job/byname"
    finished = _ok(server, "POST", run, {"jobname": "hello", "group": "web"})["uuid"]

    def ended() -> bool:
        data = _ok(server, "GET", jobx.format("task") + f"/{finished}")["data"]
        return data["status"] not in ("init", "running")

    assert wait_for(ended, 120), "the hello job did not end"
    variable = {"GATE": str(gate)}
    running = _ok(
        server, "POST", run, {"jobname": "rolling-deploy", "group": "web", "variable": variable}
    )
    return running["uuid"], finished


def _scan(server: LocalServer, main: str, repo_id: int, project_id: int) -> int:
    path = f"{main}{repo_id}/projects/{project_id}/"
    job = _ok(server, "POST", path + "scans/create/", {"incr_scan": False})["data"]["job"]["id"]

    def closed() -> bool:
        return _ok(server, "GET", path + f"jobs/{job}/detail/")["data"]["state"] == 2

    assert wait_for(closed, 240, 0.3), "the scan did not close"
    return job


def _scans(server: LocalServer, where: Path) -> tuple[int, int, list[int]]:
    """A repository served over smart HTTP on loopback (as a git host serves it), scanned
    twice: the second scan after a commit that fixes one file's issues."""
    with GitServer(where) as git:
        return _scan_twice(server, where, git.url("shop.git"))


def _scan_twice(server: LocalServer, where: Path, scm_url: str) -> tuple[int, int, list[int]]:
    repo = GitRepo.init(where / "shop.git")
    files = {"app/main.py": PY_V1, "app/util.py": PY_V1, "tools/run.sh": SH, "web/add.js": JS}
    repo.commit(files)
    main = f"/server/main/api/orgs/{ORG}/teams/{TEAM}/repos/"
    templates = _ok(server, "GET", f"/server/main/api/orgs/{ORG}/schemes/")["data"]["results"]
    template = next(t["id"] for t in templates if t["name"] == "default")
    body = {"scm_url": scm_url, "scm_type": "git", "name": "shop"}
    repo_id = _ok(server, "POST", main, body, 201)["data"]["id"]
    body = {"global_scheme_id": template, "branch": "master"}
    project_id = _ok(server, "POST", f"{main}{repo_id}/projects/", body, 201)["data"]["id"]
    jobs = [_scan(server, main, repo_id, project_id)]
    repo.commit({"app/util.py": PY_V2})  # fixes that file's issues
    jobs.append(_scan(server, main, repo_id, project_id))
    repo.close()
    return repo_id, project_id, jobs


def _ones(server: LocalServer) -> None:
    add = f"/project/api/project/team/{ONES_TEAM}/tasks/add2"
    parents = [
        new_task(DANA + "release1", "Release 2.4"),
        new_task(DANA + "outage01", "Payment outage follow-up"),
    ]
    assert _ok(server, "POST", add, {"tasks": parents})["bad_tasks"] == []
    subs = []
    for i, (parent, summary) in enumerate(
        [
            (parents[0], "Freeze the branch"),
            (parents[0], "Run the rolling deploy"),
            (parents[0], "Announce the release"),
            (parents[1], "Write the post-mortem"),
        ]
    ):
        sub = new_task(f"{DANA}sub{i:05d}", summary)
        sub.update(issue_type_uuid="", sub_issue_type_uuid=SUB_TYPE, parent_uuid=parent["uuid"])
        subs.append(sub)
    assert _ok(server, "POST", add, {"tasks": subs})["bad_tasks"] == []


def load(server: LocalServer) -> Demo:
    server.admin(workspace())
    gate = Path(tempfile.mkdtemp(prefix="taskhub-console-gate-"))
    gate.chmod(0o777)  # steps run as an unprivileged user when the server runs as root
    where = Path(tempfile.mkdtemp(prefix="taskhub-console-repo-"))
    running, finished = _jobx(server, gate)
    repo_id, project_id, jobs = _scans(server, where)
    _ones(server)
    return Demo(server, gate, running, finished, repo_id, project_id, jobs)


def fetch(demo: Demo, path: str) -> tuple[int, str]:
    """A console page fetched with the token as a cookie, outside the browser."""
    request = urllib.request.Request(demo.url(path), headers={"Cookie": f"taskhub_token={TOKEN}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, answer.read().decode()
