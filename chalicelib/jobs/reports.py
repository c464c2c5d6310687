"""What a JOBX project reports (seed 002): tasks and subtasks, per-node results and output, logs, and the analysis endpoints (read from counters, never from the tasks)."""

from __future__ import annotations

import calendar
import json
import time
from typing import Any

from ..core import aws, cursors
from ..core.auth import Principal
from ..core.config import settings
from ..core.errors import BadRequest, NotFound
from . import engine, results, stats, views
from .engine import now_ms
from .models import (
    RUNTIME_BUCKETS,
    ResultModel,
    SubtaskModel,
    TaskModel,
)
from .runs import deploy_uuid, load_task, split_subtask
from .schemas import FACE, TASK_UUID
from .views import fmt_time, render_placeholder, render_result, render_subtask, render_task


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


def get_task(project: str, task_uuid: str) -> dict[str, Any] | None:
    """The task; at a rollback uuid where no rollback ran, JOBX's placeholder row; else None
    (JOBX answers `data: null` for a uuid it does not know)."""
    if not TASK_UUID.match(task_uuid):
        raise BadRequest("check format fail uuid", field="uuid")
    task = engine.load(task_uuid)
    if task is not None:
        if task.project != project:
            return None
        steps = [{"name": s.get("name", ""), "kind": s.get("kind", "")} for s in task.steps]
        return {**render_task(task), "steps": steps}
    deploy_of = deploy_uuid(task_uuid)
    deploy = engine.load(deploy_of) if deploy_of else None
    if deploy is None or deploy.project != project:
        return None
    return render_placeholder(deploy, task_uuid)


# The default task list is JOBX's: every row, oldest first, no paging. A request still reads
# a bounded amount: pages of LIST_PAGE tasks, newest first, until LIST_MAX_ROWS rows, about
# LIST_MAX_BYTES of answer or LIST_MAX_READ tasks looked at (filters included), whichever
# comes first. A capped answer holds the newest rows, so the web UI (which shows the newest
# first) loses the oldest; its `cursor` goes on towards older tasks, as a newest-first page.
LIST_PAGE = 500
LIST_MAX_ROWS = 2000
LIST_MAX_READ = 10_000
LIST_MAX_BYTES = 4_000_000
TASK_KEYS = ("project", "start_key", "uuid")


def _task_query(
    project: str, filters: dict[str, str], *, newest_first: bool, start: Any, page_size: int
):
    """The by_project Query: time bounds are key conditions, the other filters are
    applied by DynamoDB while paging (a page may hold fewer tasks than it read)."""
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
    return TaskModel.by_project.query(
        project,
        condition,
        filter_condition=flt,
        scan_index_forward=not newest_first,
        page_size=page_size,
        last_evaluated_key=start,
    )


def _by_uuid(project: str, filters: dict[str, str]) -> dict[str, Any] | None:
    """`taskuuid`: one GetItem instead of a Query."""
    if not filters.get("taskuuid"):
        return None
    task = engine.load(filters["taskuuid"]) if TASK_UUID.match(filters["taskuuid"]) else None
    found = [task] if task is not None and task.project == project else []
    return {"data": [render_task(t) for t in found if _matches(t, filters)], "cursor": None}


def list_tasks(
    project: str,
    filters: dict[str, str],
    limit: int,
    cursor: str | None,
    *,
    newest_first: bool = True,
) -> dict[str, Any]:
    """One page (the opt-in): one Query of `limit` tasks, so a filtered page may hold fewer
    while `cursor` is still set."""
    single = _by_uuid(project, filters)
    if single is not None:
        return single
    start = cursors.start_key(cursor, project, *TASK_KEYS)
    found = _task_query(project, filters, newest_first=newest_first, start=start, page_size=limit)
    page = next(found.page_iter)
    data = [render_task(TaskModel.from_raw_data(raw)) for raw in page.get("Items", [])]
    return {"data": data, "cursor": cursors.encode(page.get("LastEvaluatedKey"))}


