"""A team's configuration for the ONES face (seed 001): workspace sections and the loader.

Sections: teams, projects, issue_types (and sub issue types), statuses, transitions,
priorities (options of field012), fields (custom, type 1-16) and sprints. Teams and projects
are also identity namespaces (face `ones`; a project's parent is its team), so project
permissions inherit team membership. A request loads its team's catalog with one Query.

The export goes through those namespaces (the `by_face` directory): teams and projects are
namespaces of kind `team` / `project`, and every other section is a Query per team on the
`<kind>#` keys of its catalog.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pynamodb.exceptions import DoesNotExist

from ..core import cursors, ids, workspace
from ..core.errors import BadRequest
from ..core.identity import service as identity
from ..core.workspace import Page, Plan, section, tally
from . import FACE
from .models import CatalogModel

ROLE_NAMES = tuple(identity.ROLES)
ID8 = r"^[A-Za-z0-9]{8}$"
ID16 = r"^[A-Za-z0-9]{16}$"
SPRINT_ID = r"^[A-Za-z0-9]{8,16}$"
CATEGORIES = ("to_do", "in_progress", "done")


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TeamItem(Item):
    uuid: str = Field(pattern=ID8)
    name: str = Field(min_length=1, max_length=256)
    members: dict[str, str] = Field(default_factory=dict)


class ProjectItem(Item):
    uuid: str = Field(pattern=ID16)
    team: str = Field(pattern=ID8)
    name: str = Field(min_length=1, max_length=256)
    members: dict[str, str] = Field(default_factory=dict)


class IssueTypeItem(Item):
    uuid: str = Field(pattern=ID8)
    team: str = Field(pattern=ID8)
    name: str = Field(min_length=1, max_length=256)
    sub_issue_type: bool = False
    default_status: str | None = Field(default=None, pattern=ID8)


class StatusItem(Item):
    uuid: str = Field(pattern=ID8)
    team: str = Field(pattern=ID8)
    name: str = Field(min_length=1, max_length=256)
    category: Literal["to_do", "in_progress", "done"]
    default: bool = False


class TransitionItem(Item):
    uuid: str = Field(pattern=ID8)
    team: str = Field(pattern=ID8)
    name: str = Field(min_length=1, max_length=256)
    start_status: str = Field(pattern=ID8)
    end_status: str = Field(pattern=ID8)
    issue_type: str | None = Field(default=None, pattern=ID8)  # None: every issue type


class PriorityItem(Item):
    uuid: str = Field(pattern=ID8)
    team: str = Field(pattern=ID8)
    value: str = Field(min_length=1, max_length=64)
    default: bool = False


class OptionItem(Item):
    uuid: str = Field(pattern=ID8)
    value: str = Field(min_length=1, max_length=256)


class FieldItem(Item):
    uuid: str = Field(pattern=ID8)
    team: str = Field(pattern=ID8)
    name: str = Field(min_length=1, max_length=256)
    type: int = Field(ge=1, le=16)
    options: list[OptionItem] = Field(default_factory=list)


class SprintItem(Item):
    uuid: str = Field(pattern=SPRINT_ID)
    team: str = Field(pattern=ID8)
    project: str = Field(pattern=ID16)
    name: str = Field(min_length=1, max_length=256)


# ---- the loaded catalog --------------------------------------------------------------------


@dataclass
class Catalog:
    team_uuid: str
    team: dict[str, Any] | None = None
    projects: dict[str, dict] = field(default_factory=dict)
    issue_types: dict[str, dict] = field(default_factory=dict)
    statuses: dict[str, dict] = field(default_factory=dict)
    transitions: dict[str, dict] = field(default_factory=dict)
    priorities: dict[str, dict] = field(default_factory=dict)
    fields: dict[str, dict] = field(default_factory=dict)
    sprints: dict[str, dict] = field(default_factory=dict)

    def category(self, status_uuid: str) -> str:
        return self.statuses[status_uuid]["category"]

    def default_status(self, issue_type_uuid: str) -> str | None:
        """The issue type's default, else the team default, else the first to_do status."""
        issue_type = self.issue_types.get(issue_type_uuid) or {}
        if issue_type.get("default_status") in self.statuses:
            return issue_type["default_status"]
        for uuid in sorted(self.statuses):
            if self.statuses[uuid].get("default"):
                return uuid
        for uuid in sorted(self.statuses):
            if self.statuses[uuid]["category"] == "to_do":
                return uuid
        return None

    def default_priority(self) -> str | None:
        for uuid in sorted(self.priorities):
            if self.priorities[uuid].get("default"):
                return uuid
        return None

    def transitions_from(self, status_uuid: str, issue_type_uuid: str) -> list[dict]:
        return [
            t
            for t in sorted(self.transitions.values(), key=lambda t: t["uuid"])
            if t["start_status"] == status_uuid and t.get("issue_type") in (None, issue_type_uuid)
        ]


