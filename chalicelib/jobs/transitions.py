"""The moves of a JOBX task that people make (seed 002): confirm a failed batch, go on after a pause, approve or refuse a step, retry a failed batch. Each is one conditional commit of the engine's cursor."""

from __future__ import annotations

from ..core.errors import Conflict, Forbidden, NotFound
from . import engine
from .engine import Move, now_ms
from .models import (
    SubtaskModel,
    TaskModel,
)
from .oplog import oplog_item
from .runs import load_task, split_subtask


def _waiting(project: str, subtask_uuid: str, phases: tuple[str, ...]) -> tuple[TaskModel, int]:
    task_uuid, batch = split_subtask(subtask_uuid)
    task = load_task(project, task_uuid)
    if batch >= len(task.batches):
        raise NotFound(f"subtask {subtask_uuid} not found")
    if task.status not in ("init", "running") or task.batch != batch or task.phase not in phases:
        raise Conflict(f"subtask {subtask_uuid} is not waiting for this ({'/'.join(phases)})")
    return task, batch


def confirm(project: str, user: str, subtask_uuid: str) -> None:
    """Ignore the failed batch and go on; the task will end `fail`."""
    task, batch = _waiting(project, subtask_uuid, ("wait_confirm",))
    task.ignored += 1
    move = Move(task)
    move.actions.append(TaskModel.ignored.add(1))
    move.subtask(batch, SubtaskModel.confirm.set("confirmed"))
    engine.next_batch(move, task, batch, batch_failed=True)
    if move.phase == "wait_next":
        move.phase = "run"  # the confirm itself is the person's go-ahead
    move.puts.append(oplog_item(task.project, user, "confirm subtask", subtask_uuid))
    if not engine.commit(move, lease_token=None, expect_phase="wait_confirm"):
        raise Conflict("the task changed meanwhile; read it again")


def resume(project: str, user: str, subtask_uuid: str) -> None:
    """`next`: go on after a step's pause, or start the batch in confirm-every-batch mode."""
    task, _batch = _waiting(project, subtask_uuid, ("pause", "wait_next"))
    move = Move(task).to(task.batch, task.step, "run")
    move.puts.append(oplog_item(task.project, user, "next", subtask_uuid))
    if not engine.commit(move, lease_token=None, expect_phase=task.phase):
        raise Conflict("the task changed meanwhile; read it again")


def approve(project: str, user: str, subtask_uuid: str, opinion: str, *, is_admin: bool) -> None:
    task, batch = _waiting(project, subtask_uuid, ("approval",))
    step = task.steps[task.step]
    approvers = step.get("approvers") or []
    if approvers and user not in approvers and not is_admin:
        raise Forbidden("you are not an approver of this step")
    move = Move(task)
    if opinion == "refuse":
        move.subtask(batch, SubtaskModel.status.set("fail"), SubtaskModel.finishtime.set(now_ms()))
        move.finish("refuse", f"refused by {user} at step {step['name']}")
    else:
        sub = engine.load_subtask(task.uuid, batch) or SubtaskModel(task.uuid, batch)
        engine.after_step(move, task, sub, task.step, [])
    move.puts.append(oplog_item(task.project, user, f"approval {opinion}", subtask_uuid))
    if not engine.commit(move, lease_token=None, expect_phase="approval"):
        raise Conflict("the task changed meanwhile; read it again")


def retry(project: str, user: str, subtask_uuid: str, only_failed: bool) -> None:
    """Run a failed batch again (all its nodes, or only its failed ones) from its first step,
    as a new attempt: one commit, nothing deleted. The old attempt's rows stay as they were
    (a late worker of that attempt can only write those) and the new one starts empty."""
    task, batch = _waiting(project, subtask_uuid, ("wait_confirm",))
    sub = engine.load_subtask(task.uuid, batch)
    failed = sorted(set(sub.failed_nodes or [])) if sub else []
    nodes = failed if only_failed and failed else None
    move = Move(task).to(batch, 0, "run")
    move.actions.append(TaskModel.failed.add(-len(failed)))
    move.subtask(
        batch,
        SubtaskModel.status.set("running"),
        SubtaskModel.confirm.set(""),
        SubtaskModel.failed_nodes.set([]),
        SubtaskModel.attempt.add(1),
        SubtaskModel.finishtime.set(0),
        SubtaskModel.step.set(0),
        SubtaskModel.dispatched.remove(),
        SubtaskModel.attempt_nodes.set(nodes) if nodes else SubtaskModel.attempt_nodes.remove(),
    )
    action = "retry failed nodes" if only_failed else "retry batch"
    move.puts.append(oplog_item(task.project, user, action, subtask_uuid))
    if not engine.commit(move, lease_token=None, expect_phase="wait_confirm"):
        raise Conflict("the task changed meanwhile; read it again")
