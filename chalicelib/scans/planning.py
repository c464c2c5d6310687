"""Which files each task of a job scans, in shards, and whether the scan is incremental.

The first scan of a project is full. A later incremental scan (TCA's default) lints only
the files changed since the revision of the last successful lint scan, with the same
linters; metric tasks (line counts, complexity, duplication) measure the whole tree each
time, as their figures are of the whole tree. When the base revision is not in the fetched
history the scan falls back to full and says so. A task over more files than the budget
is split into shards, each its own message, so no invocation comes near Lambda's limits.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from . import sources
from .config import limits
from .models import JobModel, ProjectModel, SchemeModel, TaskModel
from .toolruns import scans_file
from .tools import linters

BINARY_PROBE = 8000  # bytes looked at for a NUL, as git decides a file is binary


@dataclass
class Plan:
    revision: str
    base_revision: str | None = None
    incremental: bool = False
    unchanged: bool = False
    note: str | None = None
    files: list[str] = field(default_factory=list)
    changes: list[tuple[str, str]] | None = None
    shards: dict[int, list[list[str]]] = field(default_factory=dict)

    def paths(self) -> set[str]:
        return {path for parts in self.shards.values() for part in parts for path in part}

    def document(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "base_revision": self.base_revision,
            "incremental": self.incremental,
            "files": self.files,
            "changes": self.changes,
            "shards": {str(task): parts for task, parts in self.shards.items()},
        }


def _wanted(path: str, project: ProjectModel, scheme: SchemeModel) -> bool:
    if project.scan_path:
        scope = project.scan_path.strip("/")
        if scope and path != scope and not path.startswith(scope + "/"):
            return False
    return not any(fnmatch.fnmatch(path, pattern) for pattern in scheme.exclude or [])


def plan(
    job: JobModel,
    project: ProjectModel,
    scheme: SchemeModel,
    tasks: list[TaskModel],
    snapshot: sources.Snapshot,
) -> Plan:
    budget = limits()
    out = Plan(revision=snapshot.revision)
    lint_names = sorted(t.task_name for t in tasks if t.module == "codelint")
    base = project.lint_revision
    if job.incr_scan and base and base == snapshot.revision:
        out.unchanged, out.base_revision = True, base
        return out
    entries = snapshot.files()
    heads: dict[str, bytes] = {}
    for path, entry in sorted(entries.items()):
        if entry.size > budget.max_file_bytes or not _wanted(path, project, scheme):
            continue
        head = snapshot.head(path, BINARY_PROBE)
        if b"\0" in head:
            continue
        heads[path] = head[:128]
    out.files = sorted(heads)
    changed: set[str] | None = None
    if job.incr_scan and base and lint_names:
        if sorted(project.lint_tools or []) != lint_names:
            out.note = "the scheme's linters changed since the last scan, so this was a full scan"
        else:
            changes = snapshot.changes_since(base)
            if changes is None:
                out.note = (
                    f"the revisions could not be compared ({base[:12]} is not in the fetched "
                    "history), so this was a full scan"
                )
            else:
                out.incremental, out.base_revision = True, base
                out.changes = [(c.path, c.kind) for c in changes]
                changed = {c.path for c in changes if c.kind != "del"}
    for task in tasks:
        if task.module == "codelint":
            linter = linters.LINTERS[task.task_name]
            chosen = [
                p
                for p in out.files
                if (changed is None or p in changed) and linter.wants(p, heads[p])
            ]
        else:
            chosen = [p for p in out.files if scans_file(task.task_name, p)]
        out.shards[task.task_id] = split(chosen, entries, budget.shard_files, budget.shard_bytes)
    return out


def split(
    paths: list[str], entries: dict[str, Any], max_files: int, max_bytes: int
) -> list[list[str]]:
    """Consecutive runs of paths (so a shard holds neighbouring files) of at most
    `max_files` files and `max_bytes` bytes each (a bigger file is a shard of its own)."""
    shards: list[list[str]] = []
    current: list[str] = []
    size = 0
    for path in paths:
        bytes_ = entries[path].size
        if current and (len(current) >= max_files or size + bytes_ > max_bytes):
            shards.append(current)
            current, size = [], 0
        current.append(path)
        size += bytes_
    if current:
        shards.append(current)
    return shards
