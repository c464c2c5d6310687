"""The rolling batch engine of JOBX (seed 002): a state machine per task, one SQS message
per move.

A task's cursor is (batch, step, seq, phase). A message `{task, seq, batch, step}` may only act
when its `seq` equals the task's: the worker claims the cursor with a lease (a conditional
write), runs the step on the nodes that have no recorded result yet, records each node's
result once (a conditional put, output to S3), then commits the next cursor with `seq + 1`
in one TransactWrite (with the batch's subtask and, when the task ends, its counters) and
only then sends the next message. Hence:

- a duplicated or late message finds another `seq` and changes nothing;
- a worker killed mid-step leaves its finished nodes recorded and its lease to expire; the
  redelivered message (or the reaper, for a message lost between commit and send) re-runs
  only the nodes without a result. The lease is short and renewed while the step runs, so a
  dead worker's cursor is free again within `LEASE_S`, and a worker that finds its lease
  taken kills what it started;
- a stop is a conditional write on the task that the running worker sees within a second:
  it kills its process groups and its commit fails.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from ..core import aws, ids, resources
from ..core.config import settings
from . import stats
from .executors import (
    SHELLS,
    SSM_MAX_TARGETS,
    LocalExecutor,
    Outcome,
    SsmExecutor,
    command_for,
    undefined_variables,
)
from .models import PlanModel, ResultModel, SubtaskModel, TaskModel

log = logging.getLogger("taskhub.jobx")

QUEUE = resources.queue("jobx", visibility_timeout=960, max_receive_count=10)

clock: Callable[[], float] = time.time  # tests move time forward here
LEASE_S = 30  # a claim lasts this long unless renewed
RENEW_S = 10  # a running step renews its claim this often
# The local server holds its data directory alone, so a claim made before it started was made
# by a server that is gone: it is taken over at once instead of after LEASE_S.
BOOT_MS = int(time.time() * 1000)
SEND_GRACE_S = 300  # a sent message not picked up by then is re-driven by the reaper
SSM_POLL_S = 5
STOP_CHECK_S = 1.0
MAX_TRIES = 5  # claims of one cursor before the task ends `fail`
TAIL = 2048
WATCH = "1"
DECISION_DAYS = 7
local_executor = LocalExecutor()
ssm_executor = SsmExecutor()


def now_ms() -> int:
    return int(clock() * 1000)


# ---- reading ---------------------------------------------------------------------------------


_plans: dict[tuple[str, int], PlanModel] = {}
_plans_lock = threading.Lock()


def load(task_uuid: str) -> TaskModel | None:
    """The task with its plan (`steps`, `batches`, `nodes`) attached."""
    try:
        task = TaskModel.get(task_uuid, consistent_read=True)
    except TaskModel.DoesNotExist:
        return None
    return attach(task, plan_of(task))


def attach(task: TaskModel, plan: PlanModel) -> TaskModel:
    task.steps, task.batches, task.nodes = plan.steps, plan.batches, plan.nodes
    return task


def plan_of(task: TaskModel) -> PlanModel:
    """Plans never change once written, so a warm worker reads each one once."""
    key = (task.uuid, task.starttime)
    with _plans_lock:
        plan = _plans.get(key)
    if plan is None:
        plan = PlanModel.get(task.uuid, consistent_read=True)
        with _plans_lock:
            if len(_plans) >= 256:
                _plans.clear()
            _plans[key] = plan
    return plan


def load_subtask(task_uuid: str, batch: int) -> SubtaskModel | None:
    try:
        return SubtaskModel.get(task_uuid, batch, consistent_read=True)
    except SubtaskModel.DoesNotExist:
        return None


def result_key(task_uuid: str, batch: int) -> str:
    return f"{task_uuid}#{batch}"


def step_results(task_uuid: str, batch: int, step: int) -> dict[str, ResultModel]:
    return {
        r.node: r
        for r in ResultModel.query(
            result_key(task_uuid, batch),
            ResultModel.rk.startswith(f"{step:03d}#"),
            consistent_read=True,
        )
    }


def output_key(task_uuid: str, batch: int, step: int, node: str) -> str:
    return f"jobx/output/{task_uuid}/{batch}/{step}/{node}"


# ---- step selection ------------------------------------------------------------------------


def applies(step: dict[str, Any], kind: str, batch: int, total: int) -> bool:
    """The step's `action` and `batches` conditions for this batch of this task."""
    action = step.get("action", "always")
    if action != "always" and action != ("rollback" if kind == "rollback" else "deploy"):
        return False
    when = step.get("batches", "always")
    first, last = batch == 0, batch == total - 1
    return {
        "firsttime": first,
        "thelasttime": last,
        "notfirsttime": not first,
        "notthelasttime": not last,
        "always": True,
    }[when]


