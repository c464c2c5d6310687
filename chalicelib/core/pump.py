"""Local stand-in for Lambda's SQS and schedule triggers (`chalice local` runs neither).

It long-polls every queue an `@app.on_sqs_message` handler listens on and calls that same
handler with the event shape Lambda uses. Messages the handler reports in
`batchItemFailures` (or all of them, if it raises) stay on the queue and come back after the
visibility timeout, as they would on AWS; the redrive policy moves poison messages to the DLQ.
Every `@app.schedule` runs at its `rate(...)` or `cron(...)` expression, as EventBridge
would run it: a rate first fires one period after start, a cron at its next match (UTC).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from chalice.app import CloudWatchEventConfig, ScheduledEventConfig, SQSEventConfig

from . import aws
from .config import settings

log = logging.getLogger("taskhub.pump")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT = {"minute": 60, "hour": 3600, "day": 86400}


class Schedule:
    """When a schedule expression fires next: EventBridge's `rate(N unit)` and its six-field
    `cron(minutes hours day-of-month month day-of-week year)`, in UTC."""

    def __init__(self, expression: str, start: float):
        self.expression = expression
        rate = _RATE.match(expression)
        cron = _CRON.match(expression)
        if rate:
            self.period = int(rate.group(1)) * _UNIT[rate.group(2).rstrip("s")]
            if self.period <= 0:
                raise ValueError(f"{expression}: a rate must be positive")
            self._next = start + self.period
        elif cron:
            fields = cron.group(1).split()
            if len(fields) != 6:
                raise ValueError(f"{expression}: cron takes six fields")
            self.period = 0
            self._years = fields[5]
            self._cron = " ".join([*fields[:4], _cron_weekdays(fields[4])])
            self._next = self._cron_after(start)
        else:
            raise ValueError(f"{expression}: not a rate(...) or cron(...) expression")

    def next_time(self) -> float:
        return self._next

    def due(self, now: float) -> float | None:
        """The latest scheduled time not after `now` (one firing for missed ones), or None."""
        if self._next > now:
            return None
        for _ in range(100_000):
            following = self._following(self._next)
            if following > now:
                break
            self._next = following
        return self._next

    def advance(self) -> None:
        """After firing: the next time."""
        self._next = self._following(self._next)

    def _following(self, moment: float) -> float:
        return moment + self.period if self.period else self._cron_after(moment)

    def _cron_after(self, moment: float) -> float:
        from croniter import croniter

        base = datetime.datetime.fromtimestamp(moment, tz=datetime.UTC)
        it = croniter(self._cron, base)
        for _ in range(100_000):
            candidate = it.get_next(datetime.datetime)
            if _year_matches(self._years, candidate.year):
                return candidate.timestamp()
        raise ValueError(f"{self.expression}: never fires")


def _cron_weekdays(field: str) -> str:
    """EventBridge numbers weekdays 1-7 from Sunday, cron 0-6: shift the digits by one."""
    return re.sub(r"\d+", lambda m: str(int(m.group()) - 1), field.split("#")[0]) + (
        "#" + field.split("#")[1] if "#" in field else ""
    )


def _year_matches(years: str, year: int) -> bool:
    if years in ("*", "?"):
        return True
    for part in years.split(","):
        low, _, high = part.partition("-")
        if low.isdigit() and (int(low) == year if not high else int(low) <= year <= int(high)):
            return True
    return False


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
    def __init__(
        self,
        app: Any,
        *,
        workers_per_queue: int = 4,
        wait_seconds: int = 1,
        clock: Callable[[], float] = time.time,
    ):
        self.app = app
        self.workers_per_queue = workers_per_queue
        self.wait_seconds = wait_seconds
        self.clock = clock  # wall time for schedules; tests pass one they move by hand
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for source in self.app.event_sources:
            if isinstance(source, SQSEventConfig):
                workers = min(self.workers_per_queue, source.maximum_concurrency or 1000)
                for i in range(workers):
                    self._spawn(self._poll_queue, source, f"pump-{source.name}-{i}")
            elif isinstance(source, ScheduledEventConfig | CloudWatchEventConfig) and hasattr(
                source, "schedule_expression"
            ):
                self._spawn(self._run_schedule, source, f"schedule-{source.name}")

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=timeout)

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
        reported = result.get("batchItemFailures", []) if isinstance(result, dict) else []
        failed = {item.get("itemIdentifier") for item in reported if isinstance(item, dict)}
        done = [m for m in messages if m["MessageId"] not in failed]
        for i in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]}
                    for n, m in enumerate(done[i : i + 10])
                ],
            )

    def _run_schedule(self, source: ScheduledEventConfig) -> None:
        expression = source.schedule_expression
        if hasattr(expression, "to_string"):
            expression = expression.to_string()
        try:
            schedule = Schedule(str(expression), self.clock())
        except ValueError as exc:
            log.error("schedule %s is not run locally: %s", source.name, exc)
            return
        handler = self.app.handler_map[source.name]
        while not self._stop.is_set():
            when = schedule.due(self.clock())
            if when is None:
                left = schedule.next_time() - self.clock()
                self._stop.wait(max(0.01, min(left, 1.0)))  # re-read the clock: it may move
                continue
            event = {
                "version": "0",
                "id": hashlib.sha1(f"{source.name}{time.time_ns()}".encode()).hexdigest(),  # noqa: S324
                "source": "aws.events",
                "detail-type": "Scheduled Event",
                "account": "000000000000",
                "time": datetime.datetime.fromtimestamp(when, tz=datetime.UTC).strftime(
                    "%Y-%m-%dT%H:%M:%SZ"
                ),
                "region": settings().region,
                "resources": [],
                "detail": {},
            }
            try:
                handler(event, LambdaContext(source.name))
            except Exception:
                log.exception("scheduled handler %s raised", source.name)
            schedule.advance()
