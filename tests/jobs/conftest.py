"""JOBX fixtures: a project with members and a node inventory, and a queue drainer that
feeds the engine's SQS messages to the same handler Lambda calls."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from botocore.stub import Stubber

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from chalicelib.core.policies import TAG_KEY
from chalicelib.core.pump import sqs_event
from chalicelib.jobs import engine, runner, worker

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


def receive(max_messages: int = 10, queue: str = "jobx") -> list[dict]:
    sqs = aws_clients.client("sqs")
    return sqs.receive_message(
        QueueUrl=resources.queue_url(queue),
        MaxNumberOfMessages=max_messages,
        WaitTimeSeconds=0,
        AttributeNames=["All"],
    ).get("Messages", [])


def deliver(messages: list[dict], queue: str = "jobx") -> dict:
    """Hand SQS messages to the Lambda handler; delete those it did not report as failed."""
    sqs = aws_clients.client("sqs")
    url = resources.queue_url(queue)
    handler = worker.handle_sqs if queue == "jobx" else runner.handle_sqs
    arn = f"arn:aws:sqs:us-east-1:000000000000:{resources.QUEUES[queue].queue_name}"
    result = handler(sqs_event(messages, arn))
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    for m in messages:
        if m["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
    return result


def run_orders(limit: int = 100) -> int:
    """Run every queued order of the local runner, as its Lambda would; how many ran."""
    for count in range(limit):
        got = receive(1, "jobx-local")
        if not got:
            return count
        deliver(got, "jobx-local")
    raise AssertionError("the runner queue did not drain")


def drain(limit: int = 500) -> list[dict]:
    """Run the runner's orders, then deliver the engine's next message, until both queues
    are empty; returns the engine messages' bodies."""
    seen = []
    for _ in range(limit):
        if run_orders():
            continue
        got = receive(1)
        if not got:
            return seen
        seen.append(json.loads(got[0]["Body"]))
        deliver(got)
    raise AssertionError("the queue did not drain")


@pytest.fixture
def workdir():
    """A directory the steps may write to: when the tests run as root, steps run as the
    unprivileged step user, who cannot enter pytest's own temporary directories."""
    path = Path(tempfile.mkdtemp(prefix="jobx-steps-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(autouse=True)
def fast_engine(monkeypatch):
    """Workers do not wait for outcomes (the test runs the runner between messages), and
    poll messages are not delayed; local steps are on in the test stage."""
    monkeypatch.setenv("TASKHUB_JOBX_LOCAL", "on")
    monkeypatch.setattr(engine, "WAIT_S", 0)
    monkeypatch.setattr(engine, "POLL_S", 0)
    monkeypatch.setattr(runner, "WATCH_S", 0.05)


@pytest.fixture
def ec2():
    """EC2's tags of the instances registered as nodes (moto's EC2 is not in the store)."""
    with Stubber(aws_clients.client("ec2")) as stub:
        yield stub


def tagged(ec2, nodes, project=PROJECT):
    """Answer the one tag lookup of an apply (up to 200 instances) with the project's tag."""
    instances = sorted(n["instance_id"] for n in nodes)
    ec2.add_response(
        "describe_tags",
        {"Tags": [{"Key": TAG_KEY, "Value": project, "ResourceId": i} for i in instances]},
        {
            "Filters": [
                {"Name": "resource-id", "Values": instances},
                {"Name": "key", "Values": [TAG_KEY]},
            ]
        },
    )
