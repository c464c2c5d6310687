"""JOBX tasks that name callback URLs: one signed event per end, retried with a growing
delay, dead after its attempts, listed and redelivered; nothing sent twice; URLs off the
allow-list refused at submit."""

from __future__ import annotations

import json

import pytest

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from chalicelib.core.pump import sqs_event
from chalicelib.jobs import worker as jobx_worker
from chalicelib.jobs.models import TaskModel
from chalicelib.webhooks import delivering, events
from chalicelib.webhooks import worker as webhooks_worker
from chalicelib.webhooks.models import DeliveryModel
from tests.jobs.conftest import PROJECT, Jobx, deliver, drain, receive, run_orders, workspace
from tests.observed import log_lines
from tests.webhooks.conftest import SECRET, allow

pytestmark = pytest.mark.usefixtures("fast_engine")


@pytest.fixture
def jobx(api, apply_workspace, receiver):
    apply_workspace({**workspace(), "webhooks": [allow("jobx", PROJECT, receiver.url("/hooks/*"))]})
    client = Jobx(api)
    client.group()
    client.job()
    return client


def listing(api, admin, namespace=PROJECT, **query):
    params = "&".join(
        f"{k}={v}" for k, v in {"face": "jobx", "namespace": namespace, **query}.items()
    )
    status, body = api.call("GET", f"/admin/v1/webhooks/deliveries?{params}", headers=admin)
    assert status == 200, body
    return body


def test_a_task_that_succeeds_delivers_one_signed_event(jobx, receiver, hooks, api, admin):
    uuid = jobx.run(callback=receiver.url("/hooks/ci"))
    drain()
    assert jobx.task(uuid)["status"] == "success"
    assert hooks.drain() == 1
    assert receiver.refused == []
    (got,) = receiver.received
    body, headers = got["body"], got["headers"]
    assert body["event"] == "task.ended" and body["kind"] == "task"
    assert (body["face"], body["namespace"], body["id"]) == ("jobx", PROJECT, uuid)
    assert body["status"] == "success" and body["attempt"] == 1
    assert body["link"] == f"/jobx/task/{PROJECT}/{uuid}"
    assert body["started"] <= body["ended"]
    assert headers["X-Taskhub-Event"] == "task.ended"
    assert body["event_id"].startswith("evt_") and body["delivery_id"].startswith("dlv_")
    (row,) = listing(api, admin)["deliveries"]
    assert row["state"] == "delivered" and row["delivery_id"] == body["delivery_id"]
    assert row["attempts"][0]["status"] == 204


def test_a_task_names_several_callbacks_each_gets_its_event(jobx, receiver, hooks):
    uuid = jobx.run(callbacks=[receiver.url("/hooks/a"), receiver.url("/hooks/b")])
    drain()
    hooks.drain()
    bodies = [r["body"] for r in receiver.received]
    assert sorted(b["id"] for b in bodies) == [uuid, uuid]
    assert len({b["event_id"] for b in bodies}) == 1  # one event
    assert len({b["delivery_id"] for b in bodies}) == 2  # two deliveries


def test_deliveries_are_listed_a_page_at_a_time(jobx, receiver, hooks, api, admin):
    for _ in range(3):
        jobx.run(callback=receiver.url("/hooks/p"))
    drain()
    hooks.drain()
    first = listing(api, admin, limit=2)
    assert len(first["deliveries"]) == 2 and first["cursor"]
    rest = listing(api, admin, limit=2, cursor=first["cursor"])
    seen = [d["delivery_id"] for d in first["deliveries"] + rest["deliveries"]]
    assert len(set(seen)) == 3
    created = [d["created"] for d in first["deliveries"] + rest["deliveries"]]
    assert created == sorted(created, reverse=True)  # newest first
    status, _ = api.call(
        "GET",
        f"/admin/v1/webhooks/deliveries?face=jobx&namespace=other&cursor={first['cursor']}",
        headers=admin,
    )
    assert status == 400  # another list's cursor


