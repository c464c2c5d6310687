"""The one registry of tables, queues and buckets.

Domains declare what they use here; the embedded backend, the tests and the deployment
template all read the same registry, so nothing is declared twice.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import pynamodb.connection.base
from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from . import aws, retry
from .config import settings

# PynamoDB has no hook for the session it opens per model; give it one sharing our loader.
pynamodb.connection.base.get_session = aws.botocore_session

log = logging.getLogger("taskhub")

TABLES: list[type] = []
# what create_all finished making, per endpoint (ensure_all skips the creates then)
_complete: set[tuple[str, frozenset[str], frozenset[str], str]] = set()
QUEUES: dict[str, QueueSpec] = {}
_queue_urls: dict[str, str] = {}
_connections: dict[tuple[str, str | None], Connection] = {}
_indexed: set[tuple[str | None, str]] = set()  # (endpoint, table) whose indexes were checked


@dataclass(frozen=True)
class QueueSpec:
    name: str
    visibility_timeout: int = 60
    max_receive_count: int = 5

    @property
    def queue_name(self) -> str:
        return settings().resource_name(self.name)

    @property
    def dlq_name(self) -> str:
        return settings().resource_name(f"{self.name}-dlq")


def table(model: type) -> type:
    """Class decorator: register a PynamoDB model and bind it to this stage's table."""
    _bind(model)
    TABLES.append(model)
    return model


def _bind(model: type) -> None:
    """Point a model at this stage's table; keep its open connection when nothing changed."""
    cfg = settings()
    target = (
        cfg.resource_name(model.Meta.short_name),
        cfg.endpoint_for("dynamodb"),
        cfg.region,
    )
    meta = model.Meta
    if (getattr(meta, "table_name", None), getattr(meta, "host", None), meta.region) == target:
        return
    meta.table_name, meta.host, meta.region = target
    model._connection = None
    for index in getattr(model, "_indexes", {}).values():
        index._connection = None


def _hash_first(key_schema: list[dict[str, str]]) -> list[dict[str, str]]:
    """DynamoDB and CloudFormation want HASH before RANGE; PynamoDB's order is arbitrary."""
    return sorted(key_schema, key=lambda k: k["KeyType"] != "HASH")


def table_spec(model: type) -> dict[str, Any]:
    """CreateTable arguments (also CloudFormation's table properties) from a model."""
    schema = model._get_schema()
    spec: dict[str, Any] = {
        "TableName": model.Meta.table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": schema["attribute_definitions"],
        "KeySchema": _hash_first(schema["key_schema"]),
    }
    for key, prop in (
        ("global_secondary_indexes", "GlobalSecondaryIndexes"),
        ("local_secondary_indexes", "LocalSecondaryIndexes"),
    ):
        indexes = [
            {
                "IndexName": index["index_name"],
                "KeySchema": _hash_first(index["key_schema"]),
                "Projection": index["projection"],
            }
            for index in schema.get(key, [])
        ]
        if indexes:
            spec[prop] = indexes
    return spec


def queue(name: str, *, visibility_timeout: int = 60, max_receive_count: int = 5) -> QueueSpec:
    spec = QueueSpec(name, visibility_timeout, max_receive_count)
    QUEUES[name] = spec
    return spec


def rebind() -> None:
    """Re-read settings into every model (after the stage or endpoint changed)."""
    for model in TABLES:
        _bind(model)
    _queue_urls.clear()
    _connections.clear()
    aws.reset()


def transaction() -> TransactWrite:
    """A TransactWrite over every table, on one connection per endpoint that all callers share
    (a new one builds a botocore client: milliseconds on every transaction)."""
    cfg = settings()
    key = (cfg.region, cfg.endpoint_for("dynamodb"))
    connection = _connections.get(key)
    if connection is None:
        connection = _connections.setdefault(key, Connection(region=key[0], host=key[1]))
    return TransactWrite(connection=connection)


def queue_url(name: str) -> str:
    url = _queue_urls.get(name)
    if url is None:
        url = aws.client("sqs").get_queue_url(QueueName=QUEUES[name].queue_name)["QueueUrl"]
        _queue_urls[name] = url
    return url


def send(name: str, body: dict[str, Any], *, delay_seconds: int = 0) -> None:
    aws.client("sqs").send_message(
        QueueUrl=queue_url(name),
        MessageBody=json.dumps(body, separators=(",", ":")),
        DelaySeconds=max(0, min(int(delay_seconds), 900)),
    )


def send_batch(name: str, bodies: list[dict[str, Any]], *, delay_seconds: int = 0) -> None:
    """Send many messages, ten (and at most 250 KB) per SendMessageBatch."""
    sqs = aws.client("sqs")
    entries: list[dict[str, Any]] = []
    size = 0

    def flush() -> None:
        if entries:
            answer = sqs.send_message_batch(QueueUrl=queue_url(name), Entries=list(entries))
            if answer.get("Failed"):
                raise RuntimeError(f"{len(answer['Failed'])} message(s) to {name} not sent")
            entries.clear()

    for body in bodies:
        text = json.dumps(body, separators=(",", ":"))
        if len(entries) == 10 or (entries and size + len(text) > 250_000):
            flush()
            size = 0
        entries.append(
            {"Id": str(len(entries)), "MessageBody": text, "DelaySeconds": delay_seconds}
        )
        size += len(text)
    flush()


