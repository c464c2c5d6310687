"""Runs of JOBX jobs (seed 002): planning a task from a job and a group, starting it, stopping it, and the rollback decision."""

from __future__ import annotations

import contextlib
import secrets
import string
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError

from ..core import ids, resources
from ..core.errors import BadRequest, Conflict, NotFound
from ..core.retry import until_done
from ..webhooks import allowlist
from . import FACE, batching, engine, inventory, stats
from .catalog import MAX_ITEM_BYTES, group_by_name, item_size, job_by_name, next_ids
from .engine import now_ms
from .models import (
    NameModel,
    PlanModel,
    SubtaskModel,
    TaskModel,
)
from .oplog import commit, oplog_item
from .schemas import TASK_UUID, RunIn
from .views import ROLLBACK_VARIABLE, SKIP, SUB_KEY_LEN, render_task, rollback_given, subtask_batch


def new_task_uuid() -> str:
    """JOBX's uuids: 11 letters or digits, then a lower-case letter (upper-case: a rollback)."""
    return ids.random_alnum(11) + secrets.choice(string.ascii_lowercase)


def third_uuid(uuid: str, retry_count: int = 0) -> str:
    """The task uuid of a third-party call (JOBX's `makeuuid`): the caller's first 11
    characters, then the letter number `retry_count` (0 -> a, 25 and above -> z)."""
    return uuid[:11] + string.ascii_lowercase[min(max(retry_count, 0), 25)]


def load_task(project: str | None, task_uuid: str) -> TaskModel:
    task = engine.load(task_uuid) if TASK_UUID.match(task_uuid or "") else None
    if task is None or (project is not None and task.project != project):
        raise NotFound(f"task {task_uuid} not found")
    return task


def uuid_taken(task_uuid: str) -> bool:
    """Whether a task (in any project) has this uuid: one GetItem of its key."""
    try:
        TaskModel.get(task_uuid, consistent_read=True, attributes_to_get=["uuid"])
    except TaskModel.DoesNotExist:
        return False
    return True


def plan(project: str, jobname: str, group_name: str, variable: dict[str, str]) -> dict[str, Any]:
    """Everything a run needs, checked: job, group, batches, nodes, variables."""
    job = job_by_name(project, jobname)
    group = group_by_name(project, group_name)
    if group.group_type == "list":  # only the nodes the group names
        batches = batching.resolve(group.group_type, group.node, group.percent, [])
        known = inventory.some_nodes(project, [n for batch in batches for n in batch])
    else:  # a percent group cuts the whole inventory
        known = {n.name: n for n in inventory.all_nodes(project)}
        batches = batching.resolve(group.group_type, group.node, group.percent, list(known))
    nodes: dict[str, list[Any]] = {}
    for batch in batches:
        for name in batch:
            node = known.get(name)
            if node is None:
                raise BadRequest(
                    f"check format fail group: node {name} is not in the project's inventory"
                )
            nodes[name] = [node.executor, node.address or name, node.instance_id]
    if item_size(job.steps) + item_size(batches) + item_size(nodes) > MAX_ITEM_BYTES:
        raise BadRequest(
            "check format fail group: the job and the group's nodes are too large for one task"
        )
    # a default left empty is a variable the task must give; unresolved, it is undefined
    values = {k: v for k, v in (job.variable or {}).items() if v != ""}
    values.update(variable)
    if item_size(values) > 65536:
        raise BadRequest("check format fail variable: more than 64 KiB of variables")
    rollback_version = values.get(ROLLBACK_VARIABLE) or None
    return {
        "job": job,
        "group": group,
        "batches": batches,
        "nodes": nodes,
        "variable": values,
        "kind": "deploy" if rollback_version else "deployonly",
        "rollback_version": rollback_version,
    }


def start_task(
    project: str,
    user: str,
    run: RunIn,
    *,
    calltype: str = "page",
    given: dict[str, Any] | None = None,
) -> tuple[TaskModel, bool]:
    """Start a run; returns (task, created). A repeated uuid returns the existing task.
    `given`: the variables as the caller sent them, when `run` was not parsed from them."""
    callbacks = allowlist.check_callbacks(FACE, project, run.callback_urls())
    task_uuid = run.uuid or new_task_uuid()
    existing = engine.load(task_uuid)
    if existing is not None:
        if existing.project != project:
            raise Conflict(f"uuid {task_uuid} is already used")
        return existing, False
    planned = plan(project, run.jobname, run.group, run.variable)
    task = new_task(
        project,
        user,
        task_uuid,
        name=run.jobname,
        jobuuid=planned["job"].uuid,
        group=run.group,
        calltype=calltype,
        kind=planned["kind"],
        variable=planned["variable"],
        given=run.given() if given is None else given,
        steps=planned["job"].steps,
        batches=planned["batches"],
        nodes=planned["nodes"],
        max_fail=run.max_fail or "",
        batch_mode=run.batch_mode,
        rollback_version=planned["rollback_version"],
        callbacks=callbacks or None,
    )
    try:
        commit(lambda tx: _write_new_task(tx, task, user, "start task"))
    except Conflict:
        existing = engine.load(task_uuid)
        if existing is not None and existing.project == project:
            return existing, False
        raise
    engine.kick(task)
    return task, True


