"""The engine under SQS's and Lambda's failures: lost and duplicated messages, a worker
that dies in a shard, jobs that stall or outlive their deadline, and the reaper."""

from __future__ import annotations

import json

import pytest

from chalicelib.core import ids
from chalicelib.core.pump import sqs_event
from chalicelib.scans import engine, toolruns, worker
from chalicelib.scans.models import IssueModel, JobModel, ShardModel, TaskModel
from tests.scans.conftest import drain
from tests.scans.test_scan_flow import seed
from tests.scans.test_scan_lifecycle import hold_messages, issues, release

START_GRACE_MS = engine.START_GRACE_S * 1000


@pytest.fixture
def project(tca, git_repo):
    seed(git_repo)
    repo_id = tca.repo()
    return repo_id, tca.project(repo_id, tca.template())


def stored(project_id: int, job_id: int) -> JobModel:
    return JobModel.get(project_id, job_id, consistent_read=True)


def outcome_of(tca, project) -> list[tuple]:
    """The project's issues, as comparable values."""
    found = sorted((i["file_path"], i["checkrule_real_name"]) for i in issues(tca, project))
    return found


def test_every_message_delivered_twice_counts_once(tca, project):
    job_id = tca.scan(*project, incr_scan=False)["job"]["id"]
    ops = drain(duplicate=True)
    assert ops.count("start") == 2
    job = tca.detail(*project, job_id)
    assert job["result_code"] == 0 and job["task_done"] == job["task_num"], job
    twice = outcome_of(tca, project)
    assert len(twice) == len(set(twice))  # no issue stored twice
    for task in TaskModel.query(job_id):
        assert task.done_count == task.shard_count == len(task.done or ())
    # the same scan, delivered once, finds the same
    again = tca.scan(*project, incr_scan=False)["job"]["id"]
    drain()
    assert tca.detail(*project, again)["result_code"] == 0
    assert outcome_of(tca, project) == twice
    assert sum(1 for _ in IssueModel.query(project[1])) == len(twice)


def test_a_worker_dying_in_a_shard_leaves_it_to_the_redelivery(tca, project, monkeypatch):
    real = toolruns.run
    died: list[str] = []

    def dies_once(task_name, *args, **kwargs):
        if not died:
            died.append(task_name)
            raise RuntimeError("worker killed")
        return real(task_name, *args, **kwargs)

    monkeypatch.setattr(toolruns, "run", dies_once)
    job_id = tca.scan(*project, incr_scan=False)["job"]["id"]
    drain()
    job = tca.detail(*project, job_id)
    assert died and job["result_code"] == 0, job
    task = next(t for t in TaskModel.query(job_id) if t.task_name == died[0])
    parts = list(ShardModel.query(f"{job_id}:{task.task_id}"))
    assert [p.attempt for p in parts] == [2] and parts[0].state == "done"
    assert task.done_count == 1


def test_a_lost_start_is_sent_again_by_the_reaper(tca, project):
    job_id = tca.scan(*project)["job"]["id"]
    assert len(hold_messages()) == 1  # the start message is lost
    job = stored(project[1], job_id)
    assert worker.reap() == {"timeout": 0, "redriven": 0, "lost": 0}  # not yet due
    counts = engine.reap(now=job.create_time + START_GRACE_MS + 1000)
    assert counts == {"timeout": 0, "redriven": 1, "lost": 0}
    drain()
    assert tca.detail(*project, job_id)["result_code"] == 0


def test_a_job_without_progress_is_redriven_then_closed_as_heartbeat_lost(
    tca, project, monkeypatch
):
    monkeypatch.setenv("TASKHUB_SCAN_MAX_REDRIVES", "2")
    job_id = tca.scan(*project)["job"]["id"]
    now = stored(project[1], job_id).create_time
    for _ in range(2):
        hold_messages()
        now += START_GRACE_MS + 1000
        assert engine.reap(now=now)["redriven"] == 1
    hold_messages()
    now += START_GRACE_MS + 1000
    assert engine.reap(now=now) == {"timeout": 0, "redriven": 0, "lost": 1}
    job = tca.detail(*project, job_id)
    assert job["state"] == 2 and job["result_code"] == 298, job
    assert "heartbeat lost" in job["result_msg"]
    assert job["result_code_msg"] == "任务执行异常"
    assert stored(project[1], job_id).watch is None
    assert tca.scan(*project)["job"]["id"] > job_id  # the project is free


def test_a_running_job_whose_shards_were_lost_is_redriven(tca, project):
    job_id = tca.scan(*project, incr_scan=False)["job"]["id"]
    first = hold_messages()
    release(first)  # the start goes through ...
    sent = drain_one_round()
    assert sent == ["start"]
    lost = hold_messages()  # ... and every shard message it sent is lost
    assert lost and {m["op"] for m in lost} == {"shard"}
    job = stored(project[1], job_id)
    assert job.phase == "run"
    heartbeat_ms = 1800 * 1000
    assert engine.reap(now=job.beat + heartbeat_ms + 1000)["redriven"] == 1
    drain()
    assert tca.detail(*project, job_id)["result_code"] == 0


def test_a_job_past_its_deadline_is_closed_with_297(tca, project):
    job_id = tca.scan(*project)["job"]["id"]
    hold_messages()
    job = stored(project[1], job_id)
    assert engine.reap(now=job.hard_deadline + 1) == {"timeout": 1, "redriven": 0, "lost": 0}
    detail = tca.detail(*project, job_id)
    assert detail["result_code"] == 297 and detail["result_msg"].startswith("Time out"), detail
    assert all(t["result_code"] == 297 for t in detail["tasks"])
    assert engine.reap(now=ids.now_ms() + 10**10) == {"timeout": 0, "redriven": 0, "lost": 0}


def drain_one_round() -> list[str]:
    """Deliver one batch of the scan queue (without what that batch sends on)."""
    bodies = hold_messages()
    records = [
        {"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": json.dumps(b)}
        for n, b in enumerate(bodies)
    ]
    result = worker.handle_sqs(sqs_event(records, "arn:aws:sqs:us-east-1:000000000000:scans"))
    assert result["batchItemFailures"] == []
    return [b["op"] for b in bodies]
