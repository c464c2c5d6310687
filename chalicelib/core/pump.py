"""Local stand-in for Lambda's SQS and schedule triggers (`chalice local` runs neither).

It long-polls every queue an `@app.on_sqs_message` handler listens on and calls that same
handler with the event shape Lambda uses. Messages the handler reports in
`batchItemFailures` (or all of them, if it raises) stay on the queue and come back after the
visibility timeout, as they would on AWS; the redrive policy moves poison messages to the DLQ.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from typing import Any

from chalice.app import CloudWatchEventConfig, SQSEventConfig

from . import aws
from .config import settings

log = logging.getLogger("taskhub.pump")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


class LambdaContext:
    """The few attributes handlers and Powertools read from a Lambda context."""

    def __init__(self, name: str, timeout_s: int = 900):
        self.function_name = name
        self.aws_request_id = hashlib.sha1(f"{name}{time.time_ns()}".encode()).hexdigest()  # noqa: S324
        self.invoked_function_arn = (
            f"arn:aws:lambda:{settings().region}:000000000000:function:{name}"
        )
        self.memory_limit_in_mb = 512
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_event(records: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    region = settings().region
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in records
        ]
    }


class QueuePump:
    def __init__(self, app: Any, *, workers_per_queue: int = 4, wait_seconds: int = 1):
        self.app = app
        self.workers_per_queue = workers_per_queue
        self.wait_seconds = wait_seconds
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for source in self.app.event_sources:
            if isinstance(source, SQSEventConfig):
                workers = min(self.workers_per_queue, source.maximum_concurrency or 1000)
                for i in range(workers):
                    self._spawn(self._poll_queue, source, f"pump-{source.name}-{i}")
            elif isinstance(source, CloudWatchEventConfig) and hasattr(
                source, "schedule_expression"
            ):
                self._spawn(self._run_schedule, source, f"schedule-{source.name}")

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _spawn(self, target: Any, source: Any, name: str) -> None:
        thread = threading.Thread(target=target, args=(source,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _poll_queue(self, source: SQSEventConfig) -> None:
        sqs = aws.client("sqs")
        handler = self.app.handler_map[source.name]
        url = arn = None
        while not self._stop.is_set():
            try:
                if url is None:
                    url = sqs.get_queue_url(QueueName=source.queue)["QueueUrl"]
                    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                        "Attributes"
                    ]["QueueArn"]
                got = sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=min(source.batch_size, 10),
                    WaitTimeSeconds=self.wait_seconds,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if got:
                    self.deliver(sqs, url, arn, handler, source.name, got)
            except Exception:
                log.exception("queue pump error on %s", source.queue)
                self._stop.wait(1)

    @staticmethod
    def deliver(sqs: Any, url: str, arn: str, handler: Any, name: str, messages: list) -> None:
        """Call the handler once for the batch and delete what it did not report as failed."""
        try:
            result = handler(sqs_event(messages, arn), LambdaContext(name))
        except Exception:
            log.exception(
                "handler %s raised; %d message(s) will be redelivered", name, len(messages)
            )
            return
        failed = {
            item.get("itemIdentifier")
            for item in (result or {}).get("batchItemFailures", [])
            if isinstance(result, dict)
        }
        done = [m for m in messages if m["MessageId"] not in failed]
        for i in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(done[i : i + 10])
                ],
            )

    def _run_schedule(self, source: CloudWatchEventConfig) -> None:
        expression = str(source.schedule_expression)
        if hasattr(source.schedule_expression, "to_string"):
            expression = source.schedule_expression.to_string()
        match = _RATE.match(expression)
        if not match:
            log.warning("schedule %s (%s) is not run locally", source.name, expression)
            return
        period = int(match.group(1)) * _UNIT[match.group(2).rstrip("s")]
        handler = self.app.handler_map[source.name]
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        while not self._stop.wait(period):
            try:
                handler(event, LambdaContext(source.name))
            except Exception:
                log.exception("scheduled handler %s raised", source.name)
