"""The scan engine: a job's life as SQS messages, each moving it by one conditional write.

    start  fetch the revision, plan each task's files in shards, pack the sources to S3
    shard  run one tool over one shard's files; its result goes to S3 (a task's only shard
           merges it into the task's report at once)
    merge  the last shard of a task merges the shards into the task's report
    close  the last task of a job stores the results (the issue index, the summaries)

Every message can arrive twice, late, or after its worker was killed. Each step claims
its item with a conditional write and a lease, so one delivery works at a time; results
are counted into sets (a shard, a task once each), so a redelivery counts nothing twice;
and a step that finds its work done sends on what follows, so a crash between a write and
a send loses nothing. The reaper re-drives a job that makes no progress, and closes one
that keeps making none (298) or outlives its deadline (297).
"""

from __future__ import annotations

import datetime
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..core import blobs, deadlines, ids, observability, resources
from ..core.conditions import applied
from ..webhooks import events
from . import planning, repos, sources, storing, toolruns
from .codes import (
    ANALYSIS_ERROR,
    CLIENT_REDIRECT,
    CLOSED,
    HEARTBEAT_LOST,
    INCR_IGNORE,
    JOB_TIMEOUT,
    MESSAGES,
    OK,
    RUNNING,
    SIBLING_FAILED,
    STATE_NAMES,
    STORING,
    USER_CANCEL,
    WAITING,
    is_success,
)
from .config import limits
from .models import JobModel, ProjectModel, RepoModel, SchemeModel, ShardModel, TaskModel

log = logging.getLogger("taskhub.scans")

# Visibility: 6x the worker function's 300 s timeout (AWS's advice for SQS event sources);
# TASKHUB_SCAN_LEASE (360 s on deployed stages) outlasts that timeout.
QUEUE = resources.queue("scans", visibility_timeout=1800, max_receive_count=5)
SHARDS = 16  # the reaper's index is spread over this many partitions
START_GRACE_S = 60  # a job not started this long after it was made is re-driven
SHARD_KEEP_S = 7 * 86400  # shard rows outlive their job's deadline by this (then TTL)


def shard_expiry() -> datetime.datetime:
    """When DynamoDB may delete a shard row: a week past the longest a job stays open (the
    reaper closes it at its deadline, 297), so no step or reaper reads it again."""
    seconds = ids.now_ms() / 1000 + limits().job_timeout_s + SHARD_KEEP_S
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)


def watch_of(job_id: int) -> str:
    return f"s{job_id % SHARDS:02d}"


def prefix(job: JobModel) -> str:
    return f"scans/{job.project_id}/{job.job_id}"


def send(job: JobModel, op: str, **extra: Any) -> None:
    resources.send(QUEUE.name, {"op": op, "project": job.project_id, "job": job.job_id, **extra})


def load_job(project_id: int, job_id: int) -> JobModel | None:
    try:
        return JobModel.get(project_id, job_id, consistent_read=True)
    except DoesNotExist:
        return None


def job_tasks(job: JobModel) -> list[TaskModel]:
    return list(TaskModel.query(job.job_id, consistent_read=True))


def handle(body: dict[str, Any], budget_s: float | None = None) -> str:
    op = body.get("op")
    try:
        project_id, job_id = int(body["project"]), int(body["job"])
    except (KeyError, TypeError, ValueError):
        return "dropped: malformed"
    job = load_job(project_id, job_id)
    if job is None:
        return "dropped: no such job"
    if job.state == CLOSED:
        return "dropped: job closed"
    if op == "start":
        return start(job)
    if op in ("shard", "merge"):
        try:
            task = TaskModel.get(job.job_id, int(body["task"]), consistent_read=True)
        except (KeyError, TypeError, ValueError, DoesNotExist):
            return "dropped: no such task"
        if op == "merge":
            return merge(job, task)
        try:
            number = int(body["shard"])
        except (KeyError, TypeError, ValueError):
            return "dropped: malformed"
        return shard(job, task, number)
    if op == "close":
        return close(job)
    return "dropped: unknown op"


# ---- claims ------------------------------------------------------------------------------


def claim_job(job: JobModel, phase: str, *actions: Any) -> str | None:
    """Take the job's lease for `phase`; the token, or None if another worker holds it or
    the job moved on."""
    now = ids.now_ms()
    token = ids.random_alnum(12)
    condition = (
        (JobModel.phase == phase) & (JobModel.state != CLOSED) & (JobModel.lease_until < now)
    )
    taken = applied(
        lambda: job.update(
            actions=[
                JobModel.lease_token.set(token),
                JobModel.lease_until.set(now + limits().lease_s * 1000),
                JobModel.beat.set(now),
                *actions,
            ],
            condition=condition,
        )
    )
    return token if taken else None


