"""Webhook fixtures: a real receiver on loopback that verifies what arrives, the allow-list
in the workspace, and a drainer feeding the webhooks queue to the Lambda handler."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from chalicelib.core.pump import sqs_event
from chalicelib.jobs import engine, runner
from chalicelib.webhooks import worker

SECRET = "whsec-test-0123456789abcdef-signing"


class Receiver:
    """An HTTP server on 127.0.0.1 that checks each POST's signature (HMAC-SHA256 of the raw
    body with the shared secret) and timestamp (the header, the same in the body, and
    recent), records it, and answers 500 to the first `fail` requests (or all while `down`)."""

    def __init__(self, secret: str = SECRET, fail: int = 0):
        self.secret = secret
        self.fail = fail
        self.down = False
        self.requests = 0
        self.received: list[dict] = []  # the verified, answered-2xx events
        self.refused: list[str] = []  # why a request did not verify
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.take(dict(self.headers), raw)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def take(self, headers: dict, raw: bytes) -> int:
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        got = headers.get("X-Hub-Signature-256", "")
        with self.lock:
            self.requests += 1
            if not hmac.compare_digest(expected, got):
                self.refused.append("signature")
                return 401
            body = json.loads(raw)
            stamp = headers.get("X-Taskhub-Timestamp", "")
            if stamp != str(body.get("timestamp")) or abs(time.time() - int(stamp)) > 300:
                self.refused.append("timestamp")
                return 400
            if headers.get("X-Taskhub-Delivery") != body.get("delivery_id") or headers.get(
                "X-Taskhub-Event-Id"
            ) != body.get("event_id"):
                self.refused.append("ids")
                return 400
            if self.down or self.requests <= self.fail:
                return 500
            self.received.append({"headers": headers, "body": body})
            return 204

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver(monkeypatch):
    monkeypatch.setenv("TASKHUB_WEBHOOK_ALLOW_LOOPBACK", "1")
    with Receiver() as server:
        yield server


@pytest.fixture
def fast_engine(monkeypatch):
    """As the JOBX tests run it: local steps on, no waits between messages."""
    monkeypatch.setenv("TASKHUB_JOBX_LOCAL", "on")
    monkeypatch.setattr(engine, "WAIT_S", 0)
    monkeypatch.setattr(engine, "POLL_S", 0)
    monkeypatch.setattr(runner, "WATCH_S", 0.05)


def allow(face: str, namespace: str, *urls: str, secret: str | None = SECRET) -> dict:
    item = {"face": face, "namespace": namespace, "urls": list(urls)}
    if secret is not None:
        item["secret"] = secret
    return item


class Hooks:
    """The webhooks queue fed to its Lambda handler, as SQS would."""

    def __init__(self):
        self.sqs = aws_clients.client("sqs")
        self.url = resources.queue_url("webhooks")
        name = resources.QUEUES["webhooks"].queue_name
        self.arn = f"arn:aws:sqs:us-east-1:000000000000:{name}"

    def receive(self) -> list[dict]:
        return self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])

    def deliver(self, messages: list[dict], delete: bool = True) -> set[str]:
        try:
            result = worker.handle_sqs(sqs_event(messages, self.arn))
        except BatchProcessingError:  # every record failed: Lambda deletes none
            return {m["MessageId"] for m in messages}
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        if delete:
            for m in messages:
                if m["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"])
        return failed

    def drain(self, rounds: int = 50) -> int:
        """Deliver until the queue is empty; how many messages were handled. A failed one
        is away for a growing delay; the drainer makes it visible again at once, as time
        passing would."""
        handled = 0
        for _ in range(rounds):
            messages = self.receive()
            if not messages:
                return handled
            handled += len(messages)
            failed = self.deliver(messages)
            if failed:
                for m in messages:
                    if m["MessageId"] in failed:
                        self.sqs.change_message_visibility(
                            QueueUrl=self.url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0
                        )
        raise AssertionError("the webhooks queue did not drain")

    def dead_letters(self) -> list[dict]:
        url = self.sqs.get_queue_url(QueueName=resources.QUEUES["webhooks"].dlq_name)["QueueUrl"]
        return [
            json.loads(m["Body"])
            for m in self.sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
        ]


@pytest.fixture
def hooks(aws):
    return Hooks()


# the scan tests' fixtures: a TCA team, a loopback git server and a repository
from tests.scans.conftest import git_repo, git_root, git_server, tca  # noqa: F401
