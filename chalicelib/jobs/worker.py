"""Lambda entry points of the JOBX engine (seed 002): the SQS handler and the reaper.

app.py's handlers are thin and call these. Partial batch failures are reported with
Powertools' `process_partial_response`, so one bad record never redelivers its neighbours.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..core import batches, observability
from . import engine

log = logging.getLogger("taskhub.jobx")
BATCH_SIZE = 1  # one move per invocation: tasks progress in parallel, not behind each other


def handle_record(record: SQSRecord, budget_s: float | None = None) -> str:
    try:
        body = json.loads(record.body)
    except ValueError:
        log.error("dropping a jobx message that is not JSON: %.200s", record.body)
        return "dropped"
    if not isinstance(body, dict) or "task" not in body or not isinstance(body.get("seq"), int):
        log.error("dropping a malformed jobx message: %.200s", record.body)
        return "dropped"
    outcome = engine.handle(body, budget_s)
    log.info("jobx %s seq %s: %s", body.get("task"), body.get("seq"), outcome)
    return outcome


def handle_sqs(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Returns `{"batchItemFailures": [...]}`; when every record failed it raises, so the
    messages come back even where partial batch responses are not switched on. A record that
    failed comes back after a short, growing delay."""
    budget_s = batches.budget_s(context)

    def record_handler(record: SQSRecord) -> str:
        return handle_record(record, budget_s)

    return process(event, record_handler, context)


process = batches.process


def reap() -> dict[str, int]:
    counts = engine.reap()
    observability.metric("JobxTasksReaped", sum(counts.values()))  # stuck work (alarmed on)
    if any(counts.values()):
        log.info("jobx reaper: %s", counts)
    return counts
