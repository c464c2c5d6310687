"""Following a JOBX task: one progress bar per batch (nodes done/failed, the current step),
a chosen node's output as it is written, the task's gates answered at a prompt or by a flag,
and Ctrl-C asking whether to stop the task. The exit code says how the task ended."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import click
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.text import Text

from .context import State
from .errors import FAILED, INTERRUPTED, OK, STOPPED, CliError

POLL = 0.3  # seconds between two looks at the task
RUNNING = ("init", "running")
GATES = ("wait_confirm", "pause", "wait_next", "approval")
ENDED = ("success", "fail", "cancel")


def exit_code(task: dict[str, Any]) -> int:
    if task["status"] == "success":
        return OK
    return STOPPED if task.get("stopped") else FAILED


class Jobx:
    """The JOBX routes the CLI calls."""

    def __init__(self, st: State, project: str):
        self.st, self.project = st, project

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.st.client.json(method, f"/jobx{path}", **kwargs)

    def task(self, uuid: str) -> dict[str, Any]:
        data = self.call("GET", f"/task/{self.project}/{uuid}")["data"]
        if data is None:
            raise CliError(f"no task {uuid} in project {self.project}")
        return data

    def subtasks(self, uuid: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/subtask/{self.project}/{uuid}")["data"]

    def results(self, sub: str) -> list[dict[str, Any]]:
        """Every node's result of every step of the batch's current attempt (all pages)."""
        rows, cursor = [], None
        while True:
            params = {"page_size": 1000, **({"cursor": cursor} if cursor else {})}
            body = self.call("GET", f"/subtask/{self.project}/{sub}/node", params=params)
            rows += body["data"]
            cursor = body.get("cursor")
            if not cursor:
                return rows

    def output(self, sub: str, node: str, step: int, offset: int) -> dict[str, Any] | None:
        """A node's output of a step from `offset`; None while there is none yet."""
        try:
            return self.call(
                "GET",
                f"/subtask/{self.project}/{sub}/node/{node}",
                params={"step": step, "offset": offset},
            )["data"]
        except CliError as exc:
            if exc.status == 404:
                return None
            raise

    def put(self, sub: str, action: str, body: dict[str, Any] | None = None) -> None:
        self.call("PUT", f"/subtask/{self.project}/{sub}/{action}", json=body or {})

    def stop(self, uuid: str) -> dict[str, Any]:
        return self.call("DELETE", f"/task/{self.project}/{uuid}")["data"]


@dataclass
class Stream:
    """Where the chosen node's output has been read to."""

    node: str
    batch: int
    attempt: int = 0
    step: int = 0
    offset: int = 0
    pending: str = ""
    header: bool = False
    done: bool = False
    collected: list[dict[str, Any]] = field(default_factory=list)


