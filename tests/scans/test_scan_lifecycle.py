"""A project's scans over time: incremental scans and the issue lifecycle, no change, the
fallback to full, busy projects and force_create, idempotency keys, cancel, failing tools."""

from __future__ import annotations

import json

import pytest

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from chalicelib.scans import toolruns
from chalicelib.scans.models import JobModel
from tests.scans.conftest import MEMBER, drain
from tests.scans.test_scan_flow import PY_BAD, PY_OK, SHELL_BAD

CLEAN_BAD = "import os\n\n\ndef f(x):\n    return os.sep + str(x)\n"
NEW_BAD = "def g(y):\n    return y == None\n"


@pytest.fixture
def project(tca, git_repo):
    git_repo.commit({"app/ok.py": PY_OK, "app/bad.py": PY_BAD, "run.sh": SHELL_BAD})
    repo_id = tca.repo()
    project_id = tca.project(repo_id, tca.template())
    return repo_id, project_id


def scan_and_drain(tca, project, **body) -> dict:
    repo_id, project_id = project
    job_id = tca.scan(repo_id, project_id, **body)["job"]["id"]
    drain()
    return tca.detail(repo_id, project_id, job_id)


def hold_messages() -> list[dict]:
    """Take the scan queue's waiting messages off it (to send them again later)."""
    sqs = aws_clients.client("sqs")
    url = resources.queue_url("scans")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for m in got:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in got]


def release(bodies: list[dict]) -> None:
    for body in bodies:
        resources.send("scans", body)


def issues(tca, project, query: str = "") -> list[dict]:
    found = tca.analysis(*project, f"codelint/issues/?limit=1000&{query}")
    assert found["count"] == len(found["results"])
    return found["results"]


def jobs(tca, project, query: str = "") -> dict:
    return tca.ok("GET", f"/repos/{project[0]}/projects/{project[1]}/jobs/?{query}")


def test_incremental_scan_lints_changed_files_and_moves_issues_through_their_states(
    tca, git_repo, project
):
    first = scan_and_drain(tca, project, incr_scan=False)
    assert first["result_code"] == 0, first
    before = issues(tca, project)
    in_bad = [i for i in before if i["file_path"] == "app/bad.py"]
    in_shell = [i for i in before if i["file_path"] == "run.sh"]
    assert in_bad and in_shell
    assert all(i["scan_open"] == first["scan_id"] for i in before)

    git_repo.commit({"app/bad.py": CLEAN_BAD, "app/new.py": NEW_BAD}, message="fix and add")
    second = scan_and_drain(tca, project)  # incr_scan left out: TCA's default, incremental
    assert second["result_code"] == 0 and second["incr_scan"] is True, second
    assert second["base_revision"] == first["scan_revision"]

    fixed = issues(tca, project, f"scan_fix={second['scan_id']}")
    assert {i["id"] for i in fixed} == {i["id"] for i in in_bad}
    assert all(i["state"] == 2 for i in fixed)
    opened = issues(tca, project, f"scan_open={second['scan_id']}")
    assert opened and {i["file_path"] for i in opened} == {"app/new.py"}
    active = issues(tca, project, "state=1")
    # run.sh was not linted again, and its issues stay open as they were
    assert {i["id"] for i in in_shell} <= {i["id"] for i in active}
    assert {i["file_path"] for i in active} == {"run.sh", "app/new.py"}
    assert issues(tca, project, "file_path=NEW.py") == opened

    overview = tca.analysis(*project, "overview/")
    lint = overview["lintscan"]
    assert lint["scan"] == second["scan_id"] and lint["job_id"] == second["id"], lint
    assert lint["issue_open_num"] == len(opened) and lint["issue_fix_num"] == len(fixed)
    assert lint["active_issue_num"] == len(active)
    assert overview["clocscan"]["scan"] == second["scan_id"]


def test_a_scan_of_an_unchanged_revision_closes_with_code_1(tca, project):
    scan_and_drain(tca, project, incr_scan=False)
    again = scan_and_drain(tca, project, incr_scan=True)
    assert again["state"] == 2 and again["result_code"] == 1, again
    assert again["result_msg"] == "代码无变更，无需再次增量扫描。如有需要，请启动全量扫描。"
    assert again["result_code_msg"] == "成功"
    full = scan_and_drain(tca, project, incr_scan=False)
    assert full["result_code"] == 0


def test_a_base_outside_the_fetched_history_falls_back_to_a_full_scan(
    tca, git_repo, project, monkeypatch
):
    first = scan_and_drain(tca, project, incr_scan=False)
    for n in range(3):
        git_repo.commit({f"app/m{n}.py": PY_OK}, message=f"more {n}")
    monkeypatch.setenv("TASKHUB_SCAN_FETCH_DEPTH", "1")
    second = scan_and_drain(tca, project)
    assert second["result_code"] == 0, second
    assert second["incr_scan"] is True and second["base_revision"] is None
    assert (
        "full scan" in second["result_msg"]
        and first["scan_revision"][:12] in (second["result_msg"])
    )
    # a full scan saw every file: the shell issues were found again, not resolved
    assert {i["file_path"] for i in issues(tca, project, "state=1")} >= {"run.sh", "app/bad.py"}


