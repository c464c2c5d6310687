"""The Lambda entry points in app.py: the SQS handler and the reaper schedule."""

import json

from chalicelib.core.config import settings

from .conftest import PROJECT, drain, receive


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
