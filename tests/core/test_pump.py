"""The local queue pump delivers Lambda-shaped SQS events and honours partial failures."""

import datetime
import json
import threading
import time

import pytest
from chalice import Chalice, Cron, Rate

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from chalicelib.core.pump import QueuePump, Schedule


def wait_for(predicate, seconds=20.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_pump_delivers_and_redelivers_reported_failures(aws):
    spec = resources.queue("pumptest", visibility_timeout=1, max_receive_count=3)
    resources.create_all()
    app = Chalice("pumptest")
    seen: list[dict] = []
    lock = threading.Lock()

    @app.on_sqs_message(queue=spec.queue_name, batch_size=5)
    def handle(event):
        failures = []
        with lock:
            for record in event:
                body = json.loads(record.body)
                seen.append({"body": body, "id": record.receipt_handle})
                # the first delivery of "flaky" fails; the redelivery succeeds
                if body["n"] == "flaky" and sum(s["body"]["n"] == "flaky" for s in seen) == 1:
                    failures.append({"itemIdentifier": record.to_dict()["messageId"]})
        return {"batchItemFailures": failures}

    pump = QueuePump(app, workers_per_queue=1)
    pump.start()
    try:
        resources.send("pumptest", {"n": "ok"})
        resources.send("pumptest", {"n": "flaky"})
        assert wait_for(lambda: sum(s["body"]["n"] == "flaky" for s in seen) >= 2)
        assert wait_for(_empty)
        assert [s["body"]["n"] for s in seen].count("ok") == 1
    finally:
        pump.stop()
        resources.QUEUES.pop("pumptest", None)


def _empty() -> bool:
    attrs = aws_clients.client("sqs").get_queue_attributes(
        QueueUrl=resources.queue_url("pumptest"),
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return (
        attrs["ApproximateNumberOfMessages"]
        == "0"
        == attrs["ApproximateNumberOfMessagesNotVisible"]
    )


class Clock:
    """Wall time the test moves by hand; the pump re-reads it at least once a second."""

    def __init__(self, start: float):
        self.now = start
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def move_to(self, moment: float) -> None:
        with self.lock:
            self.now = moment


def utc(*parts) -> float:
    return datetime.datetime(*parts, tzinfo=datetime.UTC).timestamp()


def test_schedules_fire_at_their_rate_and_cron_through_the_pump(aws):
    app = Chalice("scheduletest")
    fired: dict[str, list[str]] = {"rate": [], "cron": []}

    @app.schedule(Rate(1, unit=Rate.MINUTES))
    def every_minute(event):
        fired["rate"].append(event.time)

    @app.schedule(Cron(0, 12, "?", "*", "MON-FRI", "*"))  # noon UTC on weekdays
    def weekday_noon(event):
        fired["cron"].append(event.time)

    clock = Clock(utc(2026, 12, 4, 11, 58, 30))  # a Friday
    pump = QueuePump(app, clock=clock)
    pump.start()
    try:
        clock.move_to(utc(2026, 12, 4, 11, 59, 20))
        assert not wait_for(lambda: fired["rate"], seconds=2.5)  # a rate fires a period after start
        clock.move_to(utc(2026, 12, 4, 11, 59, 31))
        assert wait_for(lambda: fired["rate"] == ["2026-12-04T11:59:30Z"])
        clock.move_to(utc(2026, 12, 4, 12, 0, 5))
        assert wait_for(lambda: fired["cron"] == ["2026-12-04T12:00:00Z"])
        clock.move_to(utc(2026, 12, 7, 12, 0, 1))  # over the weekend, to Monday noon
        assert wait_for(lambda: len(fired["cron"]) == 2 and len(fired["rate"]) == 2)
        assert fired["cron"][1] == "2026-12-07T12:00:00Z"  # Saturday and Sunday are skipped
        assert fired["rate"][1] == "2026-12-07T11:59:30Z"  # one firing for the missed minutes
    finally:
        pump.stop()


def test_schedule_expressions_follow_eventbridge():
    start = utc(2026, 12, 1, 10, 7)  # a Tuesday
    assert Schedule("rate(5 minutes)", start).next_time() == start + 300
    assert Schedule("rate(1 day)", start).next_time() == start + 86400
    # EventBridge counts weekdays from Sunday = 1: 2#1 is the first Monday of the month
    assert Schedule("cron(0 9 ? * 2#1 *)", start).next_time() == utc(2026, 12, 7, 9, 0)
    assert Schedule("cron(15 10 * * ? *)", start).next_time() == utc(2026, 12, 1, 10, 15)
    assert Schedule("cron(0 0 1 1 ? 2028)", start).next_time() == utc(2028, 1, 1)
    for bad in ("rate(0 minutes)", "cron(* * * *)", "every minute"):
        with pytest.raises(ValueError):
            Schedule(bad, start)
