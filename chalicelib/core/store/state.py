"""What the embedded store keeps of moto's state, as journal records, and how it puts it back.

Two kinds of record:
- `call`: a request replayed through moto as it was sent (creating a table, queue, bucket or
  parameter; anything whose outcome depends only on the state before it);
- the state a request left behind, item by item: DynamoDB items (`ddb`), SQS messages
  (`sqs`), S3 objects (`s3`, their bytes in blobs). Message ids, receipt handles and
  timestamps are random or clock-bound, so replaying the request would not recreate them.

Which items a request touched comes from hooks on moto's few mutation points (DynamoDB's
`Table.put_item`, `Table.delete_item`, `update_item`; S3's `put_object`, `delete_object`);
each keeps a copy of an item before its first change in the request, so a request that fails
is undone item by item, as DynamoDB applies a request all or nothing. SQS queues are small:
their messages are compared before and after the request.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime
import json
import time
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import moto.dynamodb.models as ddb_models
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.s3.models import S3Backend, s3_backends
from moto.sqs.models import Message, Queue, sqs_backends
from moto.ssm.models import ssm_backends

ITEMS_PER_RECORD = 500


# ---- JSON with bytes -------------------------------------------------------------------------


def encode(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [encode(v) for v in value]
    return value


def decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$b" in value:
            return base64.b64decode(value["$b"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


# ---- what one request touched ----------------------------------------------------------------


@dataclass
class Touches:
    """Items and objects changed by the request being applied, with their state before."""

    account: str
    region: str
    items: dict[tuple[str, Any, Any], Any] = field(default_factory=dict)
    tables: dict[str, tuple[str, str]] = field(default_factory=dict)
    objects: dict[tuple[str, str, str], None] = field(default_factory=dict)

    def item(self, table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> None:
        key = (table.name, hash_key, range_key)
        if key not in self.items:
            current = table.get_item(hash_key, range_key)
            self.items[key] = copy.deepcopy(current) if current is not None else None
            self.tables[table.name] = (table.account_id, table.region_name)


class Tracker:
    """Hooks on moto's mutation points; `active` is the request being applied (requests are
    applied one at a time, so one slot is enough)."""

    def __init__(self) -> None:
        self.active: Touches | None = None

    def install(self) -> None:
        tracker = self
        put_item, delete_item = Table.put_item, Table.delete_item
        update_item = DynamoDBBackend.update_item
        put_object, delete_object = S3Backend.put_object, S3Backend.delete_object

        def table_put(table: Table, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
            if tracker.active is not None and table.hash_key_attr in item_attrs:
                hash_key = DynamoType(item_attrs[table.hash_key_attr])
                range_key = None
                if table.range_key_attr is not None and table.range_key_attr in item_attrs:
                    range_key = DynamoType(item_attrs[table.range_key_attr])
                if range_key is not None or table.range_key_attr is None:
                    tracker.active.item(table, hash_key, range_key)
            return put_item(table, item_attrs, *args, **kwargs)

        def table_delete(table: Table, hash_key: Any, range_key: Any = None) -> Any:
            if tracker.active is not None:
                tracker.active.item(table, hash_key, range_key)
            return delete_item(table, hash_key, range_key)

        def backend_update(backend: DynamoDBBackend, table_name: str, key: Any, *a, **kw) -> Any:
            if tracker.active is not None:
                table = backend.get_table(table_name)
                hash_key, range_key = _key_of(table, key)
                if hash_key is not None:
                    tracker.active.item(table, hash_key, range_key)
            return update_item(backend, table_name, key, *a, **kw)

        def s3_put(backend: S3Backend, bucket_name: str, key_name: str, *a, **kw) -> Any:
            if tracker.active is not None:
                tracker.active.objects[(backend.account_id, bucket_name, key_name)] = None
            return put_object(backend, bucket_name, key_name, *a, **kw)

        def s3_delete(backend: S3Backend, bucket_name: str, key_name: str, *a, **kw) -> Any:
            if tracker.active is not None:
                tracker.active.objects[(backend.account_id, bucket_name, key_name)] = None
            return delete_object(backend, bucket_name, key_name, *a, **kw)

        _cache_lookups()
        Table.put_item = table_put
        Table.delete_item = table_delete
        DynamoDBBackend.update_item = backend_update
        S3Backend.put_object = s3_put
        S3Backend.delete_object = s3_delete
        # moto backs a transaction up by copying every table it names; the tracker keeps the
        # items it changes instead, so that copy (the whole table, per transaction) is skipped
        ddb_models.copy = types.SimpleNamespace(  # type: ignore[assignment]
            deepcopy=lambda value, memo=None: (
                value if isinstance(value, Table) else copy.deepcopy(value, memo)
            )
        )

    def undo(self, touches: Touches) -> None:
        """Put every item the failed request changed back as it was."""
        for (name, hash_key, range_key), before in touches.items.items():
            account, region = touches.tables[name]
            table = dynamodb_backends[account][region].tables.get(name)
            if table is None:
                continue
            if before is None:
                _drop(table, hash_key, range_key)
            elif range_key is not None:
                table.items[hash_key][range_key] = before
            else:
                table.items[hash_key] = before


def _cache_lookups() -> None:
    """moto lists its package directory and inspects a class on every request; neither
    changes while the process runs (a fifth of a GetItem's time)."""
    import functools

    import moto.backends
    import moto.core.responses

    modules = tuple(moto.backends.list_of_moto_modules())
    moto.backends.list_of_moto_modules = lambda: modules
    moto.core.responses.method_names_from_class = functools.lru_cache(maxsize=None)(
        moto.core.responses.method_names_from_class
    )


_tracker: Tracker | None = None


def tracker() -> Tracker:
    """The one tracker; moto's classes are hooked once per process."""
    global _tracker
    if _tracker is None:
        _tracker = Tracker()
        _tracker.install()
    return _tracker


def _drop(table: Table, hash_key: Any, range_key: Any) -> None:
    if range_key is not None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items.pop(hash_key, None)


def _key_of(table: Table, key: Any) -> tuple[Any, Any]:
    if not isinstance(key, dict) or table.hash_key_attr not in key:
        return None, None
    range_key = None
    if table.range_key_attr is not None:
        if table.range_key_attr not in key:
            return None, None
        range_key = DynamoType(key[table.range_key_attr])
    return DynamoType(key[table.hash_key_attr]), range_key


# ---- records of a request's effects ----------------------------------------------------------


def item_records(touches: Touches) -> list[dict[str, Any]]:
    by_table: dict[str, dict[str, list]] = {}
    for name, hash_key, range_key in touches.items:
        account, region = touches.tables[name]
        table = dynamodb_backends[account][region].tables.get(name)
        if table is None:
            continue
        entry = by_table.setdefault(name, {"put": [], "del": []})
        item = table.get_item(hash_key, range_key)
        if item is not None:
            entry["put"].append(item.to_json()["Attributes"])
        else:
            key = {table.hash_key_attr: hash_key.to_json()}
            if range_key is not None:
                key[table.range_key_attr] = range_key.to_json()
            entry["del"].append(key)
    records = []
    for name, entry in by_table.items():
        account, region = touches.tables[name]
        records.append({"k": "ddb", "a": account, "r": region, "t": name, **entry})
    return records


def object_records(touches: Touches, put_blob: Callable[[bytes], str]) -> list[dict[str, Any]]:
    records = []
    for account, bucket, key in touches.objects:
        records.append(_object_record(account, bucket, key, put_blob))
    return records


def _object_record(
    account: str, bucket: str, key: str, put_blob: Callable[[bytes], str]
) -> dict[str, Any]:
    record: dict[str, Any] = {"k": "s3", "a": account, "b": bucket, "key": key}
    backend = s3_backends[account]["aws"]
    try:
        obj = backend.get_object(bucket, key)
    except Exception:
        obj = None
    if obj is None or not hasattr(obj, "value"):
        return {**record, "blob": None}
    return {
        **record,
        "blob": put_blob(obj.value),
        "meta": dict(obj.metadata),
        "storage": obj.storage_class,
        "etag": obj.etag,
        "mtime": obj.last_modified.isoformat(),
    }


def queue_of(account: str, region: str, name: str) -> Queue | None:
    return sqs_backends[account][region].queues.get(name)


def _mark(message: Message) -> tuple:
    return (
        message.receipt_handle,
        message.approximate_receive_count,
        message.visible_at,
        message.delayed_until,
    )


def message_marks(account: str, region: str, name: str) -> dict[str, dict[str, tuple]]:
    """Each message of the queue (and of its dead-letter queue) with what a request changes."""
    queue = queue_of(account, region, name)
    marks: dict[str, dict[str, tuple]] = {}
    for q in (queue, queue.dead_letter_queue if queue else None):
        if q is not None:
            marks[q.name] = {m.id: _mark(m) for m in q._messages}
    return marks


def message_records(
    account: str, region: str, marks: dict[str, dict[str, tuple]]
) -> list[dict[str, Any]]:
    records = []
    for name, before in marks.items():
        queue = queue_of(account, region, name)
        if queue is None:
            continue
        now = {m.id: m for m in queue._messages}
        put = [_message_state(m) for mid, m in now.items() if before.get(mid) != _mark(m)]
        gone = [mid for mid in before if mid not in now]
        if put or gone:
            records.append(
                {"k": "sqs", "a": account, "r": region, "q": name, "put": put, "del": gone}
            )
    return records


def next_visible(account: str, region: str, name: str) -> float:
    """Seconds until the queue's next hidden or delayed message shows (inf when none)."""
    queue = queue_of(account, region, name)
    now_ms = time.time() * 1000
    due = [
        max(m.visible_at, m.delayed_until)
        for m in (queue._messages if queue else [])
        if max(m.visible_at, m.delayed_until) > now_ms
    ]
    return (min(due) - now_ms) / 1000 if due else float("inf")


def rename_last_command(account: str, region: str, command_id: str) -> None:
    """A replayed SendCommand gets the id the original answered with."""
    commands = ssm_backends[account][region]._commands
    if commands:
        commands[-1].command_id = command_id


def _message_state(message: Message) -> dict[str, Any]:
    return encode(dict(vars(message)))


# ---- putting records back ----------------------------------------------------------------------


def restore(record: dict[str, Any], read_blob: Callable[[str], bytes]) -> None:
    kind = record["k"]
    if kind == "ddb":
        table = dynamodb_backends[record["a"]][record["r"]].tables.get(record["t"])
        if table is None:
            return
        for attrs in record["put"]:
            table.put_item(attrs, overwrite=True)
        for key in record["del"]:
            hash_key, range_key = _key_of(table, key)
            if hash_key is not None:
                _drop(table, hash_key, range_key)
    elif kind == "sqs":
        queue = queue_of(record["a"], record["r"], record["q"])
        if queue is None:
            return
        gone = set(record["del"])
        changed = {}
        for state in record["put"]:
            message = Message.__new__(Message)
            message.__dict__.update(decode(state))
            changed[message.id] = message
        kept = []
        for message in queue._messages:
            if message.id in gone:
                continue
            kept.append(changed.pop(message.id, message))
        queue._messages = kept + list(changed.values())
    elif kind == "s3":
        backend = s3_backends[record["a"]]["aws"]
        if record["blob"] is None:
            with contextlib.suppress(Exception):  # already absent
                backend.delete_object(record["b"], record["key"])
            return
        obj = backend.put_object(
            record["b"],
            record["key"],
            read_blob(record["blob"]),
            storage=record.get("storage"),
            disable_notification=True,
        )
        obj.set_metadata(dict(record.get("meta") or {}), replace=True)
        if record.get("etag") and "-" in record["etag"]:
            obj._etag = record["etag"].strip('"')
        obj.last_modified = datetime.datetime.fromisoformat(record["mtime"])


def after_restart() -> None:
    """Whoever had received a message died with the previous server: it is visible again
    (keeping its receive count, so a poison message still reaches its dead-letter queue)."""
    now_ms = time.time() * 1000
    for _account, _region, backend in _each(sqs_backends):
        for queue in backend.queues.values():
            queue._pending_messages.clear()
            for message in queue._messages:
                if message.visible_at > now_ms:
                    message.visible_at = 0


def _each(backends: Any) -> Iterator[tuple[str, str, Any]]:
    for account, regions in list(backends.items()):
        for region, backend in list(regions.items()):
            yield account, region, backend


# ---- the whole state, for a snapshot -----------------------------------------------------------


def _call(service: str, account: str, region: str, target: str, body: dict) -> dict[str, Any]:
    return {
        "k": "call",
        "svc": service,
        "a": account,
        "r": region,
        "target": target,
        "body": json.dumps(body),
    }


def snapshot(put_blob: Callable[[bytes], str]) -> Iterator[dict[str, Any]]:
    """Records that recreate everything the store holds, in an order that replays."""
    for account, region, backend in _each(dynamodb_backends):
        for table in list(backend.tables.values()):
            yield _call(
                service="dynamodb",
                account=account,
                region=region,
                target="DynamoDB_20120810.CreateTable",
                body=_table_spec(table),
            )
            if table.ttl.get("TimeToLiveStatus") == "ENABLED":
                yield _call(
                    "dynamodb",
                    account,
                    region,
                    "DynamoDB_20120810.UpdateTimeToLive",
                    {
                        "TableName": table.name,
                        "TimeToLiveSpecification": {
                            "Enabled": True,
                            "AttributeName": table.ttl["AttributeName"],
                        },
                    },
                )
            items = [item.to_json()["Attributes"] for item in table.all_items()]
            for chunk in _chunked(items):
                yield {
                    "k": "ddb",
                    "a": account,
                    "r": region,
                    "t": table.name,
                    "put": chunk,
                    "del": [],
                }
    for account, region, backend in _each(sqs_backends):
        queues = sorted(backend.queues.values(), key=lambda q: q.redrive_policy is not None)
        for queue in queues:
            yield _call("sqs", account, region, "AmazonSQS.CreateQueue", _queue_spec(queue))
            states = [_message_state(m) for m in queue._messages]
            for chunk in _chunked(states):
                yield {
                    "k": "sqs",
                    "a": account,
                    "r": region,
                    "q": queue.name,
                    "put": chunk,
                    "del": [],
                }
    for account, _partition, backend in _each(s3_backends):
        for name, bucket in list(backend.buckets.items()):
            yield {
                "k": "call",
                "svc": "s3",
                "a": account,
                "r": bucket.region_name,
                "method": "PUT",
                "path": f"/{name}",
                "body": _bucket_body(bucket.region_name),
            }
            for key in list(bucket.keys):
                yield _object_record(account, name, key, put_blob)
    for account, region, backend in _each(ssm_backends):
        for name in list(backend._parameters.keys()):
            if name.startswith("/aws/"):
                continue
            versions = backend._parameters[name]
            if versions:
                yield _call(
                    "ssm", account, region, "AmazonSSM.PutParameter", _parameter_spec(versions[-1])
                )


def _chunked(values: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(values), ITEMS_PER_RECORD):
        yield values[i : i + ITEMS_PER_RECORD]


def _table_spec(table: Table) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "TableName": table.name,
        "KeySchema": table.schema,
        "AttributeDefinitions": table.attr,
        "BillingMode": table.billing_mode or "PROVISIONED",
    }
    if spec["BillingMode"] == "PROVISIONED":
        spec["ProvisionedThroughput"] = {
            "ReadCapacityUnits": table.throughput.get("ReadCapacityUnits", 1),
            "WriteCapacityUnits": table.throughput.get("WriteCapacityUnits", 1),
        }
    gsis = []
    for index in table.global_indexes:
        gsi = {"IndexName": index.name, "KeySchema": index.schema, "Projection": index.projection}
        if spec["BillingMode"] == "PROVISIONED":
            gsi["ProvisionedThroughput"] = spec["ProvisionedThroughput"]
        gsis.append(gsi)
    if gsis:
        spec["GlobalSecondaryIndexes"] = gsis
    lsis = [
        {"IndexName": i.name, "KeySchema": i.schema, "Projection": i.projection}
        for i in table.indexes
    ]
    if lsis:
        spec["LocalSecondaryIndexes"] = lsis
    if table.stream_specification and table.stream_specification.get("StreamEnabled"):
        spec["StreamSpecification"] = table.stream_specification
    return spec