@contextmanager
def holding(item: JobModel | TaskModel, token: str) -> Iterator[None]:
    """Work under a lease: if it fails, the lease is given up at once, so the message's
    redelivery can take the work again instead of waiting for the lease to run out."""
    model = type(item)
    try:
        yield
    except BaseException:
        applied(
            lambda: item.update(
                actions=[model.lease_until.set(0)], condition=model.lease_token == token
            )
        )
        raise


# ---- start ---------------------------------------------------------------------------------


def start(job: JobModel) -> str:
    if job.phase == "run":  # started before: what it sent may have been lost
        resend_pending(job)
        return "started before"
    if job.phase != "init":
        return f"dropped: {job.phase}"
    now = ids.now_ms()
    token = claim_job(
        job, "init", JobModel.state.set(RUNNING), JobModel.start_time.set(job.start_time or now)
    )
    if token is None:
        return "busy"
    with holding(job, token):
        return _start(job, token)


def _start(job: JobModel, token: str) -> str:
    project = ProjectModel.get(job.repo_id, job.project_id, consistent_read=True)
    repo = next(
        iter(RepoModel.query(project.owner, RepoModel.repo_id == project.repo_id, limit=1)),
        None,
    )
    scheme = SchemeModel.get(f"repo:{project.repo_id}", project.scheme_id, consistent_read=True)
    tasks = job_tasks(job)
    scratch = Path(tempfile.mkdtemp(prefix="taskhub-scan-"))
    try:
        try:
            if repo is None:
                raise sources.ScmError(112, "the repository is gone")
            snapshot = sources.fetch(
                repo.scm_url,
                project.branch,
                repos.credentials(repo),
                repos.policy(),
                scratch / "git",
                depth=limits().fetch_depth,
            )
        except sources.ScmError as exc:
            revoke(job, exc.code, exc.message, lease_token=token)
            return f"scm error {exc.code}"
        plan = planning.plan(job, project, scheme, tasks, snapshot)
        if plan.unchanged:
            revoke(job, INCR_IGNORE, MESSAGES[INCR_IGNORE], lease_token=token)
            return "no change"
        with open(scratch / "source.tar.gz", "w+b") as tar:
            snapshot.write_tar(plan.paths(), tar)
            tar.seek(0)
            blobs.put_file(f"{prefix(job)}/source.tar.gz", tar, "application/gzip")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    blobs.put_json(f"{prefix(job)}/plan.json", plan.document())
    expires = shard_expiry()
    with ShardModel.batch_write() as batch:
        for task in tasks:
            for number, paths in enumerate(plan.shards[task.task_id]):
                batch.save(
                    ShardModel(
                        f"{job.job_id}:{task.task_id}",
                        number,
                        file_count=len(paths),
                        expires_at=expires,
                    )
                )
    for task in tasks:
        task.update(actions=[TaskModel.shard_count.set(len(plan.shards[task.task_id]))])
    moved = applied(
        lambda: job.update(
            actions=[
                JobModel.phase.set("run"),
                JobModel.revision.set(plan.revision),
                JobModel.base_revision.set(plan.base_revision),
                JobModel.incremental.set(plan.incremental),
                JobModel.note.set(plan.note),
                JobModel.file_count.set(len(plan.files)),
                JobModel.lease_until.set(0),
                JobModel.beat.set(ids.now_ms()),
                JobModel.deadline.set(ids.now_ms() + limits().heartbeat_s * 1000),
            ],
            condition=(JobModel.lease_token == token) & (JobModel.state != CLOSED),
        )
    )
    if not moved:
        return "dropped: lease lost"
    resend_pending(job)
    return f"started: {sum(len(s) for s in plan.shards.values())} shards"


def resend_pending(job: JobModel) -> int:
    """Send what a running job waits for: its unfinished shards, the merge of each task
    whose shards are all done, or its close once every task is. Duplicates are harmless."""
    sent = 0
    tasks = job_tasks(job)
    if all(t.state == CLOSED for t in tasks):
        send(job, "close")
        return 1
    messages = []
    for task in tasks:
        if task.state == CLOSED or task.shard_count is None:
            continue
        if task.done_count >= task.shard_count:
            messages.append({"op": "merge", "task": task.task_id})
            continue
        done = task.done or set()
        for number in range(task.shard_count):
            if number not in done:
                messages.append({"op": "shard", "task": task.task_id, "shard": number})
    base = {"project": job.project_id, "job": job.job_id}
    resources.send_batch(QUEUE.name, [{**base, **m} for m in messages])
    sent += len(messages)
    return sent


