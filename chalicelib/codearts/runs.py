"""A task's runs: the scan jobs of its project. Run starts one (one open run at a time: a
run while one is open is refused as running), stop cancels the open ones, progress reads
the newest, and the check records are the runs that stored results.

A run is incremental (lints the files changed since the last successful run, the issue set
kept whole) for a task of type `inc`, and full for `full`. Its body may name the task's own
repository and branch; another one is refused, as a task scans what it was made for. Its
credentials are not used: the task's are (given when it was made).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..core.auth import Principal
from ..core.conditions import applied
from ..core.errors import BadRequest
from ..core.paging import OffsetPage
from ..scans import queries, repos, scanning
from ..scans.codes import CLOSED, OK, STORING, USER_CANCEL, WAITING, is_success
from ..scans.models import JobModel
from ..scans.schemas import ScanIn
from ..scans.storing import progress_kind
from . import tasks
from .models import CheckTaskModel
from .schemas import RunIn

# ShowProgressDetailResponse.task_status
CHECKING, FAILED, SUCCEEDED, STOPPED = 0, 1, 2, 3


@dataclass(frozen=True)
class Progress:
    status: int | None  # None: never run
    ratio: str
    info: str
    run: JobModel | None = None
    parts: dict[str, int] = field(default_factory=dict)  # kind -> percent done


def parts_of(job: JobModel, rows: list | None) -> dict[str, int]:
    """Percent done per part of the run (lint, cc, dup, codecount): from its tools' shards
    while it runs; once it stored, the parts it stored (each 100), with no more reads."""
    if rows is None:
        kinds = [k for k in (job.summary or {}) if k in ("lint", "cc", "dup", "cloc")]
        return {("codecount" if k == "cloc" else k): 100 for k in kinds}
    shares: dict[str, list[int]] = {}
    for t in rows:
        done = 100 if t.state == CLOSED else _share(t.done_count, t.shard_count)
        shares.setdefault(progress_kind(t.module, t.task_name), []).append(done)
    return {kind: sum(v) // len(v) for kind, v in shares.items()}


def run(
    principal: Principal,
    task_id: str,
    body: RunIn,
    permission: str,
    *,
    key: str | None = None,
    created_from: str = "codearts",
) -> JobModel:
    """`key`: an idempotency key, as the scan engine takes one (a schedule's slot)."""
    task = tasks.get(principal, task_id, permission)
    if body.git_url and repos.checked_url(body.git_url) != task.git_url:
        raise BadRequest("git_url is not the task's repository", field="git_url")
    if body.git_branch and body.git_branch != task.git_branch:
        raise BadRequest("git_branch is not the task's branch", field="git_branch")
    repo, project = tasks.scan_target(task)
    scan = ScanIn(incr_scan=task.task_type == "inc", created_from=created_from)
    job = scanning.create(
        repo,
        project,
        scan,
        tasks.creator(principal),
        key,
        callbacks=body.callbacks,
        link=lambda _: f"/v2/tasks/{task.task_id}/progress",
    )
    applied(
        lambda: task.update(
            actions=[
                CheckTaskModel.last_exec.set(job.job_id),
                CheckTaskModel.last_check_time.set(job.create_time),
            ],
            condition=CheckTaskModel.task_id.exists(),
        )
    )
    return job


def stop(principal: Principal, task_id: str, permission: str) -> int:
    """Cancel the task's open runs (none open: nothing to do, the same answer)."""
    task = tasks.get(principal, task_id, permission)
    return tasks.cancel_runs(task, "stopped through CodeArts Check", tasks.creator(principal))


def status_of(job: JobModel) -> int:
    if job.state != CLOSED:
        return CHECKING
    if job.result_code == USER_CANCEL:
        return STOPPED
    return SUCCEEDED if is_success(job.result_code) else FAILED


def progress(principal: Principal, task_id: str, permission: str) -> Progress:
    """The newest run's state; while it is checking, the share of its tools' shards done
    (never 100% before it has stored its results)."""
    task = tasks.get(principal, task_id, permission)
    project = tasks.scan_project(task)
    job = queries.latest_job(project)
    if job is None:
        return Progress(None, "0%", "未执行检查")
    status = status_of(job)
    stored = parts_of(job, None)
    if status == SUCCEEDED:
        return Progress(status, "100%", "检查成功", job, stored)
    if status == STOPPED:
        return Progress(status, "100%", "任务已中止", job, stored)
    if status == FAILED:
        return Progress(status, "100%", f"检查失败: {(job.result_msg or '')[:500]}", job, stored)
    if job.state == WAITING:
        return Progress(status, "0%", "排队中", job)
    parts = queries.tasks(job)
    done = [100 if t.state == CLOSED else _share(t.done_count, t.shard_count) for t in parts]
    ratio = min(99, sum(done) // len(done)) if done else 0
    info = "结果入库中" if job.state == STORING else "检查中"
    return Progress(status, f"{ratio}%", info, job, parts_of(job, parts))


def _share(done: int, of: int | None) -> int:
    return 100 * done // of if of else 0


def records(
    principal: Principal,
    project_id: str,
    task_id: str,
    offset: int,
    limit: int,
    start: int | None,
    end: int | None,
    permission: str,
) -> OffsetPage:
    """The runs that stored results, newest first, those that started from `start` to
    `end` (ms) when given."""
    tasks.project(principal, project_id, permission)
    task = tasks.get(principal, task_id, permission, project_id=project_id)
    project = tasks.scan_project(task)

    def keep(job: JobModel) -> bool:
        began = job.start_time or job.create_time
        return (
            job.state == CLOSED
            and job.result_code == OK
            and (start is None or began >= start)
            and (end is None or began <= end)
        )

    return queries.jobs(project, offset, limit, keep)
