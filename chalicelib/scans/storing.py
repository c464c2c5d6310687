"""Storing a job's results (TCA's state 3, 入库): the issue index and the summaries.

Issues are keyed by fingerprint across scans. A finding with no issue opens one (state 1,
`scan_open` this scan); a resolved or closed issue found again is reopened; an active
issue of a file this scan covered that is no longer found is resolved (state 2, `scan_fix`
this scan). A full scan closes (3) the active issues of linters the scheme no longer runs;
an incremental scan leaves the issues of files it did not touch as they are. An issue a
user closed with a resolution stays closed.

Storing is idempotent: a retry after a crash finds the issues the first try wrote by their
fingerprints, and the scan's figures are counted off the issues' `scan_open`/`scan_fix` as
they stand after this store (the one read of the index, with this store's changes applied),
so they come out the same. New issues are written 25 to a BatchWriteItem; an existing one is
changed with a conditional update, so a user's concurrent change to it is not overwritten.
One job of a project stores at a time (a lock on the project, with a lease).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..core import blobs, ids, sequences
from ..core.conditions import applied
from ..core.errors import Unavailable
from .config import limits
from .models import CounterModel, IssueModel, JobModel, ProjectModel, TaskModel
from .tools.base import Finding

ACTIVE, RESOLVED, CLOSED_ISSUE = 1, 2, 3
USER_RESOLUTIONS = {2, 3, 4}  # closed by a user (no need to fix, false positive, ignored)
KINDS = {"lizard": "cc", "cpd": "dup", "codecount": "cloc"}


def progress_kind(module: str, task_name: str) -> str:
    """The part of a scan a task does, as progress names it: lint, cc, dup or codecount."""
    if module == "codelint":
        return "lint"
    kind = KINDS.get(task_name, task_name)
    return "codecount" if kind == "cloc" else kind


class ProjectStoring(Unavailable):
    """Another job of the project is storing; the message comes back shortly."""


@dataclass
class Stored:
    summary: dict[str, Any] = field(default_factory=dict)  # kind -> this scan's figures
    latest: dict[str, Any] = field(default_factory=dict)  # kind -> for the overview
    lines: dict[str, int] = field(default_factory=dict)
    lint_ran: bool = False
    lint_tools: list[str] = field(default_factory=list)
    superseded: bool = False


def lock(job: JobModel, project: ProjectModel) -> None:
    now = ids.now_ms()
    until = now + limits().lease_s * 1000
    taken = applied(
        lambda: project.update(
            actions=[ProjectModel.store_lock.set(job.job_id), ProjectModel.store_until.set(until)],
            condition=ProjectModel.store_lock.does_not_exist()
            | (ProjectModel.store_until < now)
            | (ProjectModel.store_lock == job.job_id),
        )
    )
    if not taken:
        raise ProjectStoring(f"project {project.project_id} is storing another job")


def unlock(job: JobModel, project: ProjectModel) -> None:
    """Give the project's store lock back, if this job holds it."""
    applied(
        lambda: project.update(
            actions=[ProjectModel.store_lock.remove(), ProjectModel.store_until.remove()],
            condition=ProjectModel.store_lock == job.job_id,
        )
    )


def store(
    job: JobModel, project: ProjectModel, tasks: list[TaskModel], plan: dict[str, Any]
) -> Stored:
    lock(job, project)
    project.refresh(consistent_read=True)  # what a job that stored before the lock wrote
    out = Stored()
    if (project.last_job or 0) > job.job_id:
        out.superseded = True  # a newer job stored first: this one's results are older
        unlock(job, project)
        return out
    now = ids.now_ms()
    base = {
        "project_id": job.project_id,
        "job_id": job.job_id,
        "scan_id": job.scan_id,
        "scan_time": now,
    }
    base["scan_revision"] = job.revision
    lint = [t for t in tasks if t.module == "codelint"]
    if lint:
        out.lint_ran = True
        out.lint_tools = sorted(t.task_name for t in lint)
        figures = _store_issues(job, project, lint, plan)
        out.summary["lint"] = figures
        out.latest["lint"] = {**base, **figures}
    for task in tasks:
        kind = KINDS.get(task.task_name)
        if kind is None:
            continue
        figures = {**(task.summary or {}), "task_id": task.task_id}
        out.summary[kind] = figures
        out.latest[kind] = {**base, **figures}
        if kind == "cloc":
            out.lines = {k: int(figures.get(k, 0)) for k in ("code", "comment", "blank", "total")}
    return out


