"""`task/:uuid/copy` of the ONES face (seed 001): a new task from another, with the related
content `reserve_contents` names."""

from __future__ import annotations

from ..core import ids
from ..core.auth import Principal
from ..core.errors import BadRequest
from . import relations
from . import validation as v
from .context import Team, batch_get, children_of, links_of
from .creating import create_task
from .models import TaskModel
from .queries import full_view

MAX_COPY_SUBTASKS = 200


def copy_task(principal: Principal, team_uuid: str, task_uuid: str, request: v.Copy) -> dict:
    """A new task from another; `reserve_contents` says which related content comes along."""
    team = Team(principal, team_uuid)
    cat = team.catalog
    source = team.visible(task_uuid)
    if not team.sees_project(request.project_uuid):  # seed 001: 目标 issueType 下 view_tasks
        raise BadRequest(f"project {request.project_uuid} not found")
    if request.issue_type_uuid not in cat.issue_types:
        raise BadRequest(f"issue type {request.issue_type_uuid} not found")
    if request.status_uuid not in cat.statuses:
        raise BadRequest(f"status {request.status_uuid} not found")
    keep = set(request.reserve_contents or [])
    parent = source.parent_uuid if source.project_uuid == request.project_uuid else ""
    is_sub = bool(cat.issue_types[request.issue_type_uuid].get("sub_issue_type"))
    if is_sub and not parent:
        raise BadRequest("a sub issue type needs a parent task in the same project")
    to_relate = _relations_to_copy(team, source) if "relatedTask" in keep else {}
    copy = _copy_of(team, source, request.project_uuid, keep, parent=parent or "")
    copy.issue_type_uuid = request.issue_type_uuid
    copy.sub_issue_type_uuid = request.issue_type_uuid if is_sub else ""
    copy.status_uuid = request.status_uuid
    copy.status_category = cat.category(request.status_uuid)
    create_task(team, copy, action="copy")
    if "subTask" in keep and source.subtask_total:
        budget = [MAX_COPY_SUBTASKS]
        _copy_children(team, source, copy, keep, budget)
    for (desc, link_type), uuids in sorted(to_relate.items()):
        for start in range(0, len(uuids), 20):
            link = v.Relate(
                task_uuids=uuids[start : start + 20],
                task_link_type_uuid=link_type,
                link_desc_type=desc,
            )
            relations.add_relations(team, copy.uuid, link, "view_tasks")
    return {"task": full_view(team, team.find(copy.uuid) or copy)}


def _relations_to_copy(team: Team, source: TaskModel) -> dict[tuple[str, str], list[str]]:
    """What the source relates to (that the caller may see), by direction and link type;
    checked before the copy is written, so a task with no room left refuses the copy."""
    links = links_of(source.uuid) if source.related_total else []
    others = batch_get(link.other_uuid for link in links)
    groups: dict[tuple[str, str], list[str]] = {}
    for link in links:
        other = others.get(link.other_uuid)
        if other is not None and team.can(other.project_uuid, "view_tasks"):
            if int(other.related_total) >= relations.MAX_LINKS:
                raise BadRequest(
                    f"task {other.uuid} already has {relations.MAX_LINKS} related tasks"
                )
            key = (link.link_desc_type, link.task_link_type_uuid)
            groups.setdefault(key, []).append(other.uuid)
    return groups


def _copy_of(team: Team, source: TaskModel, project: str, keep: set[str], parent: str) -> TaskModel:
    same_project = source.project_uuid == project
    return TaskModel(
        uuid=team.caller + ids.random_alnum(8),
        team_uuid=team.uuid,
        owner=team.caller,
        assign=source.assign,
        project_uuid=project,
        issue_type_uuid=source.issue_type_uuid,
        sub_issue_type_uuid=source.sub_issue_type_uuid or "",
        status_uuid=source.status_uuid,
        status_category=source.status_category,
        sprint_uuid=source.sprint_uuid if same_project else None,
        summary=source.summary,
        desc=source.desc or "",
        desc_rich=source.desc_rich or "",
        parent_uuid=parent,
        priority=source.priority,
        deadline=source.deadline if "cycle" in keep else None,
        assess_manhour=source.assess_manhour if "allManhour" in keep else None,
        watchers=list(dict.fromkeys([*(source.watchers or []), team.caller]))
        if "watcher" in keep
        else [team.caller],
        product_uuids=source.product_uuids,
        custom_values=source.custom_values or "{}",
    )


def _copy_children(
    team: Team, source: TaskModel, copy: TaskModel, keep: set[str], budget: list[int]
) -> None:
    children = batch_get(children_of(source.uuid, team.uuid))
    for child in sorted(children.values(), key=lambda t: t.number):
        if budget[0] <= 0:
            return
        budget[0] -= 1
        new = _copy_of(team, child, copy.project_uuid, keep, parent=copy.uuid)
        create_task(team, new, action="copy")
        if child.subtask_total:
            _copy_children(team, child, new, keep, budget)