def fail_budget(max_fail: str, total_nodes: int) -> int | None:
    """How many failed nodes a task tolerates; None means no budget (JOBX behaviour)."""
    if not max_fail:
        return None
    if max_fail.endswith("%"):
        return int(Decimal(total_nodes) * Decimal(max_fail[:-1]) / 100)
    return int(max_fail)


def node_count(task: TaskModel) -> int:
    return int(task.node_total or 0)


def variables(task: TaskModel) -> dict[str, str]:
    """The task's values over the job's defaults (already merged when the task started)."""
    return {k: str(v) for k, v in (task.variable or {}).items()}


# ---- sending -----------------------------------------------------------------------------


def message(task: TaskModel) -> dict[str, Any]:
    return {"task": task.uuid, "seq": task.seq, "batch": task.batch, "step": task.step}


def send(task: TaskModel, delay: int = 0) -> None:
    resources.send(QUEUE.name, message(task), delay_seconds=delay)


def kick(task: TaskModel) -> None:
    """Send the first message of a task just written; if that fails, the task's deadline is
    already set and the reaper sends it."""
    try:
        send(task)
    except Exception:
        log.exception("sending the first message of %s failed", task.uuid)


# ---- committing a move of the cursor -------------------------------------------------------


class Move:
    """The next state of a task, committed in one TransactWrite (task + subtask + counters)."""

    def __init__(self, task: TaskModel):
        self.task = task
        self.actions: list[Any] = []
        self.sub_batch: int | None = None
        self.sub_actions: list[Any] = []
        self.status: str | None = None
        self.reason = ""
        self.phase = "run"
        self.delay = 0
        self.cursor = (task.batch, task.step)
        self.new_failed = 0
        self.puts: list[Any] = []  # more items saved in the same transaction (operation log)
        self.send = True  # False: the caller sends the next message itself (see `send_next`)

    def to(self, batch: int, step: int, phase: str = "run", delay: int = 0) -> Move:
        self.cursor, self.phase, self.delay = (batch, step), phase, delay
        return self

    def subtask(self, batch: int, *actions: Any) -> Move:
        """Queue subtask updates; a later update of the same attribute replaces an earlier."""
        self.sub_batch = batch
        for action in actions:
            path = str(action.values[0])
            self.sub_actions = [a for a in self.sub_actions if str(a.values[0]) != path]
            self.sub_actions.append(action)
        return self

    def finish(self, status: str, reason: str = "") -> Move:
        self.status, self.reason, self.phase = status, reason, "done"
        return self


def finish_actions(task: TaskModel, status: str, reason: str, now: int) -> list[Any]:
    actions = [
        TaskModel.status.set(status),
        TaskModel.reason.set(reason[:1000]),
        TaskModel.finishtime.set(now),
        TaskModel.phase.set("done"),
    ]
    if task.kind == "deploy" and task.rollback_version and not task.decision:
        actions += [
            TaskModel.decision.set("wait"),
            TaskModel.watch.set(WATCH),
            TaskModel.deadline.set(decision_deadline(task)),
        ]
    else:
        actions += [TaskModel.watch.remove(), TaskModel.deadline.remove()]
    return actions


def decision_deadline(task: TaskModel) -> int:
    """A rollback decision may be taken until 7 days after the deploy started."""
    return task.starttime + DECISION_DAYS * 86400 * 1000


def add_finish_counters(tx: Any, task: TaskModel, old: str, new: str, now: int) -> None:
    runtime_s = max(0.0, (now - task.starttime) / 1000)
    stats.on_finish(tx, task.project, task.month, task.day, old, new, runtime_s)


