"""Wire views of JOBX (seed 002): how groups, jobs, tasks, subtasks, results and the third-party query read."""

from __future__ import annotations

import time
from typing import Any

from . import engine
from .engine import now_ms
from .models import (
    GroupModel,
    JobModel,
    ResultModel,
    SubtaskModel,
    TaskModel,
)

SLAVE = "taskhub"


def fmt_time(ms: int | None) -> str:
    if not ms:
        return ""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000))


def wire_time(ms: int | None) -> str | None:
    """JOBX's times: `YYYY-MM-DD HH:MM:SS` (UTC here), `null` until set."""
    return fmt_time(ms) or None


def group_number(key: str) -> str:
    """A group's id as JOBX sends it: digits without the padding of the stored key."""
    return (key.lstrip("0") or "0") if key.isdigit() else key


def render_group(group: GroupModel) -> dict[str, Any]:
    """JOBX's group fields (`node` for a list group, `percent` for a percent group, as
    saved), then taskhub's extras (who created and edited it, when)."""
    data = {
        "id": group_number(group.id),
        "projectid": group.project,
        "name": group.name,
        "note": group.note,
        "group_type": group.group_type,
        "group_uuid": group.group_uuid,
        "edit_time": wire_time(group.edit_time),
    }
    field = "node" if group.group_type == "list" else "percent"
    data[field] = getattr(group, field)
    data.update(
        create_user=group.create_user,
        create_time=wire_time(group.create_time),
        edit_user=group.edit_user,
    )
    return data


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