def all_tasks(
    project: str, filters: dict[str, str], *, newest_first: bool = False
) -> dict[str, Any]:
    """Every matching task, as JOBX lists them (oldest first), within the caps above."""
    single = _by_uuid(project, filters)
    if single is not None:
        return single
    found = _task_query(project, filters, newest_first=True, start=None, page_size=LIST_PAGE)
    pages = found.page_iter
    rows: list[dict[str, Any]] = []
    size, cursor = 0, None
    for page in pages:
        items = page.get("Items", [])
        for index, raw in enumerate(items):
            row = render_task(TaskModel.from_raw_data(raw))
            rows.append(row)
            size += len(json.dumps(row, separators=(",", ":")))
            if len(rows) >= LIST_MAX_ROWS or size >= LIST_MAX_BYTES:
                more = index + 1 < len(items) or pages.last_evaluated_key
                cursor = {k: raw[k] for k in TASK_KEYS} if more else None
                break
        else:
            if pages.total_scanned_count < LIST_MAX_READ:
                continue
            cursor = pages.last_evaluated_key
        break
    if not newest_first:
        rows.reverse()
    return {"data": rows, "cursor": cursors.encode(cursor)}


def third_query(task_uuid: str) -> tuple[TaskModel, dict[str, Any]]:
    """(the deploy, the query's answer): the deploy, its rollback when one ran, and their
    subtasks (one Query each)."""
    deploy = load_task(None, task_uuid)
    rollback = engine.load(deploy.rollback_task) if deploy.rollback_task else None
    rollback_subs = subtasks_of(rollback) if rollback is not None else None
    answer = views.third_status(deploy, subtasks_of(deploy), rollback, rollback_subs)
    return deploy, answer


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


def subtasks_of(task: TaskModel) -> list[SubtaskModel]:
    """The batches a task has started, in batch order (one Query)."""
    return list(SubtaskModel.query(task.uuid, consistent_read=True))


def list_subtasks(project: str, task_uuid: str) -> list[dict[str, Any]]:
    """One row per batch, in batch order; `[]` for a task the project does not have."""
    if not TASK_UUID.match(task_uuid):
        raise BadRequest("check format fail uuid", field="uuid")
    task = engine.load(task_uuid)
    if task is None or task.project != project:
        return []
    subs = {s.batch: s for s in subtasks_of(task)}
    return [render_subtask(task, b, subs.get(b)) for b in range(len(task.batches))]


def _attempt(task: TaskModel, batch: int, wanted: int | None) -> int:
    """The batch's current attempt, or an earlier one the caller names."""
    sub = engine.load_subtask(task.uuid, batch)
    current = int(sub.attempt or 1) if sub else 1
    if wanted is None:
        return current
    if not 1 <= wanted <= current:
        raise NotFound(f"no attempt {wanted} of batch {batch + 1}")
    return wanted


def node_results(
    project: str,
    subtask_uuid: str,
    limit: int,
    cursor: str | None,
    attempt: int | None = None,
) -> dict[str, Any]:
    """Every node's result of every step of one attempt (the current one by default)."""
    task_uuid, batch = split_subtask(subtask_uuid)
    task = load_task(project, task_uuid)
    if batch >= len(task.batches):
        raise NotFound(f"subtask {subtask_uuid} not found")
    number = _attempt(task, batch, attempt)
    key = engine.result_key(task.uuid, batch)
    found = ResultModel.query(
        key,
        ResultModel.rk.startswith(f"{number:03d}#"),
        limit=limit,
        last_evaluated_key=cursors.start_key(cursor, key, "key", "rk"),
        consistent_read=True,
    )
    data = [render_result(task, r) for r in found if r.node != results.CONTROL]
    return {"data": data, "cursor": cursors.encode(found.last_evaluated_key)}