def new_task(
    project: str,
    user: str,
    task_uuid: str,
    *,
    steps: list[dict[str, Any]],
    batches: list[list[str]],
    nodes: dict[str, list[Any]],
    **fields: Any,
) -> TaskModel:
    """A task (small, updated at every move) and its plan (large, written once). Its id is
    the next of the project's task sequence, its subtasks' ids the next of the subtask
    sequence, one per batch."""
    taken = next_ids(project, task=1, subtask=len(batches))
    now = now_ms()
    month, day, hour = stats.stamps(now)
    task = TaskModel(
        task_uuid,
        project=project,
        number=taken["task"],
        sub_key=ids.random_alnum(SUB_KEY_LEN),
        subtask_base=taken["subtask"] - len(batches) + 1,
        start_key=f"{now:013d}#{task_uuid}",
        user=user,
        status="init",
        starttime=now,
        month=month,
        day=day,
        hour=hour,
        phase="run",
        seq=0,
        watch=engine.watch_key(task_uuid),
        deadline=now + engine.SEND_GRACE_S * 1000,
        batch_count=len(batches),
        node_total=sum(len(b) for b in batches),
        **fields,
    )
    task.plan = PlanModel(task_uuid, steps=steps, batches=batches, nodes=nodes)
    return engine.attach(task, task.plan)


def _write_new_task(tx, task: TaskModel, user: str, action: str) -> None:
    tx.save(task, condition=TaskModel.uuid.does_not_exist())
    tx.save(task.plan, condition=PlanModel.uuid.does_not_exist())
    tx.save(
        NameModel(f"subtask:{task.sub_key}", target=task.uuid),
        condition=NameModel.key.does_not_exist(),
    )
    stats.on_create(tx, task.project, task.month, task.day, task.hour, "init")
    tx.save(
        oplog_item(task.project, user, action, task.uuid, f"job {task.name} group {task.group}")
    )


def stop_task(
    project: str | None, user: str, task_uuid: str, *, norollback: bool = False
) -> TaskModel:
    """One call: the task ends `fail` with the reason, later batches are cancelled (they
    never start), a WaitConfirm is released, and the running step's control row says stop in
    the same transaction: no node starts after it, local runners kill theirs within a second,
    SSM commands (those in flight included) are cancelled."""
    stopped: list[TaskModel] = []

    def attempt(_: int) -> bool:
        task = load_task(project, task_uuid)
        if task.status not in ("init", "running"):
            if norollback and task.decision == "wait":
                with contextlib.suppress(Conflict):  # expired or taken meanwhile: nothing to stop
                    decide(task, user, "norollback")
            stopped.append(engine.load(task_uuid))
            return True
        now = now_ms()
        reason = f"stopped by {user}"
        actions = [TaskModel.stop.set(True), TaskModel.seq.set(task.seq + 1)]
        if norollback and task.kind == "deploy":
            task.decision = "norollback"
            actions.append(TaskModel.decision.set("norollback"))
        actions += engine.finish_actions(task, "fail", reason, now)
        sub = engine.load_subtask(task.uuid, task.batch) if task.batch < len(task.batches) else None
        control = engine.stop_step(task)
        ending = engine.end_event(task, "fail", reason, now)

        def write(tx, task=task, actions=actions, sub=sub, now=now, reason=reason, control=control):
            tx.update(
                TaskModel(task.uuid),
                actions=actions,
                condition=(TaskModel.seq == task.seq) & (TaskModel.status == task.status),
            )
            if sub is not None and (sub.status == "running" or sub.confirm == "WaitConfirm"):
                sub_actions = [SubtaskModel.finishtime.set(sub.finishtime or now)]
                if sub.status == "running":
                    sub_actions.append(SubtaskModel.status.set("fail"))
                if sub.confirm == "WaitConfirm":
                    sub_actions.append(SubtaskModel.confirm.set(""))
                tx.update(SubtaskModel(task.uuid, task.batch), actions=sub_actions)
            engine.add_finish_counters(tx, task, task.status, "fail", now)
            tx.save(oplog_item(task.project, user, "stop task", task.uuid, reason))
            if control is not None:  # no node of the running step starts after this
                tx.save(control)
            if ending is not None:
                ending.add_to(tx)

        try:
            with resources.transaction() as tx:
                write(tx)
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False  # the worker moved the cursor meanwhile: read again, retry
            raise
        engine.cancel_step(task)
        if ending is not None:
            ending.send()
        stopped.append(engine.load(task_uuid))
        return True

    if not until_done(attempt):
        raise Conflict("the task keeps changing; try again")
    return stopped[-1]


def rollback_uuid(deploy_uuid: str) -> str:
    """JOBX's `get_rollback_uuid`: the deploy's uuid with its last letter upper-cased, which
    the web UI inverts to go from one to the other. (A task from before uuids ended in a-z
    and whose uuid ends in a digit gets a fresh uuid ending in A-Z.)"""
    last = deploy_uuid[-1]
    if last.islower():
        return deploy_uuid[:-1] + last.upper()
    return ids.random_alnum(11) + secrets.choice(string.ascii_uppercase)