def commit(move: Move, *, lease_token: str | None, expect_phase: str | None = None) -> bool:
    """Apply `move` if the task is still at the seq we read (and our lease, when we hold
    one). Returns False when someone else moved first (a stop, a duplicate)."""
    task, now = move.task, now_ms()
    batch, step = move.cursor
    actions = [
        TaskModel.seq.set(task.seq + 1),
        TaskModel.batch.set(batch),
        TaskModel.step.set(step),
        TaskModel.lease_until.set(0),
        TaskModel.lease_token.remove(),
        TaskModel.tries.set(0),
        *move.actions,
    ]
    condition = (TaskModel.seq == task.seq) & TaskModel.status.is_in("init", "running")
    if lease_token is not None:
        condition &= TaskModel.lease_token == lease_token
    if expect_phase is not None:
        condition &= TaskModel.phase == expect_phase
    if move.status is not None:
        actions += finish_actions(task, move.status, move.reason, now)
    else:
        actions.append(TaskModel.phase.set(move.phase))
        if move.phase == "run":
            actions += [
                TaskModel.watch.set(WATCH),
                TaskModel.deadline.set(now + (move.delay + SEND_GRACE_S) * 1000),
            ]
        elif move.phase == "approval":
            timeout = int(task.steps[step].get("timeout") or 86400)
            actions += [TaskModel.watch.set(WATCH), TaskModel.deadline.set(now + timeout * 1000)]
        else:  # waiting for a person, without a deadline
            actions += [TaskModel.watch.remove(), TaskModel.deadline.remove()]
    try:
        with resources.transaction() as tx:
            tx.update(TaskModel(task.uuid), actions=actions, condition=condition)
            if move.sub_batch is not None and move.sub_actions:
                tx.update(
                    SubtaskModel(task.uuid, move.sub_batch),
                    actions=move.sub_actions,
                    condition=SubtaskModel.task.exists(),
                )
            if move.status is not None:
                add_finish_counters(tx, task, task.status, move.status, now)
            for item in move.puts:
                tx.save(item)
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            return False
        raise
    if move.status is None and move.phase == "run" and move.send:
        send_next(move)
    return True


def send_next(move: Move) -> None:
    """The message of a committed move; if sending fails, the reaper re-sends it after the
    deadline the move set."""
    fresh = TaskModel(move.task.uuid)
    fresh.seq, (fresh.batch, fresh.step) = move.task.seq + 1, move.cursor
    try:
        send(fresh, move.delay)
    except Exception:
        log.exception("sending the next message of %s failed", move.task.uuid)


# ---- the handler of one message ----------------------------------------------------------


def handle(body: dict[str, Any], budget_s: float | None = None) -> str:
    """Advance the task named by the message by one move. Returns what happened (for logs
    and tests): stale | busy | moved | lost."""
    task = load(str(body.get("task", "")))
    if task is None or task.status not in ("init", "running") or task.phase != "run":
        return "stale"
    if task.seq != body.get("seq"):
        return "stale"
    token = claim(task)
    if token is None:
        return "busy"
    if task.tries > MAX_TRIES:
        return "moved" if give_up(task, token) else "lost"
    return "moved" if advance(task, token, budget_s) else "lost"


def give_up(task: TaskModel, token: str) -> bool:
    """A cursor whose workers kept dying (each claim after the first follows a crash or a
    kill) ends the task instead of coming back forever."""
    where = f"batch {task.batch + 1} step {task.step + 1}"
    move = Move(task).finish("fail", f"the worker failed {task.tries - 1} times at {where}")
    if load_subtask(task.uuid, task.batch) is not None:
        move.subtask(
            task.batch, SubtaskModel.status.set("fail"), SubtaskModel.finishtime.set(now_ms())
        )
    return commit(move, lease_token=token)


