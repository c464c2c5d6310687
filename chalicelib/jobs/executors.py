"""Where a JOBX step (seed 002) runs, behind one interface the engine drives: `dispatch`
starts nodes and returns at once, `poll` tells the outcomes it can see, `cancel` stops what
was sent. Nothing here waits for a step to end.

- `local`: the runner (runner.py) gets an order per chunk of nodes; it records each node's
  row itself. Poll only finds nodes whose runner is gone.
- `ssm`: Run Command, one SendCommand per 50 instances; each node's row is `queued` before
  the command is sent and holds its command id after. Poll reads every invocation of a
  command in one ListCommandInvocations call; a node past its deadline fails with `timeout`.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from ..core import aws, resources
from ..core.config import settings
from . import results, runner
from .models import ResultModel
from .steps import SSM_MAX_TARGETS, Outcome, StepRun, ssm_script

log = logging.getLogger("taskhub.jobx")

SSM_DONE = {"Success", "Failed", "Cancelled", "TimedOut", "Undeliverable", "Terminated"}
SSM_DOCUMENT = "AWS-RunShellScript"
LOST_GRACE_S = 60  # an SSM row still `queued` this long after it was written was never sent


def now_ms() -> int:
    from .engine import now_ms as engine_now  # the engine's clock, which tests move

    return engine_now()


class Executor(Protocol):
    def dispatch(self, run: StepRun, nodes: list[str]) -> dict[str, Outcome]: ...

    def poll(self, run: StepRun, rows: dict[str, ResultModel]) -> dict[str, Outcome]: ...

    def cancel(self, run: StepRun, rows: dict[str, ResultModel]) -> None: ...


def failed(error: str) -> Outcome:
    return Outcome("fail", None, error[:1000], now_ms(), 0, b"")


class LocalExecutor:
    def dispatch(self, run: StepRun, nodes: list[str]) -> dict[str, Outcome]:
        runner.send(run, nodes)
        return {}

    def poll(self, run: StepRun, rows: dict[str, ResultModel]) -> dict[str, Outcome]:
        now = now_ms()
        return {
            node: failed("lost: the runner stopped while the step ran")
            for node, row in rows.items()
            if row.status == "running" and runner.lost(row, now)
        }

    def cancel(self, run: StepRun, rows: dict[str, ResultModel]) -> None:
        """Nothing to send: the runner watches the step's control row."""