# ---- shard ---------------------------------------------------------------------------------


def shard(job: JobModel, task: TaskModel, number: int) -> str:
    if task.state == CLOSED:
        return "dropped: task closed"
    key = f"{job.job_id}:{task.task_id}"
    try:
        part = ShardModel.get(key, number, consistent_read=True)
    except DoesNotExist:
        return "dropped: no such shard"
    if part.state == "done":
        if task.shard_count is not None and task.done_count >= task.shard_count:
            send(job, "merge", task=task.task_id)
        return "done before"
    if part.state == "failed":
        return "dropped: failed"
    now = ids.now_ms()
    attempt = part.attempt + 1
    claimed = applied(
        lambda: part.update(
            actions=[
                ShardModel.state.set("running"),
                ShardModel.attempt.set(attempt),
                ShardModel.lease_until.set(now + limits().lease_s * 1000),
            ],
            condition=(ShardModel.state == "waiting")
            | ((ShardModel.state == "running") & (ShardModel.lease_until < now)),
        )
    )
    if not claimed:
        return "busy"
    if task.state == WAITING:
        applied(
            lambda: task.update(
                actions=[TaskModel.state.set(RUNNING), TaskModel.start_time.set(now)],
                condition=TaskModel.state == WAITING,
            )
        )
    began = time.monotonic()
    try:
        outcome = _run_shard(job, task, number)
        if task.shard_count == 1:  # the task's only shard: merge here, not through S3 again
            report, summary = toolruns.merge(task.task_name, [outcome], task.params or {})
            blobs.put_json(f"{prefix(job)}/{task.task_id}/report.json", report)
            outcome = {"merged": summary}
    except toolruns.ToolError as exc:
        part.update(actions=[ShardModel.state.set("failed")])
        fail_task(job, task, ANALYSIS_ERROR, f"{task.task_name}: {exc}")
        return "tool failed"
    except BaseException:
        applied(  # let a redelivery take it again at once
            lambda: part.update(
                actions=[ShardModel.lease_until.set(0)],
                condition=ShardModel.attempt == attempt,
            )
        )
        raise
    ms = int((time.monotonic() - began) * 1000)
    blobs.put_json(f"{prefix(job)}/{task.task_id}/shard-{number}.json", outcome)

    def count() -> None:
        with resources.transaction() as tx:
            tx.update(
                ShardModel(key, number),
                actions=[ShardModel.state.set("done"), ShardModel.ms.set(ms)],
                condition=(ShardModel.state == "running") & (ShardModel.attempt == attempt),
            )
            tx.update(
                TaskModel(task.job_id, task.task_id),
                actions=[TaskModel.done.add({number}), TaskModel.done_count.add(1)],
                condition=~TaskModel.done.contains(number) & (TaskModel.state != CLOSED),
            )
            tx.update(
                JobModel(job.project_id, job.job_id),
                actions=[JobModel.beat.set(ids.now_ms())],
                condition=JobModel.state != CLOSED,
            )

    if not applied(count):
        return "dropped: counted by another attempt"
    task.refresh(consistent_read=True)
    if task.done_count >= (task.shard_count or 0):
        send(job, "merge", task=task.task_id)
    return f"shard done in {ms} ms"


def _run_shard(job: JobModel, task: TaskModel, number: int) -> dict[str, Any]:
    """Fetch this shard's files from the job's source archive into /tmp, run the tool over
    them, and remove them again."""
    plan = blobs.get_json(f"{prefix(job)}/plan.json")
    paths = plan["shards"][str(task.task_id)][number]
    scratch = Path(tempfile.mkdtemp(prefix="taskhub-shard-"))
    try:
        archive = scratch / "source.tar.gz"
        with open(archive, "w+b") as fh:
            if not blobs.get_file(f"{prefix(job)}/source.tar.gz", fh):
                raise RuntimeError(f"the sources of job {job.job_id} are gone")
            fh.seek(0)
            root = scratch / "src"
            root.mkdir()
            sources.Snapshot.extract_tar(fh, root, set(paths))
        return toolruns.run(task.task_name, root, paths, task.params or {})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ---- merge ---------------------------------------------------------------------------------


