"""JOBX logic (seed 002): groups, jobs, tasks and their control, logs, analysis, third-party.

No HTTP here: functions take validated inputs and return plain dicts; errors are domain
errors. Every write that must stay consistent with another (a task and its counters, a name
and its claim, an operation and its log line) goes in one TransactWrite.
"""

from __future__ import annotations

import calendar
import contextlib
import json
import re
import time
from typing import Any

from pynamodb.exceptions import TransactWriteError

from ..core import aws, cursors, ids, resources
from ..core.config import settings
from ..core.errors import BadRequest, Conflict, Forbidden, NotFound
from ..core.retry import until_done
from . import batching, engine, inventory, stats
from .engine import Move, now_ms
from .models import (
    RUNTIME_BUCKETS,
    GroupModel,
    JobModel,
    NameModel,
    NodeModel,
    OpLogModel,
    PlanModel,
    ResultModel,
    SubtaskModel,
    TaskModel,
)
from .schemas import GroupIn, JobIn, RunIn

SLAVE = "taskhub"

ROLLBACK_VARIABLE = "_rollbackVersion_"


def fmt_time(ms: int | None) -> str:
    if not ms:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def parse_time(text: str, field: str) -> int:
    """`YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (UTC) or epoch seconds -> ms."""
    text = (text or "").strip()
    if text.isdigit():
        return int(text) * 1000
    for pattern in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return calendar.timegm(time.strptime(text, pattern)) * 1000
        except ValueError:
            continue
    raise BadRequest(f"check format fail {field}")


def encode_cursor(key: dict | None) -> str | None:
    return cursors.encode(key)


def decode_cursor(value: str | None, hash_value: str, *keys: str) -> dict | None:
    """The key to go on from: a cursor of another list or project, or one made up, is a
    client error (`check format fail cursor`), never a query DynamoDB refuses."""
    try:
        return cursors.start_key(value, hash_value, *keys)
    except BadRequest as exc:
        raise BadRequest("check format fail cursor") from exc


# ---- operation log ---------------------------------------------------------------------------


def oplog_item(
    project: str, user: str, action: str, target: str = "", detail: str = ""
) -> OpLogModel:
    now = ids.now_us()
    return OpLogModel(
        project=project,
        at=f"{now:016d}#{ids.random_alnum(6)}",
        time=now // 1000,
        user=user,
        action=action,
        target=target[:256],
        detail=detail[:2000],
    )


def list_oplog(project: str, limit: int, cursor: str | None) -> dict[str, Any]:
    found = OpLogModel.query(
        project,
        scan_index_forward=False,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, project, "project", "at"),
    )
    data = [
        {
            "time": fmt_time(item.time),
            "user": item.user,
            "action": item.action,
            "target": item.target,
            "detail": item.detail,
        }
        for item in found
    ]
    return {"data": data, "cursor": encode_cursor(found.last_evaluated_key)}


def _commit(tx_fn) -> None:
    try:
        with resources.transaction() as tx:
            tx_fn(tx)
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            raise Conflict("changed by someone else meanwhile, or the name is taken") from exc
        raise


# ---- groups ----------------------------------------------------------------------------------


def _group_claim(project: str, name: str) -> str:
    return f"group:{project}:{name}"


def render_group(group: GroupModel) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "note": group.note,
        "group_type": group.group_type,
        "node": group.node,
        "percent": group.percent,
        "create_user": group.create_user,
        "create_time": fmt_time(group.create_time),
        "edit_user": group.edit_user,
        "edit_time": fmt_time(group.edit_time),
    }


