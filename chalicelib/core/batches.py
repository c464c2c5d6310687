"""SQS batches for every queue handler: Powertools' partial batch processing, so one bad
record never redelivers its neighbours, and failed records brought back sooner. Every line
logged while a record is handled carries its message id and the ids its body names."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from . import observability, resources


def process(event: dict[str, Any], record_handler: Any, context: Any) -> dict[str, Any]:
    """Returns `{"batchItemFailures": [...]}`; when every record failed it raises, so the
    messages come back even where partial batch responses are not switched on. A failed
    record comes back after a short, growing delay (`resources.retry_later`)."""
    processor = BatchProcessor(event_type=EventType.SQS)

    def handle(record: Any) -> Any:
        with observability.log_keys(message_id=record.message_id, **_ids(record.body)):
            return record_handler(record)

    try:
        result = process_partial_response(
            event=event, record_handler=handle, processor=processor, context=context
        )
    except BatchProcessingError:
        resources.retry_later(event, [r.get("messageId") for r in event.get("Records", [])])
        raise
    resources.retry_later(event, [f["itemIdentifier"] for f in result["batchItemFailures"]])
    return result


def budget_s(context: Any) -> float | None:
    """Seconds the invocation has left, when Lambda says."""
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        return context.get_remaining_time_in_millis() / 1000
    return None


def _ids(body: str) -> dict[str, Any]:
    try:
        return observability.message_keys(json.loads(body))
    except ValueError:  # the worker drops it, and says so
        return {}