def _store_issues(
    job: JobModel, project: ProjectModel, lint: list[TaskModel], plan: dict[str, Any]
) -> dict[str, Any]:
    findings: dict[str, Finding] = {}
    for task in lint:
        report = blobs.get_json(f"scans/{job.project_id}/{job.job_id}/{task.task_id}/report.json")
        for raw in (report or {}).get("findings", []):
            finding = Finding.from_dict(raw)
            findings.setdefault(finding.fingerprint, finding)
    tools = {t.task_name for t in lint}
    incremental = bool(plan.get("incremental"))
    # a full scan covers every file: an issue not found anywhere is fixed
    scope = {path for path, _ in plan.get("changes") or []} if incremental else None
    existing: dict[str, IssueModel] = {}
    for issue in IssueModel.query(job.project_id):
        existing.setdefault(issue.fingerprint, issue)
    now = ids.now_ms()
    fresh = [f for fp, f in findings.items() if fp not in existing]
    new_ids = iter(sequences.block(CounterModel, "ids", "issue", len(fresh)))
    after: list[IssueModel] = []
    with IssueModel.batch_write() as batch:  # 25 items per BatchWriteItem
        for finding in fresh:
            issue = _new_issue(job, finding, next(new_ids), now)
            batch.save(issue)
            after.append(issue)
    for fingerprint, issue in existing.items():
        found = findings.get(fingerprint)
        if found is not None:
            _seen(job, issue, found, now)
        elif issue.state == ACTIVE and issue.tool in tools:
            if scope is None or issue.file_path in scope:
                _change(issue, now, state=RESOLVED, scan_fix=job.scan_id, fixed_time=now)
        elif issue.state == ACTIVE and not incremental and issue.tool not in tools:
            _change(issue, now, state=CLOSED_ISSUE, scan_fix=job.scan_id, fixed_time=now)
        after.append(issue)
    return _figures(job, after)


def _new_issue(job: JobModel, finding: Finding, issue_id: int, now: int) -> IssueModel:
    return IssueModel(
        job.project_id,
        issue_id,
        fingerprint=finding.fingerprint,
        tool=finding.tool,
        rule=finding.rule,
        category=finding.category,
        severity=finding.severity,
        language=_language(finding.tool),
        file_path=finding.path,
        line=finding.line,
        column=finding.column,
        msg=finding.message[:2000],
        state=ACTIVE,
        scan_open=job.scan_id,
        revision=job.revision or "",
        ci_time=now,
    )


def _language(tool: str) -> str:
    from .tools import linters

    linter = linters.LINTERS.get(tool)
    return linter.language if linter else ""


def _seen(job: JobModel, issue: IssueModel, found: Finding, now: int) -> None:
    """A finding of an issue there is: reopen it unless a user closed it; keep where it is
    now (its line moves with edits above it)."""
    changes: dict[str, Any] = {}
    if issue.state != ACTIVE and not (
        issue.state == CLOSED_ISSUE and issue.resolution in USER_RESOLUTIONS
    ):
        changes.update(state=ACTIVE, scan_open=job.scan_id, scan_fix=None, fixed_time=None)
    for name, value in (
        ("line", found.line),
        ("column", found.column),
        ("msg", found.message[:2000]),
        ("severity", found.severity),
        ("revision", job.revision or ""),
    ):
        if getattr(issue, name) != value:
            changes[name] = value
    if changes and set(changes) != {"revision"}:
        _change(issue, now, **changes)


def _change(issue: IssueModel, now: int, **changes: Any) -> None:
    """Apply the engine's changes unless a user changed the issue's state meanwhile (then
    read it again, so the figures count what is stored)."""
    actions = []
    for name, value in changes.items():
        attribute = getattr(IssueModel, name)
        actions.append(attribute.remove() if value is None else attribute.set(value))
    if not applied(
        lambda: issue.update(actions=actions, condition=IssueModel.state == issue.state)
    ):
        issue.refresh(consistent_read=True)


def _figures(job: JobModel, issues: list[IssueModel]) -> dict[str, Any]:
    """This scan's lint figures, from the project's issues as this store left them."""
    opened = fixed = active = 0
    severity: Counter[str] = Counter()
    for issue in issues:
        if issue.state == ACTIVE:
            active += 1
            severity[str(issue.severity)] += 1
            if issue.scan_open == job.scan_id:
                opened += 1
        if issue.scan_fix == job.scan_id and issue.state != ACTIVE:
            fixed += 1
    return {
        "issue_open_num": opened,
        "issue_fix_num": fixed,
        "active_issue_num": active,
        "active_severity_detail": dict(sorted(severity.items())),
    }