def node_output(
    project: str,
    subtask_uuid: str,
    node: str,
    step: int,
    offset: int,
    limit: int,
    attempt: int | None = None,
) -> dict[str, Any]:
    """A node's output from `offset`. While the node still runs, the output published so far
    (every few seconds) is served with `status: running`; poll again from `next_offset`."""
    task_uuid, batch = split_subtask(subtask_uuid)
    task = load_task(project, task_uuid)
    if batch >= len(task.batches) or node not in task.batches[batch]:
        raise NotFound(f"node {node} is not in subtask {subtask_uuid}")
    number = _attempt(task, batch, attempt)
    try:
        row = ResultModel.get(
            engine.result_key(task.uuid, batch),
            results.rk(number, step, node),
            consistent_read=True,
        )
    except ResultModel.DoesNotExist:
        row = None
    final = row is not None and row.status in results.FINAL
    key = row.output_key if final else results.output_key(task.uuid, batch, number, step, node)
    s3 = aws.client("s3")
    size = row.output_size if final else None
    if size is None:
        try:
            size = s3.head_object(Bucket=settings().bucket, Key=key)["ContentLength"]
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
                raise
            if row is None:
                raise NotFound(f"no output of node {node} at step {step} yet") from exc
            size = 0
    text = b""
    if key and offset < size:
        try:
            got = s3.get_object(
                Bucket=settings().bucket, Key=key, Range=f"bytes={offset}-{offset + limit - 1}"
            )
            text = got["Body"].read()
        except s3.exceptions.NoSuchKey:  # past the bucket's lifecycle rule for node output
            size = offset
    return {
        "node": node,
        "step": step,
        "attempt": number,
        "status": row.status if row else "running",
        "exit_code": row.exit_code if row else None,
        "offset": offset,
        "next_offset": offset + len(text),
        "size": size,
        "complete": final and offset + len(text) >= size,
        "output": text.decode("utf-8", "replace"),
    }


LOG_ROWS = 500  # result lines of one log page
LOG_OUTPUTS = 50  # node outputs of one log page (S3 reads)
LOG_BYTES = 1024 * 1024  # output bytes of one log page
TASK_LOG_OUTPUT = 64 * 1024  # bytes of one node's output in the task's log (the rest: node route)


def slave_log(
    principal: Principal, task_uuid_and_step: str, cursor: str | None = None
) -> tuple[str, str | None]:
    """A page of the text log: a task's (uuid) or one step's output on every node (uuid +
    step uuid + step kind, as the original's `taskuuid+pluginuuid+plugintype`), and the
    cursor of the next page. The caller's right to read is checked before anything else."""
    value = task_uuid_and_step
    task = engine.load(value[:12]) if TASK_UUID.match(value[:12]) else None
    if task is None:
        raise NotFound(f"log {value} not found")
    principal.require(FACE, task.project, "read")
    position = cursors.decode(cursor) or {}
    rest = value[12:]
    if not rest:
        return task_log(task, position)
    step_uuid, kind = rest[:12], rest[12:]
    for index, step in enumerate(task.steps):
        if step.get("uuid") == step_uuid and (not kind or kind == step["kind"]):
            return step_log(task, index, position)
    raise NotFound(f"log {value} not found")


def _pages(task: TaskModel, position: dict[str, Any], prefix: Any) -> Any:
    """(batch, row) from `position` on, batch by batch, each batch's rows of its attempt."""
    batch = position.get("b", 0)
    if type(batch) is not int or batch < 0:
        raise BadRequest("check format fail cursor")
    start = position.get("k")
    for sub in SubtaskModel.query(task.uuid, SubtaskModel.batch >= batch, consistent_read=True):
        key = engine.result_key(task.uuid, sub.batch)
        first = f"{int(sub.attempt or 1):03d}#"
        condition = ResultModel.rk.startswith(first + prefix(sub))
        begin = None
        if start and sub.batch == batch:
            if not isinstance(start, str) or not start.startswith(first):
                raise BadRequest("check format fail cursor")
            begin = {"key": {"S": key}, "rk": {"S": start}}
        for row in ResultModel.query(
            key, condition, last_evaluated_key=begin, consistent_read=True
        ):
            if row.node != results.CONTROL:
                yield sub, row
        start = None


def _resume(batch: int, last: tuple[int, str] | None) -> str | None:
    """The cursor of a page that goes on at `batch`: after the last row shown when that was
    in the same batch (the key is exclusive), else from the batch's start."""
    if last is not None and last[0] == batch:
        return cursors.encode({"b": batch, "k": last[1]})
    return cursors.encode({"b": batch})


