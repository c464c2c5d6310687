"""`taskhub scan ...`: start a TCA or CodeArts scan and follow it with one bar per part
(codecount, lint, cc, dup), then a summary of the issues it found new, fixed and open."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from .context import State, json_option, state
from .errors import FAILED, INTERRUPTED, OK, STOPPED, CliError

POLL = 0.3  # seconds between two looks at the scan
PARTS = ("codecount", "lint", "cc", "dup")  # the order bars are shown in
TCA_MAIN, TCA_ANALYSIS = "/server/main/api", "/server/analysis/api"


class Watch:
    """The bars of one scan: a part appears when the server first names it."""

    def __init__(self, st: State):
        self.st = st
        self.bars: dict[str, Any] = {}
        self.progress = Progress(
            TextColumn("{task.description:>10}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[info]}"),
            console=st.out,
            disable=st.json,
        )

    def update(self, parts: dict[str, tuple[int, str]]) -> None:
        for kind in sorted(parts, key=lambda k: PARTS.index(k) if k in PARTS else len(PARTS)):
            rate, info = parts[kind]
            if kind not in self.bars:
                self.bars[kind] = self.progress.add_task(kind, total=100, info="")
            self.progress.update(self.bars[kind], completed=rate, info=info)

    def follow(
        self,
        poll: Callable[[], tuple[bool, dict[str, tuple[int, str]]]],
        cancel: Callable[[], None],
        what: str,
    ) -> None:
        """Poll until done; Ctrl-C asks whether to cancel the scan (CliError with the code)."""
        self.progress.start()
        try:
            while True:
                done, parts = poll()
                self.update(parts)
                if done:
                    return
                time.sleep(POLL)
        except KeyboardInterrupt:
            self.progress.stop()
            if not self.st.interactive():
                raise CliError(f"interrupted; {what} goes on", code=INTERRUPTED) from None
            try:
                stop = click.confirm(f"\nCancel {what}?", default=False)
            except (KeyboardInterrupt, click.Abort):
                stop = False
            if not stop:
                raise CliError(f"{what} goes on running", code=INTERRUPTED) from None
            cancel()
            raise CliError(f"{what} cancelled", code=STOPPED) from None
        finally:
            self.progress.stop()


def summary_table(out: Console, found: dict[str, Any]) -> None:
    issues = found.get("issues")
    head = f"{found['scan']}: [bold]{escape(found['result'])}[/]"
    if found.get("message"):
        head += f" - {escape(found['message'])}"
    out.print(head)
    table = Table("issues", "count", title=None)
    if issues is None:
        out.print("no lint results stored by this scan")
    else:
        for key in ("new", "fixed", "open"):
            table.add_row(key, str(issues[key]))
        out.print(table)
    if found.get("severity"):
        by = Table("severity (open)", "count")
        for name, n in found["severity"].items():
            by.add_row(name, str(n))
        out.print(by)
    if found.get("lines") is not None:
        out.print(f"code lines: {found['lines']}")


@click.group()
def scan() -> None:
    """Code scans: TCA projects and CodeArts Check tasks."""


@scan.group("run")
def run() -> None:
    """Start a scan and follow it (exit 0 success, 1 fail, 2 cancelled)."""


@scan.group("list")
def list_() -> None:
    """List scans (TCA jobs of a project, CodeArts tasks of a project)."""


@scan.group("show")
def show() -> None:
    """One scan's figures."""


# ---- TCA ------------------------------------------------------------------------------------


def _tca_project(org: str, team: str, repo: int, project: int) -> str:
    return f"/orgs/{org}/teams/{team}/repos/{repo}/projects/{project}"


