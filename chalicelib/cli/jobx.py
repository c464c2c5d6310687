"""`taskhub jobx ...`: run and follow a job, and the everyday verbs on its tasks."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .context import json_option, parse_vars, state
from .errors import OK, CliError
from .follow import GATES, Follower, Jobx, exit_code

TAIL = 2048  # bytes of output a node's result carries as `tail`
STATUS_STYLE = {"success": "green", "fail": "red", "refuse": "red", "running": "cyan"}


def _styled(status: str) -> str:
    style = STATUS_STYLE.get(status)
    return f"[{style}]{status}[/]" if style else status


@click.group()
def jobx() -> None:
    """JOBX: rolling jobs over machine groups."""


def _follow_options(fn):
    fn = click.option("--node", help="Stream this node's output as it is written.")(fn)
    fn = click.option(
        "--yes", "-y", is_flag=True, help="Answer every gate yes (confirm, next, approve)."
    )(fn)
    fn = click.option("--approve", is_flag=True, help="Approve approval steps.")(fn)
    return fn


@jobx.command()
@click.argument("project")
@click.argument("job")
@click.option("--group", "-g", required=True, help="The machine group to run over.")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="A variable.")
@click.option("--uuid", help="The task's uuid (a repeat gives the same task back).")
@click.option("--max-fail", help="End the task past this many failed nodes (3 or 10%).")
@click.option(
    "--batch-mode", type=click.Choice(["stop", "continue", "confirm"]), help="After a failure."
)
@click.option("--follow", "-f", is_flag=True, help="Follow the task until it ends.")
@_follow_options
@json_option
def run(project, job, group, variables, uuid, max_fail, batch_mode, follow, node, yes, approve):
    """Start JOB on GROUP; with --follow, exit 0 success, 1 fail, 2 stopped."""
    st = state()
    body: dict[str, Any] = {"jobname": job, "group": group, "variable": parse_vars(variables)}
    body.update({k: v for k, v in (("uuid", uuid), ("max_fail", max_fail)) if v})
    if batch_mode:
        body["batch_mode"] = batch_mode
    answer = st.client.json("POST", f"/jobx/task/{project}/job/byname", json=body)
    task = answer["data"]
    if not follow:
        st.emit(task, lambda out, t: out.print(f"task {t['uuid']} {_styled(t['status'])}"))
        return OK
    return Follower(st, project, answer["uuid"], node=node, yes=yes, approve=approve).run()


@jobx.command()
@click.argument("project")
@click.argument("uuid")
@_follow_options
@json_option
def follow(project, uuid, node, yes, approve):
    """Follow a task until it ends (exit 0 success, 1 fail, 2 stopped)."""
    return Follower(state(), project, uuid, node=node, yes=yes, approve=approve).run()


@jobx.command("list")
@click.argument("project")
@click.option("--status", type=click.Choice(["init", "running", "success", "fail", "refuse"]))
@click.option("--name", help="Tasks whose job name contains this.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100))
@click.option("--cursor", help="The cursor a previous page gave.")
@json_option
def list_tasks(project, status, name, limit, cursor):
    """A project's tasks, newest first, a page at a time."""
    st = state()
    params = {"page_size": limit, "status": status, "name": name, "cursor": cursor}
    body = st.client.json(
        "GET", f"/jobx/task/{project}", params={k: v for k, v in params.items() if v}
    )
    page = {"data": body["data"], "cursor": body.get("cursor")}

    def render(out: Console, page: dict[str, Any]) -> None:
        table = Table("uuid", "job", "group", "user", "status", "batches", "started", "seconds")
        for t in page["data"]:
            done, total = t["progress"]
            table.add_row(
                t["uuid"],
                escape(t["name"]),
                escape(t["group"]),
                escape(t["user"]),
                _styled(t["status"]),
                f"{done}/{total}",
                t["starttime"] or "",
                f"{t['duration']:.1f}",
            )
        out.print(table)
        if page["cursor"]:
            out.print(f"more: --cursor {page['cursor']}")

    st.emit(page, render)
    return OK


