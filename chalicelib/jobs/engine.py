"""The rolling batch engine of JOBX (seed 002): a state machine per task, one SQS message
per move.

A task's cursor is (batch, step, seq, phase). A message `{task, seq, batch, step}` may only act
when its `seq` equals the task's: the worker claims the cursor with a short lease (a
conditional write), dispatches the step to the nodes of the batch's current attempt that have
no row yet (executors.py: the local runner or SSM), waits a few seconds for their outcomes,
then commits the next cursor with `seq + 1` in one TransactWrite (with the batch's subtask and,
when the task ends, its counters) and only then sends the next message. A step still running
after the wait commits the same cursor with a delayed message that polls it again. Hence:

- a worker never blocks past its lease, however long the step: it dispatches and polls;
- a duplicated or late message finds another `seq` and changes nothing;
- within one attempt a node runs at most once: its row is created, conditionally, by whoever
  starts it (results.py); a node whose runner died is recorded failed (`lost`), never re-run;
- a worker killed mid-move leaves its lease to expire (at once for a local server that died
  and started again); the redelivery or the reaper goes on from the rows;
- a stop writes the step's control row in the same transaction as the task's end: no node
  starts after it, the runner kills what runs within a second, SSM commands are cancelled.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from ..core import deadlines, ids, observability, resources
from ..core.config import settings
from ..webhooks import events
from . import FACE, results, stats
from .executors import EXECUTORS, enabled
from .models import PlanModel, ResultModel, SubtaskModel, TaskModel
from .steps import SHELLS, Outcome, StepRun, command_for, undefined_variables

log = logging.getLogger("taskhub.jobx")

# Visibility: 6x the worker function's 60 s timeout (AWS's advice for SQS event sources).
QUEUE = resources.queue("jobx", visibility_timeout=360, max_receive_count=10)

clock: Callable[[], float] = time.time  # tests move time forward here
LEASE_S = 60  # a claim lasts this long; a move takes a few seconds
# The local server holds its data directory alone, so a claim made before it started was made
# by a server that is gone: it is taken over at once instead of after LEASE_S.
BOOT_MS = int(time.time() * 1000)
SEND_GRACE_S = 300  # a sent message not picked up by then is re-driven by the reaper
WAIT_S = 8.0  # how long a worker waits for a step's outcomes before polling it later
POLL_S = 2  # the delay of the message that polls a step still running
REDISPATCH_S = 120  # nodes sent this long ago without a row yet are sent again
MAX_TRIES = 5  # claims of one cursor before the task ends `fail`
SHARDS = 16  # the reaper's index is spread over this many partitions
DECISION_DAYS = 7


def now_ms() -> int:
    return int(clock() * 1000)


def watch_key(task_uuid: str) -> str:
    """The reaper index partition of a task: tasks spread over SHARDS hash keys."""
    return f"w{int(hashlib.sha256(task_uuid.encode()).hexdigest(), 16) % SHARDS:02d}"


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
    return results.key(task_uuid, batch)


def output_key(task_uuid: str, batch: int, attempt: int, step: int, node: str) -> str:
    return results.output_key(task_uuid, batch, attempt, step, node)


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
        self.new_failed = 0  # nodes this move records failed (metric NodesFailed)
        self.batch_ended = False  # the batch's steps ran to their end (metric BatchesRun)
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
            TaskModel.watch.set(watch_key(task.uuid)),
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


def end_event(task: TaskModel, status: str, reason: str, now: int) -> events.Ending | None:
    """The webhook deliveries announcing this end, written with it (none without
    callbacks). The end is the task's next seq, so each end is announced once."""
    return events.ending(
        face=FACE,
        namespace=task.project,
        kind="task",
        target=task.uuid,
        end=str(task.seq + 1),
        status=status,
        result=reason,
        started=task.starttime,
        ended=now,
        link=f"/jobx/task/{task.project}/{task.uuid}",
        urls=task.callbacks,
    )


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
    ending = None
    if move.status is not None:
        actions += finish_actions(task, move.status, move.reason, now)
        ending = end_event(task, move.status, move.reason, now)
    else:
        actions.append(TaskModel.phase.set(move.phase))
        if move.phase == "run":
            actions += [
                TaskModel.watch.set(watch_key(task.uuid)),
                TaskModel.deadline.set(now + (move.delay + SEND_GRACE_S) * 1000),
            ]
        elif move.phase == "approval":
            timeout = int(task.steps[step].get("timeout") or 86400)
            actions += [
                TaskModel.watch.set(watch_key(task.uuid)),
                TaskModel.deadline.set(now + timeout * 1000),
            ]
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
            if ending is not None:
                ending.add_to(tx)
            for item in move.puts:
                tx.save(item)
    except TransactWriteError as exc:
        if exc.cause_response_code == "TransactionCanceledException":
            return False
        raise
    if ending is not None:
        ending.send()
    if move.batch_ended:
        observability.metric("BatchesRun")
    if move.new_failed:
        observability.metric("NodesFailed", move.new_failed)
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
        TaskModel.watch.set(watch_key(task.uuid)),
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
    run = step_run(task, sub, step_index, step)
    done, dispatched = execute(run, sub, budget_s)
    if done is None:  # still running: look again from a delayed message
        if dispatched:
            move.subtask(batch, SubtaskModel.dispatched.set(dispatched))
        return commit(move.to(batch, step_index, "run", delay=POLL_S), lease_token=token)
    if dispatched:
        move.subtask(batch, SubtaskModel.dispatched.set(dispatched))
    failed = sorted(n for n, row in done.items() if row.status != "success")
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
        move.batch_ended = True
        move.subtask(batch, SubtaskModel.status.set("fail"), SubtaskModel.finishtime.set(now_ms()))
        return move.finish(
            "fail", f"max_fail exceeded: {failed_total} node(s) failed, {budget} allowed"
        )
    if failed and task.batch_mode in ("stop", "confirm"):
        move.batch_ended = True
        move.subtask(
            batch,
            SubtaskModel.status.set("fail"),
            SubtaskModel.confirm.set("WaitConfirm"),
            SubtaskModel.finishtime.set(now_ms()),
        )
        return move.to(batch, step_index, "wait_confirm")
    step = task.steps[step_index]
    taking_part = sub.attempt_nodes or task.batches[batch]
    everyone_failed = set(failed_nodes) >= set(taking_part)
    if step_index + 1 >= len(task.steps) or everyone_failed:
        if step.get("pause") and not everyone_failed:
            return move.to(batch, len(task.steps), "pause")
        return complete_batch(move, task, sub, failed_nodes)
    return move.to(batch, step_index + 1, "pause" if step.get("pause") else "run")