class Follower:
    def __init__(
        self,
        st: State,
        project: str,
        uuid: str,
        *,
        node: str | None = None,
        yes: bool = False,
        approve: bool = False,
    ):
        self.st, self.api, self.uuid = st, Jobx(st, project), uuid
        self.project = project
        self.node, self.yes, self.approve = node, yes, approve
        self.stream: Stream | None = None
        self.bars: dict[int, Any] = {}
        self.ended_counts: dict[tuple[int, int], tuple[int, int]] = {}
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            console=st.out,
            disable=st.json,
            auto_refresh=True,
        )

    # ---- the loop ------------------------------------------------------------------------

    def run(self) -> int:
        task = self.api.task(self.uuid)
        subs = self.api.subtasks(self.uuid)
        if self.node is not None:
            where = [i for i, s in enumerate(subs) if self.node in s["nodelist"].split(",")]
            if not where:
                raise CliError(f"node {self.node} is in no batch of task {self.uuid}")
            self.stream = Stream(self.node, where[0])
        if not self.st.json:
            self.st.err.print(
                f"task {self.uuid}: job {escape(task['name'])} on group {escape(task['group'])}, "
                f"{task['batches']} batches, {task['nodes']} nodes"
            )
        self.progress.start()
        try:
            code = self._loop(task, subs)
        except KeyboardInterrupt:
            code = self._interrupted()
        finally:
            self.progress.stop()
        return code

    def _loop(self, task: dict[str, Any], subs: list[dict[str, Any]]) -> int:
        while True:
            self._draw(task, subs)
            self._tail(task, subs)
            if task["status"] not in RUNNING:
                self._tail(task, subs, final=True)
                return self._finish(task, subs)
            if task["phase"] in GATES:
                self._gate(task, subs)
            time.sleep(POLL)
            task, subs = self.api.task(self.uuid), self.api.subtasks(self.uuid)

    def _finish(self, task: dict[str, Any], subs: list[dict[str, Any]]) -> int:
        code = exit_code(task)
        self.progress.stop()
        if self.st.json:
            collected = self.stream.collected if self.stream else None
            self.st.emit({"task": task, "subtasks": subs, "output": collected, "exit": code})
            return code
        word = {OK: "[green]success[/]", STOPPED: "[yellow]stopped[/]"}.get(
            code, f"[red]{task['status']}[/]"
        )
        reason = f": {escape(task['summary'])}" if task.get("summary") and code != OK else ""
        self.st.out.print(
            f"task {self.uuid} {word}{reason} ({task['duration']:.1f} s)", highlight=False
        )
        return code

    # ---- the bars ------------------------------------------------------------------------

    def _counts(self, task: dict[str, Any], sub: dict[str, Any]) -> tuple[int, int]:
        """(nodes done, nodes failed) of a batch: of its current step while it runs."""
        key = (sub["batch"], sub.get("attempt", 0))
        if sub["status"] == "init":
            return 0, 0
        if sub["status"] in ENDED and key in self.ended_counts:
            return self.ended_counts[key]
        if sub["status"] == "success":
            failed_nodes = len(sub.get("failed_nodes") or [])
            counts = (sub["nodes"] - failed_nodes, failed_nodes)
        elif sub["status"] == "cancel":
            counts = (0, 0)
        else:
            rows = self.api.results(sub["uuid"])
            failed = {r["node"] for r in rows if r["status"] == "fail"}
            failed |= set(sub.get("failed_nodes") or [])
            if sub["status"] == "running":
                step = sub["step"]
                done = {r["node"] for r in rows if r["step"] == step and r["status"] == "success"}
                done -= failed
            else:
                done = {r["node"] for r in rows} - failed
            counts = (len(done), len(failed))
        if sub["status"] in ENDED:
            self.ended_counts[key] = counts
        return counts

    def _draw(self, task: dict[str, Any], subs: list[dict[str, Any]]) -> None:
        if self.st.json:
            return
        steps = task.get("steps") or []
        for sub in subs:
            index = sub["batch"] - 1
            if index not in self.bars:
                self.bars[index] = self.progress.add_task(
                    f"batch {sub['batch']}/{len(subs)}", total=sub["nodes"], info=""
                )
            done, failed = self._counts(task, sub)
            info = sub["status"]
            if sub["status"] == "running":
                step = sub["step"]
                name = steps[step]["name"] if step < len(steps) else ""
                info = f"step {step + 1}/{len(steps)} {escape(name)}"
                if sub.get("waiting"):
                    info += f" - waits: {sub['waiting'].replace('_', ' ')}"
            if failed:
                info += f" [red]{failed} failed[/]"
            if sub.get("attempt", 0) > 1:
                info += f" (attempt {sub['attempt']})"
            self.progress.update(self.bars[index], completed=done + failed, info=info)

    # ---- one node's output ---------------------------------------------------------------

    def _tail(self, task: dict[str, Any], subs: list[dict[str, Any]], final: bool = False):
        s = self.stream
        if s is None or s.done:
            return
        sub = subs[s.batch]
        if sub["status"] == "init":
            return
        if sub.get("attempt", 1) != s.attempt:  # a retry: the node's output starts again
            s.attempt, s.step, s.offset, s.pending, s.header = (
                sub.get("attempt", 1),
                0,
                0,
                "",
                False,
            )
        steps = task.get("steps") or []
        while s.step < len(steps):
            if steps[s.step]["kind"] == "approval":
                s.step += 1
                continue
            got = self.api.output(sub["uuid"], s.node, s.step, s.offset)
            batch_ended = sub["status"] in ENDED or final
            if got is None:  # not started at this step yet, or never will be (skipped)
                if batch_ended or (sub["status"] == "running" and sub["step"] > s.step):
                    s.step += 1
                    continue
                return
            self._show(s, steps, got)
            if not got["complete"]:
                if got["status"] in ("success", "fail"):  # more than one page of it
                    continue
                return
            self._flush(s)
            s.collected[-1].update(status=got["status"], exit_code=got["exit_code"])
            s.step, s.offset, s.header = s.step + 1, 0, False
        s.done = True

    def _show(self, s: Stream, steps: list[dict[str, Any]], got: dict[str, Any]) -> None:
        if not s.header:
            s.header = True
            if not self.st.json:
                name = steps[s.step]["name"]
                self.progress.console.print(
                    f"[bold]-- {escape(s.node)} - step {s.step + 1} {escape(name)} --[/]"
                )
            s.collected.append({"step": s.step, "name": steps[s.step]["name"], "output": ""})
        s.offset = got["next_offset"]
        text = s.pending + got["output"]
        complete, _, s.pending = text.rpartition("\n")
        if complete or text.endswith("\n"):
            self._print(s, complete + "\n")

    def _flush(self, s: Stream) -> None:
        if s.pending:
            self._print(s, s.pending + "\n")
            s.pending = ""

    def _print(self, s: Stream, text: str) -> None:
        s.collected[-1]["output"] += text
        if not self.st.json:
            self.progress.console.print(text, end="", markup=False, highlight=False)

    # ---- gates ---------------------------------------------------------------------------

    def _gate(self, task: dict[str, Any], subs: list[dict[str, Any]]) -> None:
        phase = task["phase"]
        sub = next((s for s in subs if s.get("waiting") == phase), None)
        if sub is None:
            return
        steps = task.get("steps") or []
        step = steps[sub["step"]]["name"] if sub["step"] < len(steps) else ""
        where = f"batch {sub['batch']}/{len(subs)}"
        if phase == "approval":
            question = f"step {escape(repr(step))} of {where} asks for approval"
            flagged = self.yes or self.approve
            choices = {"a": "approve", "r": "refuse", "s": "stop the task"}
        elif phase == "wait_confirm":
            failed = ",".join(sub.get("failed_nodes") or []) or "?"
            question = f"{where} failed on {escape(failed)}"
            flagged = self.yes
            choices = {
                "c": "confirm and go on (the task will end fail)",
                "r": "retry the batch",
                "f": "retry its failed nodes",
                "s": "stop the task",
            }
        else:
            why = (
                f"paused after step {escape(repr(step))}" if phase == "pause" else "waits to start"
            )
            question = f"{where} {why}"
            flagged = self.yes
            choices = {"n": "go on to the next", "s": "stop the task"}
        if flagged:
            answer = next(iter(choices))
            self._say(f"{question}: {choices[answer]} (flag)")
        elif self.st.interactive():
            answer = self._ask(question, choices)
        else:
            flag = "--approve or --yes" if phase == "approval" else "--yes"
            verb = "approve" if phase == "approval" else "confirm"
            raise CliError(
                f"task {self.uuid} waits: {Text.from_markup(question).plain}; answer it with "
                f"`taskhub jobx {verb} {self.project} {self.uuid}`, or follow with {flag}",
                code=FAILED,
            )
        self._answer(sub, answer, phase)

    def _ask(self, question: str, choices: dict[str, str]) -> str:
        self.progress.stop()
        try:
            self.st.out.print(f"[bold yellow]?[/] task {self.uuid}: {question}")
            for key, text in choices.items():
                self.st.out.print(f"  [bold]{key}[/]  {text}")
            return click.prompt("Your answer", type=click.Choice(list(choices)), show_choices=True)
        finally:
            self.progress.start()

    def _answer(self, sub: dict[str, Any], answer: str, phase: str) -> None:
        actions = {
            ("approval", "a"): ("approve", {"opinion": "agree"}),
            ("approval", "r"): ("approve", {"opinion": "refuse"}),
            ("wait_confirm", "c"): ("confirm", None),
            ("wait_confirm", "r"): ("retry", {"only_failed": False}),
            ("wait_confirm", "f"): ("retry", {"only_failed": True}),
        }
        try:
            if answer == "s":
                self.api.stop(self.uuid)
            elif (phase, answer) in actions:
                action, body = actions[(phase, answer)]
                self.api.put(sub["uuid"], action, body)
            else:
                self.api.put(sub["uuid"], "next")
        except CliError as exc:
            if exc.status != 409:  # answered meanwhile (by someone else): read it again
                raise

    def _say(self, text: str) -> None:
        if not self.st.json:
            self.progress.console.print(text, highlight=False)

    # ---- Ctrl-C ----------------------------------------------------------------------------

    def _interrupted(self) -> int:
        self.progress.stop()
        if not self.st.interactive():
            self.st.err.print(f"interrupted; task {self.uuid} goes on running")
            return INTERRUPTED
        try:
            stop = click.confirm(f"\nStop task {self.uuid}?", default=False)
        except (KeyboardInterrupt, click.Abort):
            stop = False
        if not stop:
            self.st.out.print(
                f"task {self.uuid} goes on running; follow it again with "
                f"`taskhub jobx follow {self.project} {self.uuid}`"
            )
            return INTERRUPTED
        task = self.api.stop(self.uuid)
        self.st.out.print(
            f"task {self.uuid} stopped: {escape(task.get('summary') or task['status'])}"
        )
        return STOPPED
