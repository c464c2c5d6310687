"""The local executor's runner (seed 002 `cmd` and `scp` steps on the worker host).

The engine never runs a step itself: it sends the runner an order (one SQS message of the
`jobx-local` queue per chunk of a batch's nodes, holding everything the step needs) and
polls the results. The runner is its own Lambda function, whose role can only record
results (in the local stage, the pump's thread): it creates each node's `running` row before
it starts the node (so a redelivered order starts nobody twice), runs the node through the
warden (a fresh environment, in a scratch directory, as the stage's unprivileged step user
when the worker runs as root), kills it on timeout or when the step's control row says
stop, and records the outcome under its claim.

Orders are cut so that a chunk's waves of `POOL` parallel nodes end inside `BUDGET_S`.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core import batches, ids, resources
from ..core.config import settings
from ..core.warden import warden
from . import results
from .steps import MAX_OUTPUT, Outcome, StepCommand, StepRun

log = logging.getLogger("taskhub.jobx")

# Visibility: 6x the runner function's 900 s timeout (AWS's advice for SQS event sources).
QUEUE = resources.queue("jobx-local", visibility_timeout=5400, max_receive_count=3)
POOL = 16  # nodes of one order run at once
BUDGET_S = 840  # a runner's time for one order (Lambda stops it at 900 s)
WATCH_S = 1.0  # how often running nodes look at their step's control row
FLUSH_DONE_S = 0.05  # how often finished nodes are recorded, together
FLUSH_S = 2.0  # how often a running node's output so far is published
LOST_GRACE_S = 60  # past timeout + this, an open row's runner is taken as gone
MAX_ORDER_BYTES = 200_000  # an SQS message holds 256 KiB
BOOT_MS = int(time.time() * 1000)
TICK_S = 0.05


def runner_id(request_id: str = "") -> str:
    return f"local:{BOOT_MS}" if settings().embedded else f"lambda:{request_id or BOOT_MS}"


def lost(row: Any, now_ms: int) -> bool:
    """Is the runner of an open row gone? A local server that started after the row was
    written is not the one that ran it; elsewhere the row's deadline has passed."""
    runner = row.runner or ""
    if settings().embedded and runner.startswith("local:") and runner != runner_id():
        return True
    return row.deadline is not None and now_ms > row.deadline


# ---- orders (the engine's side) --------------------------------------------------------------


