"""update2 / update3 of the ONES face (seed 001): partial updates, one transaction per task.

Each write is conditional on the `server_update_stamp` it read: a concurrent writer makes it
fail, and the change is re-read and re-applied (or refused as stale when the client sent a
stamp). Moving a task under another parent re-paths its subtree in the same transaction.
"""

from __future__ import annotations

import json
from typing import Any

from ..core.auth import Principal
from ..core.errors import BadRequest, Stale, TaskhubError
from ..core.validation import validate
from . import fields as fieldlib
from . import validation as v
from .changes import Change, next_stamp, retry
from .context import Failure, Team, batch_get, children_of
from .errors import BadFieldValue, TaskMissing, TaskToModifyMissing
from .models import TaskModel
from .rules import check_size, checked_assign, checked_summary, text_of
from .transitions import allowed_transition, status_change
from .views import custom_values, task_attrs

MAX_MOVE = 80  # subtasks re-pathed in the transaction that moves their ancestor


def _update_one(team: Team, raw: Any) -> None:
    if not isinstance(raw, dict):
        raise BadRequest("each task must be an object")
    item: v.TaskUpdate = validate(v.TaskUpdate, raw)
    sent = set(raw)

    def step(attempt: int) -> bool:
        task = team.visible(item.uuid, TaskToModifyMissing)
        team.require(task.project_uuid, "update_tasks")
        if item.server_update_stamp is not None and item.server_update_stamp != int(
            task.server_update_stamp
        ):
            raise Stale("server_update_stamp is stale")
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
    builtin, custom = fieldlib.split_field_values(item.field_values, look, creating=False)
    settable = ("assign", "parent_uuid", "sprint_uuid", "summary", "desc", "desc_rich")
    wanted = {a: getattr(item, a) for a in (*settable, "priority", "deadline") if a in sent}
    wanted.update(builtin)
    before = task_attrs(task)
    before["desc"] = task.desc or ""
    before["status_uuid"] = task.status_uuid
    attrs: dict[str, Any] = {}
    if "summary" in wanted:
        attrs["summary"] = checked_summary(wanted["summary"])
    if "assign" in wanted:
        attrs["assign"] = checked_assign(team, wanted["assign"])
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
            raise BadRequest(f"priority {priority} is not a priority option")
        attrs["priority"] = priority
    if "deadline" in wanted:
        attrs["deadline"] = wanted["deadline"]
    new_sprint = task.sprint_uuid
    if "sprint_uuid" in wanted:
        new_sprint = wanted["sprint_uuid"] or None
        if new_sprint and new_sprint not in look.sprints:
            raise BadRequest(f"sprint {new_sprint} is not a sprint of project {task.project_uuid}")
    if "parent_uuid" in wanted and (wanted["parent_uuid"] or "") != (task.parent_uuid or ""):
        attrs.update(_reparent(change, team, task, wanted["parent_uuid"] or ""))
    if new_sprint != task.sprint_uuid:
        attrs["sprint_uuid"] = new_sprint
        attrs["sprint_key"] = f"{team.uuid}#{new_sprint}" if new_sprint else None
    if "status_uuid" in wanted and wanted["status_uuid"] != task.status_uuid:
        new_status = wanted["status_uuid"]
        if "parent_uuid" in attrs:
            raise BadRequest("change the parent and the status in separate updates")
        if new_status is None:
            raise BadFieldValue("field005 (status) cannot be empty")
        team.require(task.project_uuid, "transit_tasks")
        if not allowed_transition(team, task, new_status):
            raise BadRequest(f"no transition from {task.status_uuid} to {new_status}")
        attrs.update(status_change(change, team, task, new_status))
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
            raise BadRequest(f"a task with more than {MAX_MOVE} subtasks cannot change its parent")
    if sum(int(t.subtask_total) for t in [task, *found]) != len(found):
        raise Stale("subtasks are changing; try again")
    return found


def _reparent(change: Change, team: Team, task: TaskModel, parent_uuid: str) -> dict[str, Any]:
    """Move a task (and its subtree's paths) under another parent, or to the top."""
    done = int(task.status_category == "done")
    if parent_uuid == task.uuid:
        raise BadRequest("a task cannot be its own parent")
    attrs: dict[str, Any] = {"parent_uuid": parent_uuid}
    if task.parent_uuid:
        change.add(task.parent_uuid, subtask_total=-1, subtask_done=-done)
    if parent_uuid:
        parent = team.viewable(parent_uuid)
        if parent is None:
            raise TaskMissing(f"parent task {parent_uuid} not found")
        if parent.project_uuid != task.project_uuid:
            raise BadRequest("a subtask must be in its parent's project")
        if task.uuid in parent.path.split("-"):
            raise BadRequest("a task cannot be moved under its own subtask")
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


def update_tasks(principal: Principal, team_uuid: str, items: list[Any]) -> list[Failure]:
    """update2 / update3: partial updates; every task that failed is one Failure."""
    team = Team(principal, team_uuid)
    bad: list[Failure] = []
    for raw in items:
        uuid = raw.get("uuid") if isinstance(raw, dict) else None
        try:
            _update_one(team, raw)
        except TaskhubError as exc:
            bad.append(Failure(uuid if isinstance(uuid, str) else "", exc))
    return bad
