"""Wire views of JOBX (seed 002): how groups, jobs, tasks, subtasks, results and the third-party query read."""

from __future__ import annotations

import os
import re
import time
from typing import Any

from ..core.ids import ALNUM
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
NULL_SLAVE = "_null_"  # JOBX's slave (and group) of a placeholder row
SKIP = "_skip_"
ROLLBACK_VARIABLE = "_rollbackVersion_"


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


# ---- YAML text of variables, as JOBX stores them (YAML::XS `Dump`) ----------------------------

# Perl's looks_like_number: YAML::XS quotes such strings so that they load back as strings
_NUMBER = re.compile(
    r"^\s*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf(?:inity)?|nan)\s*$",
    re.IGNORECASE,
)
_QUOTED_WORDS = frozenset(["", "~", "true", "false", "null", "0 but true"])
_FIRST_INDICATORS = set("#,[]{}&*!|>'\"%@`")
_ESCAPES = {  # libyaml's short escapes in a double-quoted scalar
    ch: "\\" + code
    for ch, code in zip('\0\a\b\t\n\v\f\r\x1b"\\\x85\u2028\u2029', '0abtnvfre"\\NLP', strict=True)
}


def _printable(ch: str) -> bool:
    """YAML's printable set (what libyaml writes unescaped, unicode allowed), less the line
    breaks: text with those is written double-quoted, on one line."""
    code = ord(ch)
    return (
        0x20 <= code <= 0x7E
        or (0xA0 <= code <= 0xD7FF and code not in (0x2028, 0x2029))
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
        or 0x10000 <= code <= 0x10FFFF
    )


def _plain_allowed(text: str) -> bool:
    """libyaml's rule for a plain scalar in block context, for one-line text."""
    if text != text.strip(" ") or text.startswith(("---", "...")):
        return False
    first, rest = text[0], text[1:]
    if first in _FIRST_INDICATORS or (first in "-?:" and (not rest or rest[0] == " ")):
        return False
    return ": " not in text and not text.endswith(":") and " #" not in text


def _escape(ch: str) -> str:
    """libyaml's escape of a character in a double-quoted scalar."""
    if _printable(ch):
        return ch
    code = ord(ch)
    return f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}"


def yaml_scalar(text: str) -> str:
    """One scalar as YAML::XS writes it: number-like strings and `true`/`false`/`null`/`~`/
    empty single-quoted, plain where YAML allows, else single- or double-quoted. (libyaml
    folds lines past 80 columns; here every value stays on its line.)"""
    if not all(_printable(ch) for ch in text):
        escaped = "".join(_ESCAPES.get(ch) or _escape(ch) for ch in text)
        return f'"{escaped}"'
    if text in _QUOTED_WORDS or _NUMBER.match(text) or not _plain_allowed(text):
        return "'" + text.replace("'", "''") + "'"
    return text


def _yaml_value(value: Any) -> str:
    """A string as `yaml_scalar`; a JSON number plain, as Perl prints it (`%.15g`)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return yaml_scalar(str(value))
    return str(value) if isinstance(value, int) else f"{value:.15g}"


def yaml_text(variables: dict[str, Any] | None) -> str:
    """JOBX's `variable`: a `---` line, then `name: value` lines in name order; "" for none."""
    if not variables:
        return ""
    lines = [f"{yaml_scalar(k)}: {_yaml_value(variables[k])}" for k in sorted(variables)]
    return "---\n" + "\n".join(lines) + "\n"


# ---- tasks --------------------------------------------------------------------------------


def seconds(ms: int | None) -> str | None:
    """Epoch seconds with their fraction, as JOBX's `starttimems`/`finishtimems` (strings)."""
    return f"{ms / 1000:.3f}" if ms else None


def ran_to_end(task: TaskModel) -> bool:
    """A task that went through its last batch (failed batches included), not one cut short by
    a stop, a refusal, a fail budget or a worker that kept dying: the cursor passed the end."""
    return task.status == "success" or (
        int(task.batch or 0) >= int(task.batch_count or 0) and not task.stop
    )


def wire_reason(task: TaskModel) -> str | None:
    """JOBX's `reason`: null while running and for a task that ran to its end; the error text
    (at most 100 characters) for one that ended early."""
    if task.status in ("init", "running") or ran_to_end(task):
        return None
    return (task.reason or "")[:100] or None


