"""Per-node results of a JOBX step, keyed by (attempt, step, node), and the step's control row.

A node's row is created by whoever starts the node, just before starting it, with a
conditional write: so within one attempt a node runs at most once, whatever the redelivery,
reaper or crash. A retry starts a new attempt; a late or duplicate worker of an old attempt
can only write that attempt's rows, which the new one does not read. Output goes to S3 under
the same (attempt, step, node).

The control row (node `~`) of an (attempt, step) says `cancel` once the task was stopped;
a node can only be started while it does not (a ConditionCheck in the same transaction).
"""

from __future__ import annotations

import logging
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError

from ..core import aws, resources
from ..core.config import settings
from .models import ResultModel

log = logging.getLogger("taskhub.jobx")

CONTROL = "~"
TAIL = 2048
FINAL = ("success", "fail")
OPEN = ("queued", "running")


def key(task: str, batch: int) -> str:
    return f"{task}#{batch}"


def rk(attempt: int, step: int, node: str) -> str:
    return f"{attempt:03d}#{step:03d}#{node}"


def output_key(task: str, batch: int, attempt: int, step: int, node: str) -> str:
    return f"jobx/output/{task}/{batch}/{attempt}/{step}/{node}"


def step_rows(task: str, batch: int, attempt: int, step: int) -> dict[str, ResultModel]:
    """Every node's row of one (attempt, step); bounded by the batch's nodes."""
    prefix = f"{attempt:03d}#{step:03d}#"
    return {
        row.node: row
        for row in ResultModel.query(
            key(task, batch), ResultModel.rk.startswith(prefix), consistent_read=True
        )
        if row.node != CONTROL
    }


def _control(task: str, batch: int, attempt: int, step: int) -> ResultModel:
    return ResultModel(key(task, batch), rk(attempt, step, CONTROL))


def cancelled(task: str, batch: int, attempt: int, step: int) -> bool:
    try:
        row = ResultModel.get(key(task, batch), rk(attempt, step, CONTROL), consistent_read=True)
    except ResultModel.DoesNotExist:
        return False
    return bool(row.cancel)


def cancel_action(task: str, batch: int, attempt: int, step: int) -> ResultModel:
    """The control row that stops a step, to save in the stop's own transaction."""
    row = _control(task, batch, attempt, step)
    row.node, row.step, row.attempt, row.status, row.cancel = CONTROL, step, attempt, "fail", True
    return row


def not_cancelled(task: str, batch: int, attempt: int, step: int) -> tuple[ResultModel, Any]:
    return _control(task, batch, attempt, step), ResultModel.cancel.does_not_exist()


def start(
    task: str,
    batch: int,
    attempt: int,
    step: int,
    nodes: list[str],
    *,
    status: str,
    fields: dict[str, dict[str, Any]] | None = None,
) -> tuple[list[str], bool]:
    """Create the rows of `nodes` (`queued` or `running`) unless they exist or the step was
    cancelled. Returns (the nodes this caller may start, whether the step is cancelled).
    Up to 99 rows go in one transaction; if it is refused, each node is tried alone."""
    fields = fields or {}
    started: list[str] = []
    for i in range(0, len(nodes), 99):
        chunk = nodes[i : i + 99]
        try:
            with resources.transaction() as tx:
                control, condition = not_cancelled(task, batch, attempt, step)
                tx.condition_check(ResultModel, control.key, control.rk, condition=condition)
                for node in chunk:
                    tx.save(
                        _row(task, batch, attempt, step, node, status, fields.get(node, {})),
                        condition=ResultModel.rk.does_not_exist(),
                    )
            started += chunk
            continue
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
        if cancelled(task, batch, attempt, step):
            return started, True
        for node in chunk:  # some exist already: start the others one by one
            try:
                _row(task, batch, attempt, step, node, status, fields.get(node, {})).save(
                    condition=ResultModel.rk.does_not_exist()
                )
            except PutError as exc:
                if exc.cause_response_code != "ConditionalCheckFailedException":
                    raise
                continue  # someone else started it
            started.append(node)
    return started, False