def _tca_parts(detail: dict[str, Any]) -> dict[str, tuple[int, str]]:
    """Per part, the mean progress of its tools' tasks and their names."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for task in detail.get("tasks") or []:
        grouped.setdefault(task.get("kind") or task["task_name"], []).append(task)
    return {
        kind: (
            sum(t["progress_rate"] for t in tasks) // len(tasks),
            ",".join(t["task_name"] for t in tasks),
        )
        for kind, tasks in grouped.items()
    }


def _tca_result(st: State, base: str, detail: dict[str, Any]) -> tuple[dict[str, Any], int]:
    code = detail["result_code"]
    found: dict[str, Any] = {
        "scan": f"TCA job {detail['id']} (scan {detail['scan_id']})",
        "job_id": detail["id"],
        "result_code": code,
        "result": detail.get("result_code_msg") or str(code),
        "message": detail.get("result_msg"),
        "lines": detail.get("code_line_num"),
        "issues": None,
        "severity": None,
    }
    overview = st.client.json("GET", f"{TCA_ANALYSIS}{base}/overview/")["data"]
    lint = overview.get("lintscan")
    if lint:
        ours = lint.get("job_id") == detail["id"]
        found["issues"] = {
            "new": lint["issue_open_num"] if ours else 0,
            "fixed": lint["issue_fix_num"] if ours else 0,
            "open": lint["active_issue_num"],
        }
        found["severity"] = lint.get("active_severity_detail")
    if code is not None and 0 <= code < 100:
        return found, OK
    return found, STOPPED if code == 301 else FAILED


@run.command("tca")
@click.argument("org")
@click.argument("team")
@click.argument("repo", type=int)
@click.argument("project", type=int)
@click.option("--full", is_flag=True, help="A full scan (default: incremental, as TCA).")
@click.option("--force", is_flag=True, help="Supersede the project's unclosed scans.")
@json_option
def run_tca(org, team, repo, project, full, force):
    """Scan TCA project PROJECT of repository REPO of ORG/TEAM."""
    st = state()
    base = _tca_project(org, team, repo, project)
    body: dict[str, Any] = {"incr_scan": not full}
    if force:
        body["force_create"] = True
    job = st.client.json("POST", f"{TCA_MAIN}{base}/scans/create/", json=body)["data"]
    job_id = job["job"]["id"]
    detail_path = f"{TCA_MAIN}{base}/jobs/{job_id}/detail/"
    latest: dict[str, Any] = {}

    def poll() -> tuple[bool, dict[str, tuple[int, str]]]:
        latest.update(st.client.json("GET", detail_path)["data"])
        return latest["state"] == 2, _tca_parts(latest)

    def cancel() -> None:
        st.client.json(
            "POST", f"{TCA_MAIN}/v3{base}/jobs/{job_id}/cancel/", json={"remarks": "taskhub CLI"}
        )

    Watch(st).follow(poll, cancel, f"TCA job {job_id}")
    found, code = _tca_result(st, base, latest)
    st.emit(found, summary_table)
    return code


@list_.command("tca")
@click.argument("org")
@click.argument("team")
@click.argument("repo", type=int)
@click.argument("project", type=int)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@json_option
def list_tca(org, team, repo, project, limit):
    """A TCA project's scan jobs, newest first."""
    st = state()
    base = _tca_project(org, team, repo, project)
    page = st.client.json("GET", f"{TCA_MAIN}{base}/jobs/", params={"limit": limit})["data"]

    def render(out: Console, page: dict[str, Any]) -> None:
        table = Table("job", "state", "result", "message", "code lines")
        for j in page["results"]:
            table.add_row(
                str(j["id"]),
                {0: "waiting", 1: "running", 2: "closed", 3: "storing"}.get(j["state"], "?"),
                str(j["result_code"]),
                escape(j.get("result_msg") or ""),
                str(j.get("code_line_num") or ""),
            )
        out.print(table)

    st.emit(page, render)
    return OK