def issue_type_scope_uuid(project_uuid: str, issue_type_uuid: str) -> str:
    """ONES's issue type scope is an issue type as set up in one project. Here issue types are
    the team's and every project has them all, so a scope is one (project, issue type) pair and
    its 8-character uuid is derived from the pair: stable, and the same in every answer."""
    return ids.derived_alnum(8, FACE, "issue_type_scope", project_uuid, issue_type_uuid)


KINDS = {
    "project": "projects",
    "issue_type": "issue_types",
    "status": "statuses",
    "transition": "transitions",
    "priority": "priorities",
    "field": "fields",
    "sprint": "sprints",
}


def load(team_uuid: str) -> Catalog | None:
    """One Query for the whole team configuration; None when the team is unknown."""
    catalog = Catalog(team_uuid)
    for item in CatalogModel.query(team_uuid):
        data = json.loads(item.data)
        if item.kind == "team":
            catalog.team = data
        elif item.kind in KINDS:
            getattr(catalog, KINDS[item.kind])[data["uuid"]] = data
    return catalog if catalog.team is not None else None


# ---- workspace sections --------------------------------------------------------------------


def _stored(team_uuid: str, key: str) -> dict | None:
    try:
        return json.loads(CatalogModel.get(team_uuid, key).data)
    except DoesNotExist:
        return None


def _known(plan: Plan, section_name: str, team: str, uuid: str, kind: str) -> bool:
    in_doc = any(
        i.uuid == uuid and getattr(i, "team", uuid) == team for i in plan.get(section_name)
    )
    return in_doc or _stored(team, kind if kind == "team" else f"{kind}#{uuid}") is not None


def _need_team(plan: Plan, sec: str, team: str) -> None:
    if not _known(plan, "teams", team, team, "team"):
        raise BadRequest(f"{sec}: unknown team {team}")


def _check_members(sec: str, owner: str, members: dict[str, str], plan: Plan) -> None:
    for user_uuid, role in members.items():
        if role not in ROLE_NAMES:
            raise BadRequest(f"{sec}: {owner}: unknown role {role}")
        if not plan.user_exists(user_uuid):
            raise BadRequest(f"{sec}: {owner}: unknown user {user_uuid}")


def _unique(sec: str, items: list[Any]) -> None:
    seen: set[str] = set()
    for item in items:
        if item.uuid in seen:
            raise BadRequest(f"{sec}: duplicate uuid {item.uuid}")
        seen.add(item.uuid)


def _upsert(team: str, key: str, kind: str, data: dict) -> str:
    """Returns created / updated / unchanged."""
    before = _stored(team, key)
    if before == data:
        return "unchanged"
    CatalogModel(team_uuid=team, key=key, kind=kind, data=json.dumps(data, sort_keys=True)).save()
    return "created" if before is None else "updated"


