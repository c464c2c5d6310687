"""A user's triage of a project's issues, and the tally of the issue index by state and
severity that reflects it.

A user may reopen an issue (state 1), mark it resolved (2) or close it with a resolution
(3, e.g. 4 ignored). The engine respects that: a closed issue with a user's resolution
stays closed when a later scan finds it again; one a user marked resolved is reopened by a
scan that still finds it. Each change is conditional on the state read, so it never
overwrites what a scan storing at the same moment wrote (the caller is told, and may read
again). The tally reads the project's issue index once, under the read bound of
core.paging: it is what the index holds now, a user's changes included.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..core import ids
from ..core.conditions import applied
from ..core.errors import Conflict
from ..core.paging import MAX_READ
from .models import IssueModel, ProjectModel
from .queries import IssueMissing
from .storing import ACTIVE, CLOSED_ISSUE, RESOLVED

MAX_CHANGE = 100  # issues one request may change
TALLY_READ = MAX_READ * 2  # as queries.issues reads


class IssueChanged(Conflict):
    """The issue changed (a scan stored) between the read and the write."""


@dataclass
class Tally:
    """Counts of the index: (state, resolution or None, severity) -> issues."""

    counts: Counter = field(default_factory=Counter)
    truncated: bool = False  # more issues than were read: the counts are lower bounds

    def total(self, keep) -> int:
        return sum(n for key, n in self.counts.items() if keep(*key))


def change(
    project: ProjectModel, issue_ids: list[int], state: int, resolution: int | None
) -> list[IssueModel]:
    """Set the state (and resolution) of each issue; IssueMissing for one not in the project
    (nothing is changed then). Issues already so are left as they are."""
    if state not in (ACTIVE, RESOLVED, CLOSED_ISSUE):
        raise ValueError(f"state {state}")
    unique = list(dict.fromkeys(issue_ids))[:MAX_CHANGE]
    found = {
        issue.issue_id: issue
        for issue in IssueModel.batch_get(
            [(project.project_id, issue_id) for issue_id in unique], consistent_read=True
        )
    }
    missing = [issue_id for issue_id in unique if issue_id not in found]
    if missing:
        raise IssueMissing(f"issue {missing[0]} not found")
    now = ids.now_ms()
    for issue_id in unique:
        issue = found[issue_id]
        if issue.state == state and issue.resolution == resolution:
            continue
        read = issue.state
        actions = [IssueModel.state.set(state)]
        if resolution is None:
            actions.append(IssueModel.resolution.remove())
        else:
            actions.append(IssueModel.resolution.set(resolution))
        if state == ACTIVE:
            actions += [IssueModel.scan_fix.remove(), IssueModel.fixed_time.remove()]
        elif issue.fixed_time is None:
            actions.append(IssueModel.fixed_time.set(now))
        if not applied(lambda a=actions, r=read, i=issue: i.update(a, IssueModel.state == r)):
            raise IssueChanged(f"issue {issue_id} changed meanwhile; read it again")
    return [found[issue_id] for issue_id in unique]


def tally(project: ProjectModel) -> Tally:
    """The project's issues counted by (state, resolution, severity): one Query of the index
    (the three attributes only), at most TALLY_READ issues."""
    out = Tally()
    results = IssueModel.query(
        project.project_id, attributes_to_get=["state", "resolution", "severity"]
    )
    for read, issue in enumerate(results, start=1):
        out.counts[(issue.state, issue.resolution, issue.severity)] += 1
        if read >= TALLY_READ:
            out.truncated = next(iter(results), None) is not None
            break
    return out