def _page(model, render, project: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """A page of a project's groups or jobs, with the cursor of the next one."""
    start = decode_cursor(cursor, project, "project", model._range_keyname)
    found = model.query(project, limit=limit, last_evaluated_key=start)
    data = [render(item) for item in found]
    return {"data": data, "cursor": encode_cursor(found.last_evaluated_key)}


def _item(model, what: str, project: str, item_id: str):
    if not ID.match(item_id):
        raise NotFound(f"{what} {item_id[:64]} not found")
    try:
        return model.get(project, item_id)
    except model.DoesNotExist as exc:
        raise NotFound(f"{what} {item_id} not found") from exc


def _claimed(claim_key: str, what: str, name: str) -> str:
    """The id a unique name points at."""
    try:
        return NameModel.get(claim_key).target
    except NameModel.DoesNotExist as exc:
        raise NotFound(f"{what} {name} not found") from exc


def list_groups(project: str, limit: int = 1000, cursor: str | None = None) -> dict[str, Any]:
    return _page(GroupModel, render_group, project, limit, cursor)


def _group(project: str, group_id: str) -> GroupModel:
    return _item(GroupModel, "group", project, group_id)


def get_group(project: str, group_id: str) -> dict[str, Any]:
    return render_group(_group(project, group_id))


def group_by_name(project: str, name: str) -> GroupModel:
    return _group(project, _claimed(_group_claim(project, name), "group", name))


def _clean_group(data: GroupIn) -> GroupIn:
    batching.validate_group(data.group_type, data.node, data.percent)
    if data.group_type == "list":
        data.percent = ""
    else:
        data.node = ""
    return data


def create_group(project: str, user: str, data: GroupIn) -> dict[str, Any]:
    data = _clean_group(data)
    now = now_ms()
    group = GroupModel(
        project,
        ids.random_alnum(12),
        name=data.name,
        note=data.note,
        group_type=data.group_type,
        node=data.node,
        percent=data.percent,
        create_user=user,
        create_time=now,
        edit_user=user,
        edit_time=now,
    )

    def write(tx):
        tx.save(group, condition=GroupModel.id.does_not_exist())
        tx.save(
            NameModel(_group_claim(project, data.name), target=group.id),
            condition=NameModel.key.does_not_exist(),
        )
        tx.save(oplog_item(project, user, "create group", data.name, data.group_type))

    _exists_or_conflict(_group_claim(project, data.name), "group", data.name)
    _commit(write)
    return render_group(group)


def _exists_or_conflict(claim_key: str, what: str, name: str) -> None:
    try:
        NameModel.get(claim_key)
    except NameModel.DoesNotExist:
        return
    raise Conflict(f"{what} {name} already exists")


def _update_named(
    record, record_id: str, claim, name: str, actions: list, project: str, user: str, what: str
) -> None:
    """Update a group or job under its version, moving its unique-name claim on a rename."""
    model, old_name, version = type(record), record.name, record.version
    if name != old_name:
        _exists_or_conflict(claim(project, name), what, name)
    actions = [
        *actions,
        model.name.set(name),
        model.edit_user.set(user),
        model.edit_time.set(now_ms()),
        model.version.set(version + 1),
    ]

    def write(tx):
        tx.update(record, actions=actions, condition=model.version == version)
        if name != old_name:
            tx.delete(NameModel(claim(project, old_name)))
            tx.save(
                NameModel(claim(project, name), target=record_id),
                condition=NameModel.key.does_not_exist(),
            )
        tx.save(oplog_item(project, user, f"update {what}", name, record_id))

    _commit(write)


def _delete_named(record, claim, project: str, user: str, what: str, record_id: str) -> None:
    model = type(record)

    def write(tx):
        tx.delete(record, condition=model.version == record.version)
        tx.delete(NameModel(claim(project, record.name)))
        tx.save(oplog_item(project, user, f"delete {what}", record.name, record_id))

    _commit(write)


def update_group(project: str, user: str, group_id: str, data: GroupIn) -> dict[str, Any]:
    data = _clean_group(data)
    actions = [
        GroupModel.note.set(data.note),
        GroupModel.group_type.set(data.group_type),
        GroupModel.node.set(data.node),
        GroupModel.percent.set(data.percent),
    ]
    group = _group(project, group_id)
    _update_named(group, group_id, _group_claim, data.name, actions, project, user, "group")
    return get_group(project, group_id)


def delete_group(project: str, user: str, group_id: str) -> None:
    _delete_named(_group(project, group_id), _group_claim, project, user, "group", group_id)


def group_batches(project: str, group: GroupModel) -> list[list[str]]:
    universe = [] if group.group_type == "list" else [n.name for n in inventory.all_nodes(project)]
    return batching.resolve(group.group_type, group.node, group.percent, universe)


def group_nodes(project: str, group_id: str) -> list[list[str]]:
    return group_batches(project, _group(project, group_id))


# ---- jobs --------------------------------------------------------------------------------------


def _job_claim(project: str, name: str) -> str:
    return f"job:{project}:{name}"


def render_job(job: JobModel) -> dict[str, Any]:
    return {
        "uuid": job.uuid,
        "name": job.name,
        "note": job.note,
        "steps": job.steps,
        "variable": job.variable or {},
        "create_user": job.create_user,
        "create_time": fmt_time(job.create_time),
        "edit_user": job.edit_user,
        "edit_time": fmt_time(job.edit_time),
    }


MAX_ITEM_BYTES = 300_000  # DynamoDB items stop at 400 KB; leave room for the rest


def _steps(data: JobIn) -> list[dict[str, Any]]:
    steps = []
    for step in data.steps:
        item = step.model_dump(by_alias=False)
        item["uuid"] = item.get("uuid") or ids.random_alnum(12)
        steps.append(item)
    if len({s["uuid"] for s in steps}) != len(steps):
        raise BadRequest("check format fail steps: step uuids must differ")
    if _size(steps) + _size(data.variable) > MAX_ITEM_BYTES:
        raise BadRequest(f"check format fail steps: the job is larger than {MAX_ITEM_BYTES} bytes")
    return steps


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def list_jobs(project: str, limit: int = 1000, cursor: str | None = None) -> dict[str, Any]:
    return _page(JobModel, render_job, project, limit, cursor)


def _job(project: str, job_uuid: str) -> JobModel:
    return _item(JobModel, "job", project, job_uuid)


def get_job(project: str, job_uuid: str) -> dict[str, Any]:
    return render_job(_job(project, job_uuid))


def job_by_name(project: str, name: str) -> JobModel:
    return _job(project, _claimed(_job_claim(project, name), "job", name))


def create_job(project: str, user: str, data: JobIn) -> dict[str, Any]:
    now = now_ms()
    job = JobModel(
        project,
        ids.random_alnum(12),
        name=data.name,
        note=data.note,
        steps=_steps(data),
        variable=dict(data.variable),
        create_user=user,
        create_time=now,
        edit_user=user,
        edit_time=now,
    )
    _exists_or_conflict(_job_claim(project, data.name), "job", data.name)

    def write(tx):
        tx.save(job, condition=JobModel.uuid.does_not_exist())
        tx.save(
            NameModel(_job_claim(project, data.name), target=job.uuid),
            condition=NameModel.key.does_not_exist(),
        )
        tx.save(oplog_item(project, user, "create job", data.name, job.uuid))

    _commit(write)
    return render_job(job)


def update_job(project: str, user: str, job_uuid: str, data: JobIn) -> dict[str, Any]:
    actions = [
        JobModel.note.set(data.note),
        JobModel.steps.set(_steps(data)),
        JobModel.variable.set(dict(data.variable)),
    ]
    job = _job(project, job_uuid)
    _update_named(job, job_uuid, _job_claim, data.name, actions, project, user, "job")
    return get_job(project, job_uuid)


def delete_job(project: str, user: str, job_uuid: str) -> None:
    _delete_named(_job(project, job_uuid), _job_claim, project, user, "job", job_uuid)


# ---- tasks: starting -------------------------------------------------------------------------


TASK_UUID = re.compile(r"^[A-Za-z0-9]{12}$")
ID = re.compile(r"^[A-Za-z0-9]{1,64}$")


def load_task(project: str | None, task_uuid: str) -> TaskModel:
    task = engine.load(task_uuid) if TASK_UUID.match(task_uuid or "") else None
    if task is None or (project is not None and task.project != project):
        raise NotFound(f"task {task_uuid} not found")
    return task


def plan(project: str, jobname: str, group_name: str, variable: dict[str, str]) -> dict[str, Any]:
    """Everything a run needs, checked: job, group, batches, nodes, variables."""
    job = job_by_name(project, jobname)
    group = group_by_name(project, group_name)
    known = {n.name: n for n in inventory.all_nodes(project)}
    universe = [] if group.group_type == "list" else list(known)
    batches = batching.resolve(group.group_type, group.node, group.percent, universe)
    nodes: dict[str, list[Any]] = {}
    for batch in batches:
        for name in batch:
            node = known.get(name)
            if node is None:
                raise BadRequest(
                    f"check format fail group: node {name} is not in the project's inventory"
                )
            nodes[name] = [node.executor, node.address or name, node.instance_id]
    if _size(job.steps) + _size(batches) + _size(nodes) > MAX_ITEM_BYTES:
        raise BadRequest(
            "check format fail group: the job and the group's nodes are too large for one task"
        )
    # a default left empty is a variable the task must give; unresolved, it is undefined
    values = {k: v for k, v in (job.variable or {}).items() if v != ""}
    values.update(variable)
    if _size(values) > 65536:
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
    project: str, user: str, run: RunIn, *, calltype: str = "page"
) -> tuple[TaskModel, bool]:
    """Start a run; returns (task, created). A repeated uuid returns the existing task."""
    task_uuid = run.uuid or ids.random_alnum(12)
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
        steps=planned["job"].steps,
        batches=planned["batches"],
        nodes=planned["nodes"],
        max_fail=run.max_fail or "",
        batch_mode=run.batch_mode,
        rollback_version=planned["rollback_version"],
    )
    try:
        _commit(lambda tx: _write_new_task(tx, task, user, "start task"))
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
    """A task (small, updated at every move) and its plan (large, written once)."""
    now = now_ms()
    month, day, hour = stats.stamps(now)
    task = TaskModel(
        task_uuid,
        project=project,
        start_key=f"{now:013d}#{task_uuid}",
        user=user,
        status="init",
        starttime=now,
        month=month,
        day=day,
        hour=hour,
        phase="run",
        seq=0,
        watch=engine.WATCH,
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
    stats.on_create(tx, task.project, task.month, task.day, task.hour, "init")
    tx.save(
        oplog_item(task.project, user, action, task.uuid, f"job {task.name} group {task.group}")
    )


# ---- tasks: reading ----------------------------------------------------------------------------


def progress(task: TaskModel) -> list[int]:
    """[batches started, batches]."""
    return [int(task.started or 0), int(task.batch_count or 0)]


def render_task(task: TaskModel) -> dict[str, Any]:
    end = task.finishtime or (now_ms() if task.status in ("init", "running") else task.starttime)
    return {
        "uuid": task.uuid,
        "name": task.name,
        "jobuuid": task.jobuuid,
        "group": task.group,
        "user": task.user,
        "slave": SLAVE,
        "status": task.status,
        "reason": task.reason,
        "calltype": task.calltype,
        "jobtype": "jobs",
        "type": task.kind,
        "parent": task.parent,
        "variable": task.variable or {},
        "starttime": fmt_time(task.starttime),
        "finishtime": fmt_time(task.finishtime),
        "runtime": round(max(0, end - task.starttime) / 1000, 3),
        "batches": int(task.batch_count or 0),
        "nodes": engine.node_count(task),
        "progress": progress(task),
        "phase": task.phase,
        "failed": task.failed,
        "max_fail": task.max_fail,
        "batch_mode": task.batch_mode,
        "rollback": task.decision,
        "rollback_version": task.rollback_version,
        "rollback_task": task.rollback_task,
    }


def get_task(project: str, task_uuid: str) -> dict[str, Any]:
    return render_task(load_task(project, task_uuid))


def list_tasks(
    project: str, filters: dict[str, str], limit: int, cursor: str | None
) -> dict[str, Any]:
    """Newest first from the by_project index; time bounds are key conditions, the other
    filters are applied by DynamoDB while paging (a page may hold fewer than `limit`)."""
    if filters.get("taskuuid"):
        task = engine.load(filters["taskuuid"])
        found = [task] if task is not None and task.project == project else []
        return {"data": [render_task(t) for t in found if _matches(t, filters)], "cursor": None}
    low = parse_time(filters["time_start"], "time_start") if filters.get("time_start") else 0
    high = (
        parse_time(filters["time_end"], "time_end")
        if filters.get("time_end")
        else 9_999_999_999_999
    )
    if (
        filters.get("time_end")
        and len(filters["time_end"].strip()) == 10
        and "-" in filters["time_end"]
    ):
        high += 86400 * 1000 - 1  # a bare end date includes that whole day
    condition = TaskModel.start_key.between(f"{low:013d}", f"{high:013d}~")
    flt = None
    for attr, key in ((TaskModel.user, "user"), (TaskModel.status, "status")):
        if filters.get(key):
            flt = (attr == filters[key]) if flt is None else flt & (attr == filters[key])
    if filters.get("name"):
        c = TaskModel.name.contains(filters["name"])
        flt = c if flt is None else flt & c
    found = TaskModel.by_project.query(
        project,
        condition,
        filter_condition=flt,
        scan_index_forward=False,
        limit=limit,
        page_size=limit,
        last_evaluated_key=decode_cursor(cursor, project, "project", "start_key", "uuid"),
    )
    data = [render_task(t) for t in found]
    return {"data": data, "cursor": encode_cursor(found.last_evaluated_key)}


def _matches(task: TaskModel, filters: dict[str, str]) -> bool:
    return all(
        not filters.get(key) or value(task)
        for key, value in (
            ("user", lambda t: t.user == filters["user"]),
            ("status", lambda t: t.status == filters["status"]),
            ("name", lambda t: filters["name"] in t.name),
        )
    )


def count_tasks(project: str) -> dict[str, int]:
    month, _, _ = stats.stamps(now_ms())
    return stats.month_counts(project, month)


# ---- tasks: control ------------------------------------------------------------------------


def stop_task(
    project: str | None, user: str, task_uuid: str, *, norollback: bool = False
) -> TaskModel:
    """One call: the task ends `fail` with the reason, later batches are cancelled (they
    never start), a WaitConfirm is released, the running batch's commands are killed (the
    worker sees the stop within a second; SSM commands are cancelled here)."""
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

        def write(tx, task=task, actions=actions, sub=sub, now=now, reason=reason):
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

        try:
            with resources.transaction() as tx:
                write(tx)
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False  # the worker moved the cursor meanwhile: read again, retry
            raise
        engine.cancel_ssm(task)
        stopped.append(engine.load(task_uuid))
        return True

    if not until_done(attempt):
        raise Conflict("the task keeps changing; try again")
    return stopped[-1]


def decide(task: TaskModel, user: str, control: str) -> dict[str, Any] | None:
    """rollback | norollback for a finished deploy task, within 7 days of its start."""
    if task.kind != "deploy" or not task.rollback_version:
        raise Conflict("the task was not started with _rollbackVersion_; nothing to roll back")
    if task.status in ("init", "running"):
        raise Conflict("the task is still running")
    if task.decision != "wait":
        raise Conflict(f"the rollback decision is already taken: {task.decision}")
    if now_ms() > engine.decision_deadline(task):
        engine.expire_decision(task.uuid)
        raise Conflict("the rollback decision expired (7 days after the start)")
    if control == "norollback":

        def write(tx):
            tx.update(
                TaskModel(task.uuid),
                actions=[
                    TaskModel.decision.set("norollback"),
                    TaskModel.watch.remove(),
                    TaskModel.deadline.remove(),
                ],
                condition=TaskModel.decision == "wait",
            )
            tx.save(oplog_item(task.project, user, "norollback", task.uuid))

        _commit(write)
        return None
    started = sorted(s.batch for s in SubtaskModel.query(task.uuid))
    batches = [task.batches[i] for i in started if i < len(task.batches)]
    child = new_task(
        task.project,
        user,
        ids.random_alnum(12),
        name=task.name,
        jobuuid=task.jobuuid,
        group=task.group,
        calltype=task.calltype,
        kind="rollback",
        parent=task.uuid,
        variable={**(task.variable or {}), "version": task.rollback_version},
        steps=task.steps,
        batches=batches,
        nodes={n: task.nodes[n] for b in batches for n in b if n in task.nodes},
        max_fail=task.max_fail,
        batch_mode=task.batch_mode,
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

    _commit(write_rollback)
    engine.kick(child)
    return render_task(child)


def control_task(project: str, user: str, task_uuid: str, control: str) -> dict[str, Any] | None:
    if control not in ("rollback", "norollback"):
        raise BadRequest("check format fail control: rollback or norollback")
    return decide(load_task(project, task_uuid), user, control)


# ---- subtasks ----------------------------------------------------------------------------


def split_subtask(subtask_uuid: str) -> tuple[str, int]:
    task_uuid, _, index = subtask_uuid.rpartition("-")
    if not TASK_UUID.match(task_uuid) or not index.isdigit() or len(index) > 6:
        raise NotFound(f"subtask {subtask_uuid} not found")
    return task_uuid, int(index)


def subtask_status(task: TaskModel, batch: int, sub: SubtaskModel | None) -> tuple[str, str]:
    if sub is None:
        return ("init" if task.status in ("init", "running") else "cancel"), ""
    return sub.status, sub.confirm


def render_subtask(task: TaskModel, batch: int, sub: SubtaskModel | None) -> dict[str, Any]:
    status, confirm = subtask_status(task, batch, sub)
    start = sub.starttime if sub else 0
    end = sub.finishtime if sub else 0
    nodes = task.batches[batch]
    return {
        "uuid": f"{task.uuid}-{batch}",
        "parent_uuid": task.uuid,
        "batch": batch + 1,
        "subtask_type": "jobs",
        "nodelist": ",".join(nodes),
        "nodes": len(nodes),
        "status": status,
        "confirm": confirm,
        "starttime": fmt_time(start),
        "finishtime": fmt_time(end),
        "runtime": round(max(0, (end or (now_ms() if start else 0)) - start) / 1000, 3)
        if start
        else 0,
        "step": (sub.step if sub else 0),
        "attempt": (sub.attempt if sub else 0),
        "failed_nodes": list(sub.failed_nodes or []) if sub else [],
        "waiting": task.phase
        if task.batch == batch and task.phase != "run" and task.phase != "done"
        else "",
    }


def list_subtasks(project: str, task_uuid: str) -> list[dict[str, Any]]:
    task = load_task(project, task_uuid)
    subs = {s.batch: s for s in SubtaskModel.query(task.uuid, consistent_read=True)}
    return [render_subtask(task, b, subs.get(b)) for b in range(len(task.batches))]


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
    """Run a failed batch again (all nodes, or only its failed nodes) from its first step.
    The cursor moves first; the old results are cleared only once that is committed, and the
    message that runs the batch is sent after that."""
    task, batch = _waiting(project, subtask_uuid, ("wait_confirm",))
    sub = engine.load_subtask(task.uuid, batch)
    failed = set(sub.failed_nodes or []) if sub else set()
    move = Move(task).to(batch, 0, "run")
    move.send = False
    move.actions.append(TaskModel.failed.add(-len(failed)))
    move.subtask(
        batch,
        SubtaskModel.status.set("running"),
        SubtaskModel.confirm.set(""),
        SubtaskModel.failed_nodes.set([]),
        SubtaskModel.attempt.add(1),
        SubtaskModel.finishtime.set(0),
        SubtaskModel.step.set(0),
        SubtaskModel.ssm.set({}),
    )
    action = "retry failed nodes" if only_failed else "retry batch"
    move.puts.append(oplog_item(task.project, user, action, subtask_uuid))
    if not engine.commit(move, lease_token=None, expect_phase="wait_confirm"):
        raise Conflict("the task changed meanwhile; read it again")
    with ResultModel.batch_write() as writer:
        for result in ResultModel.query(engine.result_key(task.uuid, batch), consistent_read=True):
            if not only_failed or result.node in failed:
                writer.delete(result)
    engine.send_next(move)


def save_node(project: str, user: str, item: inventory.NodeIn) -> None:
    """Create or replace a node of the inventory, with its log line."""
    node = inventory.node_item(project, item)
    _commit(
        lambda tx: (
            tx.save(node),
            tx.save(oplog_item(project, user, "save node", item.name, item.executor)),
        )
    )


def delete_node(project: str, user: str, name: str) -> None:
    node = inventory.existing(project, name)

    def write(tx):
        tx.delete(node, condition=NodeModel.name.exists())
        tx.save(oplog_item(project, user, "delete node", name))

    _commit(write)


def node_results(project: str, subtask_uuid: str, limit: int, cursor: str | None) -> dict[str, Any]:
    task_uuid, batch = split_subtask(subtask_uuid)
    task = load_task(project, task_uuid)
    if batch >= len(task.batches):
        raise NotFound(f"subtask {subtask_uuid} not found")
    key = engine.result_key(task.uuid, batch)
    found = ResultModel.query(
        key,
        limit=limit,
        last_evaluated_key=decode_cursor(cursor, key, "key", "rk"),
        consistent_read=True,
    )
    data = [render_result(task, r) for r in found]
    return {"data": data, "cursor": encode_cursor(found.last_evaluated_key)}


def render_result(task: TaskModel, result: ResultModel) -> dict[str, Any]:
    step = task.steps[result.step] if result.step < len(task.steps) else {}
    return {
        "node": result.node,
        "step": result.step,
        "step_name": step.get("name", ""),
        "step_uuid": step.get("uuid", ""),
        "status": result.status,
        "exit_code": result.exit_code,
        "error": result.error,
        "starttime": fmt_time(result.starttime),
        "duration": round(result.duration_ms / 1000, 3),
        "output_size": result.output_size,
        "tail": result.tail,
        "attempt": result.attempt,
    }


def node_output(
    project: str, subtask_uuid: str, node: str, step: int, offset: int, limit: int
) -> dict[str, Any]:
    """A node's output from `offset`. While the node still runs, the output published so far
    (every few seconds) is served with `status: running`; poll again from `next_offset`."""
    task_uuid, batch = split_subtask(subtask_uuid)
    task = load_task(project, task_uuid)
    if batch >= len(task.batches) or node not in task.batches[batch]:
        raise NotFound(f"node {node} is not in subtask {subtask_uuid}")
    try:
        result = ResultModel.get(
            engine.result_key(task.uuid, batch), f"{step:03d}#{node}", consistent_read=True
        )
    except ResultModel.DoesNotExist:
        result = None
    key = result.output_key if result else engine.output_key(task.uuid, batch, step, node)
    s3 = aws.client("s3")
    size = result.output_size if result else None
    if size is None:
        try:
            size = s3.head_object(Bucket=settings().bucket, Key=key)["ContentLength"]
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
            raise NotFound(f"no output of node {node} at step {step} yet") from exc
    text = b""
    if key and offset < size:
        got = s3.get_object(
            Bucket=settings().bucket, Key=key, Range=f"bytes={offset}-{offset + limit - 1}"
        )
        text = got["Body"].read()
    return {
        "node": node,
        "step": step,
        "status": result.status if result else "running",
        "exit_code": result.exit_code if result else None,
        "offset": offset,
        "next_offset": offset + len(text),
        "size": size,
        "complete": result is not None and offset + len(text) >= size,
        "output": text.decode("utf-8", "replace"),
    }


# ---- logs ----------------------------------------------------------------------------------


def slave_log(task_uuid_and_step: str) -> tuple[TaskModel, str]:
    """The text log: a task's (uuid) or one step's output on every node (uuid + step uuid +
    step kind, as the original's `taskuuid+pluginuuid+plugintype`)."""
    value = task_uuid_and_step
    task = engine.load(value[:12]) if TASK_UUID.match(value[:12]) else None
    if task is None:
        raise NotFound(f"log {value} not found")
    rest = value[12:]
    if not rest:
        return task, task_log(task)
    step_uuid, kind = rest[:12], rest[12:]
    for index, step in enumerate(task.steps):
        if step.get("uuid") == step_uuid and (not kind or kind == step["kind"]):
            return task, step_log(task, index)
    raise NotFound(f"log {value} not found")


def _started(task: TaskModel) -> list[SubtaskModel]:
    return list(SubtaskModel.query(task.uuid, consistent_read=True))


def task_log(task: TaskModel) -> str:
    lines = [
        f"task {task.uuid} job {task.name} group {task.group} type {task.kind} by {task.user}",
        f"start {fmt_time(task.starttime)} status {task.status}"
        + (f" finish {fmt_time(task.finishtime)}" if task.finishtime else "")
        + (f" reason: {task.reason}" if task.reason else ""),
    ]
    for sub in _started(task):
        lines.append(
            f"batch {sub.batch + 1}/{len(task.batches)} [{','.join(sub.nodes)}] {sub.status}"
            + (f" {sub.confirm}" if sub.confirm else "")
        )
        for result in ResultModel.query(
            engine.result_key(task.uuid, sub.batch), consistent_read=True
        ):
            step = task.steps[result.step] if result.step < len(task.steps) else {}
            lines.append(
                f"  step {result.step + 1} {step.get('name', '')} ({step.get('kind', '')}) "
                f"{result.node}: {result.status} exit {result.exit_code} "
                f"{result.duration_ms}ms{(' ' + result.error) if result.error else ''}"
            )
    return "\n".join(lines) + "\n"


def step_log(task: TaskModel, index: int, max_bytes: int = 4 * 1024 * 1024) -> str:
    step = task.steps[index]
    parts = [f"step {index + 1} {step['name']} ({step['kind']}) of task {task.uuid}\n"]
    used = 0
    s3 = aws.client("s3")
    for sub in _started(task):
        for result in ResultModel.query(
            engine.result_key(task.uuid, sub.batch),
            ResultModel.rk.startswith(f"{index:03d}#"),
            consistent_read=True,
        ):
            parts.append(
                f"==== batch {sub.batch + 1} node {result.node}: {result.status} "
                f"exit {result.exit_code}{(' ' + result.error) if result.error else ''} ====\n"
            )
            if result.output_key and used < max_bytes:
                body = s3.get_object(Bucket=settings().bucket, Key=result.output_key)["Body"].read()
                body = body[: max_bytes - used]
                used += len(body)
                parts.append(body.decode("utf-8", "replace"))
                if not parts[-1].endswith("\n"):
                    parts.append("\n")
    return "".join(parts)


# ---- analysis ------------------------------------------------------------------------------


def _last_days(n: int = 30) -> list[str]:
    today = now_ms() // 1000
    return [time.strftime("%Y-%m-%d", time.gmtime(today - i * 86400)) for i in range(n - 1, -1, -1)]


def analysis_last(project: str, count: int) -> list[dict[str, Any]]:
    found = TaskModel.by_project.query(
        project, scan_index_forward=False, limit=count, page_size=count
    )
    out = []
    for task in found:
        end = task.finishtime or now_ms()
        out.append(
            {
                "user": task.user,
                "runtime": round(max(0, end - task.starttime) / 1000, 3),
                "status": task.status,
                "name": task.name,
                "uuid": task.uuid,
                "starttime": fmt_time(task.starttime),
            }
        )
    return out


def analysis_date(project: str) -> list[list[Any]]:
    days = _last_days()
    items = stats.days(project, days[0], days[-1])
    return [
        [
            d,
            int(getattr(items.get(d), "total", 0) or 0),
            int(getattr(items.get(d), "success", 0) or 0),
        ]
        for d in days
    ]


def analysis_hour(project: str) -> list[list[Any]]:
    days = _last_days()
    items = stats.days(project, days[0], days[-1]).values()
    return [
        [f"{h:02d}", sum(int(getattr(i, f"h{h:02d}", 0) or 0) for i in items)] for h in range(24)
    ]


def analysis_runtime(project: str) -> dict[str, str]:
    days = _last_days()
    items = list(stats.days(project, days[0], days[-1]).values())
    counts = {
        label: sum(int(getattr(i, name, 0) or 0) for i in items)
        for label, name, _ in RUNTIME_BUCKETS
    }
    total = sum(counts.values())
    return {label: f"{(100 * n / total) if total else 0:.2f}" for label, n in counts.items()}


# ---- third-party interface ----------------------------------------------------------------------


def third_status(task: TaskModel) -> dict[str, Any]:
    status = {"success": "complete", "fail": "fail", "refuse": "fail"}.get(task.status, "running")
    msg = task.reason or status
    if task.status in ("init", "running"):
        batch = task.batch + 1
        msg = {
            "wait_confirm": f"batch {batch} failed and waits for confirm",
            "pause": f"batch {batch} paused; waits for next",
            "wait_next": f"batch {batch} waits for next",
            "approval": f"batch {batch} waits for approval",
        }.get(task.phase, f"batch {batch} running")
    return {
        "stat": True,
        "uuid": task.uuid,
        "status": status,
        "type": task.kind,
        "msg": msg,
        "progress": progress(task),
        "rollback": task.decision,
        "data": render_task(task),
    }