_QUEUE_SETTABLE = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "Policy",
    "FifoQueue",
    "ContentBasedDeduplication",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
)


def _queue_spec(queue: Queue) -> dict[str, Any]:
    attributes = {
        k: str(v) for k, v in queue.attributes.items() if k in _QUEUE_SETTABLE and v is not None
    }
    if attributes.get("FifoQueue") == "false":
        attributes.pop("FifoQueue")
        attributes.pop("ContentBasedDeduplication", None)
    spec: dict[str, Any] = {"QueueName": queue.name, "Attributes": attributes}
    if queue.tags:
        spec["tags"] = dict(queue.tags)
    return spec


def _bucket_body(region: str) -> str:
    if region == "us-east-1":
        return ""
    return (
        '<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<LocationConstraint>{region}</LocationConstraint></CreateBucketConfiguration>"
    )


def _parameter_spec(parameter: Any) -> dict[str, Any]:
    value = parameter.value
    if parameter.parameter_type == "SecureString":
        value = parameter.decrypt(value)
    spec = {
        "Name": parameter.name,
        "Value": value,
        "Type": parameter.parameter_type,
        "Overwrite": True,
    }
    if parameter.description:
        spec["Description"] = parameter.description
    if parameter.parameter_type == "SecureString" and parameter.keyid:
        spec["KeyId"] = parameter.keyid
    if parameter.data_type:
        spec["DataType"] = parameter.data_type
    return spec