def test_a_failing_task_and_a_stopped_one_are_announced(jobx, receiver, hooks):
    jobx.job("bad", steps=[{"name": "s", "plugin_type": "cmd", "script": "exit 3"}])
    failed = jobx.run("bad", batch_mode="continue", callback=receiver.url("/hooks/x"))
    drain()
    stopped = jobx.run(callback=receiver.url("/hooks/x"))
    jobx.ok("DELETE", f"/task/{PROJECT}/{stopped}")
    drain()
    hooks.drain()
    got = {r["body"]["id"]: r["body"] for r in receiver.received}
    assert got[failed]["status"] == "fail"
    assert got[stopped]["status"] == "fail" and "stopped by" in got[stopped]["result"]
    assert len(receiver.received) == 2


def test_redelivered_engine_and_delivery_messages_send_nothing_twice(jobx, receiver, hooks):
    jobx.run(callback=receiver.url("/hooks/ci"))
    arn = f"arn:aws:sqs:us-east-1:000000000000:{resources.QUEUES['jobx'].queue_name}"
    last = None
    for _ in range(100):  # run the task, keeping the last engine message (the one ending it)
        run_orders()
        got = receive(1)
        if not got:
            break
        last = got
        deliver(got)
    assert last is not None
    assert hooks.drain() == 1
    jobx_worker.handle_sqs(sqs_event([{**last[0], "MessageId": "again-1"}], arn))
    assert hooks.receive() == []  # the end was announced once
    assert len(receiver.received) == 1
    # the delivery message itself, delivered again
    (row,) = DeliveryModel.query(receiver.received[0]["body"]["delivery_id"])
    copy = {"delivery": row.delivery_id, "round": 0}
    resources.send("webhooks", copy)
    resources.send("webhooks", copy)
    assert hooks.drain() == 2
    assert len(receiver.received) == 1
    assert DeliveryModel.get(row.delivery_id).tries == 1