@jobx.command()
@click.argument("project")
@click.argument("uuid")
@json_option
def show(project, uuid):
    """A task and its batches."""
    st = state()
    api = Jobx(st, project)
    found = {"task": api.task(uuid), "subtasks": api.subtasks(uuid)}

    def render(out: Console, found: dict[str, Any]) -> None:
        t = found["task"]
        out.print(
            f"[bold]{t['uuid']}[/] job {escape(t['name'])} group {escape(t['group'])} "
            f"by {escape(t['user'])}: {_styled(t['status'])}"
            + (f" - {escape(t['summary'])}" if t.get("summary") else "")
        )
        out.print(
            f"started {t['starttime']}, {t['duration']:.1f} s; type {t['type']}; "
            f"phase {t['phase']}" + (f"; rollback {t['rollback']}" if t.get("rollback") else "")
        )
        table = Table("batch", "subtask", "nodes", "status", "confirm", "failed", "seconds")
        for s in found["subtasks"]:
            table.add_row(
                str(s["batch"]),
                s["uuid"],
                escape(s["nodelist"]),
                _styled(s["status"]) + (f" ({s['waiting']})" if s.get("waiting") else ""),
                s["confirm"] or "",
                escape(",".join(s.get("failed_nodes") or [])),
                f"{s['duration']:.1f}",
            )
        out.print(table)

    st.emit(found, render)
    return OK


@jobx.command()
@click.argument("project")
@click.argument("uuid")
@click.option("--node", help="Only this node.")
@click.option("--text", is_flag=True, help="The server's text log instead, as it serves it.")
@click.option(
    "--max-bytes",
    default=1024 * 1024,
    show_default=True,
    type=click.IntRange(1),
    help="Bytes of one node's output of one step to show.",
)
@json_option
def logs(project, uuid, node, text, max_bytes):
    """Each node's output, step by step, batch by batch."""
    st = state()
    if text:
        return _text_log(st, uuid)
    api = Jobx(st, project)
    task = api.task(uuid)
    steps = task.get("steps") or []
    entries = []
    for sub in api.subtasks(uuid):
        if sub["status"] == "init" or sub["status"] == "cancel":
            continue
        if node and node not in sub["nodelist"].split(","):
            continue
        for row in sorted(api.results(sub["uuid"]), key=lambda r: (r["step"], r["node"])):
            if node and row["node"] != node:
                continue
            entries.append(_entry(api, sub, row, steps, max_bytes))
    if (
        node
        and not entries
        and not any(node in s["nodelist"].split(",") for s in api.subtasks(uuid))
    ):
        raise CliError(f"node {node} is in no batch of task {uuid}")

    def render(out: Console, entries: list[dict[str, Any]]) -> None:
        for e in entries:
            colour = "green" if e["status"] == "success" else "red"
            out.print(
                f"[bold]== batch {e['batch']} step {e['step'] + 1} {escape(e['step_name'])} "
                f"{escape(e['node'])}: [{colour}]{e['status']}[/] exit {e['exit_code']}"
                + (f" {escape(e['error'])}" if e["error"] else "")
                + " ==[/]"
            )
            if e["output"]:
                out.print(e["output"], end="" if e["output"].endswith("\n") else "\n", markup=False)
            if e["truncated"]:
                out.print(f"... {e['size'] - len(e['output'].encode())} more bytes (--max-bytes)")

    st.emit(entries, render)
    return OK


def _entry(api: Jobx, sub, row, steps, max_bytes: int) -> dict[str, Any]:
    """One node's result of one step with its output: the result's `tail` when that is all
    of it, else read page by page up to max_bytes."""
    chunks, offset, size = [], 0, 0
    if row.get("output_size", -1) <= TAIL and row.get("tail") is not None:
        chunks, size, offset = [row["tail"]], row["output_size"], max_bytes
    while offset < max_bytes:
        got = api.output(sub["uuid"], row["node"], row["step"], offset)
        if got is None:
            break
        chunks.append(got["output"])
        size = got["size"] or 0
        if got["next_offset"] == offset or got["next_offset"] >= size:
            break
        offset = got["next_offset"]
    output = "".join(chunks)
    raw = output.encode()[:max_bytes]
    return {
        "batch": sub["batch"],
        "subtask": sub["uuid"],
        "node": row["node"],
        "step": row["step"],
        "step_name": row.get("step_name") or (steps[row["step"]]["name"] if steps else ""),
        "status": row["status"],
        "exit_code": row["exit_code"],
        "error": row["error"],
        "size": size,
        "truncated": size > len(raw),
        "output": raw.decode("utf-8", "replace"),
    }