def blobs_of(records: list[dict[str, Any]]) -> set[str]:
    return {r["blob"] for r in records if r.get("k") == "s3" and r.get("blob")}


def reset() -> None:
    """Forget everything moto holds in this process (before a journal is replayed into it)."""
    for backends in (dynamodb_backends, sqs_backends, s3_backends, ssm_backends):
        backends.reset()


def truncate() -> None:
    """Empty every table, queue and bucket, keeping them (tests start each case this way)."""
    for _account, _region, backend in _each(dynamodb_backends):
        for table in backend.tables.values():
            table.items.clear()
    for _account, _region, backend in _each(sqs_backends):
        for queue in backend.queues.values():
            queue._messages = []
            queue._pending_messages = set()
            queue.deleted_messages = set()
    for _account, _partition, backend in _each(s3_backends):
        for bucket in backend.buckets.values():
            bucket.keys.clear()
    for _account, _region, backend in _each(ssm_backends):
        for name in [n for n in list(backend._parameters.keys()) if not n.startswith("/aws/")]:
            del backend._parameters[name]
        backend._commands = []


__all__ = [
    "Touches",
    "Tracker",
    "after_restart",
    "blobs_of",
    "item_records",
    "message_marks",
    "message_records",
    "object_records",
    "queue_of",
    "restore",
    "snapshot",
    "truncate",
]
