"""Work items of the ONES face (seed 001, ONES legacy task API): the domain logic.

Every change of a task is one TransactWrite holding the task, its stats counters
(`project#<uuid>` / `sprint#<uuid>` to_do/in_progress/done), the counters of its parent
(subtask_count) and related tasks (related_task_count), and its activity record. The task's
`server_update_stamp` is its version: each write is conditional on the stamp it read, so a
concurrent writer makes the transaction fail and the change is re-read and re-applied (or,
when the client sent a `server_update_stamp`, answered with 820). Per-team `number` is a
counter item set in the same transaction, conditional on its previous value: numbers are
dense and never reused. Nothing here scans a table.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError
from pynamodb.exceptions import DoesNotExist

from ..core import cursors, ids
from ..core.auth import Principal
from ..core.errors import BadRequest, Conflict, Forbidden, NotFound, TaskhubError
from ..core.face import describe_validation
from ..core.identity import service as identity
from . import catalog as catalogs
from . import fields as fieldlib
from . import validation as v
from .catalog import FACE, Catalog
from .changes import STALE, Change, next_stamp, retry
from .models import (
    ActivityModel,
    TaskLinkModel,
    TaskModel,
    TaskNumberModel,
    TeamCounterModel,
)
from .views import brief, custom_values, task_attrs, view

# ONES codes (reference: ones.md)
NOT_FOUND_TO_MODIFY = 603
BAD_UUID = 607
DUPLICATE = 608
TASK_NOT_FOUND = 610
BAD_FIELD_VALUE = 611
INVALID = 801
SELF_RELATED = 821

MAX_LINKS = 80  # a transit fans out to every related task within one transaction
MAX_COPY_SUBTASKS = 200
MAX_MOVE = 80  # subtasks re-pathed in the transaction that moves their ancestor
UUID_RE = re.compile(r"^[A-Za-z0-9]{16}\Z")
NUMBER_RE = re.compile(r"^[0-9]{1,15}\Z")  # ASCII digits: str.isdigit() also takes "²"
USER_RE = re.compile(r"^[A-Za-z0-9]{8}\Z")
TAG_RE = re.compile(r"<[^>]*>")
MAX_TEXT_BYTES = 300_000  # desc + desc_rich + custom values, UTF-8; a DynamoDB item is <= 400 KB

PERMISSIONS = {
    "viewer": ["view_tasks"],
    "member": ["view_tasks", "create_tasks", "update_tasks", "transit_tasks"],
    "admin": ["view_tasks", "create_tasks", "update_tasks", "delete_tasks", "transit_tasks"],
}


def invalid(message: str, code: int = INVALID) -> BadRequest:
    return BadRequest(message, code=code)


def code_of(exc: TaskhubError) -> int:
    """The ONES code of a per-task failure (bad_tasks / errors)."""
    if exc.code:
        return exc.code
    return {400: INVALID, 401: 401, 403: 403, 404: 404, 409: DUPLICATE}.get(exc.status, 500)


def parse(model: type[BaseModel], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(describe_validation(exc)) from exc


def check_size(task: TaskModel) -> None:
    """65536 characters of CJK text in both descriptions would not fit one item."""
    size = sum(
        len((text or "").encode("utf-8"))
        for text in (task.desc, task.desc_rich, task.custom_values, task.summary)
    )
    if size > MAX_TEXT_BYTES:
        raise invalid(f"desc, desc_rich and field values together exceed {MAX_TEXT_BYTES} bytes")


def text_of(rich: str) -> str:
    """`desc` derived from `desc_rich` when only the rich text is sent."""
    return html.unescape(TAG_RE.sub("", rich)).replace("\xa0", " ").strip()


# ---- request context -----------------------------------------------------------------------


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
            raise Forbidden(f"permission denied: {permission}", code=403)

    def user_exists(self, uuid: str) -> bool:
        if uuid not in self._users:
            self._users[uuid] = identity.get_user(uuid) is not None
        return self._users[uuid]

    def lookups(self, project_uuid: str) -> fieldlib.Lookups:
        cat = self.catalog
        options = {f: {o["uuid"] for o in d.get("options", [])} for f, d in cat.fields.items()}
        options["field012"] = set(cat.priorities)
        return fieldlib.Lookups(
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


def full_view(team: Team, task: TaskModel) -> dict[str, Any]:
    """Task with related tasks, links and subtasks: a few reads bounded by that task alone."""
    links = links_of(task.uuid) if task.related_total else []
    child_ids = children_of(task.uuid, team.uuid) if task.subtask_total else []
    others = batch_get([link.other_uuid for link in links] + child_ids)
    related = [
        brief(others[link.other_uuid], team.can(others[link.other_uuid].project_uuid, "view_tasks"))
        for link in links
        if link.other_uuid in others
    ]
    subtasks = [brief(others[c]) for c in child_ids if c in others]
    subtasks.sort(key=lambda t: t["number"])
    link_view = [
        {
            "task_uuid": link.other_uuid,
            "task_link_type_uuid": link.task_link_type_uuid,
            "link_desc_type": link.link_desc_type,
        }
        for link in links
    ]
    return view(task, related=related, links=link_view, subtasks=subtasks)


# ---- login ---------------------------------------------------------------------------------


def login(email: str, password: str) -> dict[str, Any]:
    user = identity.check_password(email, password)
    token, _ = identity.issue_token(user.uuid, name="ones-login")
    teams = []
    for ns_id in identity.namespaces_of(user.uuid, FACE):
        ns = identity.get_namespace(FACE, ns_id)
        if ns is not None and ns.kind == "team":
            teams.append({"uuid": ns.ns_id, "name": ns.name})
    return {
        "user": {
            "uuid": user.uuid,
            "email": user.email,
            "name": user.name,
            "token": token,
            "status": 1,
        },
        "teams": teams,
    }


# ---- create --------------------------------------------------------------------------------


def _field_values(
    raw: Any, team: Team, look: fieldlib.Lookups, creating: bool
) -> tuple[dict[str, Any], dict[str, dict]]:
    """`field_values` split into built-in attributes and custom values; 611 / 801 on error."""
    try:
        return fieldlib.split_field_values(raw, team.catalog.fields, look, creating=creating)
    except fieldlib.FieldValueError as exc:
        raise invalid(str(exc), exc.code) from exc


def _checked_summary(summary: Any) -> str:
    """The summary may come through field001 too, so its rules are checked after the merge."""
    if not summary or not summary.strip():
        raise invalid("summary cannot be empty")
    if len(summary) > v.MAX_SUMMARY:
        raise invalid(f"summary must be at most {v.MAX_SUMMARY} characters")
    return summary


def _checked_assign(team: Team, assign: Any) -> str:
    if not assign or not USER_RE.match(assign) or not team.user_exists(assign):
        raise invalid("assign must be the uuid of a user")
    return assign


def _creator_check(uuid: Any, creator: str) -> str:
    if not isinstance(uuid, str) or not UUID_RE.match(uuid):
        raise invalid("uuid must be 16 letters or digits", BAD_UUID)
    if not uuid.startswith(creator):
        raise invalid(f"uuid must start with its creator's uuid {creator}", BAD_UUID)
    return uuid


def _prepare(team: Team, raw: Any) -> TaskModel:
    """Validate one add2 item into an unsaved task (without number, stamps and path)."""
    if not isinstance(raw, dict):
        raise invalid("each task must be an object")
    owner = raw.get("owner") if isinstance(raw.get("owner"), str) and raw.get("owner") else None
    _creator_check(raw.get("uuid"), owner or team.caller)
    item: v.TaskCreate = parse(v.TaskCreate, raw)
    cat = team.catalog
    owner = item.owner or team.caller
    if not USER_RE.match(owner) or not team.user_exists(owner):
        raise invalid(f"owner {owner} is not a user")
    if item.project_uuid not in cat.projects:
        raise NotFound(f"project {item.project_uuid} not found", code=404)
    team.require(item.project_uuid, "create_tasks")
    look = team.lookups(item.project_uuid)
    builtin, custom = _field_values(item.field_values, team, look, creating=True)

    def pick(attr: str, top: Any) -> Any:
        return builtin.get(attr, top)

    if pick("project_uuid", item.project_uuid) != item.project_uuid:
        raise invalid("field006 (project) must match project_uuid")

    summary = _checked_summary(pick("summary", item.summary))
    assign = _checked_assign(team, pick("assign", item.assign))
    issue_type = pick("issue_type_uuid", item.issue_type_uuid) or ""
    sub_type = item.sub_issue_type_uuid or ""
    if issue_type and issue_type not in cat.issue_types:
        raise invalid(f"issue type {issue_type} not found")
    if sub_type:
        if not cat.issue_types.get(sub_type, {}).get("sub_issue_type"):
            raise invalid(f"sub issue type {sub_type} not found")
        issue_type = issue_type or sub_type
    elif issue_type and cat.issue_types[issue_type].get("sub_issue_type"):
        sub_type = issue_type
    if not issue_type:
        raise invalid("issue_type_uuid is required")
    parent_uuid = pick("parent_uuid", item.parent_uuid) or ""
    if sub_type and not parent_uuid:
        raise invalid("a subtask needs parent_uuid")
    sprint = pick("sprint_uuid", item.sprint_uuid) or None
    if sprint and sprint not in look.sprints:
        raise invalid(f"sprint {sprint} is not a sprint of project {item.project_uuid}")
    priority = pick("priority", item.priority) or cat.default_priority()
    if priority and priority not in cat.priorities:
        raise invalid(f"priority {priority} is not a priority option")
    status = cat.default_status(issue_type)
    if status is None:
        raise invalid("the team has no statuses")
    watchers = list(dict.fromkeys([*(item.watchers or []), owner]))
    for watcher in watchers:
        if not USER_RE.match(watcher) or not team.user_exists(watcher):
            raise invalid(f"watcher {watcher} is not a user")
    for product in item.product_uuids or []:
        if not USER_RE.match(product):
            raise invalid("product_uuids must be 8-character uuids")
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


def _current_number(team_uuid: str) -> int:
    try:
        return int(TeamCounterModel.get(team_uuid, "number", consistent_read=True).value)
    except DoesNotExist:
        return 0


def _create(team: Team, task: TaskModel, action: str = "create") -> TaskModel:
    """Write a prepared task: number, path, stats and parent counters in one transaction."""

    def step(attempt: int) -> bool:
        if TaskModel.count(task.uuid, consistent_read=True):
            raise Conflict(f"task {task.uuid} already exists", code=DUPLICATE)
        parent = None
        if task.parent_uuid:
            parent = team.find(task.parent_uuid)
            if parent is None:
                raise NotFound(f"parent task {task.parent_uuid} not found", code=TASK_NOT_FOUND)
            if parent.project_uuid != task.project_uuid:
                raise invalid("a subtask must be in its parent's project")
        number = _current_number(team.uuid) + 1
        stamp = next_stamp()
        task.number = number
        task.create_time = task.update_time = task.server_update_stamp = stamp
        task.path = f"{parent.path}-{task.uuid}" if parent else task.uuid
        task.position = 0
        task.subtask_total = task.subtask_done = task.related_total = task.related_done = 0
        index_keys(task)
        change = Change(team.uuid, stamp)
        change.puts.append((task, TaskModel.uuid.does_not_exist()))
        change.puts.append(
            (
                TaskNumberModel(team_uuid=team.uuid, number=number, task_uuid=task.uuid),
                TaskNumberModel.number.does_not_exist(),
            )
        )
        counter = TeamCounterModel(team.uuid, "number")
        change.counter_updates.append(
            (
                counter,
                [TeamCounterModel.value.set(number), TeamCounterModel.stamp.set(stamp)],
                TeamCounterModel.value == number - 1
                if number > 1
                else TeamCounterModel.value.does_not_exist(),
            )
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
        return change.commit()

    retry(step, f"create {task.uuid}")
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


def add_tasks(principal: Principal, team_uuid: str, items: list[Any]) -> dict[str, Any]:
    """add2: every good task is created; every bad one is reported with its code."""
    team = Team(principal, team_uuid)
    created: list[dict] = []
    bad: list[dict] = []
    seen: set[str] = set()
    for raw in items:
        uuid = raw.get("uuid") if isinstance(raw, dict) else None
        uuid = uuid if isinstance(uuid, str) else ""
        try:
            if uuid in seen:
                raise Conflict(f"task {uuid} appears twice in this request", code=DUPLICATE)
            task = _prepare(team, raw)
            seen.add(uuid)
            created.append(view(_create(team, task)))
        except TaskhubError as exc:
            bad.append({"uuid": uuid, "code": code_of(exc), "desc": exc.message})
    return {"tasks": created, "bad_tasks": bad}


# ---- update --------------------------------------------------------------------------------


def _status_change(change: Change, team: Team, task: TaskModel, new_status: str) -> dict:
    """Done counts of the parent and related tasks that follow a status change (the caller
    moves the stats with `Change.recount`)."""
    old_cat, new_cat = task.status_category, team.catalog.category(new_status)
    attrs = {"status_uuid": new_status}
    if old_cat == new_cat:
        return attrs
    attrs["status_category"] = new_cat
    attrs["category_key"] = f"{team.uuid}#{new_cat}"
    done_delta = int(new_cat == "done") - int(old_cat == "done")
    if done_delta:
        if task.parent_uuid:
            change.add(task.parent_uuid, subtask_done=done_delta)
        if task.related_total:
            for link in links_of(task.uuid):
                change.add(link.other_uuid, related_done=done_delta)
    return attrs


def _allowed_transition(team: Team, task: TaskModel, end_status: str) -> bool:
    return any(
        t["end_status"] == end_status
        for t in team.catalog.transitions_from(task.status_uuid, task.issue_type_uuid)
    )


def _update_one(team: Team, raw: Any) -> None:
    if not isinstance(raw, dict):
        raise invalid("each task must be an object")
    item: v.TaskUpdate = parse(v.TaskUpdate, raw)
    sent = set(raw)

    def step(attempt: int) -> bool:
        task = team.find(item.uuid)
        if task is None:
            raise NotFound(f"task {item.uuid} not found", code=NOT_FOUND_TO_MODIFY)
        team.require(task.project_uuid, "update_tasks")
        if item.server_update_stamp is not None and item.server_update_stamp != int(
            task.server_update_stamp
        ):
            raise Conflict("server_update_stamp is stale", code=STALE)
        change = Change(team.uuid, next_stamp(int(task.server_update_stamp)))
        attrs, changes = _planned_update(team, task, item, sent, change)
        if not changes:
            return True
        check_size(
            TaskModel(
                **{
                    k: attrs.get(k, getattr(task, k))
                    for k in ("desc", "desc_rich", "custom_values", "summary")
                }
            )
        )
        attrs.update(update_time=change.stamp, server_update_stamp=change.stamp)
        change.set(task.uuid, attrs, TaskModel.server_update_stamp == task.server_update_stamp)
        change.activity(task.uuid, team.caller, "update", changes)
        return change.commit()

    retry(step, f"update {item.uuid}")


def _planned_update(
    team: Team, task: TaskModel, item: v.TaskUpdate, sent: set[str], change: Change
) -> tuple[dict[str, Any], list[dict]]:
    """The attributes to set and the activity of one update; adds counters to `change`."""
    cat = team.catalog
    look = team.lookups(task.project_uuid)
    builtin, custom = _field_values(item.field_values, team, look, creating=False)
    settable = ("assign", "parent_uuid", "sprint_uuid", "summary", "desc", "desc_rich")
    wanted = {a: getattr(item, a) for a in (*settable, "priority", "deadline") if a in sent}
    wanted.update(builtin)
    before = task_attrs(task)
    before["desc"] = task.desc or ""
    before["status_uuid"] = task.status_uuid
    attrs: dict[str, Any] = {}
    if "summary" in wanted:
        attrs["summary"] = _checked_summary(wanted["summary"])
    if "assign" in wanted:
        attrs["assign"] = _checked_assign(team, wanted["assign"])
        attrs["assign_key"] = f"{team.uuid}#{attrs['assign']}"
    if "desc_rich" in wanted:
        attrs["desc_rich"] = wanted["desc_rich"] or ""
        if "desc" not in wanted:
            attrs["desc"] = text_of(attrs["desc_rich"])
    if "desc" in wanted:
        attrs["desc"] = wanted["desc"] or ""
    if "priority" in wanted:
        priority = wanted["priority"] or None
        if priority and priority not in cat.priorities:
            raise invalid(f"priority {priority} is not a priority option")
        attrs["priority"] = priority
    if "deadline" in wanted:
        attrs["deadline"] = wanted["deadline"]
    new_sprint = task.sprint_uuid
    if "sprint_uuid" in wanted:
        new_sprint = wanted["sprint_uuid"] or None
        if new_sprint and new_sprint not in look.sprints:
            raise invalid(f"sprint {new_sprint} is not a sprint of project {task.project_uuid}")
    if "parent_uuid" in wanted and (wanted["parent_uuid"] or "") != (task.parent_uuid or ""):
        attrs.update(_reparent(change, team, task, wanted["parent_uuid"] or ""))
    if new_sprint != task.sprint_uuid:
        attrs["sprint_uuid"] = new_sprint
        attrs["sprint_key"] = f"{team.uuid}#{new_sprint}" if new_sprint else None
    if "status_uuid" in wanted and wanted["status_uuid"] != task.status_uuid:
        new_status = wanted["status_uuid"]
        if "parent_uuid" in attrs:
            raise invalid("change the parent and the status in separate updates")
        if new_status is None:
            raise invalid("field005 (status) cannot be empty", BAD_FIELD_VALUE)
        team.require(task.project_uuid, "transit_tasks")
        if not _allowed_transition(team, task, new_status):
            raise invalid(f"no transition from {task.status_uuid} to {new_status}")
        attrs.update(_status_change(change, team, task, new_status))
    change.recount(task, new_sprint, attrs.get("status_category", task.status_category))
    values = custom_values(task)
    new_values = dict(values)
    for field_uuid, entry in custom.items():
        if entry["value"] is None:
            new_values.pop(field_uuid, None)
        else:
            new_values[field_uuid] = entry
    changes = []
    for attr, value in attrs.items():
        if attr in before and before[attr] != value:
            changes.append({"field": attr, "old": before[attr], "new": value})
    for field_uuid in sorted(set(values) | set(new_values)):
        old, new = values.get(field_uuid), new_values.get(field_uuid)
        if old != new:
            changes.append(
                {
                    "field": field_uuid,
                    "old": old and old["value"],
                    "new": new and new["value"],
                }
            )
    if new_values != values:
        attrs["custom_values"] = json.dumps(new_values, ensure_ascii=False)
    attrs = {k: val for k, val in attrs.items() if k not in before or before[k] != val}
    return attrs, changes


def _subtree(team: Team, task: TaskModel) -> list[TaskModel]:
    """Every descendant of a task, checked against the subtask counters (the parent index
    may lag behind the table)."""
    found: list[TaskModel] = []
    level = [task]
    while level:
        ids_below = [c for t in level if t.subtask_total for c in children_of(t.uuid, team.uuid)]
        level = list(batch_get(ids_below).values())
        found.extend(level)
        if len(found) > MAX_MOVE:
            raise invalid(f"a task with more than {MAX_MOVE} subtasks cannot change its parent")
    if sum(int(t.subtask_total) for t in [task, *found]) != len(found):
        raise Conflict("subtasks are changing; try again", code=STALE)
    return found


def _reparent(change: Change, team: Team, task: TaskModel, parent_uuid: str) -> dict[str, Any]:
    """Move a task (and its subtree's paths) under another parent, or to the top."""
    done = int(task.status_category == "done")
    if parent_uuid == task.uuid:
        raise invalid("a task cannot be its own parent")
    attrs: dict[str, Any] = {"parent_uuid": parent_uuid}
    if task.parent_uuid:
        change.add(task.parent_uuid, subtask_total=-1, subtask_done=-done)
    if parent_uuid:
        parent = team.find(parent_uuid)
        if parent is None:
            raise NotFound(f"parent task {parent_uuid} not found", code=TASK_NOT_FOUND)
        if parent.project_uuid != task.project_uuid:
            raise invalid("a subtask must be in its parent's project")
        if task.uuid in parent.path.split("-"):
            raise invalid("a task cannot be moved under its own subtask")
        change.add(parent.uuid, TaskModel.path == parent.path, subtask_total=1, subtask_done=done)
        attrs.update(path=f"{parent.path}-{task.uuid}", parent_key=f"{team.uuid}#{parent_uuid}")
    else:
        attrs.update(path=task.uuid, parent_key=None)
    if task.subtask_total:
        # the whole subtree moves in the same transaction; a subtask added meanwhile fails it
        change.require(task.uuid, TaskModel.subtask_total == task.subtask_total)
        for below in _subtree(team, task):
            change.set(
                below.uuid,
                {"path": attrs["path"] + below.path[len(task.path) :]},
                (TaskModel.path == below.path) & (TaskModel.subtask_total == below.subtask_total),
            )
    return attrs


def update_tasks(principal: Principal, team_uuid: str, items: list[Any]) -> dict[str, Any]:
    """update2 / update3: partial updates; every failure is one bad_tasks entry."""
    team = Team(principal, team_uuid)
    bad: list[dict] = []
    for raw in items:
        uuid = raw.get("uuid") if isinstance(raw, dict) else None
        try:
            _update_one(team, raw)
        except TaskhubError as exc:
            bad.append(
                {
                    "uuid": uuid if isinstance(uuid, str) else "",
                    "code": code_of(exc),
                    "desc": exc.message,
                }
            )
    return {"bad_tasks": bad}


# ---- transitions ---------------------------------------------------------------------------


def _visible(team: Team, task_uuid: str, missing_code: int = 404) -> TaskModel:
    task = team.find(task_uuid)
    if task is None:
        raise NotFound(f"task {task_uuid} not found", code=missing_code)
    team.require(task.project_uuid, "view_tasks")
    return task


def transitions(principal: Principal, team_uuid: str, task_uuid: str) -> dict[str, Any]:
    team = Team(principal, team_uuid)
    task = _visible(team, task_uuid)
    return {
        "transitions": [
            {
                "uuid": t["uuid"],
                "name": t["name"],
                "start_status_uuid": t["start_status"],
                "end_status_uuid": t["end_status"],
                "issue_type_uuid": t.get("issue_type") or task.issue_type_uuid,
                "project_uuid": task.project_uuid,
            }
            for t in team.catalog.transitions_from(task.status_uuid, task.issue_type_uuid)
        ]
    }


def transit(principal: Principal, team_uuid: str, task_uuid: str, transition_uuid: str) -> None:
    team = Team(principal, team_uuid)

    def step(attempt: int) -> bool:
        task = _visible(team, task_uuid, NOT_FOUND_TO_MODIFY)
        team.require(task.project_uuid, "transit_tasks")
        found = team.catalog.transitions.get(transition_uuid)
        if found is None:
            raise invalid(f"transition {transition_uuid} not found")
        if found["start_status"] != task.status_uuid or found.get("issue_type") not in (
            None,
            task.issue_type_uuid,
        ):
            raise invalid(f"transition {transition_uuid} does not start at the task's status")
        change = Change(team.uuid, next_stamp(int(task.server_update_stamp)))
        attrs = _status_change(change, team, task, found["end_status"])
        change.recount(task, task.sprint_uuid, attrs.get("status_category", task.status_category))
        attrs.update(update_time=change.stamp, server_update_stamp=change.stamp)
        change.set(task.uuid, attrs, TaskModel.server_update_stamp == task.server_update_stamp)
        change.activity(
            task.uuid,
            team.caller,
            "transit",
            [{"field": "status_uuid", "old": task.status_uuid, "new": found["end_status"]}],
        )
        return change.commit()

    retry(step, f"transit {task_uuid}")


# ---- related tasks -------------------------------------------------------------------------


def relate(principal: Principal, team_uuid: str, task_uuid: str, request: v.Relate) -> None:
    """Link the task with others, both ends in one transaction; linking twice changes nothing."""
    _relate(Team(principal, team_uuid), task_uuid, request, "update_tasks")


def _relate(team: Team, task_uuid: str, request: v.Relate, permission: str) -> None:
    """`permission` is what the caller needs on the task (a copy only needs view_tasks)."""
    others = list(dict.fromkeys(request.task_uuids))
    if task_uuid in others:
        raise invalid("a task cannot be related to itself", SELF_RELATED)

    def step(attempt: int) -> bool:
        task = _visible(team, task_uuid, NOT_FOUND_TO_MODIFY)
        team.require(task.project_uuid, permission)
        existing = (
            {link.other_uuid for link in links_of(task.uuid)} if task.related_total else set()
        )
        targets = []
        for uuid in others:
            other = team.find(uuid)
            if other is None:
                raise NotFound(f"task {uuid} not found", code=TASK_NOT_FOUND)
            team.require(other.project_uuid, "view_tasks")
            if uuid not in existing:
                targets.append(other)
        if not targets:
            return True
        if int(task.related_total) + len(targets) > MAX_LINKS:
            raise invalid(f"a task can have at most {MAX_LINKS} related tasks")
        stamp = next_stamp(max(int(t.server_update_stamp) for t in [task, *targets]))
        change = Change(team.uuid, stamp)
        reverse = "link_in_desc" if request.link_desc_type == "link_out_desc" else "link_out_desc"
        for other in targets:
            for a, b, desc in ((task, other, request.link_desc_type), (other, task, reverse)):
                link = TaskLinkModel(
                    task_uuid=a.uuid,
                    other_uuid=b.uuid,
                    task_link_type_uuid=request.task_link_type_uuid,
                    link_desc_type=desc,
                    create_time=stamp,
                )
                change.puts.append((link, TaskLinkModel.other_uuid.does_not_exist()))
            if int(other.related_total) + 1 > MAX_LINKS:
                raise invalid(f"task {other.uuid} already has {MAX_LINKS} related tasks")
        return _commit_links(change, team.caller, task, targets, +1)

    retry(step, f"relate {task_uuid}")


def _commit_links(
    change: Change, user: str, task: TaskModel, others: list[TaskModel], sign: int
) -> bool:
    """Counters, stamps and history of both ends of links added (+1) or removed (-1)."""
    stamp = change.stamp
    action = "relate" if sign > 0 else "unrelate"

    def history(uuids: list[str]) -> list[dict]:
        old, new = (None, uuids) if sign > 0 else (uuids, None)
        return [{"field": "related_tasks", "old": old, "new": new}]

    for other in others:
        change.set(
            other.uuid,
            {"server_update_stamp": stamp},
            TaskModel.server_update_stamp == other.server_update_stamp,
        )
        done_task, done_other = (
            int(task.status_category == "done"),
            int(other.status_category == "done"),
        )
        change.add(other.uuid, related_total=sign, related_done=sign * done_task)
        change.add(task.uuid, related_total=sign, related_done=sign * done_other)
        change.activity(other.uuid, user, action, history([task.uuid]))
    change.set(
        task.uuid,
        {"server_update_stamp": stamp, "update_time": stamp},
        TaskModel.server_update_stamp == task.server_update_stamp,
    )
    change.activity(task.uuid, user, action, history([o.uuid for o in others]))
    return change.commit()


def _unlink(team: Team, task: TaskModel, others: list[TaskModel], user: str) -> bool:
    stamp = next_stamp(max(int(t.server_update_stamp) for t in [task, *others]))
    change = Change(team.uuid, stamp)
    for other in others:
        change.deletes.append((TaskLinkModel(task.uuid, other.uuid), None))
        change.deletes.append((TaskLinkModel(other.uuid, task.uuid), None))
    return _commit_links(change, user, task, others, -1)


def unrelate(principal: Principal, team_uuid: str, task_uuid: str, request: v.Unrelate) -> None:
    team = Team(principal, team_uuid)
    wanted = set(request.task_uuids)

    def step(attempt: int) -> bool:
        task = _visible(team, task_uuid, NOT_FOUND_TO_MODIFY)
        team.require(task.project_uuid, "update_tasks")
        linked = [link.other_uuid for link in links_of(task.uuid) if link.other_uuid in wanted]
        if not linked:
            return True
        others = batch_get(linked)
        return _unlink(team, task, [others[u] for u in linked if u in others], team.caller)

    retry(step, f"unrelate {task_uuid}")


# ---- delete --------------------------------------------------------------------------------


def delete_task(principal: Principal, team_uuid: str, task_uuid: str) -> None:
    """Delete a task and, as ONES does, all its subtasks (deepest first, one transaction each)."""
    team = Team(principal, team_uuid)
    task = team.find(task_uuid)
    if task is None:
        raise NotFound(f"task {task_uuid} not found", code=404)
    team.require(task.project_uuid, "delete_tasks")
    _delete_tree(team, task_uuid, depth=0)


def _delete_tree(team: Team, task_uuid: str, depth: int) -> None:
    if depth > 50:
        raise invalid("subtasks nest too deep")

    def step(attempt: int) -> bool:
        task = team.find(task_uuid)
        if task is None:
            return True
        if task.subtask_total:
            for child in children_of(task.uuid, team.uuid):
                _delete_tree(team, child, depth + 1)
            task = team.find(task_uuid)
            if task is None:
                return True
        for _round in range(100):  # unlink 20 at a time (a transaction's size), then delete
            if not task.related_total:
                break
            linked = [link.other_uuid for link in links_of(task.uuid)]
            others = batch_get(linked[:20])
            if not others or not _unlink(team, task, list(others.values()), team.caller):
                return False
            task = team.find(task_uuid)
            if task is None:
                return True
        if task.related_total:
            return False
        change = Change(team.uuid, next_stamp(int(task.server_update_stamp)))
        change.deletes.append(
            (
                task,
                (TaskModel.server_update_stamp == task.server_update_stamp)
                & (TaskModel.subtask_total == 0)
                & (TaskModel.related_total == 0),
            )
        )
        change.deletes.append((TaskNumberModel(team.uuid, int(task.number)), None))
        change.count(task, -1)
        if task.parent_uuid:
            change.add(
                task.parent_uuid,
                subtask_total=-1,
                subtask_done=-int(task.status_category == "done"),
            )
        change.activity(
            task.uuid, team.caller, "delete", [{"field": "task", "old": task.summary, "new": None}]
        )
        return change.commit()

    retry(step, f"delete {task_uuid}")


# ---- reads ---------------------------------------------------------------------------------


def task_info(principal: Principal, team_uuid: str, uuid_or_number: str) -> dict[str, Any]:
    team = Team(principal, team_uuid)
    uuid = uuid_or_number
    if NUMBER_RE.match(uuid_or_number):
        try:
            uuid = TaskNumberModel.get(team.uuid, int(uuid_or_number)).task_uuid
        except DoesNotExist as exc:
            raise NotFound(f"task number {uuid_or_number} not found", code=404) from exc
    task = _visible(team, uuid)
    return full_view(team, task)


def tasks_info(principal: Principal, team_uuid: str, task_ids: list[str]) -> dict[str, Any]:
    team = Team(principal, team_uuid)
    tasks, errors = [], []
    if len(set(task_ids)) != len(task_ids):
        raise invalid("ids must not repeat")
    valid = [i for i in task_ids if UUID_RE.match(i)]
    found = batch_get(valid)
    for uuid in task_ids:
        task = found.get(uuid)
        if not UUID_RE.match(uuid):
            errors.append({"uuid": uuid, "code": INVALID, "desc": "uuid must be 16 characters"})
        elif task is None or task.team_uuid != team.uuid:
            errors.append({"uuid": uuid, "code": TASK_NOT_FOUND, "desc": "task not found"})
        elif not team.can(task.project_uuid, "view_tasks"):
            errors.append({"uuid": uuid, "code": 403, "desc": "permission denied: view_tasks"})
        else:
            tasks.append(full_view(team, task))
    return {"tasks": tasks, "count": len(tasks), "errors": errors}


def task_stats(principal: Principal, team_uuid: str) -> dict[str, Any]:
    """Counts per project and sprint, read from counters kept on write: one Query."""
    team = Team(principal, team_uuid)
    cat = team.catalog
    visible = [p for p in sorted(cat.projects) if team.can(p, "view_tasks")]
    if not visible:
        raise Forbidden("not a member of any project of this team", code=403)
    counters = {c.name: c for c in TeamCounterModel.query(team.uuid, consistent_read=True)}
    stamp = max((int(c.stamp) for c in counters.values()), default=0)

    def row(key: str, name: str, uuid: str) -> dict[str, Any]:
        c = counters.get(name)
        counts = {k: int(getattr(c, k)) if c else 0 for k in ("to_do", "in_progress", "done")}
        return {key: uuid, **counts}

    sprints = sorted(s for s, d in cat.sprints.items() if d["project"] in visible)
    return {
        "task_count_by_project": [row("project_uuid", f"project#{p}", p) for p in visible],
        "task_count_by_sprint": [row("sprint_uuid", f"sprint#{s}", s) for s in sprints],
        "server_update_stamp": stamp,
    }


def list_tasks(principal: Principal, team_uuid: str, query: v.ListQuery) -> dict[str, Any]:
    """Newest first, from the GSI of the most selective filter; the rest filter that Query."""
    team = Team(principal, team_uuid)
    cat = team.catalog
    if query.project_uuid:
        if query.project_uuid not in cat.projects:
            raise NotFound(f"project {query.project_uuid} not found", code=404)
        team.require(query.project_uuid, "view_tasks")
        visible = {query.project_uuid}
    else:
        visible = {p for p in cat.projects if team.can(p, "view_tasks")}
        if not visible:
            raise Forbidden("not a member of any project of this team", code=403)
    filters = {
        "sprint_uuid": ("by_sprint", "sprint_key", query.sprint_uuid),
        "assign": ("by_assign", "assign_key", query.assign),
        "project_uuid": ("by_project", "project_key", query.project_uuid),
        "status_category": ("by_category", "category_key", query.status_category),
    }
    chosen = next(((a, f) for a, f in filters.items() if f[2]), None)
    if chosen:
        attr, (index_name, key_attr, value) = chosen
        hash_value = f"{team.uuid}#{value}"
    else:
        attr, index_name, key_attr, hash_value = None, "by_team", "team_key", team.uuid
    condition = None
    for other, (_, _, value) in filters.items():
        if value and other != attr:
            term = getattr(TaskModel, other) == value
            condition = term if condition is None else condition & term
    # a cursor names its filters: one from another list would page from an unrelated place
    tag_source = json.dumps([team.uuid, *(f[2] for f in filters.values())])
    query_tag = hashlib.sha256(tag_source.encode()).hexdigest()[:16]
    start = None
    if query.cursor:
        data = cursors.decode(query.cursor) or {}
        number = cursors.number(data, "n")
        if not isinstance(data.get("u"), str) or not UUID_RE.match(data["u"]):
            raise invalid("cursor is not valid")
        if data.get("q") != query_tag:
            raise invalid("cursor belongs to a list with other filters")
        start = {
            "uuid": {"S": data["u"]},
            key_attr: {"S": hash_value},
            "number": {"N": str(number)},
        }
    index = getattr(TaskModel, index_name)
    results = index.query(
        hash_value,
        filter_condition=condition,
        scan_index_forward=False,
        last_evaluated_key=start,
        page_size=query.limit + 1,
    )
    page: list[TaskModel] = []
    more = False
    for task in results:
        if task.project_uuid not in visible:
            continue
        if len(page) == query.limit:
            more = True
            break
        page.append(task)
    last = page[-1] if more else None
    cursor = (
        cursors.encode({"n": int(last.number), "u": last.uuid, "q": query_tag}) if last else None
    )
    return {
        "tasks": [view(t) for t in page],
        "count": len(page),
        "cursor": cursor,
        "has_more": more,
    }


def activities(
    principal: Principal, team_uuid: str, task_uuid: str, query: v.PageQuery
) -> dict[str, Any]:
    team = Team(principal, team_uuid)
    _visible(team, task_uuid)
    start = None
    if query.cursor:
        stamp = cursors.number((cursors.decode(query.cursor) or {}), "s")
        start = {"task_uuid": {"S": task_uuid}, "stamp": {"N": str(stamp)}}
    out, more = [], False
    for item in ActivityModel.query(
        task_uuid, last_evaluated_key=start, page_size=query.limit + 1, consistent_read=True
    ):
        if len(out) == query.limit:
            more = True
            break
        out.append(
            {
                "task_uuid": item.task_uuid,
                "user_uuid": item.user_uuid,
                "action": item.action,
                "time": int(item.stamp),
                "changes": json.loads(item.changes),
            }
        )
    cursor = cursors.encode({"s": out[-1]["time"]}) if more else None
    return {"activities": out, "cursor": cursor, "has_more": more}


# ---- copy ----------------------------------------------------------------------------------


def copy_task(principal: Principal, team_uuid: str, task_uuid: str, request: v.Copy) -> dict:
    """A new task from another; `reserve_contents` says which related content comes along."""
    team = Team(principal, team_uuid)
    cat = team.catalog
    source = _visible(team, task_uuid)
    if request.project_uuid not in cat.projects:
        raise invalid(f"project {request.project_uuid} not found")
    team.require(request.project_uuid, "view_tasks")  # seed 001: 目标 issueType 下 view_tasks
    if request.issue_type_uuid not in cat.issue_types:
        raise invalid(f"issue type {request.issue_type_uuid} not found")
    if request.status_uuid not in cat.statuses:
        raise invalid(f"status {request.status_uuid} not found")
    keep = set(request.reserve_contents or [])
    parent = source.parent_uuid if source.project_uuid == request.project_uuid else ""
    is_sub = bool(cat.issue_types[request.issue_type_uuid].get("sub_issue_type"))
    if is_sub and not parent:
        raise invalid("a sub issue type needs a parent task in the same project")
    relations = _relations_to_copy(team, source) if "relatedTask" in keep else {}
    copy = _copy_of(team, source, request.project_uuid, keep, parent=parent or "")
    copy.issue_type_uuid = request.issue_type_uuid
    copy.sub_issue_type_uuid = request.issue_type_uuid if is_sub else ""
    copy.status_uuid = request.status_uuid
    copy.status_category = cat.category(request.status_uuid)
    _create(team, copy, action="copy")
    if "subTask" in keep and source.subtask_total:
        budget = [MAX_COPY_SUBTASKS]
        _copy_children(team, source, copy, keep, budget)
    for (desc, link_type), uuids in sorted(relations.items()):
        for start in range(0, len(uuids), 20):
            link = v.Relate(
                task_uuids=uuids[start : start + 20],
                task_link_type_uuid=link_type,
                link_desc_type=desc,
            )
            _relate(team, copy.uuid, link, "view_tasks")
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
            if int(other.related_total) >= MAX_LINKS:
                raise invalid(f"task {other.uuid} already has {MAX_LINKS} related tasks")
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
        _create(team, new, action="copy")
        if child.subtask_total:
            _copy_children(team, child, new, keep, budget)


__all__ = [
    "PERMISSIONS",
    "activities",
    "add_tasks",
    "copy_task",
    "delete_task",
    "list_tasks",
    "login",
    "relate",
    "task_info",
    "task_stats",
    "tasks_info",
    "transit",
    "transitions",
    "unrelate",
    "update_tasks",
]