def _apply_simple(kind: str, items: list[Item]) -> dict[str, int]:
    counts = tally()
    for item in items:
        data = item.model_dump()
        counts[_upsert(data["team"], f"{kind}#{item.uuid}", kind, data)] += 1
    return counts


# ---- export (each section's items as its apply stores them) -------------------------------


def _namespace_rows(kind: str) -> workspace.Rows:
    def rows(start: Any, limit: int):
        return identity.namespaces_of_face(FACE, limit, start, kind=kind)

    return rows


def _with_members(lookup: Any) -> workspace.Emit:
    """A team or project as stored (`lookup(namespace)`), with its namespace's members; a
    namespace of that kind with no catalog entry (made by the namespaces section) is none."""

    def emit(ns: identity.Namespace, found: list[Any]) -> list[dict[str, Any]]:
        data = lookup(ns)
        return [{**data, "members": dict(found)}] if data is not None else []

    return emit


def _exporter(kind: str) -> workspace.ItemExport:
    """Every team's entries of one kind, a Query per team."""

    def entries(team: identity.Namespace, start: Any, limit: int) -> tuple[list[Any], Any]:
        start = cursors.check_key(start, team.ns_id, "team_uuid", "key")
        if start is not None and not start["key"]["S"].startswith(f"{kind}#"):
            raise BadRequest("cursor is not valid", field="cursor")  # outside the Query's range
        found, more = cursors.page_of(
            CatalogModel.query(
                team.ns_id,
                CatalogModel.key.startswith(f"{kind}#"),
                limit=limit,
                last_evaluated_key=start,
            )
        )
        return [json.loads(item.data) for item in found], more

    def export(page: Page, at: Any) -> Any:
        return workspace.walk(page, at, _namespace_rows("team"), lambda _, found: found, entries)

    return export


def _export_teams(page: Page, at: Any) -> Any:
    emit = _with_members(lambda ns: _stored(ns.ns_id, "team"))
    return workspace.walk(page, at, _namespace_rows("team"), emit, workspace.members)


def _check_teams(items: list[TeamItem], plan: Plan) -> None:
    _unique("teams", items)
    for item in items:
        _check_members("teams", item.uuid, item.members, plan)


@section("teams", TeamItem, order=20, check=_check_teams, export=_export_teams)
def _apply_teams(items: list[TeamItem], plan: Plan) -> dict[str, int]:
    counts = tally()
    for item in items:
        result = _upsert(item.uuid, "team", "team", {"uuid": item.uuid, "name": item.name})
        _, ns_changed = identity.upsert_namespace(FACE, item.uuid, kind="team", name=item.name)
        changed = result != "unchanged" or ns_changed
        for user_uuid, role in item.members.items():
            changed = identity.set_membership(FACE, item.uuid, user_uuid, role) or changed
        counts[result if result != "unchanged" else ("updated" if changed else "unchanged")] += 1
    return counts


def _export_projects(page: Page, at: Any) -> Any:
    emit = _with_members(
        lambda ns: _stored(ns.parent, f"project#{ns.ns_id}") if ns.parent else None
    )
    return workspace.walk(page, at, _namespace_rows("project"), emit, workspace.members)


def _check_projects(items: list[ProjectItem], plan: Plan) -> None:
    _unique("projects", items)
    for item in items:
        _need_team(plan, "projects", item.team)
        _check_members("projects", item.uuid, item.members, plan)


@section("projects", ProjectItem, order=21, check=_check_projects, export=_export_projects)
def _apply_projects(items: list[ProjectItem], plan: Plan) -> dict[str, int]:
    counts = tally()
    for item in items:
        data = {"uuid": item.uuid, "team": item.team, "name": item.name}
        result = _upsert(item.team, f"project#{item.uuid}", "project", data)
        _, ns_changed = identity.upsert_namespace(
            FACE, item.uuid, kind="project", name=item.name, parent=item.team
        )
        changed = result != "unchanged" or ns_changed
        for user_uuid, role in item.members.items():
            changed = identity.set_membership(FACE, item.uuid, user_uuid, role) or changed
        counts[result if result != "unchanged" else ("updated" if changed else "unchanged")] += 1
    return counts


