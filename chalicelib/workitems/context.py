"""One request's view of a team of the ONES face (seed 001): catalog, caller, permissions,
and the bounded reads every use case shares (a task, a batch of tasks, links, children)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist

from ..core.auth import Principal
from ..core.errors import Forbidden, NotFound, TaskhubError
from ..core.identity import service as identity
from . import catalog as catalogs
from . import fields as fieldlib
from .catalog import FACE, Catalog
from .models import TaskLinkModel, TaskModel

UUID_RE = re.compile(r"^[A-Za-z0-9]{16}\Z")
NUMBER_RE = re.compile(r"^[0-9]{1,15}\Z")  # ASCII digits: str.isdigit() also takes "²"
USER_RE = re.compile(r"^[A-Za-z0-9]{8}\Z")

PERMISSIONS = {
    "viewer": ["view_tasks"],
    "member": ["view_tasks", "create_tasks", "update_tasks", "transit_tasks"],
    "admin": ["view_tasks", "create_tasks", "update_tasks", "delete_tasks", "transit_tasks"],
}


@dataclass(frozen=True)
class Failure:
    """One item of a batch (add2, update2/3, tasks/info) that failed, and why."""

    uuid: str
    error: TaskhubError


class Team:
    """One request's view of a team: its catalog, the caller, and cached look-ups."""

    def __init__(self, principal: Principal, team_uuid: str):
        found = catalogs.load(team_uuid) if USER_RE.match(team_uuid or "") else None
        if found is None:
            raise NotFound(f"team {team_uuid} not found")
        self.uuid = team_uuid
        self.catalog: Catalog = found
        self.principal = principal
        self._users: dict[str, bool] = {}

    @property
    def caller(self) -> str:
        return self.principal.uuid

    def can(self, project_uuid: str, permission: str) -> bool:
        return self.principal.can(FACE, project_uuid, permission)

    def require(self, project_uuid: str, permission: str) -> None:
        if not self.can(project_uuid, permission):
            raise Forbidden(f"permission denied: {permission}")

    def user_exists(self, uuid: str) -> bool:
        if uuid not in self._users:
            self._users[uuid] = identity.get_user(uuid) is not None
        return self._users[uuid]

    def lookups(self, project_uuid: str) -> fieldlib.Lookups:
        cat = self.catalog
        options = {f: {o["uuid"] for o in d.get("options", [])} for f, d in cat.fields.items()}
        options["field012"] = set(cat.priorities)
        return fieldlib.Lookups(
            custom=cat.fields,
            options=options,
            sprints={s for s, d in cat.sprints.items() if d["project"] == project_uuid},
            projects=set(cat.projects),
            issue_types=set(cat.issue_types),
            statuses=set(cat.statuses),
            user_exists=self.user_exists,
            task_exists=lambda uuid: self.find(uuid) is not None,
        )

    def find(self, uuid: str) -> TaskModel | None:
        """A task of this team, read consistently; None when absent or of another team."""
        if not isinstance(uuid, str) or not UUID_RE.match(uuid):
            return None
        try:
            task = TaskModel.get(uuid, consistent_read=True)
        except DoesNotExist:
            return None
        return task if task.team_uuid == self.uuid else None

    def visible(self, task_uuid: str, missing: type[NotFound] = NotFound) -> TaskModel:
        task = self.find(task_uuid)
        if task is None:
            raise missing(f"task {task_uuid} not found")
        self.require(task.project_uuid, "view_tasks")
        return task


def batch_get(uuids: Iterable[str]) -> dict[str, TaskModel]:
    wanted = list(dict.fromkeys(uuids))
    found: dict[str, TaskModel] = {}
    for start in range(0, len(wanted), 100):
        for task in TaskModel.batch_get(wanted[start : start + 100]):
            found[task.uuid] = task
    return found


def links_of(task_uuid: str) -> list[TaskLinkModel]:
    return list(TaskLinkModel.query(task_uuid, consistent_read=True))


def children_of(task_uuid: str, team_uuid: str) -> list[str]:
    return [t.uuid for t in TaskModel.by_parent.query(f"{team_uuid}#{task_uuid}")]
