"""Reading scan results: a project's jobs, a job's tasks, the issue index, and the reports
of the last successful scan of each kind. Lists are one ordered Query read under the
bound of core.paging; reports are one S3 read. Faces say what to keep (their filters)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..core import blobs, cursors
from ..core.errors import NotFound
from ..core.paging import MAX_READ, OffsetPage, offset_page
from .models import IssueModel, JobModel, ProjectModel, TaskModel

Keep = Callable[[Any], bool] | None


class IssueMissing(NotFound):
    """The issue does not exist in this project."""


def jobs(project: ProjectModel, offset: int, limit: int, keep: Keep = None) -> OffsetPage:
    """Newest first (TCA: `-id`)."""
    results = JobModel.query(project.project_id, scan_index_forward=False, consistent_read=True)
    return offset_page(results, offset, limit, keep)


def tasks(job: JobModel) -> list[TaskModel]:
    return sorted(TaskModel.query(job.job_id, consistent_read=True), key=lambda t: t.task_id)


def tasks_of(jobs_: list[JobModel]) -> dict[int, list[TaskModel]]:
    return {job.job_id: tasks(job) for job in jobs_}


def issues(project: ProjectModel, offset: int, limit: int, keep: Keep = None) -> OffsetPage:
    """Newest first."""
    results = IssueModel.query(project.project_id, scan_index_forward=False)
    return offset_page(results, offset, limit, keep, max_read=MAX_READ * 2)


def issue(project: ProjectModel, issue_id: int) -> IssueModel:
    try:
        return IssueModel.get(project.project_id, issue_id, consistent_read=True)
    except DoesNotExist:
        raise IssueMissing(f"issue {issue_id} not found") from None


def latest_report(project: ProjectModel, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the overview keeps of the last successful scan of `kind`, its report), or two
    empty dicts when there has been none."""
    latest = (project.latest or {}).get(kind)
    if not latest:
        return {}, {}
    key = f"scans/{project.project_id}/{latest['job_id']}/{latest['task_id']}/report.json"
    return latest, blobs.get_json(key) or {}


def latest_job(project: ProjectModel) -> JobModel | None:
    """The project's newest job, whatever its state: one Query of one item."""
    found = JobModel.query(
        project.project_id, scan_index_forward=False, consistent_read=True, limit=1
    )
    return next(iter(found), None)


def recent_jobs(
    project: ProjectModel, limit: int, cursor: str | None = None
) -> tuple[list[JobModel], str | None]:
    """One page of the project's jobs, newest first, read with one Query of `limit` items,
    and the cursor of the older ones (None on the last page)."""
    start = None
    if cursor:
        job_id = cursors.number(cursors.decode(cursor) or {}, "j")
        start = {"project_id": {"N": str(project.project_id)}, "job_id": {"N": str(job_id)}}
    found = JobModel.query(
        project.project_id,
        scan_index_forward=False,
        consistent_read=True,
        limit=limit,
        last_evaluated_key=start,
    )
    jobs, more = cursors.page_of(found)
    return jobs, cursors.encode({"j": int(more["job_id"]["N"])}) if more else None
