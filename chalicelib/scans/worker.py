"""Lambda entry points of the scan engine: the SQS handler and the reaper (app.py's
handlers are thin and call these)."""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..core import batches, observability
from . import engine

log = logging.getLogger("taskhub.scans")


def handle_record(record: SQSRecord, budget_s: float | None = None) -> str:
    try:
        body = json.loads(record.body)
    except ValueError:
        log.error("dropping a scan message that is not JSON: %.200s", record.body)
        return "dropped"
    if not isinstance(body, dict):
        log.error("dropping a malformed scan message: %.200s", record.body)
        return "dropped"
    outcome = engine.handle(body, budget_s)
    log.info("scan %s job %s: %s", body.get("op"), body.get("job"), outcome)
    return outcome


def handle_sqs(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    budget_s = batches.budget_s(context)
    return batches.process(event, lambda record: handle_record(record, budget_s), context)


def reap() -> dict[str, int]:
    counts = engine.reap()
    observability.metric("ScanJobsReaped", sum(counts.values()))  # stuck work (alarmed on)
    if any(counts.values()):
        log.info("scan reaper: %s", counts)
    return counts
