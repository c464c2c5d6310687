"""Helpers of the observability tests: the JSON log lines and the EMF documents a run wrote,
and delivery of queue messages or a schedule through the app's own Lambda handlers (so the
middleware runs, as in Lambda)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager

from chalicelib.core import aws as aws_clients
from chalicelib.core import observability, resources
from chalicelib.core.pump import LambdaContext, sqs_event


class Lines:
    """What the `taskhub` log handler wrote while the block ran."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def json(self) -> list[dict]:
        return [json.loads(line) for line in self.text.splitlines() if line.startswith("{")]


@contextmanager
def log_lines(level: str | None = None) -> Iterator[Lines]:
    lines = Lines()
    handler = observability.log_handler()
    log = observability.logger()
    before = log.level
    old = handler.setStream(lines.buffer)
    if level:
        log.setLevel(level)
    try:
        yield lines
    finally:
        handler.setStream(old)
        log.setLevel(before)


def emf(stdout: str) -> list[dict]:
    """The EMF documents among what went to stdout."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]


def metric_values(documents: list[dict], name: str, **dimensions: str) -> list[float]:
    """Every value of metric `name` whose document has exactly `dimensions` (plus `stage`)."""
    wanted = {"stage", *dimensions}
    values: list[float] = []
    for doc in documents:
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        if directive["Namespace"] != "taskhub":
            continue
        named = name in {m["Name"] for m in directive["Metrics"]}
        same = set(directive["Dimensions"][0]) == wanted
        if named and same and all(doc[k] == v for k, v in dimensions.items()):
            values += doc[name]
    return values


def context(function: str) -> LambdaContext:
    return LambdaContext(f"taskhub-test-{function}")


def deliver(function: str, queue: str, messages: list[dict]) -> dict:
    """Hand SQS messages to the app's handler `function`; delete those it did not fail."""
    import app as app_module

    sqs = aws_clients.client("sqs")
    url = resources.queue_url(queue)
    arn = f"arn:aws:sqs:us-east-1:000000000000:{resources.QUEUES[queue].queue_name}"
    result = getattr(app_module, function)(sqs_event(messages, arn), context(function))
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] in failed:
            sqs.change_message_visibility(
                QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
            )
        else:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return result


def schedule(function: str) -> None:
    """Run the app's scheduled handler `function` once, with EventBridge's event."""
    import app as app_module

    event = {
        "version": "0",
        "id": "0" * 40,
        "source": "aws.events",
        "detail-type": "Scheduled Event",
        "account": "000000000000",
        "time": "2026-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {},
    }
    getattr(app_module, function)(event, context(function))