def test_a_busy_project_refuses_a_scan_with_300_and_force_create_supersedes(tca, project):
    repo_id, project_id = project
    first = tca.scan(repo_id, project_id)
    held = hold_messages()  # the first job's start is late: the forced one closes first
    status, body = tca.call("POST", f"/repos/{repo_id}/projects/{project_id}/scans/create/", {})
    assert status == 400 and body["code"] == 300, body
    assert str(first["scan"]["id"]) in body["msg"] and "还有未完成任务" in body["msg"]
    assert jobs(tca, project)["count"] == 1  # nothing written

    forced = tca.scan(repo_id, project_id, force_create=True)
    drain()
    assert tca.detail(repo_id, project_id, first["job"]["id"])["result_code"] == 2
    release(held)
    drain()
    older = tca.detail(repo_id, project_id, first["job"]["id"])
    newer = tca.detail(repo_id, project_id, forced["job"]["id"])
    assert newer["result_code"] == 0, newer
    assert older["state"] == 2 and older["result_code"] == 2, older
    assert str(forced["job"]["id"]) in older["result_msg"]
    listed = jobs(tca, project)["results"]
    assert [j["id"] for j in listed] == [forced["job"]["id"], first["job"]["id"]]  # newest first
    assert [j["id"] for j in jobs(tca, project, "state=2&result_code_lte=0")["results"]] == [
        forced["job"]["id"]
    ]
    assert jobs(tca, project, "state=0,1")["count"] == 0


def test_the_same_idempotency_key_makes_one_job(tca, project):
    repo_id, project_id = project
    key = {**MEMBER, "Idempotency-Key": "ci-run-4711"}
    one = tca.scan(repo_id, project_id, headers=key)
    two = tca.scan(repo_id, project_id, headers=key)
    assert one == two
    assert jobs(tca, project)["count"] == 1
    status, body = tca.call("POST", f"/repos/{repo_id}/projects/{project_id}/scans/create/", {})
    assert status == 400 and body["code"] == 300  # another scan, not the keyed one
    drain()
    assert tca.scan(repo_id, project_id, headers=key) == one  # still that job, closed now


def test_cancel_closes_the_job_with_301_and_its_messages_do_nothing(tca, project):
    repo_id, project_id = project
    job_id = tca.scan(repo_id, project_id)["job"]["id"]
    path = f"/v3/orgs/org1/teams/team1/repos/{repo_id}/projects/{project_id}/jobs/{job_id}/cancel/"
    status, body = tca.api.call(
        "POST", "/server/main/api" + path, {"remarks": "wrong branch"}, MEMBER
    )
    assert status == 200 and body["msg"] == "取消成功" and body["data"] == {"msg": "取消成功"}
    drain()
    job = tca.detail(repo_id, project_id, job_id)
    assert job["state"] == 2 and job["result_code"] == 301, job
    assert job["remarks"] == "wrong branch" and "Canceled: wrong branch" in job["result_msg"]
    assert all(t["state"] == 2 and t["result_code"] == 301 for t in job["tasks"])
    assert issues(tca, project) == []
    # the project is free again
    assert tca.scan(repo_id, project_id)["job"]["id"] > job_id
    status, body = tca.api.call("POST", "/server/main/api" + path, {}, MEMBER)
    assert status == 400 and body["invalid_fields"][0]["field"] == "remarks", body


def test_a_failing_tool_fails_its_task_and_cancels_its_siblings(tca, project, monkeypatch):
    monkeypatch.setattr(toolruns, "LINT_TIMEOUT_S", 0.000001)
    job = scan_and_drain(tca, project, incr_scan=False)
    assert job["state"] == 2 and job["result_code"] == 211, job
    assert job["result_code_msg"] == "任务执行异常"
    codes = {t["task_name"]: t["result_code"] for t in job["tasks"]}
    assert 211 in codes.values(), codes
    assert set(codes.values()) <= {0, 211, 299}, codes
    assert issues(tca, project) == []  # a failed job stores nothing
    stored = JobModel.get(project[1], job["id"])
    assert stored.watch is None  # out of the reaper's index


def test_an_idempotency_key_names_its_job_for_a_week(tca, project, monkeypatch):
    """The claim carries DynamoDB's TTL (`expires_at`); past it the key makes a new job, even
    while DynamoDB has not deleted the claim yet. Shard rows expire after the job's deadline."""
    import time

    from chalicelib.core import ids
    from chalicelib.scans import scanning
    from chalicelib.scans.models import ClaimModel, ShardModel

    repo_id, project_id = project
    key = {**MEMBER, "Idempotency-Key": "ci-run-ttl"}
    one = tca.scan(repo_id, project_id, headers=key)
    drain()
    (claim,) = [c for c in ClaimModel.scan() if c.key.startswith(f"scan:{project_id}:")]
    left = claim.expires_at.timestamp() - time.time()
    assert scanning.IDEMPOTENCY_S - 60 < left <= scanning.IDEMPOTENCY_S
    shards = list(ShardModel.scan())
    assert shards and all(s.expires_at.timestamp() > time.time() + 7 * 86400 for s in shards)
    assert tca.scan(repo_id, project_id, headers=key) == one
    later = ids.now_ms() + (scanning.IDEMPOTENCY_S + 1) * 1000
    monkeypatch.setattr(ids, "now_ms", lambda: later)
    two = tca.scan(repo_id, project_id, headers=key)
    assert two["job"]["id"] != one["job"]["id"]
    (claim,) = [c for c in ClaimModel.scan() if c.key.startswith(f"scan:{project_id}:")]
    assert claim.target == str(two["job"]["id"])