def _row(
    task: str, batch: int, attempt: int, step: int, node: str, status: str, fields: dict
) -> ResultModel:
    row = ResultModel(key(task, batch), rk(attempt, step, node))
    row.node, row.step, row.attempt, row.status = node, step, attempt, status
    for name, value in fields.items():
        setattr(row, name, value)
    return row


def update(row: ResultModel, actions: list[Any], condition: Any) -> bool:
    """A conditional update of one row; False when the condition no longer holds."""
    try:
        row.update(actions=actions, condition=condition)
    except UpdateError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _values(task: str, batch: int, attempt: int, step: int, node: str, outcome: Any) -> dict:
    """The row's outcome fields; the output itself goes to S3 first."""
    output_at = None
    if outcome.output:
        output_at = output_key(task, batch, attempt, step, node)
        aws.client("s3").put_object(Bucket=settings().bucket, Key=output_at, Body=outcome.output)
    return {
        "status": outcome.status,
        "exit_code": outcome.exit_code,
        "error": outcome.error[:1000],
        "starttime": outcome.starttime_ms,
        "duration_ms": outcome.duration_ms,
        "output_key": output_at,
        "output_size": len(outcome.output),
        "tail": outcome.output[-TAIL:].decode("utf-8", "replace"),
    }


def _final_actions(values: dict[str, Any]) -> list[Any]:
    actions = [
        getattr(ResultModel, name).set(value)
        if value is not None
        else getattr(ResultModel, name).remove()
        for name, value in values.items()
    ]
    actions.append(ResultModel.token.remove())
    return actions


def _open(token: str | None) -> Any:
    condition = ResultModel.status.is_in(*OPEN)
    if token is not None:
        condition &= ResultModel.token == token
    return condition


def finish(
    task: str,
    batch: int,
    attempt: int,
    step: int,
    node: str,
    outcome: Any,
    *,
    token: str | None = None,
) -> bool:
    """Record a node's outcome once: output to S3, pointer and tail on the row. The row must
    still be open (and ours, with `token`); a node with no row yet gets one. False when
    someone else recorded it first."""
    values = _values(task, batch, attempt, step, node, outcome)
    row = ResultModel(key(task, batch), rk(attempt, step, node))
    if update(row, _final_actions(values), _open(token)):
        return True
    if token is not None:
        return False
    try:  # no row at all (the node failed before it could start)
        _row(task, batch, attempt, step, node, outcome.status, values).save(
            condition=ResultModel.rk.does_not_exist()
        )
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False
    return True


def finish_many(
    task: str, batch: int, attempt: int, step: int, outcomes: dict[str, Any], token: str
) -> None:
    """Record several nodes' outcomes under one claim: one transaction per 100 rows, each
    row conditional on being open and ours; if one was taken meanwhile, row by row."""
    values = {n: _values(task, batch, attempt, step, n, o) for n, o in outcomes.items()}
    nodes = list(values)
    for i in range(0, len(nodes), 100):
        chunk = nodes[i : i + 100]
        try:
            with resources.transaction() as tx:
                for node in chunk:
                    tx.update(
                        ResultModel(key(task, batch), rk(attempt, step, node)),
                        actions=_final_actions(values[node]),
                        condition=_open(token),
                    )
        except TransactWriteError as exc:
            if exc.cause_response_code != "TransactionCanceledException":
                raise
            for node in chunk:
                row = ResultModel(key(task, batch), rk(attempt, step, node))
                update(row, _final_actions(values[node]), _open(token))


def publish(task: str, batch: int, attempt: int, step: int, node: str, output: bytes) -> None:
    """A running node's output so far, for tailing; its outcome replaces it at the end."""
    aws.client("s3").put_object(
        Bucket=settings().bucket, Key=output_key(task, batch, attempt, step, node), Body=output
    )
