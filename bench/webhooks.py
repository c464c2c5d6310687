"""Completion webhooks: deliveries per second to a loopback receiver, and what signing an
event costs next to encoding it.

    .venv/bin/python -m bench.webhooks [--deliveries 300] [--events 20000]

Deliveries: `--deliveries` ends' records are written and queued, then one consumer feeds the
queue to the Lambda handler one message at a time (its batch size), each a claim, the
allow-list read, a signed POST to an `http.server` on 127.0.0.1 and the attempt recorded.
The floor is the same POSTs straight from httpx, with nothing read or written. DynamoDB and
SQS are moto in process, whose calls cost far more than the real services': read the
pipeline's rate as a lower bound, and its calls per delivery as what it does.

Signing: per event, the JSON encoding of the body (the floor) against encoding plus
HMAC-SHA256 and the headers, over the same events.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.update(
    TASKHUB_STAGE="bench",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="us-east-1",
    TASKHUB_WEBHOOK_ALLOW_LOOPBACK="1",
    TASKHUB_SECRET_KEY="YmVuY2gtd2ViaG9va3Mta2V5LTAwMDAwMDAwMDAwMDA=",
    POWERTOOLS_LOG_LEVEL="WARNING",
    POWERTOOLS_METRICS_DISABLED="true",
)
for name in ("TASKHUB_EMBEDDED", "TASKHUB_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(name, None)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

import moto  # noqa: E402

from chalicelib.core import aws, config, crypto, resources  # noqa: E402
from chalicelib.core.metering import count_calls  # noqa: E402
from chalicelib.core.pump import sqs_event  # noqa: E402

config.reload()

from chalicelib.faces import load_faces  # noqa: E402

load_faces()

from chalicelib.webhooks import events, signing, transport, worker  # noqa: E402
from chalicelib.webhooks.models import ALLOWLIST, AllowListModel  # noqa: E402

SECRET = "bench-webhook-secret-0123456789"


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def sample(n: int) -> dict:
    return {
        "event": "task.ended",
        "event_id": f"evt_{n:024d}",
        "face": "jobx",
        "namespace": "bench",
        "kind": "task",
        "id": f"task{n:08d}",
        "status": "success",
        "result": "",
        "started": 1_700_000_000_000 + n,
        "ended": 1_700_000_060_000 + n,
        "link": f"/jobx/task/bench/task{n:08d}",
        "delivery_id": f"dlv_{n:024d}",
        "attempt": 1,
        "timestamp": 1_700_000_060 + n,
    }


def signing_cost(count: int) -> tuple[float, float]:
    """(µs to encode an event, µs to encode and sign it)."""
    bodies = [sample(n) for n in range(count)]
    start = time.perf_counter()
    for body in bodies:
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    encode = (time.perf_counter() - start) / count * 1e6
    start = time.perf_counter()
    for body in bodies:
        raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        signing.headers(
            SECRET,
            raw,
            event=body["event"],
            event_id=body["event_id"],
            delivery_id=body["delivery_id"],
            timestamp=body["timestamp"],
        )
    signed = (time.perf_counter() - start) / count * 1e6
    return encode, signed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=300)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()

    encode_us, signed_us = signing_cost(args.events)
    print(f"signing, per event ({args.events} events):")
    print(f"  JSON encoding (floor)     {encode_us:7.2f} µs")
    print(f"  encoding + HMAC-SHA256    {signed_us:7.2f} µs  ({signed_us / encode_us:.2f}x)")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        floor = post_floor(url, args.deliveries)
        with moto.mock_aws():
            rate, calls = pipeline(url, args.deliveries)
    finally:
        server.shutdown()
        server.server_close()
    print(f"deliveries to a loopback receiver ({args.deliveries}, one consumer):")
    print(f"  signed POST alone (floor) {floor:7.0f} /s")
    print(f"  whole delivery, moto      {rate:7.0f} /s  ({floor / rate:.1f}x the floor's time)")
    print(f"  DynamoDB calls per delivery {calls['dynamodb'] / args.deliveries:.1f}", end="")
    print(f", SQS calls (the pump deletes) {calls.get('sqs', 0) / args.deliveries:.1f}")
    return 0


def post_floor(url: str, count: int) -> float:
    raw = json.dumps(sample(0)).encode()
    headers = {
        "Content-Type": "application/json",
        signing.SIGNATURE: signing.signature(SECRET, raw),
    }
    named = ()
    transport.post(url, raw, headers, named=named, allow_loopback=True)
    start = time.perf_counter()
    for _ in range(count):
        sent = transport.post(url, raw, headers, named=named, allow_loopback=True)
        assert sent.ok, sent
    return count / (time.perf_counter() - start)


def pipeline(url: str, count: int) -> tuple[float, dict]:
    resources.rebind()
    crypto.reset()
    resources.create_all()
    AllowListModel(
        ALLOWLIST,
        "jobx:bench",
        face="jobx",
        namespace="bench",
        urls=[url],
        secret=crypto.encrypt(SECRET),
    ).save()
    for n in range(count):
        ending = events.ending(
            face="jobx",
            namespace="bench",
            kind="task",
            target=f"task{n:08d}",
            end="1",
            status="success",
            result="",
            started=1_700_000_000_000,
            ended=1_700_000_060_000 + n,
            link=f"/jobx/task/bench/task{n:08d}",
            urls=[url],
        )
        with resources.transaction() as tx:
            ending.add_to(tx)
        ending.send()
    sqs = aws.client("sqs")
    queue = resources.queue_url("webhooks")
    arn = f"arn:aws:sqs:us-east-1:000000000000:{resources.QUEUES['webhooks'].queue_name}"
    messages = []
    while len(messages) < count:
        got = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            break
        messages += got
    assert len(messages) == count, len(messages)
    with count_calls() as calls:
        start = time.perf_counter()
        for message in messages:
            result = worker.handle_sqs(sqs_event([message], arn))
            assert not result["batchItemFailures"], result
        elapsed = time.perf_counter() - start
    return count / elapsed, dict(calls)


if __name__ == "__main__":
    sys.exit(main())
