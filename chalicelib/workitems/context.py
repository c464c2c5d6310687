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


@dataclass(frozen=True)
class Failure:
    """One item of a batch (add2, update2/3, tasks/info) that failed, and why."""

    uuid: str
    error: TaskhubError


class Team:
    """One request's view of a team: its catalog, the caller, and cached look-ups.

    What the caller may not view does not exist for them: a caller with no role in the team
    (or asking about a team that does not exist) is refused before any task is read, and
    a task or project the caller cannot view is answered exactly as a missing one, so no
    answer tells whether it exists.
    """

    def __init__(self, principal: Principal, team_uuid: str):
        found = catalogs.load(team_uuid) if USER_RE.match(team_uuid or "") else None
        admin = principal.user.is_admin
        if found is None and admin:
            raise NotFound(f"team {team_uuid} not found")
        if found is not None and not admin:
            principal.resolve_roles(FACE, team_uuid, found.projects)
        if found is None or not (admin or self._member(principal, found)):
            raise Forbidden(f"not a member of team {team_uuid}")
        self.uuid = team_uuid
        self.catalog: Catalog = found
        self.principal = principal
        self._users: dict[str, bool] = {}

    @staticmethod
    def _member(principal: Principal, catalog: Catalog) -> bool:
        """A role in the team itself or in one of its projects (roles are known by now)."""
        spaces = [catalog.team_uuid, *catalog.projects]
        return any(principal.role(FACE, ns_id) is not None for ns_id in spaces)

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
            projects=self.projects(),
            issue_types=set(cat.issue_types),
            statuses=set(cat.statuses),
            user_exists=self.user_exists,
            task_exists=lambda uuid: self.viewable(uuid) is not None,
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

    def projects(self) -> set[str]:
        """The team's projects the caller may view."""
        return {p for p in self.catalog.projects if self.can(p, "view_tasks")}

    def sees_project(self, project_uuid: str) -> bool:
        return project_uuid in self.catalog.projects and self.can(project_uuid, "view_tasks")

    def viewable(self, uuid: str) -> TaskModel | None:
        """A task of this team the caller may view; None when it is not, as when it is absent."""
        task = self.find(uuid)
        return task if task is not None and self.can(task.project_uuid, "view_tasks") else None

    def visible(self, task_uuid: str, missing: type[NotFound] = NotFound) -> TaskModel:
        """The task the route names, or `missing` (not found and not viewable alike)."""
        task = self.viewable(task_uuid)
        if task is None:
            raise missing(f"task {task_uuid} not found")
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