def backoff_s(tries: int, *, base_s: int = 5, cap_s: int = 300) -> int:
    """How long a message that failed its `tries`-th receive stays away: 5 s, 10 s, 20 s,
    ... 5 min."""
    return min(cap_s, base_s * 2 ** min(max(tries, 1) - 1, 10))


def retry_later(
    event: dict[str, Any], failed: list[str], *, base_s: int = 5, cap_s: int = 300
) -> None:
    """Failed messages come back after a short delay that grows with each receive (5 s, 10 s,
    20 s, ... 5 min), not after the queue's whole visibility timeout."""
    wanted = set(failed)
    sqs = aws.client("sqs")
    for record in event.get("Records", []):
        if record.get("messageId") not in wanted:
            continue
        name = record.get("eventSourceARN", "").rsplit(":", 1)[-1]
        tries = int(record.get("attributes", {}).get("ApproximateReceiveCount") or 1)
        try:
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            sqs.change_message_visibility(
                QueueUrl=url,
                ReceiptHandle=record["receiptHandle"],
                VisibilityTimeout=backoff_s(tries, base_s=base_s, cap_s=cap_s),
            )
        except Exception:  # it comes back after the queue's visibility timeout instead
            log.exception("could not bring message %s back sooner", record.get("messageId"))


def add_missing_indexes(model: type) -> list[str]:
    """Create the GSIs a model declares that its existing table lacks (a local data directory
    made before the index was; deployed stages get theirs from the template). DynamoDB fills a
    new index from the items already there. One index per UpdateTable, as DynamoDB allows."""
    dynamodb = aws.client("dynamodb")
    spec = table_spec(model)
    name = spec["TableName"]
    have = {
        index["IndexName"]
        for index in dynamodb.describe_table(TableName=name)["Table"].get(
            "GlobalSecondaryIndexes", []
        )
    }
    added = []
    for index in spec.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] in have:
            continue
        dynamodb.update_table(
            TableName=name,
            AttributeDefinitions=spec["AttributeDefinitions"],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        _wait_active(name, index["IndexName"])
        added.append(index["IndexName"])
    return added


def _wait_active(table_name: str, index_name: str) -> None:
    """Until the new index is built: DynamoDB refuses another index update before that."""

    def active(_: int) -> bool:
        table = aws.client("dynamodb").describe_table(TableName=table_name)["Table"]
        return any(
            index["IndexName"] == index_name and index.get("IndexStatus") == "ACTIVE"
            for index in table.get("GlobalSecondaryIndexes", [])
        )

    if not retry.until_done(active, budget_s=600):
        raise RuntimeError(f"index {index_name} of {table_name} is still being built")


def _declared() -> tuple[str, frozenset[str], frozenset[str], str]:
    """What create_all makes at this endpoint: tables, queues with their DLQs, the bucket."""
    queues = frozenset(n for spec in QUEUES.values() for n in (spec.queue_name, spec.dlq_name))
    tables = frozenset(model.Meta.table_name for model in TABLES)
    cfg = settings()
    where = " ".join(cfg.endpoint_for(service) or "" for service in ("dynamodb", "sqs", "s3"))
    return where, tables, queues, cfg.bucket


def _table_names(dynamodb: Any) -> set[str]:
    existing: set[str] = set()
    for page in dynamodb.get_paginator("list_tables").paginate():
        existing.update(page["TableNames"])
    return existing


def ensure_all() -> None:
    """`create_all()` unless this process already made everything declared here and every
    table and queue is still there: two listing calls instead of some thirty (the tests empty
    the store before each test, which keeps definitions)."""
    declared = _declared()
    if declared in _complete:
        queues = aws.client("sqs").list_queues(MaxResults=1000).get("QueueUrls", [])
        if declared[1] <= _table_names(aws.client("dynamodb")) and declared[2] <= {
            url.rsplit("/", 1)[-1] for url in queues
        }:
            _queue_urls.clear()
            return
    create_all()


def create_all() -> None:
    """Create every declared table, queue (with its DLQ) and the bucket; idempotent. A table
    that exists gets the indexes declared since it was made (checked once per process)."""
    dynamodb = aws.client("dynamodb")
    existing = _table_names(dynamodb)
    endpoint = settings().endpoint_for("dynamodb")
    for model in TABLES:
        if model.Meta.table_name not in existing:
            dynamodb.create_table(**table_spec(model))
            dynamodb.get_waiter("table_exists").wait(
                TableName=model.Meta.table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
        elif (endpoint, model.Meta.table_name) not in _indexed:
            add_missing_indexes(model)
        _indexed.add((endpoint, model.Meta.table_name))
    sqs = aws.client("sqs")
    for spec in QUEUES.values():
        dlq_url = sqs.create_queue(QueueName=spec.dlq_name)["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(spec.max_receive_count)}
        sqs.create_queue(
            QueueName=spec.queue_name,
            Attributes={
                "VisibilityTimeout": str(spec.visibility_timeout),
                "RedrivePolicy": json.dumps(redrive),
            },
        )
    s3 = aws.client("s3")
    bucket = settings().bucket
    try:
        s3.head_bucket(Bucket=bucket)
    except Exception:
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if settings().region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings().region}
        s3.create_bucket(**kwargs)
    _queue_urls.clear()
    _complete.add(_declared())