def deploy_uuid(task_uuid: str) -> str | None:
    """The deploy a rollback uuid (last letter A-Z) belongs to; None for a deploy's uuid."""
    last = task_uuid[-1:]
    return task_uuid[:-1] + last.lower() if last.isupper() else None


def decide(
    task: TaskModel, user: str, control: str, *, placeholder: str | None = None
) -> dict[str, Any] | None:
    """rollback | norollback for a finished deploy task, within 7 days of its start; the
    refusals are worded as JOBX's. `placeholder`: the name JOBX's row at the rollback uuid
    takes for a norollback (the deploy's, from the control route; `_skip_` otherwise)."""
    if deploy_uuid(task.uuid) is not None or task.kind == "rollback":
        raise Conflict("role ne deploy")
    if task.kind != "deploy" or not task.rollback_version:
        given = task.given if task.given is not None else task.variable
        raise Conflict("variable nodefined _rollbackVersion_" if given else "variable null")
    if task.status in ("init", "running"):
        raise Conflict("the task is still running")
    if task.decision != "wait":
        raise Conflict(f"the rollback decision is already taken: {task.decision}")
    if now_ms() > engine.decision_deadline(task):
        engine.expire_decision(task.uuid)
        raise Conflict("flowline has timed out, rollback is not allowed.")
    if control == "norollback":
        actions = [
            TaskModel.decision.set("norollback"),
            TaskModel.watch.remove(),
            TaskModel.deadline.remove(),
        ]
        if placeholder:
            actions.append(TaskModel.rollback_name.set(placeholder))

        def write(tx):
            tx.update(
                TaskModel(task.uuid),
                actions=actions,
                condition=TaskModel.decision == "wait",
            )
            tx.save(oplog_item(task.project, user, "norollback", task.uuid))

        commit(write)
        return None
    started = sorted(s.batch for s in SubtaskModel.query(task.uuid))
    batches = [task.batches[i] for i in started if i < len(task.batches)]
    child = new_task(
        task.project,
        user,
        rollback_uuid(task.uuid),
        name=task.name,
        jobuuid=task.jobuuid,
        group=task.group,
        calltype=task.calltype,
        kind="rollback",
        parent=task.uuid,
        variable={**(task.variable or {}), "version": task.rollback_version},
        given=rollback_given(task),
        steps=task.steps,
        batches=batches,
        nodes={n: task.nodes[n] for b in batches for n in b if n in task.nodes},
        max_fail=task.max_fail,
        batch_mode=task.batch_mode,
        callbacks=task.callbacks,  # the deploy's receivers hear of its rollback's end too
    )

    def write_rollback(tx):
        tx.update(
            TaskModel(task.uuid),
            actions=[
                TaskModel.decision.set("rollback"),
                TaskModel.rollback_task.set(child.uuid),
                TaskModel.watch.remove(),
                TaskModel.deadline.remove(),
            ],
            condition=TaskModel.decision == "wait",
        )
        _write_new_task(tx, child, user, "rollback task")

    commit(write_rollback)
    engine.kick(child)
    return render_task(child)


def mark_skip(task: TaskModel) -> None:
    """A third-party stop's `_skip_` row at the rollback uuid, unless a row is there already
    (a norollback's): recorded on the deploy, where the placeholder is derived from."""
    try:
        TaskModel(task.uuid).update(
            actions=[TaskModel.rollback_name.set(SKIP)],
            condition=TaskModel.rollback_name.does_not_exist()
            & TaskModel.rollback_task.does_not_exist(),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def control_task(project: str, user: str, task_uuid: str, control: str) -> dict[str, Any] | None:
    if control not in ("rollback", "norollback"):
        raise BadRequest("check format fail control: rollback or norollback")
    try:
        task = load_task(project, task_uuid)
    except NotFound as exc:
        raise NotFound("no find task") from exc
    # JOBX's norollback row at the rollback uuid carries the deploy's name
    return decide(task, user, control, placeholder=task.name)


def split_subtask(subtask_uuid: str) -> tuple[str, int]:
    """(task uuid, batch index) of a subtask uuid: JOBX's 12 alphanumerics (the task's
    claimed subtask key and the batch, one GetItem), or taskhub's older `<task uuid>-<n>`."""
    if "-" in subtask_uuid:
        task_uuid, _, index = subtask_uuid.rpartition("-")
        if TASK_UUID.match(task_uuid) and index.isdigit() and len(index) <= 6:
            return task_uuid, int(index)
    elif TASK_UUID.match(subtask_uuid):
        try:
            claim = NameModel.get(f"subtask:{subtask_uuid[:SUB_KEY_LEN]}", consistent_read=True)
        except NameModel.DoesNotExist:
            pass
        else:
            return claim.target, subtask_batch(subtask_uuid[SUB_KEY_LEN:])
    raise NotFound(f"subtask {subtask_uuid[:64]} not found")
