"""Lambda entry point of webhook deliveries (app.py's handler is thin and calls this)."""

from __future__ import annotations

import json
import logging
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from ..core import batches, observability
from . import delivering

log = logging.getLogger("taskhub.webhooks")


def handle_record(record: SQSRecord) -> str:
    try:
        body = json.loads(record.body)
    except ValueError:
        log.error("dropping a webhook message that is not JSON: %.200s", record.body)
        return "dropped"
    if not isinstance(body, dict) or not isinstance(body.get("delivery"), str):
        log.error("dropping a malformed webhook message: %.200s", record.body)
        return "dropped"
    tries = int(record.attributes.approximate_receive_count or 1)
    return delivering.handle(body, tries)


def handle_sqs(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    """Returns `{"batchItemFailures": [...]}`: a failed attempt comes back after a short,
    growing delay."""
    return batches.process(event, handle_record, context)


def reap() -> int:
    sent = delivering.reap()
    observability.metric("WebhooksResent", sent)  # deliveries whose message was lost
    if sent:
        log.info("webhook reaper: %d deliveries sent again", sent)
    return sent
