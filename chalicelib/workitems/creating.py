"""add2 of the ONES face (seed 001): validate each task, then write it with its per-team
`number` in one TransactWrite.

The number is taken first, outside the transaction, from the team's sequence (see
numbers.py: dense, distinct, never reused, with no item that every create writes); the
transaction puts the number -> uuid item (conditional on the number being free) with the
task, so a retried transaction keeps its number, and a create that cannot be written gives
its number back.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.auth import Principal
from ..core.errors import BadRequest, NotFound, TaskhubError
from ..core.validation import validate
from . import fields as fieldlib
from . import numbers
from . import validation as v
from .changes import Change, next_stamp, retry
from .context import USER_RE, UUID_RE, Failure, Team
from .errors import BadTaskUuid, TaskExists, TaskMissing
from .models import TaskModel, TaskNumberModel, TeamCounterModel
from .rules import check_size, checked_assign, checked_summary, text_of
from .views import task_attrs, view


def _creator_check(uuid: Any, creator: str) -> str:
    if not isinstance(uuid, str) or not UUID_RE.match(uuid):
        raise BadTaskUuid("uuid must be 16 letters or digits")
    if not uuid.startswith(creator):
        raise BadTaskUuid(f"uuid must start with its creator's uuid {creator}")
    return uuid


def _prepare(team: Team, raw: Any) -> TaskModel:
    """Validate one add2 item into an unsaved task (without number, stamps and path)."""
    if not isinstance(raw, dict):
        raise BadRequest("each task must be an object")
    owner = raw.get("owner") if isinstance(raw.get("owner"), str) and raw.get("owner") else None
    _creator_check(raw.get("uuid"), owner or team.caller)
    item: v.TaskCreate = validate(v.TaskCreate, raw)
    cat = team.catalog
    owner = item.owner or team.caller
    if not USER_RE.match(owner) or not team.user_exists(owner):
        raise BadRequest(f"owner {owner} is not a user")
    if not team.sees_project(item.project_uuid):
        raise NotFound(f"project {item.project_uuid} not found")
    team.require(item.project_uuid, "create_tasks")
    look = team.lookups(item.project_uuid)
    builtin, custom = fieldlib.split_field_values(item.field_values, look, creating=True)

    def pick(attr: str, top: Any) -> Any:
        return builtin.get(attr, top)

    if pick("project_uuid", item.project_uuid) != item.project_uuid:
        raise BadRequest("field006 (project) must match project_uuid")

    summary = checked_summary(pick("summary", item.summary))
    assign = checked_assign(team, pick("assign", item.assign))
    issue_type = pick("issue_type_uuid", item.issue_type_uuid) or ""
    sub_type = item.sub_issue_type_uuid or ""
    if issue_type and issue_type not in cat.issue_types:
        raise BadRequest(f"issue type {issue_type} not found")
    if sub_type:
        if not cat.issue_types.get(sub_type, {}).get("sub_issue_type"):
            raise BadRequest(f"sub issue type {sub_type} not found")
        issue_type = issue_type or sub_type
    elif issue_type and cat.issue_types[issue_type].get("sub_issue_type"):
        sub_type = issue_type
    if not issue_type:
        raise BadRequest("issue_type_uuid is required")
    parent_uuid = pick("parent_uuid", item.parent_uuid) or ""
    if sub_type and not parent_uuid:
        raise BadRequest("a subtask needs parent_uuid")
    sprint = pick("sprint_uuid", item.sprint_uuid) or None
    if sprint and sprint not in look.sprints:
        raise BadRequest(f"sprint {sprint} is not a sprint of project {item.project_uuid}")
    priority = pick("priority", item.priority) or cat.default_priority()
    if priority and priority not in cat.priorities:
        raise BadRequest(f"priority {priority} is not a priority option")
    status = cat.default_status(issue_type)
    if status is None:
        raise BadRequest("the team has no statuses")
    watchers = list(dict.fromkeys([*(item.watchers or []), owner]))
    for watcher in watchers:
        if not USER_RE.match(watcher) or not team.user_exists(watcher):
            raise BadRequest(f"watcher {watcher} is not a user")
    for product in item.product_uuids or []:
        if not USER_RE.match(product):
            raise BadRequest("product_uuids must be 8-character uuids")
    desc_rich = pick("desc_rich", item.desc_rich) or ""
    desc = item.desc if item.desc is not None else text_of(desc_rich)
    deadline = pick("deadline", item.deadline)
    task = TaskModel(
        uuid=item.uuid,
        team_uuid=team.uuid,
        owner=owner,
        assign=assign,
        project_uuid=item.project_uuid,
        issue_type_uuid=issue_type,
        sub_issue_type_uuid=sub_type,
        status_uuid=status,
        status_category=cat.category(status),
        sprint_uuid=sprint,
        summary=summary,
        desc=desc,
        desc_rich=desc_rich,
        parent_uuid=parent_uuid,
        priority=priority,
        deadline=deadline,
        assess_manhour=item.assess_manhour,
        watchers=watchers,
        product_uuids=item.product_uuids,
        custom_values=json.dumps(custom, ensure_ascii=False),
    )
    check_size(task)
    return task


def create_task(team: Team, task: TaskModel, action: str = "create") -> TaskModel:
    """Write a prepared task: number, path, stats and parent counters in one transaction."""
    held: list[numbers.Claim] = []  # the number this create holds, once it has one

    def step(attempt: int) -> bool:
        if TaskModel.count(task.uuid, consistent_read=True):
            raise TaskExists(f"task {task.uuid} already exists")
        parent = None
        if task.parent_uuid:
            parent = team.viewable(task.parent_uuid)
            if parent is None:
                raise TaskMissing(f"parent task {task.parent_uuid} not found")
            if parent.project_uuid != task.project_uuid:
                raise BadRequest("a subtask must be in its parent's project")
        if not held:
            held.append(numbers.claim(team.uuid))
        claim = held[0]
        stamp = next_stamp()
        task.number = claim.number
        task.create_time = task.update_time = task.server_update_stamp = stamp
        task.path = f"{parent.path}-{task.uuid}" if parent else task.uuid
        task.position = 0
        task.subtask_total = task.subtask_done = task.related_total = task.related_done = 0
        index_keys(task)
        change = Change(team.uuid, stamp)
        change.puts.append((task, TaskModel.uuid.does_not_exist()))
        change.puts.append(
            (
                TaskNumberModel(
                    team_uuid=numbers.map_key(team.uuid, claim.number),
                    number=claim.number,
                    task_uuid=task.uuid,
                ),
                TaskNumberModel.number.does_not_exist(),
            )
        )
        if claim.spare:
            change.deletes.append(
                (numbers.spare_item(team.uuid, claim.number), TeamCounterModel.name.exists())
            )
        change.count(task, +1)
        if parent is not None:
            change.add(
                parent.uuid,
                TaskModel.path == parent.path,
                subtask_total=1,
                subtask_done=int(task.status_category == "done"),
            )
        change.activity(task.uuid, team.caller, action, created_changes(task))
        if change.commit():
            held.clear()
            return True
        if numbers.taken(team.uuid, claim.number):  # a stale spare, or a number held elsewhere
            if claim.spare:
                numbers.spare_item(team.uuid, claim.number).delete()
            held.clear()
        elif claim.spare:  # another create took the spare: claim again
            held.clear()
        return False

    try:
        retry(step, f"create {task.uuid}")
    finally:
        if held:  # not written: the number goes to the next create
            numbers.give_back(held[0])
    return task


def created_changes(task: TaskModel) -> list[dict]:
    attrs = task_attrs(task)
    keep = ("summary", "assign", "project_uuid", "issue_type_uuid", "status_uuid", "sprint_uuid")
    return [{"field": k, "old": None, "new": attrs[k]} for k in keep if attrs.get(k)]


def index_keys(task: TaskModel) -> None:
    team = task.team_uuid
    task.team_key = team
    task.project_key = f"{team}#{task.project_uuid}"
    task.category_key = f"{team}#{task.status_category}"
    task.assign_key = f"{team}#{task.assign}"
    task.sprint_key = f"{team}#{task.sprint_uuid}" if task.sprint_uuid else None
    task.parent_key = f"{team}#{task.parent_uuid}" if task.parent_uuid else None


def add_tasks(
    principal: Principal, team_uuid: str, items: list[Any]
) -> tuple[list[dict], list[Failure]]:
    """add2: every good task is created (its view is returned); every bad one is a Failure."""
    team = Team(principal, team_uuid)
    created: list[dict] = []
    bad: list[Failure] = []
    seen: set[str] = set()
    for raw in items:
        uuid = raw.get("uuid") if isinstance(raw, dict) else None
        uuid = uuid if isinstance(uuid, str) else ""
        try:
            if uuid in seen:
                raise TaskExists(f"task {uuid} appears twice in this request")
            task = _prepare(team, raw)
            seen.add(uuid)
            created.append(view(create_task(team, task)))
        except TaskhubError as exc:
            bad.append(Failure(uuid, exc))
    return created, bad
