"""The local queue pump delivers Lambda-shaped SQS events and honours partial failures."""

import json
import threading
import time

from chalice import Chalice

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from chalicelib.core.pump import QueuePump


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