def merge(job: JobModel, task: TaskModel) -> str:
    if task.state == CLOSED:
        _count_task(job, task.task_id)
        return "merged before"
    if task.shard_count is None or task.done_count < task.shard_count:
        return "not yet"
    now = ids.now_ms()
    token = ids.random_alnum(12)
    claimed = applied(
        lambda: task.update(
            actions=[
                TaskModel.lease_token.set(token),
                TaskModel.lease_until.set(now + limits().lease_s * 1000),
            ],
            condition=(TaskModel.state != CLOSED) & (TaskModel.lease_until < now),
        )
    )
    if not claimed:
        return "busy"
    with holding(task, token):
        return _merge(job, task, token, now)


def _merge(job: JobModel, task: TaskModel, token: str, now: int) -> str:
    parts = [
        blobs.get_json(f"{prefix(job)}/{task.task_id}/shard-{n}.json")
        for n in range(task.shard_count)
    ]
    if any(p is None for p in parts):
        raise RuntimeError(f"a shard result of task {task.task_id} is missing")
    if len(parts) == 1 and "merged" in parts[0]:  # merged by its shard, report stored
        summary = parts[0]["merged"]
    else:
        report, summary = toolruns.merge(task.task_name, parts, task.params or {})
        blobs.put_json(f"{prefix(job)}/{task.task_id}/report.json", report)
    slowest = max((s.ms or 0 for s in ShardModel.query(f"{job.job_id}:{task.task_id}")), default=0)

    def close_task() -> None:
        with resources.transaction() as tx:
            tx.update(
                TaskModel(task.job_id, task.task_id),
                actions=[
                    TaskModel.state.set(CLOSED),
                    TaskModel.result_code.set(OK),
                    TaskModel.result_msg.set("success"),
                    TaskModel.end_time.set(ids.now_ms()),
                    TaskModel.start_time.set(task.start_time or now),
                    TaskModel.summary.set(summary),
                    TaskModel.max_shard_ms.set(slowest),
                ],
                condition=(TaskModel.lease_token == token) & (TaskModel.state != CLOSED),
            )

    if not applied(close_task):
        return "dropped: lease lost"
    _count_task(job, task.task_id)
    return "merged"


def _count_task(job: JobModel, task_id: int) -> None:
    """Count a closed task into its job once; the one that completes the job sends close."""
    applied(
        lambda: job.update(
            actions=[
                JobModel.done_tasks.add({task_id}),
                JobModel.task_done.add(1),
                JobModel.beat.set(ids.now_ms()),
            ],
            condition=~JobModel.done_tasks.contains(task_id) & (JobModel.state != CLOSED),
        )
    )
    job.refresh(consistent_read=True)
    if job.state != CLOSED and job.task_done >= job.task_num:
        send(job, "close")


# ---- close ---------------------------------------------------------------------------------


def close(job: JobModel) -> str:
    if job.task_done < job.task_num:
        return "not yet"
    if job.phase == "run":
        token = claim_job(
            job,
            "run",
            JobModel.phase.set("store"),
            JobModel.state.set(STORING),
            JobModel.store_time.set(ids.now_ms()),
        )
    elif job.phase == "store":
        token = claim_job(job, "store")
    else:
        return f"dropped: {job.phase}"
    if token is None:
        return "busy"
    with holding(job, token):
        return _close(job, token)


def _close(job: JobModel, token: str) -> str:
    tasks = job_tasks(job)
    failed = sorted((t for t in tasks if not is_success(t.result_code)), key=_code)
    if failed:
        revoke(job, failed[0].result_code, failed[0].result_msg or "", lease_token=token)
        return "failed"
    project = ProjectModel.get(job.repo_id, job.project_id, consistent_read=True)
    plan = blobs.get_json(f"{prefix(job)}/plan.json") or {}
    results = storing.store(job, project, tasks, plan)
    if results.superseded:
        newer = load_job(job.project_id, project.last_job)
        redirect = {"job_id": project.last_job, "scan_id": newer.scan_id if newer else None}
        revoke(job, CLIENT_REDIRECT, json.dumps(redirect), lease_token=token)
        return "superseded"
    finished = finalize(job, project, tasks, results, token)
    if not finished:
        return "dropped: lease lost"
    observability.metric("ScansClosed", result=result_class(OK))
    supersede(job, project)
    blobs.delete(f"{prefix(job)}/source.tar.gz")
    return "closed"


def result_class(code: int) -> str:
    """A result code's class for metrics: 0xx success, 1xx platform, 2xx task, 3xx user."""
    return f"{max(0, code) // 100}xx"


