"""A scan end to end as a CI script drives it: repo, project from a template, scan, the
engine's messages drained through the Lambda handler, then TCA's job and analysis views."""

from __future__ import annotations

from chalicelib.scans.models import TaskModel
from tests.scans.conftest import drain
from tests.scans.test_tools import DUP_BODY

PY_OK = "def add(a, b):\n    return a + b\n"
PY_BAD = "import os\n\n\ndef f(x):\n    l = 1\n    return x == None\n"
BRANCHY = (
    "def branchy(a):\n"
    + "".join(f"    if a == {i}:\n        return {i}\n" for i in range(6))
    + "    return -1\n"
)
SHELL_BAD = "#!/bin/sh\necho $1\n"
COPIED = DUP_BODY


def seed(git_repo) -> str:
    return git_repo.commit(
        {
            "app/ok.py": PY_OK,
            "app/bad.py": PY_BAD,
            "app/branchy.py": BRANCHY,
            "run.sh": SHELL_BAD,
            "app/copy_a.py": "import re\n\n" + COPIED,
            "app/copy_b.py": "import os\n\n" + COPIED,
        }
    )


def test_a_full_scan_runs_every_tool_and_answers_tca_views(tca, git_repo):
    revision = seed(git_repo)
    template = tca.template()
    repo_id = tca.repo()
    project_id = tca.project(repo_id, template)
    created = tca.scan(repo_id, project_id, incr_scan=False)
    job_id = created["job"]["id"]
    assert set(created) == {"job", "scan"} and created["scan"]["id"] >= 1

    waiting = tca.detail(repo_id, project_id, job_id)
    assert waiting["state"] == 0 and waiting["result_code"] is None

    drain()
    job = tca.detail(repo_id, project_id, job_id)
    assert job["state"] == 2, job
    assert job["result_code"] == 0 and job["result_code_msg"], job
    assert job["code_line_num"] > 0 and job["total_line_num"] >= job["code_line_num"]
    tasks = {t["task_name"]: t for t in job["tasks"]}
    assert {"ruff", "shellcheck", "lizard", "cpd", "codecount"} <= set(tasks), tasks
    assert all(t["state"] == 2 and t["result_code"] == 0 for t in tasks.values()), tasks
    assert all(t["progress_rate"] == 100 for t in tasks.values())

    issues = tca.analysis(repo_id, project_id, "codelint/issues/?limit=100")
    paths = {i["file_path"] for i in issues["results"]}
    assert {"app/bad.py", "run.sh"} <= paths and "app/ok.py" not in paths
    assert issues["count"] == len(issues["results"])
    assert all(i["state"] == 1 for i in issues["results"])
    one = issues["results"][0]
    detail = tca.analysis(repo_id, project_id, f"codelint/issues/{one['id']}/")
    assert detail["id"] == one["id"] and detail["checkrule_display_name"]

    cc = tca.analysis(repo_id, project_id, "codemetric/ccissues/")
    names = sorted(r["func_name"] for r in cc["results"])
    assert names == ["branchy", "process_records", "process_records"], cc  # add() is under 3
    assert all(r["ccn"] > 3 and r["file_path"] and r["start_line_no"] for r in cc["results"])

    cloc = tca.analysis(repo_id, project_id, "codemetric/clocfiles/?limit=100")
    files = {f"{r['dir_path']}/{r['file_name']}".lstrip("/"): r for r in cloc["results"]}
    assert set(files) >= {"app/ok.py", "run.sh", "app/copy_a.py", "app/copy_b.py"}, cloc
    assert files["app/ok.py"]["code_line_num"] == 2 and files["app/ok.py"]["language"]

    dup = tca.analysis(repo_id, project_id, "codemetric/dupfiles/")
    duplicated = {r["file_path"] for r in dup["results"]}
    assert duplicated == {"app/copy_a.py", "app/copy_b.py"}, dup
    assert all(0 < r["duplicate_rate"] <= 100 for r in dup["results"]), dup

    overview = tca.analysis(repo_id, project_id, "overview/")
    assert overview, overview
    assert revision


def results(tca, repo_id: int, project_id: int) -> dict:
    def rows(path: str, *keys: str) -> list:
        found = tca.analysis(repo_id, project_id, f"{path}?limit=1000")["results"]
        return sorted(tuple(r[k] for k in keys) for r in found)

    overview = tca.analysis(repo_id, project_id, "overview/")
    return {
        "issues": rows("codelint/issues/", "file_path", "checkrule_real_name", "state"),
        "cc": rows("codemetric/ccissues/", "file_path", "func_name", "ccn"),
        "dup": rows("codemetric/dupfiles/", "file_path", "duplicate_rate"),
        "cloc": rows("codemetric/clocfiles/", "dir_path", "file_name", "code_line_num"),
        "lint": {k: overview["lintscan"][k] for k in ("issue_open_num", "active_issue_num")},
        "lines": overview["clocscan"]["code_line_num"],
    }


def test_a_sharded_scan_finds_what_one_shard_finds(tca, git_repo, monkeypatch):
    seed(git_repo)
    template = tca.template()
    repo_id = tca.repo()
    whole = tca.project(repo_id, template)
    tca.scan(repo_id, whole, incr_scan=False)
    drain()
    monkeypatch.setenv("TASKHUB_SCAN_SHARD_FILES", "2")
    git_repo.branch("dev", "master")
    sharded = tca.project(repo_id, template, branch="dev")
    job_id = tca.scan(repo_id, sharded, incr_scan=False)["job"]["id"]
    drain()
    job = tca.detail(repo_id, sharded, job_id)
    assert job["result_code"] == 0, job
    counts = {t.task_name: t.shard_count for t in TaskModel.query(job_id)}
    assert counts["codecount"] == 3 and counts["ruff"] == 3, counts  # 6 files, 5 Python
    assert results(tca, repo_id, sharded) == results(tca, repo_id, whole)