@show.command("tca")
@click.argument("org")
@click.argument("team")
@click.argument("repo", type=int)
@click.argument("project", type=int)
@click.argument("job", type=int)
@json_option
def show_tca(org, team, repo, project, job):
    """One TCA scan job: its tasks and, when it is the latest, its issues."""
    st = state()
    base = _tca_project(org, team, repo, project)
    detail = st.client.json("GET", f"{TCA_MAIN}{base}/jobs/{job}/detail/")["data"]
    found, _ = _tca_result(st, base, detail) if detail["state"] == 2 else ({}, OK)
    found = {**found, "detail": detail}

    def render(out: Console, found: dict[str, Any]) -> None:
        table = Table("task", "part", "progress", "state", "result")
        for t in found["detail"]["tasks"]:
            table.add_row(
                escape(t["task_name"]),
                t.get("kind", ""),
                f"{t['progress_rate']}%",
                str(t["state"]),
                str(t["result_code"]),
            )
        out.print(table)
        if "scan" in found:
            summary_table(out, found)

    st.emit(found, render)
    return OK


# ---- CodeArts -------------------------------------------------------------------------------

CODEARTS_RESULT = {1: "failed", 2: "succeeded", 3: "stopped"}


@run.command("codearts")
@click.argument("project")
@click.argument("task")
@json_option
def run_codearts(project, task):
    """Run CodeArts Check task TASK of project PROJECT."""
    st = state()
    headers = {"X-Project-Id": project}
    ran = st.client.json("POST", f"/v2/tasks/{task}/run", json={}, headers=headers)
    exec_id = ran["exec_id"]
    latest: dict[str, Any] = {}

    def poll() -> tuple[bool, dict[str, tuple[int, str]]]:
        got = st.client.json("GET", f"/v2/tasks/{task}/progress", headers=headers)
        latest.clear()
        latest.update(got)
        parts = {p["kind"]: (p["progress_rate"], "") for p in got.get("parts") or []}
        mine = got.get("exec_id") == exec_id
        return mine and got["task_status"] in CODEARTS_RESULT, parts

    def cancel() -> None:
        st.client.json("POST", f"/v2/tasks/{task}/stop", json={}, headers=headers)

    Watch(st).follow(poll, cancel, f"CodeArts run {exec_id} of task {task}")
    status = latest["task_status"]
    found = {
        "scan": f"CodeArts task {task} run {exec_id}",
        "exec_id": exec_id,
        "task_status": status,
        "result": CODEARTS_RESULT[status],
        "message": latest["progress"]["info"],
        "issues": latest.get("issues"),
        "severity": None,
    }
    detail = st.client.json("GET", f"/v2/tasks/{task}/defects-summary", headers=headers)
    found["lines"] = detail.get("code_line")
    found["severity"] = {
        level: int(detail.get(f"{level}_count") or 0)
        for level in ("critical", "major", "minor", "suggestion")
    }
    st.emit(found, summary_table)
    return {2: OK, 3: STOPPED}.get(status, FAILED)


@list_.command("codearts")
@click.argument("project")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--page", default=0, show_default=True, type=click.IntRange(0))
@json_option
def list_codearts(project, limit, page):
    """A CodeArts project's check tasks."""
    st = state()
    found = st.client.json("GET", f"/v2/{project}/tasks", params={"limit": limit, "offset": page})

    def render(out: Console, found: dict[str, Any]) -> None:
        table = Table("task", "name", "repository", "branch", "last check")
        for t in found["tasks"]:
            table.add_row(
                *(
                    escape(str(t.get(k) or ""))
                    for k in ("task_id", "task_name", "git_url", "git_branch", "last_check_time")
                )
            )
        out.print(table)
        out.print(f"{found['total']} tasks")

    st.emit(found, render)
    return OK


@show.command("codearts")
@click.argument("task")
@json_option
def show_codearts(task):
    """A CodeArts task's figures (its last successful run) and pending defects."""
    st = state()
    detail = st.client.json("GET", f"/v2/tasks/{task}/defects-summary")

    def render(out: Console, d: dict[str, Any]) -> None:
        table = Table("figure", "value")
        for key in (
            "task_name",
            "git_url",
            "git_branch",
            "last_check_time",
            "code_line",
            "issue_count",
            "critical_count",
            "major_count",
            "minor_count",
            "suggestion_count",
            "duplication_ratio",
            "complexity_count",
        ):
            table.add_row(key, escape(str(d.get(key, ""))))
        out.print(table)

    st.emit(detail, render)
    return OK