def test_a_failing_receiver_gets_retries_with_growing_delays(jobx, receiver, hooks, api, admin):
    receiver.fail = 3
    jobx.run(callback=receiver.url("/hooks/ci"))
    drain()
    (message,) = hooks.receive()
    assert hooks.deliver([message]) == {message["MessageId"]}
    assert hooks.receive() == []  # away for a while, not back at once
    sqs = aws_clients.client("sqs")
    sqs.change_message_visibility(
        QueueUrl=hooks.url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    hooks.drain()
    (got,) = receiver.received
    assert got["body"]["attempt"] == 4
    (row,) = listing(api, admin)["deliveries"]
    assert row["state"] == "delivered" and row["tries"] == 4
    attempts = row["attempts"]
    assert [a["status"] for a in attempts] == [500, 500, 500, 204]
    assert [a.get("retry_in_s") for a in attempts] == [5, 10, 20, None]
    assert all(a["error"] == "HTTP 500" for a in attempts[:3])


def test_an_always_failing_receiver_ends_dead_then_is_redelivered(
    jobx, receiver, hooks, api, admin, monkeypatch
):
    monkeypatch.setenv("TASKHUB_WEBHOOK_ATTEMPTS", "3")
    receiver.down = True
    jobx.run(callback=receiver.url("/hooks/ci"))
    drain()
    hooks.drain()
    assert receiver.requests == 3 and receiver.received == []
    (row,) = listing(api, admin)["deliveries"]
    assert row["state"] == "dead" and row["tries"] == 3
    assert [d["delivery"] for d in hooks.dead_letters()] == [row["delivery_id"]]
    receiver.down = False
    path = f"/admin/v1/webhooks/deliveries/{row['delivery_id']}/redeliver"
    status, again = api.call("POST", path, {}, admin)
    assert status == 200, again
    assert again["state"] == "pending" and again["round"] == 1
    hooks.drain()
    (got,) = receiver.received
    assert got["body"]["delivery_id"] == row["delivery_id"]
    assert got["body"]["event_id"] == row["event_id"]
    assert got["body"]["attempt"] == 4  # a new attempt of the same delivery
    status, seen = api.call(
        "GET", f"/admin/v1/webhooks/deliveries/{row['delivery_id']}", headers=admin
    )
    assert status == 200 and seen["state"] == "delivered"
    assert [a["status"] for a in seen["attempts"]] == [500, 500, 500, 204]


def test_a_url_not_on_the_allow_list_is_refused_with_nothing_written(jobx, receiver, hooks):
    before = list(TaskModel.by_project.query(PROJECT))
    for urls in (
        {"callback": receiver.url("/elsewhere")},
        {"callbacks": ["https://example.com/hooks/ci"]},
        {"callback": "http://169.254.169.254/hooks/"},
        {"callback": "ftp://x/hooks/"},
        {"callback": receiver.url("/hooks/../admin")},
    ):
        status, body = jobx.call(
            "POST", f"/task/{PROJECT}/job/byname", {"jobname": "j1", "group": "g1", **urls}
        )
        assert status == 400, (urls, body)
        assert body["stat"] is False and "callbacks" in body["info"], body
    assert list(TaskModel.by_project.query(PROJECT)) == before
    assert hooks.receive() == []


def test_a_namespace_without_an_allow_list_refuses_callbacks(api, apply_workspace, receiver):
    apply_workspace(workspace())
    client = Jobx(api)
    client.group()
    client.job()
    status, body = client.call(
        "POST",
        f"/task/{PROJECT}/job/byname",
        {"jobname": "j1", "group": "g1", "callback": receiver.url("/hooks/x")},
    )
    assert status == 400 and "allow-list" in body["info"]


def test_the_third_party_invoke_takes_callbacks(jobx, receiver, hooks):
    body = {
        "project_id": PROJECT,
        "uuid": "abcdefghijk0",
        "params": {"jobname": "j1", "group": "g1", "callback": receiver.url("/hooks/t")},
    }
    status, answer = jobx.call("POST", "/third/interface/invoke", body)
    assert status == 200, answer
    drain()
    hooks.drain()
    (got,) = receiver.received
    assert got["body"]["id"] == answer["uuid"]


def test_the_secret_is_never_in_answers_exports_or_logs(
    jobx, receiver, hooks, api, admin, export_workspace
):
    with log_lines("DEBUG") as lines:
        jobx.run(callback=receiver.url("/hooks/ci"))
        drain()
        hooks.drain()
        document, _ = export_workspace()
        listed = listing(api, admin)
    assert len(receiver.received) == 1
    assert document["webhooks"] == [
        {"face": "jobx", "namespace": PROJECT, "urls": [receiver.url("/hooks/*")]}
    ]
    for text in (lines.text, json.dumps(document), json.dumps(listed)):
        assert SECRET not in text
    stored = DeliveryModel.get(listed["deliveries"][0]["delivery_id"])
    assert SECRET not in json.dumps(stored.attribute_values, default=str)


def test_a_delivery_whose_message_was_lost_is_sent_by_the_reaper(
    jobx, receiver, hooks, monkeypatch
):
    monkeypatch.setattr(events, "GRACE_S", 0)  # its deadline is now: no waiting for it
    monkeypatch.setattr(delivering, "GRACE_S", 0)
    with monkeypatch.context() as lost:  # the worker died between the commit and the send
        lost.setattr(events.Ending, "send", lambda self: None)
        jobx.run(callback=receiver.url("/hooks/ci"))
        drain()
    assert hooks.drain() == 0 and receiver.received == []
    assert webhooks_worker.reap() == 1
    hooks.drain()
    assert len(receiver.received) == 1
    assert webhooks_worker.reap() == 0  # delivered: no longer watched