def _code(task: TaskModel) -> int:
    return task.result_code if task.result_code is not None else 10**6


def end_event(job: JobModel, code: int, message: str, now: int) -> events.Ending | None:
    """The webhook deliveries announcing this job's close, written with it (none without
    callbacks); a job closes once, so it is announced once."""
    hooks = job.hooks or {}
    status = "success" if is_success(code) else "cancelled" if code == USER_CANCEL else "fail"
    return events.ending(
        face=hooks.get("face", ""),
        namespace=hooks.get("namespace", ""),
        kind="scan",
        target=str(job.job_id),
        end="closed",
        status=status,
        result=message,
        started=job.start_time or job.create_time,
        ended=now,
        link=hooks.get("link", ""),
        urls=hooks.get("urls"),
        extra={"scan_id": job.scan_id, "result_code": code},
    )


def finalize(
    job: JobModel,
    project: ProjectModel,
    tasks: list[TaskModel],
    results: storing.Stored,
    token: str,
) -> bool:
    now = ids.now_ms()
    lines = results.lines
    message = "success" if not job.note else f"success; {job.note}"
    latest = dict(project.latest or {})
    latest.update(results.latest)
    ending = end_event(job, OK, message, now)

    def write() -> None:
        with resources.transaction() as tx:
            tx.update(
                JobModel(job.project_id, job.job_id),
                actions=[
                    JobModel.state.set(CLOSED),
                    JobModel.phase.set("done"),
                    JobModel.result_code.set(OK),
                    JobModel.result_msg.set(message),
                    JobModel.end_time.set(now),
                    JobModel.summary.set(results.summary),
                    JobModel.code_line_num.set(lines.get("code", 0)),
                    JobModel.comment_line_num.set(lines.get("comment", 0)),
                    JobModel.blank_line_num.set(lines.get("blank", 0)),
                    JobModel.total_line_num.set(lines.get("total", 0)),
                    JobModel.watch.remove(),
                    JobModel.deadline.remove(),
                    JobModel.lease_until.set(0),
                ],
                condition=(JobModel.lease_token == token) & (JobModel.state == STORING),
            )
            actions = [
                ProjectModel.open_jobs.delete({job.job_id}),
                ProjectModel.store_lock.remove(),
                ProjectModel.store_until.remove(),
                ProjectModel.latest.set(latest),
                ProjectModel.last_job.set(job.job_id),
                ProjectModel.last_scan_time.set(now),
            ]
            if results.lint_ran:
                actions += [
                    ProjectModel.lint_revision.set(job.revision),
                    ProjectModel.lint_tools.set(results.lint_tools),
                ]
            tx.update(ProjectModel(job.repo_id, job.project_id), actions=actions)
            tx.update(
                RepoModel(project.owner, project.repo_id),
                actions=[
                    RepoModel.job_count.add(1),
                    RepoModel.recent.set(
                        {
                            "id": project.project_id,
                            "branch_name": project.branch,
                            "active_time": now,
                            "total_line_num": lines.get("total", 0),
                            "code_line_num": lines.get("code", 0),
                        }
                    ),
                ],
            )
            if ending is not None:
                ending.add_to(tx)

    done = applied(write)
    if done and ending is not None:
        ending.send()
    return done


def supersede(job: JobModel, project: ProjectModel) -> None:
    """TCA's close_job: older unclosed jobs of the project are revoked as redirected to
    this one (code 2)."""
    for other in sorted(project.open_jobs or ()):
        if other >= job.job_id:
            continue
        older = load_job(job.project_id, int(other))
        if older is not None and older.state != CLOSED:
            revoke(
                older,
                CLIENT_REDIRECT,
                json.dumps({"job_id": job.job_id, "scan_id": job.scan_id}),
            )


# ---- ending a job early --------------------------------------------------------------------


def fail_task(job: JobModel, task: TaskModel, code: int, message: str) -> None:
    """A task that cannot finish ends its job: the job takes its code, and every other
    unfinished task is cancelled because of it (299)."""
    applied(
        lambda: task.update(
            actions=[
                TaskModel.state.set(CLOSED),
                TaskModel.result_code.set(code),
                TaskModel.result_msg.set(message[:1000]),
                TaskModel.end_time.set(ids.now_ms()),
            ],
            condition=TaskModel.state != CLOSED,
        )
    )
    revoke(job, code, message, task_code=SIBLING_FAILED)