def render_task(task: TaskModel) -> dict[str, Any]:
    """JOBX's task fields (list and detail alike), then taskhub's extras. `runtime` is the
    `%0.3f` string once the task ended; `duration` (extra) counts while it runs too."""
    done = task.status not in ("init", "running")
    end = task.finishtime or (now_ms() if not done else task.starttime)
    given = task.given if task.given is not None else task.variable
    return {
        "id": str(int(task.number)) if task.number is not None else None,
        "projectid": task.project,
        "uuid": task.uuid,
        "name": task.name,
        "user": task.user,
        "slave": SLAVE,
        "status": task.status,
        "starttime": wire_time(task.starttime),
        "finishtime": wire_time(task.finishtime),
        "calltype": task.calltype,
        "runtime": f"{max(0, task.finishtime - task.starttime) / 1000:.3f}"
        if done and task.finishtime
        else None,
        "pid": None,  # no runner process: steps run on taskhub's workers
        "starttimems": seconds(task.starttime),
        "finishtimems": seconds(task.finishtime),
        "reason": wire_reason(task),
        "variable": yaml_text(given),
        # taskhub's extras
        "summary": task.reason,
        "variables": task.variable or {},
        "duration": round(max(0, end - task.starttime) / 1000, 3),
        "jobuuid": task.jobuuid,
        "group": task.group,
        "jobtype": "jobs",
        "type": task.kind,
        "parent": task.parent,
        "batches": int(task.batch_count or 0),
        "nodes": engine.node_count(task),
        "progress": progress(task),
        "phase": task.phase,
        "failed": task.failed,
        "stopped": bool(task.stop),
        "max_fail": task.max_fail,
        "batch_mode": task.batch_mode,
        "rollback": task.decision,
        "rollback_version": task.rollback_version,
        "rollback_task": task.rollback_task,
    }


def placeholder_of(deploy: TaskModel) -> tuple[str, str] | None:
    """(name, user) of the row JOBX keeps at a deploy's rollback uuid when no rollback ran:
    `_skip_` (user sys) for a deploy started with variables but no `_rollbackVersion_` and
    for a third-party stop; the deploy's name (user: the calltype) for a norollback."""
    if deploy.kind == "rollback" or deploy.decision == "rollback":
        return None
    if deploy.rollback_name:
        skip = deploy.rollback_name == SKIP
        return deploy.rollback_name, "sys" if skip else deploy.calltype
    given = deploy.given if deploy.given is not None else deploy.variable
    if deploy.decision == "norollback" or (deploy.kind == "deployonly" and given):
        return SKIP, "sys"
    return None


def render_placeholder(deploy: TaskModel, uuid: str) -> dict[str, Any] | None:
    """That row, as `GET /task/:projectid/<rollback uuid>` answers it (the web UI reads its
    presence as "decided" and its name `_skip_` as "no rollback"). taskhub stores no row:
    it is derived from the deploy, so it never shows in lists or counters."""
    found = placeholder_of(deploy)
    if found is None:
        return None
    name, user = found
    at = deploy.starttime if name == SKIP and not deploy.decision else deploy.finishtime
    return {
        "id": None,
        "projectid": deploy.project,
        "uuid": uuid,
        "name": name,
        "user": user,
        "slave": NULL_SLAVE,
        "status": "success",
        "starttime": wire_time(at),
        "finishtime": None,
        "calltype": user if name == SKIP else deploy.calltype,
        "runtime": None,
        "pid": None,
        "starttimems": seconds(at),
        "finishtimems": None,
        "reason": None,
        "variable": "" if name == SKIP else yaml_text(rollback_given(deploy)),
        "group": NULL_SLAVE,
        "type": "placeholder",
        "parent": deploy.uuid,
    }


def rollback_given(task: TaskModel) -> dict[str, Any]:
    """A rollback's variables as JOBX records them: the deploy's, with `_rollbackVersion_`
    moved to `version`."""
    given = task.given if task.given is not None else task.variable or {}
    rest = {k: v for k, v in given.items() if k != ROLLBACK_VARIABLE}
    return {**rest, "version": given.get(ROLLBACK_VARIABLE, task.rollback_version)}


# ---- subtasks ---------------------------------------------------------------------------

# A subtask's uuid is its task's subtask key (8 letters or digits, claimed when the task is
# written) and the batch index in 4 more: 12 alphanumerics as JOBX's, turned back into the
# task and batch by one GetItem of the claim.
SUB_KEY_LEN = 8
_BATCH_DIGITS = 4
_BASE = len(ALNUM)


def subtask_uuid(task: TaskModel, batch: int) -> str:
    """The batch's uuid; tasks from before subtask keys keep `<task uuid>-<batch>`."""
    if not task.sub_key:
        return f"{task.uuid}-{batch}"
    code = ""
    for _ in range(_BATCH_DIGITS):
        batch, digit = divmod(batch, _BASE)
        code = ALNUM[digit] + code
    return task.sub_key + code


def subtask_batch(code: str) -> int:
    """The batch index the last 4 characters of a subtask uuid encode."""
    batch = 0
    for ch in code:
        batch = batch * _BASE + ALNUM.index(ch)
    return batch


def subtask_status(task: TaskModel, sub: SubtaskModel | None) -> str:
    """Batches not started have no item: `init` while the task runs, `cancel` after."""
    if sub is None:
        return "init" if task.status in ("init", "running") else "cancel"
    return sub.status


