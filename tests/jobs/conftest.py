"""JOBX fixtures: a project with members and a node inventory, and a queue drainer that
feeds the engine's SQS messages to the same handler Lambda calls."""

from __future__ import annotations

import json

import pytest

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from chalicelib.core.pump import sqs_event
from chalicelib.jobs import engine, worker

PROJECT = "p1"
MEMBER = {"Authorization": "Bearer jobx-member-token-0123456789"}
VIEWER = {"Authorization": "Bearer jobx-viewer-token-0123456789"}
OUTSIDER = {"Authorization": "Bearer jobx-outsider-token-012345"}


def workspace(nodes: int = 5, extra_nodes: list[dict] | None = None) -> dict:
    return {
        "users": [
            {
                "uuid": "Member01",
                "name": "M",
                "email": "m@x.io",
                "token": MEMBER["Authorization"][7:],
            },
            {
                "uuid": "Viewer01",
                "name": "V",
                "email": "v@x.io",
                "token": VIEWER["Authorization"][7:],
            },
            {
                "uuid": "Outsid01",
                "name": "O",
                "email": "o@x.io",
                "token": OUTSIDER["Authorization"][7:],
            },
        ],
        "namespaces": [
            {"face": "jobx", "id": PROJECT, "members": {"Member01": "member", "Viewer01": "viewer"}}
        ],
        "jobx_nodes": [
            {"project": PROJECT, "name": f"n{i:02d}", "address": f"10.0.0.{i}"}
            for i in range(1, nodes + 1)
        ]
        + (extra_nodes or []),
    }


class Jobx:
    def __init__(self, api):
        self.api = api

    def call(self, method, path, body=None, headers=None):
        return self.api.call(method, "/jobx" + path, body, headers or MEMBER)

    def ok(self, method, path, body=None, headers=None):
        status, data = self.call(method, path, body, headers)
        assert status == 200 and data["stat"] is True, (status, data)
        return data

    def group(self, name="g1", node="n01,n02;n03", group_type="list", percent=""):
        body = {"name": name, "group_type": group_type, "node": node, "percent": percent}
        created = self.ok("POST", f"/group/{PROJECT}", body)
        assert created["data"] is True, created  # JOBX's answer; the id is an extra
        return self.ok("GET", f"/group/{PROJECT}/{created['id']}")["data"]

    def job(self, name="j1", steps=None, variable=None):
        steps = steps or [{"name": "hello", "plugin_type": "cmd", "script": "echo hi $node"}]
        body = {"name": name, "steps": steps, "variable": variable or {}}
        return self.ok("POST", f"/job/{PROJECT}", body)["data"]

    def run(self, jobname="j1", group="g1", variable=None, **extra):
        body = {"jobname": jobname, "group": group, "variable": variable or {}, **extra}
        return self.ok("POST", f"/task/{PROJECT}/job/byname", body)["uuid"]

    def task(self, uuid):
        return self.ok("GET", f"/task/{PROJECT}/{uuid}")["data"]

    def subtasks(self, uuid):
        return self.ok("GET", f"/subtask/{PROJECT}/{uuid}")["data"]


@pytest.fixture
def jobx(api, apply_workspace):
    apply_workspace(workspace())
    return Jobx(api)


def receive(max_messages: int = 10) -> list[dict]:
    sqs = aws_clients.client("sqs")
    return sqs.receive_message(
        QueueUrl=resources.queue_url("jobx"),
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
    ).get("Messages", [])


def deliver(messages: list[dict]) -> dict:
    """Hand SQS messages to the Lambda handler; delete those it did not report as failed."""
    sqs = aws_clients.client("sqs")
    url = resources.queue_url("jobx")
    result = worker.handle_sqs(sqs_event(messages, "arn:aws:sqs:us-east-1:000000000000:jobx"))
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return result


def drain(limit: int = 500) -> list[dict]:
    """Deliver queued messages one at a time until the queue is empty; returns the bodies."""
    seen = []
    for _ in range(limit):
        got = receive(1)
        if not got:
            return seen
        seen.append(json.loads(got[0]["Body"]))
        deliver(got)
    raise AssertionError("the queue did not drain")


@pytest.fixture(autouse=True)
def fast_engine(monkeypatch):
    monkeypatch.setattr(engine, "SSM_POLL_S", 0)
    monkeypatch.setattr(engine, "STOP_CHECK_S", 0.05)