def claim(task: TaskModel) -> str | None:
    """Take the cursor for this worker. The first claim also turns `init` into `running`."""
    now = now_ms()
    token = ids.random_alnum(16)
    until = now + LEASE_S * 1000
    actions = [
        TaskModel.lease_token.set(token),
        TaskModel.lease_until.set(until),
        TaskModel.tries.set(task.tries + 1),
        TaskModel.watch.set(WATCH),
        TaskModel.deadline.set(until),
    ]
    if task.batch < len(task.batches):
        actions.append(TaskModel.started.set(max(task.started or 0, task.batch + 1)))
    free = TaskModel.lease_until < now
    if settings().embedded:
        actions.append(TaskModel.lease_boot.set(BOOT_MS))
        free |= TaskModel.lease_boot < BOOT_MS
    condition = (
        (TaskModel.seq == task.seq)
        & (TaskModel.phase == "run")
        & TaskModel.status.is_in("init", "running")
        & free
    )
    try:
        if task.status == "init":
            with resources.transaction() as tx:
                tx.update(
                    TaskModel(task.uuid),
                    actions=[*actions, TaskModel.status.set("running")],
                    condition=condition & (TaskModel.status == "init"),
                )
                stats.on_status(tx, task.project, task.month, "init", "running")
            task.status = "running"
        else:
            TaskModel(task.uuid).update(actions=actions, condition=condition)
    except (UpdateError, TransactWriteError) as exc:
        if exc.cause_response_code in (
            "ConditionalCheckFailedException",
            "TransactionCanceledException",
        ):
            return None
        raise
    task.lease_token, task.lease_until, task.tries = token, until, task.tries + 1
    return token


def advance(task: TaskModel, token: str, budget_s: float | None = None) -> bool:
    """Run the cursor's step and commit the next cursor; False if someone moved first."""
    if _advance(task, token, budget_s):
        return True
    _settle_lost(task)
    return False