def complete_batch(move: Move, task: TaskModel, sub: SubtaskModel, failed_nodes: list[str]) -> Move:
    batch = task.batch
    failed_nodes = failed_nodes or list(sub.failed_nodes or [])
    move.batch_ended = True
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


def attempt_nodes(task: TaskModel, sub: SubtaskModel) -> list[str]:
    """The nodes of the batch's current attempt that still take part: all of the batch, or
    the failed ones a retry named; without the nodes that failed an earlier step."""
    nodes = list(sub.attempt_nodes) if sub.attempt_nodes else list(task.batches[task.batch])
    out = set(sub.failed_nodes or [])
    return [n for n in nodes if n not in out]


def step_run(task: TaskModel, sub: SubtaskModel, step_index: int, step: dict[str, Any]) -> StepRun:
    values = variables(task)
    ip = ",".join(task.batches[task.batch])
    envs = {}
    for node in attempt_nodes(task, sub):
        _executor, address, _ = (task.nodes.get(node) or ["local", node, None])[:3]
        envs[node] = {"node": node, "node_address": address or node, "ip": ip}
    return StepRun(
        task=task.uuid,
        batch=task.batch,
        attempt=int(sub.attempt or 1),
        step=step_index,
        command=command_for(step, values),
        timeout=float(step.get("timeout") or 60),
        nodes=envs,
        reach={n: list(task.nodes.get(n) or ["local", n, None]) for n in envs},
    )


def execute(
    run: StepRun, sub: SubtaskModel, budget_s: float | None = None
) -> tuple[dict[str, ResultModel] | None, int | None]:
    """Dispatch the nodes that have no row, then wait (a few seconds at most) for every
    node's outcome. Returns (the rows, once all are final, else None; when nodes were sent)."""
    rows = results.step_rows(run.task, run.batch, run.attempt, run.step)
    dispatched = None
    todo = [n for n in run.nodes if n not in rows]
    recent = sub.dispatched is not None and now_ms() - sub.dispatched < REDISPATCH_S * 1000
    if todo and not (recent and any(rows.values())):
        dispatched = now_ms()
        for node, outcome in dispatch(run, todo).items():
            results.finish(run.task, run.batch, run.attempt, run.step, node, outcome)
    wait = WAIT_S if budget_s is None else max(0.0, min(WAIT_S, budget_s - 30))
    until = time.monotonic() + wait
    pause = 0.02
    while True:
        rows = results.step_rows(run.task, run.batch, run.attempt, run.step)
        open_rows = {n: r for n, r in rows.items() if r.status in results.OPEN}
        for node, outcome in poll(run, open_rows).items():
            results.finish(run.task, run.batch, run.attempt, run.step, node, outcome)
            open_rows.pop(node, None)
        missing = [n for n in run.nodes if n not in rows]
        if not open_rows and not missing:
            return results.step_rows(run.task, run.batch, run.attempt, run.step), dispatched
        if time.monotonic() >= until:
            return None, dispatched
        time.sleep(pause)
        pause = min(0.25, pause * 1.5)