def wire_confirm(task: TaskModel, sub: SubtaskModel | None) -> str | None:
    """JOBX's `confirm`: null until the batch ends, "" when it succeeded, `WaitConfirm` while
    a failed batch waits, `task stop` once confirmed past or released by a stop."""
    if sub is None or sub.status not in ("success", "fail"):
        return None
    if sub.status == "success":
        return ""
    if sub.confirm == "WaitConfirm":
        return "WaitConfirm"
    if sub.confirm == "confirmed" or task.stop:
        return "task stop"
    return ""  # failed without waiting: batch_mode continue, or the task's fail budget


def render_subtask(task: TaskModel, batch: int, sub: SubtaskModel | None) -> dict[str, Any]:
    """JOBX's subtask fields, then taskhub's extras. The times and `runtime` (`%0.3f`) are
    null until the batch ends, as JOBX copies them from the batch's job when it ends;
    `started_at` and `duration` (extras) show a running batch too."""
    status = subtask_status(task, sub)
    start = sub.starttime if sub else 0
    end = sub.finishtime if sub else 0
    ended = sub is not None and status in ("success", "fail") and bool(end)
    nodes = task.batches[batch]
    base = int(task.subtask_base) if task.subtask_base is not None else 1
    return {
        "id": str(base + batch),
        "parent_uuid": task.uuid,
        "uuid": subtask_uuid(task, batch),
        "nodelist": ",".join(nodes),
        "nodecount": str(len(nodes)),
        "starttime": wire_time(start) if ended else None,
        "finishtime": wire_time(end) if ended else None,
        "runtime": f"{max(0, end - start) / 1000:.3f}" if ended else None,
        "status": status,
        "confirm": wire_confirm(task, sub),
        # taskhub's extras
        "batch": batch + 1,
        "subtask_type": "jobs",
        "nodes": len(nodes),
        "started_at": wire_time(start),
        "duration": round(max(0, (end or now_ms()) - start) / 1000, 3) if start else 0,
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


def ui_url() -> str:
    """The JOBX web UI's base URL for the links the third-party query answers: from the
    `TASKHUB_JOBX_UI_URL` setting, never from the request (default: relative links)."""
    return (os.environ.get("TASKHUB_JOBX_UI_URL") or "").strip().rstrip("/")


def _third_state(status: str) -> str:
    """success -> complete, fail or refuse -> fail (JOBX: refuse -> running), else running."""
    return {"success": "complete", "fail": "fail", "refuse": "fail"}.get(status, "running")


def _phase_message(task: TaskModel) -> str:
    """taskhub's own words for where a task is (the query's extra `detail`)."""
    if task.status not in ("init", "running"):
        return task.reason or _third_state(task.status)
    batch = task.batch + 1
    return {
        "wait_confirm": f"batch {batch} failed and waits for confirm",
        "pause": f"batch {batch} paused; waits for next",
        "wait_next": f"batch {batch} waits for next",
        "approval": f"batch {batch} waits for approval",
    }.get(task.phase, f"batch {batch} running")


def _waits_in_batch(task: TaskModel) -> bool:
    """The running batch waits for a person inside it (JOBX: its JOB task is `waiting`)."""
    return task.status in ("init", "running") and task.phase in ("pause", "approval")


def third_status(
    deploy: TaskModel,
    deploy_subs: list[SubtaskModel],
    rollback: TaskModel | None = None,
    rollback_subs: list[SubtaskModel] | None = None,
) -> dict[str, Any]:
    """The third-party query, shaped as JOBX's: `type` deploy while a deploy started with
    `_rollbackVersion_` runs or awaits the decision (status `running` whatever its own),
    deployonly without one or after norollback (or an expired decision), rollback once a
    rollback runs (its status; `progress` counts the deploy's batches either way)."""
    base, project = ui_url(), deploy.project
    flow = f"{base}/#/detailforflow/{project}/{deploy.uuid}"
    ended = sum(1 for s in deploy_subs if s.status in ("success", "fail"))
    shown = rollback if rollback is not None else deploy
    link = f"{base}/#/task/detail/{project}/{shown.uuid}"
    body: dict[str, Any] = {"stat": True, "uuid": deploy.uuid}
    if rollback is None and deploy.kind == "deploy" and deploy.decision in ("", "wait"):
        ctrl = [flow if ended >= int(deploy.batch_count or 0) else None, flow]
        if _waits_in_batch(deploy):
            ctrl = [link, flow]
        body.update(status="running", msg="", type="deploy", link=link, ctrl=ctrl)
    else:
        subs = rollback_subs if rollback is not None else deploy_subs
        waiting = any(s.confirm == "WaitConfirm" for s in subs)
        body.update(
            status=_third_state(shown.status),
            msg="Wait for manual treatment" if waiting else "",
            type="rollback" if rollback is not None else "deployonly",
            link=link,
        )
        if waiting:
            body["ctrl"] = [flow]
        if _waits_in_batch(shown):
            body["ctrl"] = [link]
    body.update(
        progress=[ended, int(deploy.batch_count or 0)],
        # taskhub's extras
        detail=_phase_message(shown),
        rollback=deploy.decision,
        data=render_task(shown),
    )
    return body
