"""Status changes of the ONES face (seed 001): `task/:uuid/transitions` and `new_transit`.

A status change moves the stats counters and the done counts of the task's parent and related
tasks in the same transaction as the task.
"""

from __future__ import annotations

from typing import Any

from ..core.auth import Principal
from ..core.errors import BadRequest
from .changes import Change, next_stamp, retry
from .context import Team, links_of
from .errors import TaskToModifyMissing
from .models import TaskModel


def status_change(change: Change, team: Team, task: TaskModel, new_status: str) -> dict:
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


def allowed_transition(team: Team, task: TaskModel, end_status: str) -> bool:
    return any(
        t["end_status"] == end_status
        for t in team.catalog.transitions_from(task.status_uuid, task.issue_type_uuid)
    )


def transitions(principal: Principal, team_uuid: str, task_uuid: str) -> dict[str, Any]:
    team = Team(principal, team_uuid)
    task = team.visible(task_uuid)
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
        task = team.visible(task_uuid, TaskToModifyMissing)
        team.require(task.project_uuid, "transit_tasks")
        found = team.catalog.transitions.get(transition_uuid)
        if found is None:
            raise BadRequest(f"transition {transition_uuid} not found")
        if found["start_status"] != task.status_uuid or found.get("issue_type") not in (
            None,
            task.issue_type_uuid,
        ):
            raise BadRequest(f"transition {transition_uuid} does not start at the task's status")
        change = Change(team.uuid, next_stamp(int(task.server_update_stamp)))
        attrs = status_change(change, team, task, found["end_status"])
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
