"""The Lambda entry points in app.py: the SQS handler and the reaper schedule."""

import json
import time

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError
from pynamodb.exceptions import UpdateError

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from chalicelib.core.config import settings
from chalicelib.core.pump import sqs_event
from chalicelib.jobs import engine, worker
from chalicelib.jobs.models import TaskModel

from .conftest import PROJECT, drain, receive

ARN = "arn:aws:sqs:us-east-1:000000000000:taskhub-test-jobx"


def test_the_app_queue_handler_moves_a_task(jobx, client):
    jobx.group(node="n01")
    jobx.job()
    uuid = jobx.run()
    body = receive(1)[0]["Body"]
    event = client.events.generate_sqs_event(
        message_bodies=[body], queue_name=settings().resource_name("jobx")
    )
    response = client.lambda_.invoke("jobx_queue", event)
    assert response.payload == {"batchItemFailures": []}
    order = receive(1, "jobx-local")[0]["Body"]  # the engine sent the runner its order
    event = client.events.generate_sqs_event(
        message_bodies=[order], queue_name=settings().resource_name("jobx-local")
    )
    assert client.lambda_.invoke("jobx_local", event).payload == {"batchItemFailures": []}
    drain()
    assert jobx.task(uuid)["status"] == "success"
    assert jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}")["data"][0]["status"] == "success"


def test_malformed_messages_are_dropped_not_retried(client):
    bodies = ["not json", json.dumps({"task": "x"}), json.dumps([1, 2])]
    for body in bodies:
        event = client.events.generate_sqs_event(
            message_bodies=[body], queue_name=settings().resource_name("jobx")
        )
        assert client.lambda_.invoke("jobx_queue", event).payload == {"batchItemFailures": []}


def test_the_reaper_schedule_runs(client):
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
    )
    assert client.lambda_.invoke("jobx_reaper", event).payload is None


def test_a_failed_message_comes_back_after_a_short_delay(jobx, monkeypatch):
    """The queue's visibility timeout is six minutes; a failed record is back in seconds."""
    jobx.group(node="n01")
    jobx.job()
    jobx.run()
    first = receive(1)

    def broken(*args, **kwargs):
        raise RuntimeError("transient")

    monkeypatch.setattr(engine, "handle", broken)
    with pytest.raises(BatchProcessingError):
        worker.handle_sqs(sqs_event(first, ARN))
    sqs = aws_clients.client("sqs")
    again = sqs.receive_message(
        QueueUrl=resources.queue_url("jobx"),
        WaitTimeSeconds=20,
        AttributeNames=["ApproximateReceiveCount"],
    ).get("Messages", [])
    assert [m["MessageId"] for m in again] == [first[0]["MessageId"]]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"


def test_the_reaper_reads_every_shard_page_by_page(jobx, monkeypatch):
    """Thirty tasks whose first message was lost, read seven at a time, are all re-sent."""
    jobx.group(node="n01")
    jobx.job()
    monkeypatch.setattr(resources, "send", lambda *a, **k: (_ for _ in ()).throw(OSError("lost")))
    made = [jobx.run() for _ in range(30)]
    monkeypatch.undo()
    monkeypatch.setenv("TASKHUB_JOBX_LOCAL", "on")
    later = time.time() + engine.SEND_GRACE_S + 60
    monkeypatch.setattr(engine, "clock", lambda: later)
    assert engine.reap(page=7)["resent"] == 30
    sent = {json.loads(m["Body"])["task"] for m in drain_bodies()}
    assert sent == set(made)


def test_the_reaper_does_not_swallow_throttling(jobx, monkeypatch):
    jobx.group(node="n01")
    jobx.job()
    monkeypatch.setattr(resources, "send", lambda *a, **k: (_ for _ in ()).throw(OSError("lost")))
    jobx.run()
    monkeypatch.undo()
    later = time.time() + engine.SEND_GRACE_S + 60
    monkeypatch.setattr(engine, "clock", lambda: later)

    def throttled(self, *args, **kwargs):
        raise UpdateError(
            "throttled",
            cause=ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "UpdateItem",
            ),
        )

    monkeypatch.setattr(TaskModel, "update", throttled)
    with pytest.raises(UpdateError):
        engine.reap()


def drain_bodies() -> list[dict]:
    got, out = True, []
    while got:
        got = receive(10)
        out += got
        for m in got:
            aws_clients.client("sqs").delete_message(
                QueueUrl=resources.queue_url("jobx"), ReceiptHandle=m["ReceiptHandle"]
            )
    return out
