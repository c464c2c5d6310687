"""Related tasks of the ONES face (seed 001): `related_tasks` and `delete/related_tasks`.

Each link is stored from both ends, written with both tasks' counters, stamps and history in
one transaction.
"""

from __future__ import annotations

from ..core.auth import Principal
from ..core.errors import BadRequest
from . import validation as v
from .changes import Change, next_stamp, retry
from .context import Team, batch_get, links_of
from .errors import RelatedToItself, TaskMissing, TaskToModifyMissing
from .models import TaskLinkModel, TaskModel

MAX_LINKS = 80  # a transit fans out to every related task within one transaction


def relate(principal: Principal, team_uuid: str, task_uuid: str, request: v.Relate) -> None:
    """Link the task with others, both ends in one transaction; linking twice changes nothing."""
    add_relations(Team(principal, team_uuid), task_uuid, request, "update_tasks")


def add_relations(team: Team, task_uuid: str, request: v.Relate, permission: str) -> None:
    """`permission` is what the caller needs on the task (a copy only needs view_tasks)."""
    others = list(dict.fromkeys(request.task_uuids))
    if task_uuid in others:
        raise RelatedToItself("a task cannot be related to itself")

    def step(attempt: int) -> bool:
        task = team.visible(task_uuid, TaskToModifyMissing)
        team.require(task.project_uuid, permission)
        existing = (
            {link.other_uuid for link in links_of(task.uuid)} if task.related_total else set()
        )
        targets = []
        for uuid in others:
            other = team.viewable(uuid)
            if other is None:
                raise TaskMissing(f"task {uuid} not found")
            if uuid not in existing:
                targets.append(other)
        if not targets:
            return True
        if int(task.related_total) + len(targets) > MAX_LINKS:
            raise BadRequest(f"a task can have at most {MAX_LINKS} related tasks")
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
                raise BadRequest(f"task {other.uuid} already has {MAX_LINKS} related tasks")
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


def unlink(team: Team, task: TaskModel, others: list[TaskModel], user: str) -> bool:
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
        task = team.visible(task_uuid, TaskToModifyMissing)
        team.require(task.project_uuid, "update_tasks")
        linked = [link.other_uuid for link in links_of(task.uuid) if link.other_uuid in wanted]
        if not linked:
            return True
        others = batch_get(linked)
        return unlink(team, task, [others[u] for u in linked if u in others], team.caller)

    retry(step, f"unrelate {task_uuid}")
