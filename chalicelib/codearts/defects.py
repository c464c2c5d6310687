"""A task's defects: the issues of its scan project, in CodeArts' terms.

Severity: the engine's 1 fatal .. 4 info are CodeArts' 0 critical, 1 major, 2 minor,
3 suggestion. Status: an active issue is 0 pending; one a scan no longer finds, one a user
marked resolved, or one closed because its linter no longer runs is 1 resolved; one a user
closed (ignored, no need to fix, false positive) is 2 ignored. Setting a defect's status is
stored on the issue, and the engine keeps it: an ignored defect a later scan finds again
stays ignored; one marked resolved that a scan still finds is pending again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.auth import Principal
from ..core.errors import BadRequest
from ..core.paging import OffsetPage
from ..scans import defects as triage
from ..scans import queries
from ..scans.models import IssueModel
from ..scans.storing import ACTIVE, CLOSED_ISSUE, RESOLVED, USER_RESOLUTIONS
from . import tasks

PENDING, SOLVED, IGNORED = 0, 1, 2
LEVELS = ("critical", "major", "minor", "suggestion")  # CodeArts' 0..3
IGNORED_RESOLUTION = 4  # TCA's "ignored"
FIXED_RESOLUTION = 1  # TCA's "fixed"
TO_ISSUE = {
    PENDING: (ACTIVE, None),
    SOLVED: (RESOLVED, FIXED_RESOLUTION),
    IGNORED: (CLOSED_ISSUE, IGNORED_RESOLUTION),
}


def status_of(state: int, resolution: int | None) -> int:
    if state == ACTIVE:
        return PENDING
    if state == CLOSED_ISSUE and resolution in USER_RESOLUTIONS:
        return IGNORED
    return SOLVED


def level_of(severity: int) -> int:
    """CodeArts' level (0 critical .. 3 suggestion) of the engine's severity (1 .. 4)."""
    return min(max(int(severity), 1), 4) - 1


@dataclass
class Statistic:
    levels: dict[str, int]  # pending defects per level
    statuses: dict[int, int]  # defects per status
    truncated: bool


def page(
    principal: Principal,
    task_id: str,
    offset: int,
    limit: int,
    statuses: set[int],
    levels: set[int] | None,
    permission: str,
) -> OffsetPage:
    """The task's defects of these statuses (and levels), newest first; `offset` items
    skipped. The total counts the matching ones among the issues read (core.paging)."""
    task = tasks.get(principal, task_id, permission)
    project = tasks.scan_project(task)

    def keep(issue: IssueModel) -> bool:
        return status_of(issue.state, issue.resolution) in statuses and (
            levels is None or level_of(issue.severity) in levels
        )

    return queries.issues(project, offset, limit, keep)


def statistic(principal: Principal, task_id: str, permission: str) -> Statistic:
    task = tasks.get(principal, task_id, permission)
    project = tasks.scan_project(task)
    return tally(project)


def tally(project) -> Statistic:
    counted = triage.tally(project)
    levels = dict.fromkeys(LEVELS, 0)
    statuses = dict.fromkeys((PENDING, SOLVED, IGNORED), 0)
    for (state, resolution, severity), n in counted.counts.items():
        status = status_of(state, resolution)
        statuses[status] += n
        if status == PENDING:
            levels[LEVELS[level_of(severity)]] += n
    return Statistic(levels, statuses, counted.truncated)


def set_status(
    principal: Principal, task_id: str, defect_ids: str, status: int, permission: str
) -> int:
    """Set the status of the task's defects named (a comma list of ids); how many."""
    task = tasks.get(principal, task_id, permission)
    wanted = []
    for part in defect_ids.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or len(part) > 18:
            raise BadRequest(f"not a defect id: {part[:32]}", field="defect_id")
        wanted.append(int(part))
    if not wanted:
        raise BadRequest("defect_id names no defect", field="defect_id")
    if len(set(wanted)) > triage.MAX_CHANGE:
        raise BadRequest(f"at most {triage.MAX_CHANGE} defects at a time", field="defect_id")
    project = tasks.scan_project(task)
    state, resolution = TO_ISSUE[status]
    return len(triage.change(project, wanted, state, resolution))