def _check_statuses(items: list[StatusItem], plan: Plan) -> None:
    _unique("statuses", items)
    for item in items:
        _need_team(plan, "statuses", item.team)


@section("statuses", StatusItem, order=22, check=_check_statuses, export=_exporter("status"))
def _apply_statuses(items: list[StatusItem], plan: Plan) -> dict[str, int]:
    return _apply_simple("status", items)


def _check_issue_types(items: list[IssueTypeItem], plan: Plan) -> None:
    _unique("issue_types", items)
    for item in items:
        _need_team(plan, "issue_types", item.team)
        if item.default_status and not _known(
            plan, "statuses", item.team, item.default_status, "status"
        ):
            raise BadRequest(f"issue_types: {item.uuid}: unknown status {item.default_status}")


@section(
    "issue_types", IssueTypeItem, order=23, check=_check_issue_types, export=_exporter("issue_type")
)
def _apply_issue_types(items: list[IssueTypeItem], plan: Plan) -> dict[str, int]:
    return _apply_simple("issue_type", items)


def _check_transitions(items: list[TransitionItem], plan: Plan) -> None:
    _unique("transitions", items)
    for item in items:
        _need_team(plan, "transitions", item.team)
        for status in (item.start_status, item.end_status):
            if not _known(plan, "statuses", item.team, status, "status"):
                raise BadRequest(f"transitions: {item.uuid}: unknown status {status}")
        if item.issue_type and not _known(
            plan, "issue_types", item.team, item.issue_type, "issue_type"
        ):
            raise BadRequest(f"transitions: {item.uuid}: unknown issue type {item.issue_type}")


@section(
    "transitions",
    TransitionItem,
    order=24,
    check=_check_transitions,
    export=_exporter("transition"),
)
def _apply_transitions(items: list[TransitionItem], plan: Plan) -> dict[str, int]:
    return _apply_simple("transition", items)


def _check_priorities(items: list[PriorityItem], plan: Plan) -> None:
    _unique("priorities", items)
    for item in items:
        _need_team(plan, "priorities", item.team)


@section(
    "priorities", PriorityItem, order=25, check=_check_priorities, export=_exporter("priority")
)
def _apply_priorities(items: list[PriorityItem], plan: Plan) -> dict[str, int]:
    return _apply_simple("priority", items)


def _check_fields(items: list[FieldItem], plan: Plan) -> None:
    from .fields import BUILTIN

    _unique("fields", items)
    for item in items:
        _need_team(plan, "fields", item.team)
        if item.uuid in BUILTIN:
            raise BadRequest(f"fields: {item.uuid} is a built-in field")
        if item.type in (1, 16) and not item.options:
            raise BadRequest(f"fields: {item.uuid}: an option field needs options")
        if item.options and item.type not in (1, 16):
            raise BadRequest(f"fields: {item.uuid}: only types 1 and 16 have options")


@section("fields", FieldItem, order=26, check=_check_fields, export=_exporter("field"))
def _apply_fields(items: list[FieldItem], plan: Plan) -> dict[str, int]:
    return _apply_simple("field", items)


def _check_sprints(items: list[SprintItem], plan: Plan) -> None:
    _unique("sprints", items)
    for item in items:
        _need_team(plan, "sprints", item.team)
        if not _known(plan, "projects", item.team, item.project, "project"):
            raise BadRequest(f"sprints: {item.uuid}: unknown project {item.project}")


@section("sprints", SprintItem, order=27, check=_check_sprints, export=_exporter("sprint"))
def _apply_sprints(items: list[SprintItem], plan: Plan) -> dict[str, int]:
    return _apply_simple("sprint", items)


__all__ = ["CATEGORIES", "FACE", "Catalog", "load", "workspace"]