def task_log(task: TaskModel, position: dict[str, Any]) -> tuple[str, str | None]:
    """The task's head, then per batch its result lines, each followed by that node's output
    of the step (its first TASK_LOG_OUTPUT bytes, indented). A page ends after LOG_ROWS lines,
    LOG_OUTPUTS outputs or LOG_BYTES of output, whichever comes first."""
    lines = []
    if not position:
        lines = [
            f"task {task.uuid} job {task.name} group {task.group} type {task.kind} by {task.user}",
            f"start {fmt_time(task.starttime)} status {task.status}"
            + (f" finish {fmt_time(task.finishtime)}" if task.finishtime else "")
            + (f" reason: {task.reason}" if task.reason else ""),
        ]
    batch, more = None, None
    outputs = used = 0
    last: tuple[int, str] | None = None
    for shown, (sub, row) in enumerate(_pages(task, position, lambda sub: "")):
        if shown == LOG_ROWS or outputs == LOG_OUTPUTS or used >= LOG_BYTES:
            more = _resume(sub.batch, last)
            break
        last = (sub.batch, row.rk)
        if sub.batch != batch:
            batch = sub.batch
            lines.append(
                f"batch {sub.batch + 1}/{len(task.batches)} [{','.join(sub.nodes)}] {sub.status}"
                + (f" {sub.confirm}" if sub.confirm else "")
                + (f" attempt {sub.attempt}" if (sub.attempt or 1) > 1 else "")
            )
        step = task.steps[row.step] if row.step < len(task.steps) else {}
        lines.append(
            f"  step {row.step + 1} {step.get('name', '')} ({step.get('kind', '')}) "
            f"{row.node}: {row.status} exit {row.exit_code} "
            f"{row.duration_ms}ms{(' ' + row.error) if row.error else ''}"
        )
        if row.output_key and row.output_size:
            wanted = min(TASK_LOG_OUTPUT, LOG_BYTES - used)
            body = _output(row.output_key, wanted)
            used += len(body)
            outputs += 1
            text = body.decode("utf-8", "replace")
            lines += [f"    {line}" for line in text.splitlines()]
            if row.output_size > len(body):
                lines.append(f"    ... {row.output_size - len(body)} more bytes")
    return "\n".join(lines) + "\n", more


def _output(key: str, size: int) -> bytes:
    """The first `size` bytes of a stored output (one ranged GET)."""
    s3 = aws.client("s3")
    try:
        got = s3.get_object(Bucket=settings().bucket, Key=key, Range=f"bytes=0-{size - 1}")
    except s3.exceptions.NoSuchKey:  # past the bucket's lifecycle rule
        return b"(output expired)\n"
    return got["Body"].read()


def step_log(task: TaskModel, index: int, position: dict[str, Any]) -> tuple[str, str | None]:
    step = task.steps[index]
    parts = (
        []
        if position
        else [f"step {index + 1} {step['name']} ({step['kind']}) of task {task.uuid}\n"]
    )
    used = outputs = 0
    more = None
    last: tuple[int, str] | None = None
    for sub, row in _pages(task, position, lambda sub: f"{index:03d}#"):
        if outputs == LOG_OUTPUTS or used >= LOG_BYTES:
            more = _resume(sub.batch, last)
            break
        last = (sub.batch, row.rk)
        parts.append(
            f"==== batch {sub.batch + 1} node {row.node}: {row.status} "
            f"exit {row.exit_code}{(' ' + row.error) if row.error else ''} ====\n"
        )
        if row.output_key:
            body = _output(row.output_key, LOG_BYTES - used)
            used += len(body)
            outputs += 1
            parts.append(body.decode("utf-8", "replace"))
            if not parts[-1].endswith("\n"):
                parts.append("\n")
    return "".join(parts), more


def _last_days(n: int = 30) -> list[str]:
    today = now_ms() // 1000
    return [time.strftime("%Y-%m-%d", time.gmtime(today - i * 86400)) for i in range(n - 1, -1, -1)]


def analysis_last(project: str, count: int) -> list[dict[str, Any]]:
    found = TaskModel.by_project.query(
        project, scan_index_forward=False, limit=count, page_size=count
    )
    out = []
    for task in found:
        row = render_task(task)
        out.append({k: row[k] for k in ("user", "runtime", "status", "name", "uuid", "starttime")})
        out[-1]["duration"] = row["duration"]
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