def dispatch(run: StepRun, nodes: list[str]) -> dict[str, Outcome]:
    """Start `nodes` on their executors; outcomes known at once (refused nodes) come back."""
    outcomes: dict[str, Outcome] = {}
    if run.command.interpreter in SHELLS and run.command.script:
        missing = undefined_variables(
            run.command.script, [*run.command.env, "ip", "node", "node_address"]
        )
        if missing:
            return {n: _failed(f"variable undef: {missing[0]}") for n in nodes}
    by_kind: dict[str, list[str]] = {}
    for node in nodes:
        by_kind.setdefault(run.executor_of(node), []).append(node)
    for kind, members in by_kind.items():
        if not enabled(kind):
            outcomes.update(
                {n: _failed(f"the {kind} executor is off in this stage") for n in members}
            )
            continue
        outcomes.update(EXECUTORS[kind].dispatch(run, members))
    return outcomes


def poll(run: StepRun, rows: dict[str, ResultModel]) -> dict[str, Outcome]:
    by_kind: dict[str, dict[str, ResultModel]] = {}
    for node, row in rows.items():
        by_kind.setdefault(row.executor or "local", {})[node] = row
    outcomes: dict[str, Outcome] = {}
    for kind, members in by_kind.items():
        outcomes.update(EXECUTORS[kind].poll(run, members))
    return outcomes


def _failed(error: str) -> Outcome:
    return Outcome("fail", None, error, now_ms(), 0, b"")


def stop_step(task: TaskModel) -> Any | None:
    """The control row that stops the running step, to save in the stop's transaction (None
    when no step of a batch runs)."""
    if task.phase != "run" or task.batch >= len(task.batches):
        return None
    sub = load_subtask(task.uuid, task.batch)
    return results.cancel_action(
        task.uuid, task.batch, int(sub.attempt or 1) if sub else 1, task.step
    )


def cancel_step(task: TaskModel) -> None:
    """After a stop: cancel what the running step sent (SSM commands; local runners see the
    control row themselves). Bounded by the batch's nodes."""
    if task.batch >= len(task.batches) or task.step >= len(task.steps):
        return
    sub = load_subtask(task.uuid, task.batch)
    if sub is None:
        return
    run = step_run(task, sub, task.step, task.steps[task.step])
    rows = results.step_rows(task.uuid, task.batch, run.attempt, task.step)
    open_rows = {n: r for n, r in rows.items() if r.status in results.OPEN}
    ssm_rows = {n: r for n, r in open_rows.items() if r.executor == "ssm"}
    if ssm_rows:
        EXECUTORS["ssm"].cancel(run, ssm_rows)
        for node in ssm_rows:
            results.finish(
                task.uuid, task.batch, run.attempt, task.step, node, _failed("killed: task stopped")
            )


# ---- the reaper ----------------------------------------------------------------------------


def reap(budget_s: float = 50.0, page: int = 100) -> dict[str, int]:
    """Re-drive work stuck past its deadline: a lost or dropped message (resend the cursor's
    message; duplicates are harmless), an approval nobody answered (refuse), a rollback
    decision nobody took (expired). Reads every shard of the index page by page until
    `budget_s` is spent; only a condition that no longer holds is skipped."""
    now = now_ms()
    counts = {"resent": 0, "refused": 0, "expired": 0}
    for item in deadlines.due(
        TaskModel.by_deadline, TaskModel.deadline, "w", SHARDS, now, budget_s, page
    ):
        _reap_one(item.uuid, now, counts)
    return counts


def _reap_one(task_uuid: str, now: int, counts: dict[str, int]) -> None:
    task = load(task_uuid)
    if task is None or task.deadline is None or task.deadline > now:
        return
    if task.status in ("init", "running") and task.phase == "run":
        if task.lease_until > now:
            return
        try:
            TaskModel(task.uuid).update(
                actions=[TaskModel.deadline.set(now + SEND_GRACE_S * 1000)],
                condition=(TaskModel.seq == task.seq) & (TaskModel.lease_until <= now),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
            return
        send(task)
        counts["resent"] += 1
    elif task.status == "running" and task.phase == "approval":
        move = Move(task).to(task.batch, task.step).finish("refuse", "approval timed out")
        move.subtask(task.batch, SubtaskModel.status.set("fail"), SubtaskModel.finishtime.set(now))
        if commit(move, lease_token=None, expect_phase="approval"):
            counts["refused"] += 1
    elif task.decision == "wait" and expire_decision(task.uuid):
        counts["expired"] += 1


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
