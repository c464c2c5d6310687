"""Estimated DynamoDB capacity of the calls a block makes, by DynamoDB's rules, and its SQS
messages: `with Capacity() as cap: ...; cap.rcu, cap.wcu, cap.gsi_wcu, cap.sqs_messages, cap.s3`.

It wraps botocore's call path as core.metering does (and keeps working inside
`count_calls`). For each DynamoDB call it looks at the items (writes: the item before and
after, read with an uncounted GetItem; reads: what the answer holds) and adds:

- reads: a 4 KB unit per item read (Query and Scan: per 4 KB of all items read, items a
  filter dropped counted at the average size seen for that table), half a unit when
  eventually consistent, two in TransactGetItems; a missing item costs the minimum;
- writes: a 1 KB unit per item, by the larger of its size before and after, two in
  TransactWriteItems (ConditionCheck included); a write refused by its condition or a
  cancelled transaction is charged as if written (DynamoDB charges the attempt);
- index writes: for each GSI whose projection of the item changed, one write of the new
  projection (a changed index key, or an item entering or leaving the index: delete + put).

Item sizes follow DynamoDB's rule (attribute names + values; numbers about a byte per two
digits). These are estimates: DynamoDB's own ReturnConsumedCapacity is what bills.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from typing import Any

from botocore.client import BaseClient

from chalicelib.core import metering

READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


def value_size(value: dict) -> int:
    kind, data = next(iter(value.items()))
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return len(data.lstrip("-").replace(".", "")) // 2 + 1
    if kind == "B":
        return len(data)
    if kind in ("SS", "BS"):
        return sum(len(v.encode() if isinstance(v, str) else v) for v in data)
    if kind == "NS":
        return sum(len(v) // 2 + 1 for v in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + 1 + value_size(v) for k, v in data.items())
    return 1  # BOOL, NULL


def item_size(item: dict | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


def units(size: int, per: int) -> int:
    return max(1, math.ceil(size / per))


class Capacity:
    def __init__(self) -> None:
        self.rcu = 0.0
        self.wcu = 0.0
        self.gsi_wcu = 0.0
        self.calls: Counter = Counter()
        self.sqs_messages = 0
        self.sqs_requests = 0
        self.s3: Counter = Counter()  # S3 requests by operation
        self.hot: Counter = Counter()  # write units per (table, partition key)
        self.lock = threading.Lock()
        self.schemas: dict[str, dict] = {}
        self.sizes: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # table -> [bytes, items]

    # ---- hooking ---------------------------------------------------------------------------

    def __enter__(self) -> Capacity:
        self.inner = metering._original
        meter = self

        def call(client, operation, params):
            return meter._call(client, operation, params)

        self.hook = call
        metering._original = call
        self.replaced = BaseClient._make_api_call is self.inner
        if self.replaced:
            BaseClient._make_api_call = call
        return self

    def __exit__(self, *exc: Any) -> None:
        metering._original = self.inner
        if BaseClient._make_api_call is self.hook:
            BaseClient._make_api_call = self.inner

    def _call(self, client, operation: str, params: dict):
        service = client.meta.service_model.service_name
        if service == "sqs":
            with self.lock:
                self.sqs_requests += 1
                if operation == "SendMessage":
                    self.sqs_messages += 1
                elif operation == "SendMessageBatch":
                    self.sqs_messages += len(params.get("Entries", []))
        if service == "s3":
            with self.lock:
                self.s3[operation] += 1
        if service != "dynamodb" or operation not in READS | WRITES:
            return self.inner(client, operation, params)
        with self.lock:
            self.calls[operation] += 1
            self.calls["all"] += 1
        if operation in READS:
            answer = self.inner(client, operation, params)
            self._read(client, operation, params, answer)
            return answer
        writes = [
            (table, {k: found[k] for k in self.schema(client, table)["keys"]}, tx)
            for table, found, tx in self._writes(operation, params)
        ]
        before = [self._get(client, table, key) for table, key, _tx in writes]
        try:
            answer = self.inner(client, operation, params)
        except Exception:
            self._charge(client, writes, before, before)
            raise
        after = [self._get(client, table, key) for table, key, _tx in writes]
        self._charge(client, writes, before, after)
        return answer

    # ---- schemas and raw reads -------------------------------------------------------------

    def schema(self, client, table: str) -> dict:
        if table not in self.schemas:
            found = self.inner(client, "DescribeTable", {"TableName": table})["Table"]
            keys = [k["AttributeName"] for k in found["KeySchema"]]
            indexes = []
            for gsi in found.get("GlobalSecondaryIndexes", []):
                index_keys = [k["AttributeName"] for k in gsi["KeySchema"]]
                projection = gsi.get("Projection", {})
                kind = projection.get("ProjectionType", "ALL")
                extra = projection.get("NonKeyAttributes", [])
                indexes.append((gsi["IndexName"], index_keys, kind, extra))
            self.schemas[table] = {"keys": keys, "indexes": indexes}
        return self.schemas[table]

    def _get(self, client, table: str, key: dict) -> dict | None:
        found = self.inner(
            client, "GetItem", {"TableName": table, "Key": key, "ConsistentRead": True}
        )
        return found.get("Item")

    # ---- reads -----------------------------------------------------------------------------

    def _seen(self, table: str, items: list[dict]) -> None:
        stats = self.sizes[table]
        for item in items:
            stats[0] += item_size(item)
            stats[1] += 1

    def _average(self, table: str) -> int:
        total, count = self.sizes[table]
        return total // count if count else 1024

    def _read(self, client, operation: str, params: dict, answer: dict) -> None:
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        rcu = 0.0
        if operation == "GetItem":
            rcu = units(item_size(answer.get("Item")), 4096) * factor
            self._seen(params["TableName"], [answer["Item"]] if answer.get("Item") else [])
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                got = answer.get("Responses", {}).get(table, [])
                self._seen(table, got)
                f = 1.0 if request.get("ConsistentRead") else 0.5
                missing = max(0, len(request["Keys"]) - len(got))
                rcu += (sum(units(item_size(i), 4096) for i in got) + missing) * f
        elif operation == "TransactGetItems":
            for got in answer.get("Responses", []):
                rcu += 2 * units(item_size(got.get("Item")), 4096)
        else:  # Query, Scan
            table = params["TableName"]
            items = answer.get("Items", [])
            self._seen(table, items)
            size = sum(item_size(i) for i in items)
            dropped = max(0, answer.get("ScannedCount", len(items)) - len(items))
            size += dropped * self._average(table)
            rcu = units(size, 4096) * factor
        with self.lock:
            self.rcu += rcu

    # ---- writes ----------------------------------------------------------------------------

    def _writes(self, operation: str, params: dict) -> list[tuple[str, dict, bool]]:
        """(table, key or item, transactional) of every item the call writes or checks."""
        if operation in ("PutItem",):
            return [(params["TableName"], params["Item"], False)]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"], False)]
        out = []
        if operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for r in requests:
                    if "PutRequest" in r:
                        out.append((table, r["PutRequest"]["Item"], False))
                    else:
                        out.append((table, r["DeleteRequest"]["Key"], False))
            return out
        for entry in params["TransactItems"]:
            part = next(iter(entry.values()))
            out.append((part["TableName"], part.get("Key") or part["Item"], True))
        return out

    def _charge(self, client, writes, before, after) -> None:
        wcu = gsi = 0.0
        hot: Counter = Counter()
        for (table, key, tx), old, new in zip(writes, before, after, strict=True):
            schema = self.schema(client, table)
            w = units(max(item_size(old), item_size(new)), 1024) * (2 if tx else 1)
            wcu += w
            hot[(table, next(iter(key[schema["keys"][0]].values())))] += w
            for _name, index_keys, kind, extra in schema["indexes"]:
                gsi += self._index_writes(schema["keys"], index_keys, kind, extra, old, new)
        with self.lock:
            self.wcu += wcu
            self.gsi_wcu += gsi
            self.hot.update(hot)

    @staticmethod
    def _index_writes(table_keys, index_keys, kind, extra, old, new) -> int:
        def project(item):
            if not item or any(k not in item for k in index_keys):
                return None
            if kind == "ALL":
                return item
            names = set(table_keys) | set(index_keys) | (set(extra) if kind == "INCLUDE" else set())
            return {k: v for k, v in item.items() if k in names}

        a, b = project(old), project(new)
        if a is None and b is None:
            return 0
        if a is None:
            return units(item_size(b), 1024)
        if b is None:
            return units(item_size(a), 1024)
        if any(a[k] != b[k] for k in index_keys):
            return units(item_size(a), 1024) + units(item_size(b), 1024)
        return units(item_size(b), 1024) if a != b else 0