def _text_log(st, uuid: str) -> int:
    cursor, pages = None, []
    while True:
        params = {"cursor": cursor} if cursor else {}
        response = st.client.send("GET", f"/jobx/slave/any/log/{uuid}", params=params)
        pages.append(response.text)
        cursor = response.headers.get("X-Taskhub-Cursor")
        if not cursor:
            break
    text = "".join(pages)
    if st.json:
        st.emit({"uuid": uuid, "log": text})
    else:
        st.out.print(text, end="", markup=False)
    return OK


@jobx.command()
@click.argument("project")
@click.argument("uuid")
@json_option
def stop(project, uuid):
    """Stop a task (its running batch is killed; it ends fail)."""
    st = state()
    task = Jobx(st, project).stop(uuid)
    st.emit(
        task,
        lambda out, t: out.print(
            f"task {t['uuid']} {_styled(t['status'])}: {escape(t['summary'])}"
        ),
    )
    return OK


def _waiting(api: Jobx, uuid: str, phases: tuple[str, ...]) -> tuple[dict, dict]:
    task = api.task(uuid)
    if task["status"] not in ("init", "running") or task["phase"] not in phases:
        raise CliError(
            f"task {uuid} is not waiting for this (status {task['status']}, phase {task['phase']})"
        )
    sub = next((s for s in api.subtasks(uuid) if s.get("waiting") == task["phase"]), None)
    if sub is None:  # it moved on meanwhile
        raise CliError(f"task {uuid} is no longer waiting; look again (taskhub jobx show)")
    return task, sub


@jobx.command()
@click.argument("project")
@click.argument("uuid")
@json_option
def confirm(project, uuid):
    """Go on past the batch the task waits at (a failed batch, a pause, confirm mode)."""
    st = state()
    api = Jobx(st, project)
    task, sub = _waiting(api, uuid, ("wait_confirm", "pause", "wait_next"))
    api.put(sub["uuid"], "confirm" if task["phase"] == "wait_confirm" else "next")
    done = {"uuid": uuid, "subtask": sub["uuid"], "batch": sub["batch"], "was": task["phase"]}
    st.emit(done, lambda out, d: out.print(f"task {uuid}: batch {d['batch']} goes on ({d['was']})"))
    return OK


@jobx.command()
@click.argument("project")
@click.argument("uuid")
@click.option("--refuse", is_flag=True, help="Refuse instead (the task ends refuse).")
@json_option
def approve(project, uuid, refuse):
    """Approve (or refuse) the approval step the task waits at."""
    st = state()
    api = Jobx(st, project)
    _task, sub = _waiting(api, uuid, ("approval",))
    opinion = "refuse" if refuse else "agree"
    api.put(sub["uuid"], "approve", {"opinion": opinion})
    done = {"uuid": uuid, "subtask": sub["uuid"], "opinion": opinion}
    st.emit(done, lambda out, d: out.print(f"task {uuid}: {opinion}"))
    return OK


@jobx.command()
@click.argument("project")
@click.argument("uuid")
@click.option("--no", "decline", is_flag=True, help="Record the decision not to roll back.")
@click.option("--follow", "-f", is_flag=True, help="Follow the rollback task.")
@_follow_options
@json_option
def rollback(project, uuid, decline, follow, node, yes, approve):
    """Roll a finished deploy back (or --no: decide not to)."""
    st = state()
    control = "norollback" if decline else "rollback"
    body = st.client.json("PUT", f"/jobx/task/{project}/{uuid}/{control}", json={})
    child = body.get("uuid")
    if follow and child:
        return Follower(st, project, child, node=node, yes=yes, approve=approve).run()
    done = {"uuid": uuid, "decision": control, "rollback_task": child}
    st.emit(
        done,
        lambda out, d: out.print(
            f"task {uuid}: {control}" + (f", rollback task {child}" if child else "")
        ),
    )
    return OK


__all__ = ["GATES", "exit_code", "jobx"]
