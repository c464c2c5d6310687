"""`taskhub scan run` against a real `chalice local`: a TCA project and a CodeArts task
scanning repositories on disk (the local stage allows paths), a bar per part, then the
summary of new, fixed and open issues, as a table and as JSON."""

from __future__ import annotations

import pytest

from tests.scans.gitserver import GitRepo

TOKEN = "cli-scan-token-0123456789abcdef"
ORG, TEAM = "cliorg", "cliteam"
CODEARTS = "c11c0de0a7c5c11c0de0a7c5c11c0de0"
MAIN = f"/server/main/api/orgs/{ORG}/teams/{TEAM}/repos/"
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
WORKSPACE = {
    "users": [{"uuid": "CLIscan1", "name": "ci", "email": "ci-cli@example.com", "token": TOKEN}],
    "namespaces": [
        {"face": "tca", "id": ORG, "members": {"CLIscan1": "member"}},
        {"face": "tca", "id": f"{ORG}/{TEAM}", "parent": ORG},
        {"face": "codearts", "id": CODEARTS, "name": "cli", "members": {"CLIscan1": "member"}},
    ],
    "tca_schemes": [
        {
            "org": ORG,
            "name": "cli-default",
            "languages": ["python", "shell"],
            "lint": {"enabled": True},
            "metric": {"cc_scan_enabled": True, "min_ccn": 1, "dup_scan_enabled": True},
        }
    ],
}
SOURCES = {
    "src/app.py": "import os\nimport sys\n\n\ndef check(x):\n    if x:\n        return x == None\n",
    "tools/run.sh": "#!/bin/sh\necho $1\n",
}


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = GitRepo.init(tmp_path_factory.mktemp("scan") / "demo.git")
    repo.commit(SOURCES)
    yield repo
    repo.close()


@pytest.fixture
def taskhub(cli, server):
    server.admin(WORKSPACE)
    cli.env.update(TASKHUB_URL=server.base, TASKHUB_TOKEN=TOKEN)
    return cli


def _data(server, method, path, body):
    status, answer = server.call(method, path, body, HEADERS)
    assert status in (200, 201), answer
    return answer["data"]


def test_a_tca_scan_run_then_a_fix_found_by_the_next(taskhub, server, repo):
    templates = _data(server, "GET", f"/server/main/api/orgs/{ORG}/schemes/", None)
    template = next(t["id"] for t in templates["results"] if t["name"] == "cli-default")
    repo_id = _data(server, "POST", MAIN, {"scm_url": str(repo.path), "scm_type": "git"})["id"]
    project = _data(
        server,
        "POST",
        f"{MAIN}{repo_id}/projects/",
        {"global_scheme_id": template, "branch": "master"},
    )["id"]
    where = (ORG, TEAM, str(repo_id), str(project))

    first = taskhub("scan", "run", "tca", *where, "--full", "--json")
    assert first.code == 0, first
    found = first.json()
    assert found["result_code"] == 0 and found["lines"] > 0
    opened = found["issues"]["new"]
    assert opened >= 2 and found["issues"] == {"new": opened, "fixed": 0, "open": opened}

    repo.commit({"src/app.py": SOURCES["src/app.py"].replace("import sys\n", "")})
    second = taskhub("scan", "run", "tca", *where)
    assert second.code == 0, second
    for part in ("codecount", "lint", "cc", "dup"):  # one bar per part, each to its end
        assert f"{part:>10} ━" in second.out and f"{part:>10}" in second.out
    rows = {
        line.split("│")[1].strip(): line.split("│")[2].strip()
        for line in second.out.splitlines()
        if line.count("│") == 3
    }
    assert (rows["new"], rows["fixed"], rows["open"]) == ("0", "1", str(opened - 1)), second.out
    listed = taskhub("scan", "list", "tca", *where, "--json").json()
    assert [j["result_code"] for j in listed["results"]] == [0, 0]
    shown = taskhub("scan", "show", "tca", *where, str(listed["results"][0]["id"]), "--json")
    assert {t["kind"] for t in shown.json()["detail"]["tasks"]} == {
        "lint",
        "cc",
        "dup",
        "codecount",
    }


def test_a_codearts_run_and_its_summary(taskhub, server, repo):
    status, created = server.call(
        "POST",
        f"/v2/{CODEARTS}/task",
        {"git_url": str(repo.path), "git_branch": "master", "language": ["python"]},
        HEADERS,
    )
    assert status == 200, created
    task = created["task_id"]
    done = taskhub("scan", "run", "codearts", CODEARTS, task)
    assert done.code == 0, done
    assert "succeeded" in done.out and "new" in done.out
    again = taskhub("scan", "run", "codearts", CODEARTS, task, "--json")
    assert again.code == 0, again
    found = again.json()
    assert found["result"] == "succeeded" and found["issues"]["new"] == 0
    assert found["issues"]["open"] == sum(found["severity"].values()) > 0
    listed = taskhub("scan", "list", "codearts", CODEARTS, "--json").json()
    assert task in [t["task_id"] for t in listed["tasks"]]
    busy = taskhub("scan", "run", "codearts", CODEARTS, "f" * 32)
    assert busy.code == 3 and busy.err.startswith("taskhub: 404: CC.")