def orders(run: StepRun, nodes: list[str]) -> list[dict[str, Any]]:
    """The orders for `nodes`: as many nodes per order as its waves fit in BUDGET_S, fewer
    when the text would not fit in one message."""
    waves = max(1, int(BUDGET_S // max(1.0, run.timeout)))
    size = POOL * waves
    out: list[dict[str, Any]] = []
    start = 0
    while start < len(nodes):
        chunk = nodes[start : start + size]
        order = _order(run, chunk)
        while len(chunk) > 1 and len(json.dumps(order)) > MAX_ORDER_BYTES:
            chunk = chunk[: len(chunk) // 2]
            order = _order(run, chunk)
        out.append(order)
        start += len(chunk)
    return out


def _order(run: StepRun, nodes: list[str]) -> dict[str, Any]:
    command = run.command
    return {
        "task": run.task,
        "batch": run.batch,
        "attempt": run.attempt,
        "step": run.step,
        "timeout": min(run.timeout, BUDGET_S),
        "command": {
            "interpreter": command.interpreter,
            "script": command.script,
            "env": command.env,
            "user": command.user,
        },
        "nodes": {node: run.nodes[node] for node in nodes},
    }


def send(run: StepRun, nodes: list[str]) -> None:
    resources.send_batch(QUEUE.name, orders(run, nodes))


# ---- running an order (the runner's side) ------------------------------------------------------


def handle_sqs(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    budget_s = BUDGET_S
    request_id = getattr(context, "aws_request_id", "") if context is not None else ""
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        budget_s = min(BUDGET_S, context.get_remaining_time_in_millis() / 1000 - 30)

    def record_handler(record: Any) -> str:
        try:
            order = json.loads(record.body)
        except ValueError:
            log.error("dropping a runner order that is not JSON: %.200s", record.body)
            return "dropped"
        return run_order(order, budget_s, request_id)

    return batches.process(event, record_handler, context)


def step_user(wanted: str | None) -> tuple[str | None, str | None]:
    """(the user a step runs as, or why it cannot run). A worker running as root never runs
    a step as root: it runs as `TASKHUB_STEP_USER` (default `nobody`), or as the step's own
    `user` when the stage allows that user in `TASKHUB_STEP_USERS`."""
    allowed = {u.strip() for u in os.environ.get("TASKHUB_STEP_USERS", "").split(",") if u}
    if wanted and wanted not in allowed:
        return None, f"user {wanted} is not allowed on this worker"
    if os.geteuid() != 0:
        if wanted and wanted != pwd.getpwuid(os.geteuid()).pw_name:
            return None, f"cannot run as {wanted}: the worker does not run as root"
        return None, None
    user = wanted or os.environ.get("TASKHUB_STEP_USER") or "nobody"
    try:
        pwd.getpwnam(user)
    except KeyError:
        return None, f"no such user {user} on this worker"
    return user, None


def run_order(order: dict[str, Any], budget_s: float = BUDGET_S, request_id: str = "") -> str:
    command = StepCommand(**order["command"])
    timeout = max(1.0, min(float(order["timeout"]), budget_s))
    nodes: dict[str, dict[str, str]] = order["nodes"]
    token = ids.random_alnum(16)
    user, refused = step_user(command.user)
    claim = Claim(order, token, runner_id(request_id), timeout)
    if refused:
        for node in nodes:
            if claim.take(node, list(nodes)):
                claim.done(node, Outcome("fail", None, refused, _now_ms(), 0, b""))
        return "refused"
    stop = threading.Event()
    finished = threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(order, claim, stop, finished), name="jobx-runner-watch", daemon=True
    )
    watcher.start()
    try:
        with warden().scratch("step-", user=user) as scratch:
            script = scratch / "step"
            script.write_text(command.script, encoding="utf-8")
            script.chmod(0o644)
            workers = min(POOL, len(nodes))
            order_of = list(nodes)
            with ThreadPoolExecutor(workers, thread_name_prefix="jobx-node") as pool:
                futures = [
                    pool.submit(
                        _one,
                        claim,
                        command,
                        str(script),
                        str(scratch),
                        node,
                        nodes[node],
                        user,
                        stop,
                        order_of[i + 1 : i + workers],
                    )
                    for i, node in enumerate(order_of)
                ]
                for future in futures:
                    future.result()
    finally:
        finished.set()
        watcher.join(timeout=5)
        claim.flush()
    return f"ran {claim.count}"


def _now_ms() -> int:
    return int(time.time() * 1000)


class Claim:
    """One order's claims: a node's row is created (`running`, with our token) right before
    the node starts, unless it exists or the step was stopped; only we record its outcome.
    Rows are created for up to POOL nodes at once, in one transaction, as slots free up."""

    def __init__(self, order: dict[str, Any], token: str, runner: str, timeout: float):
        self.key = (order["task"], order["batch"], order["attempt"], order["step"])
        self.token, self.runner, self.timeout = token, runner, timeout
        self.count = 0
        self.stopped = False
        self._lock = threading.Lock()
        self._ready: set[str] = set()
        self._done: dict[str, Outcome] = {}

    def take(self, node: str, upcoming: list[str] | None = None) -> bool:
        """Claim `node` (and, in the same transaction, the next `upcoming` ones)."""
        with self._lock:
            if node in self._ready:
                self._ready.discard(node)
                return True
            if self.stopped:
                return False
            wanted = [node, *[n for n in (upcoming or []) if n != node]]
            now = _now_ms()
            row = {
                "runner": self.runner,
                "token": self.token,
                "starttime": now,
                "deadline": now + int((self.timeout + LOST_GRACE_S) * 1000),
                "executor": "local",
            }
            started, stopped = results.start(
                *self.key, wanted, status="running", fields=dict.fromkeys(wanted, row)
            )
            self.stopped = stopped
            self.count += len(started)
            self._ready.update(n for n in started if n != node)
            return node in started

    def done(self, node: str, outcome: Outcome) -> None:
        """Queue the outcome; `flush` records what is queued in one transaction."""
        with self._lock:
            self._done[node] = outcome

    def flush(self) -> None:
        with self._lock:
            done, self._done = self._done, {}
        if done:
            results.finish_many(*self.key, done, self.token)

    def publish(self, node: str, output: bytes) -> None:
        results.publish(*self.key, node, output)


def _watch(
    order: dict[str, Any], claim: Claim, stop: threading.Event, finished: threading.Event
) -> None:
    """Record finished nodes every FLUSH_DONE_S, and once a second look whether the step
    has been stopped."""
    key = (order["task"], order["batch"], order["attempt"], order["step"])
    looked = time.monotonic()
    while not finished.wait(FLUSH_DONE_S):
        try:
            claim.flush()
        except Exception:  # recorded at the end instead
            log.exception("recording outcomes of %s failed", order["task"])
        if stop.is_set() or time.monotonic() - looked < WATCH_S:
            continue
        looked = time.monotonic()
        try:
            if results.cancelled(*key):
                stop.set()
        except Exception:  # a transient read error must not kill the step
            log.exception("stop check of %s failed", order["task"])


def _base_env(home: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": home,
        "LANG": "C.UTF-8",
        "TMPDIR": home,
    }


def _one(claim, command, script, workdir, node, env, user, stop, upcoming) -> None:
    if stop.is_set() or not claim.take(node, upcoming):
        return  # stopped before it started, or started by someone else
    started = time.time()
    out_path = os.path.join(workdir, f"out-{node}-{time.time_ns()}")
    full_env = {**_base_env(workdir), **command.env, **env}
    try:
        child = warden().spawn(
            [command.interpreter, script], env=full_env, cwd=workdir, output=out_path, user=user
        )
    except OSError as exc:
        claim.done(node, Outcome("fail", None, f"{exc}", int(started * 1000), 0, b""))
        return
    error = ""
    deadline = started + claim.timeout
    flushed_at, flushed_size = started, 0
    while child.wait(TICK_S) is None:
        if stop.is_set():
            error = "killed: task stopped"
        elif time.time() >= deadline:
            error = f"timeout after {claim.timeout:g}s"
        if error:
            child.kill()
            child.wait(5)
            break
        if time.time() - flushed_at >= FLUSH_S:
            flushed_at = time.time()
            size = os.path.getsize(out_path) if os.path.exists(out_path) else 0
            if size != flushed_size:
                flushed_size = size
                try:
                    claim.publish(node, _read(out_path))
                except Exception:  # tailing is best effort; the outcome is what counts
                    log.exception("publishing the output of %s failed", node)
    output = _read(out_path) if os.path.exists(out_path) else b""
    code = child.returncode
    status = "success" if code == 0 and not error else "fail"
    if not error and code != 0:
        error = f"exit code {code}"
    ended = time.time()
    claim.done(
        node,
        Outcome(status, code, error, int(started * 1000), int((ended - started) * 1000), output),
    )


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(MAX_OUTPUT)
