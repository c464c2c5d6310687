"""`task/:uuid/delete` of the ONES face (seed 001): a task and, as ONES does, its subtasks."""

from __future__ import annotations

from ..core.auth import Principal
from ..core.errors import BadRequest
from . import numbers
from .changes import Change, next_stamp, retry
from .context import Team, batch_get, children_of, links_of
from .models import TaskModel
from .relations import unlink


def delete_task(principal: Principal, team_uuid: str, task_uuid: str) -> None:
    """Delete a task and, as ONES does, all its subtasks (deepest first, one transaction each)."""
    team = Team(principal, team_uuid)
    task = team.visible(task_uuid)
    team.require(task.project_uuid, "delete_tasks")
    _delete_tree(team, task_uuid, depth=0)


def _delete_tree(team: Team, task_uuid: str, depth: int) -> None:
    if depth > 50:
        raise BadRequest("subtasks nest too deep")

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
            if not others or not unlink(team, task, list(others.values()), team.caller):
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
        change.deletes += [(item, None) for item in numbers.map_items(team.uuid, int(task.number))]
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
