"""JOBX pages: a project's running and recent tasks, a task's batches as a strip with the
current step and per-node results, and a node's output.

Everything comes from the JOBX face's own reads (`jobs.reports`): the task list's Query
pages, the subtask list, the node results page and the node output route's read, so the
console shows what the API answers. Output is passed through the log redaction
(`core.observability.redact`) before it is shown.
"""

from __future__ import annotations

from typing import Any

from ..core.auth import Principal
from ..core.errors import BadRequest, NotFound
from ..core.face import FaceRequest
from ..core.observability import redact
from ..jobs import reports
from ..jobs.schemas import FACE
from . import READ
from .charts import strip
from .html import badge, crumbs, esc, link, table, url

PAGE = 20  # recent tasks per page
RUNNING_READ = 100  # newest tasks looked at for the running ones
RESULTS = 50  # node results of a batch shown
OUTPUT_BYTES = 64 * 1024  # a node's output shown per page
RUNNING = ("init", "running")


def _allow(principal: Principal, project: str) -> None:
    if len(project) > 64:
        raise BadRequest("project id is too long")
    principal.require(FACE, project, READ[FACE])


def _task_row(project: str, task: dict[str, Any]) -> list[str]:
    started, total = task["progress"]
    return [
        link(url("jobx", project, task["uuid"]), task["uuid"]),
        esc(task["name"]),
        badge(task["status"]),
        esc(task["user"]),
        esc(task["starttime"]),
        f"{started}/{total}",
        esc(task["nodes"]),
        f"{task['duration']:.1f}s",
    ]


HEAD = ("task", "job", "status", "user", "started", "batches", "nodes", "duration")


def tasks_page(principal: Principal, project: str, query: dict[str, str]) -> tuple[str, str]:
    _allow(principal, project)
    cursor = query.get("cursor") or None
    recent = reports.list_tasks(project, {}, PAGE, cursor, newest_first=True)
    parts = [crumbs((url(), "home"), f"JOBX {project}"), f"<h1>JOBX project {esc(project)}</h1>"]
    if cursor is None:
        running = reports.list_tasks(project, {"status": "running"}, RUNNING_READ, None)
        parts.append("<h2>Running</h2>")
        if running["data"]:
            parts.append(table(HEAD, [_task_row(project, t) for t in running["data"]], (5, 6, 7)))
        else:
            parts.append('<p class="muted">No task is running.</p>')
    parts.append("<h2>Recent tasks</h2>")
    if recent["data"]:
        parts.append(table(HEAD, [_task_row(project, t) for t in recent["data"]], (5, 6, 7)))
    else:
        parts.append('<p class="muted">No tasks yet.</p>')
    pager = []
    if cursor:
        pager.append(link(url("jobx", project), "newest"))
    if recent["cursor"]:
        pager.append(link(url("jobx", project, cursor=recent["cursor"]), "older tasks →"))
    if pager:
        parts.append('<p class="pager">' + " · ".join(pager) + "</p>")
    return f"JOBX {project}", "".join(parts)


def _task(project: str, uuid: str) -> dict[str, Any]:
    task = reports.get_task(project, uuid)
    if task is None or not task.get("batches"):
        raise NotFound(f"task {uuid} not found in project {project}")
    return task


def _chosen(query: dict[str, str], count: int) -> int | None:
    raw = query.get("batch")
    if raw in (None, ""):
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= count:
        raise BadRequest(f"batch must be from 1 to {count}")
    return int(raw)


def _current(subtasks: list[dict[str, Any]]) -> int:
    """The batch to show by default: the one running or waiting, else the last started."""
    for sub in subtasks:
        if sub["status"] in ("running", "waiting", "decision") or sub["waiting"]:
            return sub["batch"]
    started = [s["batch"] for s in subtasks if s["status"] not in ("init", "cancel")]
    return started[-1] if started else 1


def _step_of(sub: dict[str, Any], results: list[dict[str, Any]]) -> str:
    if sub["status"] in ("init", "cancel"):
        return "not started"
    names = {r["step"]: r["step_name"] for r in results}
    index = int(sub["step"] or 0)
    name = names.get(index)
    what = f"step {index + 1}" + (f" ({name})" if name else "")
    if sub["waiting"]:
        return f"{what}, waiting: {sub['waiting']}"
    return what if sub["status"] == "running" else f"{what}, batch {sub['status']}"


def live(principal: Principal, project: str, uuid: str, query: dict[str, str]) -> tuple[str, bool]:
    """The part of the task page that changes while it runs; True while it does."""
    body, task = _live(principal, project, uuid, query)
    return body, task["status"] in RUNNING