class SsmExecutor:
    def client(self) -> Any:
        return aws.client("ssm")

    def dispatch(self, run: StepRun, nodes: list[str]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        for chunk in _chunks(run, nodes):
            now = now_ms()
            deadline = now + int((run.timeout + LOST_GRACE_S) * 1000)
            fields = {
                node: {
                    "executor": "ssm",
                    "instance_id": run.instance_of(node),
                    "starttime": now,
                    "deadline": deadline,
                }
                for node in chunk
            }
            started, stopped = results.start(
                run.task,
                run.batch,
                run.attempt,
                run.step,
                list(chunk),
                status="queued",
                fields=fields,
            )
            if stopped:
                break
            if not started:
                continue
            try:
                command_id = self._send(run, started)
            except Exception as exc:
                log.warning("ssm send to %s failed: %s", ",".join(started), exc)
                outcomes.update({n: failed(f"ssm send failed: {exc}") for n in started})
                continue
            if not self._sent(run, started, command_id):
                instances = [run.instance_of(n) for n in started]
                self._cancel(command_id, [i for i in instances if i])
                outcomes.update({n: failed("killed: task stopped") for n in started})
        return outcomes

    def _send(self, run: StepRun, nodes: list[str]) -> str:
        per_instance = {
            run.instance_of(node): {k: v for k, v in run.nodes[node].items() if k != "ip"}
            for node in nodes
        }
        shared = {"ip": next(iter(run.nodes.values()))["ip"]}
        timeout = int(run.timeout)
        response = self.client().send_command(
            InstanceIds=list(per_instance),
            DocumentName=SSM_DOCUMENT,
            Comment=f"taskhub {run.task} b{run.batch} a{run.attempt} s{run.step}"[:100],
            TimeoutSeconds=max(30, min(timeout, 2592000)),
            Parameters={
                "commands": [ssm_script(run.command, shared, per_instance)],
                "executionTimeout": [str(timeout)],
            },
        )
        return response["Command"]["CommandId"]

    def _sent(self, run: StepRun, nodes: list[str], command_id: str) -> bool:
        """Record the command id on the nodes' rows, unless the step was stopped meanwhile
        (then the caller cancels the command it just sent)."""
        from pynamodb.exceptions import TransactWriteError

        try:
            with resources.transaction() as tx:
                control, condition = results.not_cancelled(
                    run.task, run.batch, run.attempt, run.step
                )
                tx.condition_check(ResultModel, control.key, control.rk, condition=condition)
                for node in nodes:
                    tx.update(
                        ResultModel(
                            results.key(run.task, run.batch),
                            results.rk(run.attempt, run.step, node),
                        ),
                        actions=[
                            ResultModel.status.set("running"),
                            ResultModel.command_id.set(command_id),
                        ],
                        condition=ResultModel.status == "queued",
                    )
        except TransactWriteError as exc:
            if exc.cause_response_code == "TransactionCanceledException":
                return False
            raise
        return True

    def poll(self, run: StepRun, rows: dict[str, ResultModel]) -> dict[str, Outcome]:
        outcomes: dict[str, Outcome] = {}
        now = now_ms()
        by_command: dict[str, list[tuple[str, ResultModel]]] = {}
        for node, row in rows.items():
            if row.status == "queued" and now > (row.starttime or 0) + LOST_GRACE_S * 1000:
                outcomes[node] = failed("lost: the worker stopped before the command was sent")
            elif row.status == "running" and row.command_id:
                by_command.setdefault(row.command_id, []).append((node, row))
        for command_id, members in by_command.items():
            seen = self._invocations(command_id)
            late: list[str] = []
            for node, row in members:
                got = seen.get(row.instance_id or "")
                if got is not None and got.get("Status") in SSM_DONE:
                    outcomes[node] = _outcome(got, row)
                elif row.deadline is not None and now > row.deadline:
                    late.append(row.instance_id or "")
                    outcomes[node] = failed(f"timeout after {run.timeout:g}s")
            if late:
                self._cancel(command_id, [i for i in late if i])
        return outcomes

    def _invocations(self, command_id: str) -> dict[str, dict[str, Any]]:
        """Every invocation of a command (at most 50 instances: one page), by instance."""
        found: dict[str, dict[str, Any]] = {}
        kwargs: dict[str, Any] = {"CommandId": command_id, "Details": True}
        for _ in range(10):
            page = self.client().list_command_invocations(**kwargs)
            for invocation in page.get("CommandInvocations", []):
                found[invocation.get("InstanceId", "")] = invocation
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
        return found

    def cancel(self, run: StepRun, rows: dict[str, ResultModel]) -> None:
        by_command: dict[str, list[str]] = {}
        for row in rows.values():
            if row.status == "running" and row.command_id and row.instance_id:
                by_command.setdefault(row.command_id, []).append(row.instance_id)
        for command_id, instances in by_command.items():
            self._cancel(command_id, instances)

    def _cancel(self, command_id: str, instances: list[str]) -> None:
        try:
            self.client().cancel_command(CommandId=command_id, InstanceIds=sorted(instances))
        except Exception as exc:  # the stop itself is recorded; a failed cancel is logged
            log.warning("ssm cancel of %s failed: %s", command_id, exc)


def _outcome(invocation: dict[str, Any], row: ResultModel) -> Outcome:
    status = invocation.get("Status", "")
    plugins = invocation.get("CommandPlugins") or [{}]
    output = "".join(p.get("Output") or "" for p in plugins)
    code = plugins[0].get("ResponseCode")
    code = None if code is None or code == -1 else int(code)
    ok = status == "Success" and code in (0, None)
    error = "" if ok else f"ssm {status}" + (f", exit code {code}" if code not in (None, 0) else "")
    started = row.starttime or now_ms()
    return Outcome(
        "success" if ok else "fail", code, error, started, now_ms() - started, output.encode()
    )


def _chunks(run: StepRun, nodes: list[str]) -> list[list[str]]:
    """Groups of at most 50 nodes, an instance at most once per group."""
    chunks: list[dict[str, str]] = []
    for node in nodes:
        instance = run.instance_of(node) or ""
        target = next((c for c in chunks if instance not in c and len(c) < SSM_MAX_TARGETS), None)
        if target is None:
            target = {}
            chunks.append(target)
        target[instance] = node
    return [list(c.values()) for c in chunks]


EXECUTORS: dict[str, Executor] = {"local": LocalExecutor(), "ssm": SsmExecutor()}


def enabled(kind: str) -> bool:
    """`local` runs where the stage allows it (the local stage, or TASKHUB_JOBX_LOCAL=on);
    `ssm` everywhere but the local stage, which has no instances."""
    if kind == "local":
        return settings().embedded or _flag("TASKHUB_JOBX_LOCAL")
    if kind == "ssm":
        return not settings().embedded or _flag("TASKHUB_JOBX_SSM")
    return False


def _flag(name: str) -> bool:
    import os

    return (os.environ.get(name) or "").strip().lower() in {"1", "true", "on", "yes"}
