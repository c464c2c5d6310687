"""A task's defect summary and metrics: the figures of its scan project's last successful
scan of each kind (lines, complexity, duplication), and the pending defects as the issue
index holds them now (a user's status changes included)."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.auth import Principal
from ..scans.models import ProjectModel
from . import defects, tasks
from .models import CheckTaskModel


@dataclass
class Report:
    task: CheckTaskModel
    project: ProjectModel
    statistic: defects.Statistic | None = None


def summary(principal: Principal, task_id: str, permission: str) -> Report:
    task = tasks.get(principal, task_id, permission)
    project = tasks.scan_project(task)
    return Report(task, project, defects.tally(project))


def metrics(principal: Principal, project_id: str, task_id: str, permission: str) -> Report:
    tasks.project(principal, project_id, permission)
    task = tasks.get(principal, task_id, permission, project_id=project_id)
    project = tasks.scan_project(task)
    return Report(task, project)