def _settle_lost(task: TaskModel) -> None:
    """Our move lost. If the task ended meanwhile (a stop that came before this worker
    created the batch's subtask), that subtask must not stay `running`."""
    current = TaskModel.get(task.uuid, consistent_read=True)
    if current.status in ("init", "running"):
        return
    try:
        SubtaskModel(task.uuid, task.batch).update(
            actions=[
                SubtaskModel.status.set("fail"),
                SubtaskModel.finishtime.set(current.finishtime or now_ms()),
            ],
            condition=SubtaskModel.task.exists() & (SubtaskModel.status == "running"),
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise


def _advance(task: TaskModel, token: str, budget_s: float | None = None) -> bool:
    batch, step_index = task.batch, task.step
    total = len(task.batches)
    if batch >= total:  # nothing left (an empty rollback): end the task
        return commit(next_batch(Move(task), task, total - 1), lease_token=token)
    sub = start_batch(task, batch)
    steps = task.steps
    if step_index >= len(steps):
        return commit(complete_batch(Move(task), task, sub, []), lease_token=token)
    step = steps[step_index]
    move = Move(task)
    move.subtask(batch, SubtaskModel.step.set(step_index))
    if not applies(step, task.kind, batch, total):
        return commit(after_step(move, task, sub, step_index, []), lease_token=token)
    if step["kind"] == "approval":
        return commit(move.to(batch, step_index, "approval"), lease_token=token)
    nodes = [n for n in task.batches[batch] if n not in set(sub.failed_nodes or [])]
    done, pending = run_step(task, sub, step_index, step, nodes, budget_s)
    if pending:
        # SSM nodes still running: look again later from a delayed message
        return commit(move.to(batch, step_index, "run", delay=SSM_POLL_S), lease_token=token)
    failed = sorted(n for n, r in done.items() if r.status != "success")
    return commit(after_step(move, task, sub, step_index, failed), lease_token=token)


def start_batch(task: TaskModel, batch: int) -> SubtaskModel:
    sub = load_subtask(task.uuid, batch)
    if sub is not None:
        return sub
    sub = SubtaskModel(
        task=task.uuid,
        batch=batch,
        nodes=list(task.batches[batch]),
        status="running",
        starttime=now_ms(),
    )
    try:
        sub.save(condition=SubtaskModel.task.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        sub = load_subtask(task.uuid, batch)
    return sub


def after_step(
    move: Move, task: TaskModel, sub: SubtaskModel, step_index: int, failed: list[str]
) -> Move:
    """Where the cursor goes once every node of the step has a result."""
    batch = task.batch
    failed_nodes = sorted(set(sub.failed_nodes or []) | set(failed))
    if failed:
        move.new_failed = len(failed)
        move.actions.append(TaskModel.failed.add(len(failed)))
        move.subtask(batch, SubtaskModel.failed_nodes.set(failed_nodes))
    failed_total = task.failed + len(failed)
    budget = fail_budget(task.max_fail, node_count(task))
    if failed and budget is not None and failed_total > budget:
        move.subtask(batch, SubtaskModel.status.set("fail"), SubtaskModel.finishtime.set(now_ms()))
        return move.finish(
            "fail", f"max_fail exceeded: {failed_total} node(s) failed, {budget} allowed"
        )
    if failed and task.batch_mode in ("stop", "confirm"):
        move.subtask(
            batch,
            SubtaskModel.status.set("fail"),
            SubtaskModel.confirm.set("WaitConfirm"),
            SubtaskModel.finishtime.set(now_ms()),
        )
        return move.to(batch, step_index, "wait_confirm")
    step = task.steps[step_index]
    everyone_failed = set(failed_nodes) >= set(task.batches[batch])
    if step_index + 1 >= len(task.steps) or everyone_failed:
        if step.get("pause") and not everyone_failed:
            return move.to(batch, len(task.steps), "pause")
        return complete_batch(move, task, sub, failed_nodes)
    return move.to(batch, step_index + 1, "pause" if step.get("pause") else "run")


def complete_batch(move: Move, task: TaskModel, sub: SubtaskModel, failed_nodes: list[str]) -> Move:
    batch = task.batch
    failed_nodes = failed_nodes or list(sub.failed_nodes or [])
    move.subtask(
        batch,
        SubtaskModel.status.set("fail" if failed_nodes else "success"),
        SubtaskModel.finishtime.set(now_ms()),
        SubtaskModel.step.set(len(task.steps)),
    )
    return next_batch(move, task, batch, batch_failed=bool(failed_nodes))


def next_batch(move: Move, task: TaskModel, batch: int, *, batch_failed: bool = False) -> Move:
    if batch + 1 >= len(task.batches):
        failed = task.failed + move.new_failed
        status = "fail" if (failed or task.ignored or batch_failed) else "success"
        return move.to(batch + 1, 0).finish(status, final_reason(task, failed, batch_failed))
    phase = "wait_next" if task.batch_mode == "confirm" else "run"
    return move.to(batch + 1, 0, phase)


def final_reason(task: TaskModel, failed: int, batch_failed: bool = False) -> str:
    if task.ignored:
        return f"{task.ignored} failed batch(es) confirmed past"
    if failed or batch_failed:
        return f"{failed} node(s) failed"
    return ""


# ---- running a step on nodes ---------------------------------------------------------------


def run_step(
    task: TaskModel,
    sub: SubtaskModel,
    step_index: int,
    step: dict[str, Any],
    nodes: list[str],
    budget_s: float | None = None,
) -> tuple[dict[str, ResultModel], list[str]]:
    """Run the step on every node without a result; returns (results, nodes still pending)."""
    done = step_results(task.uuid, task.batch, step_index)
    todo = [n for n in nodes if n not in done]
    if not todo:
        return done, []
    values = variables(task)
    ip = ",".join(task.batches[task.batch])
    command = command_for(step, values)
    if step["kind"] == "cmd" and command.interpreter in SHELLS:
        missing = undefined_variables(step["script"], [*values, "ip", "node", "node_address"])
        if missing:
            for node in todo:
                done[node] = record(
                    task,
                    sub,
                    step_index,
                    node,
                    Outcome("fail", None, f"variable undef: {missing[0]}", now_ms(), 0, b""),
                )
            return done, []
    envs = {}
    for node in todo:
        _executor, address, _ = (task.nodes.get(node) or ["local", node, None])[:3]
        envs[node] = {"node": node, "node_address": address or node, "ip": ip}
    local = {n: e for n, e in envs.items() if (task.nodes.get(n) or ["local"])[0] != "ssm"}
    remote = {n: e for n, e in envs.items() if n not in local}
    timeout = float(step.get("timeout") or 60)
    if budget_s is not None:
        # a local step cannot outlive the worker (900 s on Lambda); ssm steps can
        timeout = max(1.0, min(timeout, budget_s - 30))
    if local:
        stop = threading.Event()
        lock = threading.Lock()

        def on_done(node: str, outcome: Outcome) -> None:
            result = record(task, sub, step_index, node, outcome)
            with lock:
                done[node] = result

        def on_progress(node: str, output: bytes) -> None:
            # a running node's output so far, for tailing; the result replaces it at the end
            key = output_key(task.uuid, task.batch, step_index, node)
            aws.client("s3").put_object(Bucket=settings().bucket, Key=key, Body=output)

        finished = threading.Event()
        watcher = threading.Thread(target=_watch, args=(task, stop, finished), daemon=True)
        watcher.start()
        try:
            local_executor.run(command, local, timeout, stop, on_done, on_progress)
        finally:
            finished.set()
            watcher.join(timeout=5)
    pending = run_ssm(task, sub, step_index, command, remote, timeout, done) if remote else []
    return done, pending


def _watch(task: TaskModel, stop: threading.Event, finished: threading.Event) -> None:
    """While commands run: look at the task once a second (a stop or a lost cursor kills them)
    and renew the claim every `RENEW_S` (a claim someone else took kills them too)."""
    renewed = time.monotonic()
    while not finished.wait(STOP_CHECK_S):
        if time.monotonic() - renewed >= RENEW_S:
            if not renew(task):
                stop.set()
                return
            renewed = time.monotonic()
        try:
            current = load(task.uuid)
        except Exception:  # a transient read error must not kill the step
            log.exception("stop check of %s failed", task.uuid)
            continue
        if (
            current is None
            or current.stop
            or current.status not in ("init", "running")
            or current.seq != task.seq
        ):
            stop.set()
            return


def renew(task: TaskModel) -> bool:
    """Extend our claim; False when it is no longer ours (a transient error keeps it)."""
    until = now_ms() + LEASE_S * 1000
    try:
        TaskModel(task.uuid).update(
            actions=[TaskModel.lease_until.set(until), TaskModel.deadline.set(until)],
            condition=(TaskModel.lease_token == task.lease_token) & (TaskModel.seq == task.seq),
        )
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            log.warning("jobx %s: the claim was taken over; stopping its commands", task.uuid)
            return False
        log.exception("renewing the claim of %s failed", task.uuid)
        return True
    task.lease_until = until
    return True


def record(
    task: TaskModel, sub: SubtaskModel, step_index: int, node: str, outcome: Outcome
) -> ResultModel:
    """Write a node's result once: output to S3, pointer and tail to DynamoDB."""
    key = None
    if outcome.output:
        key = output_key(task.uuid, task.batch, step_index, node)
        aws.client("s3").put_object(Bucket=settings().bucket, Key=key, Body=outcome.output)
    text = outcome.output[-TAIL:].decode("utf-8", "replace")
    result = ResultModel(
        key=result_key(task.uuid, task.batch),
        rk=f"{step_index:03d}#{node}",
        node=node,
        step=step_index,
        status=outcome.status,
        exit_code=outcome.exit_code,
        error=outcome.error[:1000],
        starttime=outcome.starttime_ms,
        duration_ms=outcome.duration_ms,
        output_key=key,
        output_size=len(outcome.output),
        tail=text,
        attempt=sub.attempt or 1,
    )
    try:
        result.save(condition=ResultModel.rk.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        result = ResultModel.get(result.key, result.rk, consistent_read=True)
    return result


def run_ssm(task, sub, step_index, command, remote, timeout, done) -> list[str]:
    """Send to nodes not sent yet (50 instances per command), poll those sent earlier;
    returns the nodes still running. Each command id is recorded as soon as it is known, so
    a worker killed mid-way re-sends at most the one command it had not recorded."""
    sent: dict[str, str] = dict((sub.ssm or {}).get(str(step_index), {}))
    fresh: dict[str, str] = {}
    for chunk in _ssm_chunks(task, [n for n in remote if n not in sent]):
        per_instance = {
            instance: {k: v for k, v in remote[node].items() if k != "ip"}
            for instance, node in chunk.items()
        }
        shared = {"ip": next(iter(remote.values()))["ip"]}
        try:
            command_id = ssm_executor.send(
                per_instance,
                command,
                shared,
                int(timeout),
                f"taskhub {task.uuid} b{task.batch} s{step_index}",
            )
        except Exception as exc:
            log.warning("ssm send to %s failed: %s", ",".join(chunk.values()), exc)
            for node in chunk.values():
                done[node] = record(
                    task,
                    sub,
                    step_index,
                    node,
                    Outcome("fail", None, f"ssm send failed: {exc}"[:500], now_ms(), 0, b""),
                )
            continue
        for node in chunk.values():
            fresh[node] = sent[node] = command_id
        ssm_map = {**(sub.ssm or {}), str(step_index): dict(sent)}
        SubtaskModel(task.uuid, task.batch).update(actions=[SubtaskModel.ssm.set(ssm_map)])
        sub.ssm = ssm_map
    pending = []
    for node in remote:
        if node in done:
            continue
        if node in fresh:  # just sent: look from the delayed message, not right away
            pending.append(node)
            continue
        instance = (task.nodes.get(node) or [None, None, None])[2]
        outcome = ssm_executor.poll(sent[node], instance)
        if outcome is None:
            pending.append(node)
            continue
        outcome.starttime_ms = outcome.starttime_ms or now_ms()
        done[node] = record(task, sub, step_index, node, outcome)
    return pending


def _ssm_chunks(task: TaskModel, nodes: list[str]) -> list[dict[str, str]]:
    """Groups of at most 50 {instance_id: node}, an instance at most once per group."""
    chunks: list[dict[str, str]] = []
    for node in nodes:
        instance = (task.nodes.get(node) or [None, None, None])[2]
        target = next((c for c in chunks if instance not in c and len(c) < SSM_MAX_TARGETS), None)
        if target is None:
            target = {}
            chunks.append(target)
        target[instance] = node
    return chunks


def cancel_ssm(task: TaskModel) -> None:
    """On stop: cancel the running batch's SSM commands on the nodes without a result."""
    sub = load_subtask(task.uuid, task.batch)
    if sub is None:
        return
    sent = (sub.ssm or {}).get(str(task.step), {})
    done = step_results(task.uuid, task.batch, task.step)
    targets: dict[str, list[str]] = {}
    for node, command_id in sent.items():
        if node not in done:
            instance = (task.nodes.get(node) or [None, None, None])[2]
            targets.setdefault(command_id, []).append(instance)
    for command_id, instances in targets.items():
        try:
            ssm_executor.cancel(command_id, sorted(instances))
        except Exception as exc:
            log.warning("ssm cancel of %s failed: %s", command_id, exc)


# ---- the reaper ----------------------------------------------------------------------------


def reap(limit: int = 100) -> dict[str, int]:
    """Re-drive work stuck past its deadline: a lost or dropped message (resend the cursor's
    message; duplicates are harmless), an approval nobody answered (refuse), a rollback
    decision nobody took (expired)."""
    now = now_ms()
    counts = {"resent": 0, "refused": 0, "expired": 0}
    for task in TaskModel.by_deadline.query(WATCH, TaskModel.deadline <= now, limit=limit):
        task = load(task.uuid)
        if task is None or task.deadline is None or task.deadline > now:
            continue
        if task.status in ("init", "running") and task.phase == "run":
            if task.lease_until > now:
                continue
            try:
                TaskModel(task.uuid).update(
                    actions=[TaskModel.deadline.set(now + SEND_GRACE_S * 1000)],
                    condition=(TaskModel.seq == task.seq) & (TaskModel.lease_until <= now),
                )
            except UpdateError:
                continue
            send(task)
            counts["resent"] += 1
        elif task.status == "running" and task.phase == "approval":
            move = Move(task).to(task.batch, task.step).finish("refuse", "approval timed out")
            move.subtask(
                task.batch, SubtaskModel.status.set("fail"), SubtaskModel.finishtime.set(now)
            )
            if commit(move, lease_token=None, expect_phase="approval"):
                counts["refused"] += 1
        elif task.decision == "wait" and expire_decision(task.uuid):
            counts["expired"] += 1
    return counts


def expire_decision(task_uuid: str) -> bool:
    """Record that a rollback decision was not taken in time; False if it was taken."""
    try:
        TaskModel(task_uuid).update(
            actions=[
                TaskModel.decision.set("expired"),
                TaskModel.watch.remove(),
                TaskModel.deadline.remove(),
            ],
            condition=TaskModel.decision == "wait",
        )
    except UpdateError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True