def revoke(
    job: JobModel,
    code: int,
    message: str,
    *,
    task_code: int | None = None,
    lease_token: str | None = None,
    remarks: str | None = None,
    remarked_by: str | None = None,
    expire: bool = True,
) -> bool:
    """Close a job that did not finish (TCA's revoke_job): it, its unfinished tasks and the
    project's open set in one transaction. False if it was closed already (or, with
    `lease_token`, if another worker took over)."""
    now = ids.now_ms()
    tasks = [t for t in job_tasks(job) if t.state != CLOSED]
    ending = end_event(job, code, message, now)

    def write() -> None:
        with resources.transaction() as tx:
            actions = [
                JobModel.state.set(CLOSED),
                JobModel.phase.set("done"),
                JobModel.result_code.set(code),
                JobModel.result_msg.set(message[:2000]),
                JobModel.end_time.set(now),
                JobModel.watch.remove(),
                JobModel.deadline.remove(),
                JobModel.lease_until.set(0),
            ]
            if expire:
                actions.append(JobModel.expire_time.set(now))
            if remarks is not None:
                actions += [JobModel.remarks.set(remarks), JobModel.remarked_by.set(remarked_by)]
            condition = JobModel.state != CLOSED
            if lease_token is not None:
                condition = condition & (JobModel.lease_token == lease_token)
            tx.update(JobModel(job.project_id, job.job_id), actions=actions, condition=condition)
            for task in tasks:
                tx.update(
                    TaskModel(task.job_id, task.task_id),
                    actions=[
                        TaskModel.state.set(CLOSED),
                        TaskModel.result_code.set(task_code if task_code is not None else code),
                        TaskModel.result_msg.set(message[:1000]),
                        TaskModel.end_time.set(now),
                    ],
                )
            tx.update(
                ProjectModel(job.repo_id, job.project_id),
                actions=[ProjectModel.open_jobs.delete({job.job_id})],
            )
            if ending is not None:
                ending.add_to(tx)

    done = applied(write)
    if done and ending is not None:
        ending.send()
    if done:
        log.info("scan job %s closed with %s: %.200s", job.job_id, code, message)
        observability.metric("ScansClosed", result=result_class(code))
    return done


# ---- the reaper ----------------------------------------------------------------------------


def reap(now: int | None = None, budget_s: float = 50.0, page: int = 100) -> dict[str, int]:
    """Jobs whose next check is due: past their deadline, time out (297); without progress
    for the heartbeat, re-driven (their pending messages sent again) up to max_redrives
    times, then closed as heartbeat lost (298); otherwise checked again later."""
    now = now if now is not None else ids.now_ms()
    counts = {"timeout": 0, "redriven": 0, "lost": 0}
    for item in deadlines.due(
        JobModel.by_deadline, JobModel.deadline, "s", SHARDS, now, budget_s, page
    ):
        _reap_one(item.project_id, item.job_id, now, counts)
    return counts


def _reap_one(project_id: int, job_id: int, now: int, counts: dict[str, int]) -> None:
    job = load_job(project_id, job_id)
    if job is None or job.state == CLOSED or job.deadline is None or job.deadline > now:
        return
    if job.hard_deadline is not None and now >= job.hard_deadline:
        if revoke(job, JOB_TIMEOUT, f"Time out while {STATE_NAMES.get(job.state, 'running')}"):
            counts["timeout"] += 1
        return
    stall_ms = (START_GRACE_S if job.phase == "init" else limits().heartbeat_s) * 1000
    held = job.lease_until > now
    if now - job.beat < stall_ms or held:
        next_check = max(job.beat + stall_ms, job.lease_until, now + 1000)
        applied(
            lambda: job.update(
                actions=[JobModel.deadline.set(next_check)],
                condition=JobModel.deadline == job.deadline,
            )
        )
        return
    if job.redrives >= limits().max_redrives:
        message = f"heartbeat lost: no progress for {stall_ms // 1000} s after {job.redrives} tries"
        if revoke(job, HEARTBEAT_LOST, message):
            counts["lost"] += 1
        return
    moved = applied(
        lambda: job.update(
            actions=[
                JobModel.redrives.add(1),
                JobModel.beat.set(now),
                JobModel.deadline.set(now + stall_ms),
            ],
            condition=JobModel.deadline == job.deadline,
        )
    )
    if not moved:
        return
    if job.phase == "init":
        send(job, "start")
    elif job.phase == "run":
        resend_pending(job)
    else:
        send(job, "close")
    counts["redriven"] += 1