def _live(
    principal: Principal, project: str, uuid: str, query: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    _allow(principal, project)
    task = _task(project, uuid)
    subtasks = reports.list_subtasks(project, uuid)
    chosen = _chosen(query, len(subtasks))
    number = chosen or _current(subtasks)
    sub = subtasks[number - 1]
    results = reports.node_results(project, sub["uuid"], RESULTS, None)["data"]
    cells = [
        (s["batch"], s["status"], f"batch {s['batch']}: {s['status']}, {s['nodes']} nodes")
        for s in subtasks
    ]
    started, total = task["progress"]
    done = sum(1 for s in subtasks if s["status"] in ("success", "fail"))
    parts = [
        '<div class="cards">',
        f'<div class="card">status<b id="task-status">{esc(task["status"])}</b></div>',
        f'<div class="card">batches done<b id="batches-done">{done}/{total}</b></div>',
        f'<div class="card">started<b>{started}</b></div>',
        f'<div class="card">nodes failed<b>{esc(task["failed"] or 0)}</b></div>',
        f'<div class="card">duration<b>{task["duration"]:.0f}s</b></div>',
        "</div>",
        "<h2>Batches</h2>",
        strip(cells, lambda n: url("jobx", project, uuid, batch=n)),
        f'<p>Batch <b id="batch-shown">{number}</b> of {total}: {badge(sub["status"])} '
        f'<span id="current-step">{esc(_step_of(sub, results))}</span> · nodes '
        f"{esc(sub['nodelist'])}</p>",
        '<p class="pager">'
        + " ".join(
            link(url("jobx", project, uuid, batch=s["batch"]), s["batch"])
            if s["batch"] != number
            else f"<b>{s['batch']}</b>"
            for s in subtasks[:200]
        )
        + (" …" if len(subtasks) > 200 else "")
        + "</p>",
        f"<h2>Nodes of batch {number}</h2>",
    ]
    if results:
        rows = [
            [
                esc(r["node"]),
                esc(f"{r['step'] + 1}. {r['step_name']}"),
                badge(r["status"]),
                esc(r["exit_code"]),
                f"{r['duration']:.1f}s" if r["status"] != "running" else "",
                (f'<span class="muted">{esc(r["error"])}</span>' if r["error"] else "")
                + (f"<pre>{esc(redact(r['tail']))}</pre>" if r["tail"] else "")
                + link(
                    url(
                        "jobx",
                        project,
                        uuid,
                        "output",
                        batch=number,
                        node=r["node"],
                        step=r["step"],
                    ),
                    "full output",
                ),
            ]
            for r in results
        ]
        parts.append(table(("node", "step", "status", "exit", "time", "output"), rows, (3, 4)))
    else:
        parts.append('<p class="muted">No node has reported in this batch yet.</p>')
    return "".join(parts), task


def task_page(
    principal: Principal, project: str, uuid: str, query: dict[str, str]
) -> tuple[str, str]:
    body, task = _live(principal, project, uuid, query)
    running = task["status"] in RUNNING
    source = url("jobx", project, uuid, "live", batch=query.get("batch"))
    head = (
        crumbs((url(), "home"), (url("jobx", project), f"JOBX {project}"), uuid)
        + f'<h1>{esc(task["name"])} <span class="muted">{esc(uuid)}</span></h1>'
        + f'<p class="muted">group {esc(task["group"])} · by {esc(task["user"])} · started '
        + f"{esc(task['starttime'])}"
        + (f" · {esc(task['reason'])}" if task["reason"] else "")
        + '<span id="refresh-state"></span></p>'
    )
    live_div = (
        f'<div id="live" data-src="{esc(source)}" data-running="{1 if running else 0}">{body}</div>'
    )
    return f"{task['name']} {uuid}", head + live_div


def output_page(request: FaceRequest, project: str, uuid: str) -> tuple[str, str]:
    principal = request.principal
    _allow(principal, project)
    task = _task(project, uuid)
    subtasks = reports.list_subtasks(project, uuid)
    number = _chosen(request.query, len(subtasks)) or 1
    node = request.query.get("node") or ""
    if not node or len(node) > 128:
        raise BadRequest("node is required (at most 128 characters)")
    step = request.integer("step", 0, 0, 49)
    offset = request.integer("offset", 0, 0, 2**40)
    sub = subtasks[number - 1]
    out = reports.node_output(project, sub["uuid"], node, step, offset, OUTPUT_BYTES)
    more = (
        link(
            url(
                "jobx",
                project,
                uuid,
                "output",
                batch=number,
                node=node,
                step=step,
                offset=out["next_offset"],
            ),
            "next part →",
        )
        if out["next_offset"] < out["size"]
        else ""
    )
    body = (
        crumbs(
            (url(), "home"),
            (url("jobx", project), f"JOBX {project}"),
            (url("jobx", project, uuid, batch=number), f"{task['name']} {uuid}"),
            f"batch {number} · {node} · step {step + 1}",
        )
        + f"<h1>Output of {esc(node)}, step {step + 1}</h1>"
        + f"<p>{badge(out['status'])} exit {esc(out['exit_code'])} · bytes {out['offset']}–"
        + f"{out['next_offset']} of {out['size']}</p>"
        + f'<pre id="output">{esc(redact(out["output"]))}</pre>'
        + (f'<p class="pager">{more}</p>' if more else "")
    )
    return f"output {node}", body
