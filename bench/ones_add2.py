"""ONES add2 into one team from N writers at once: creates per second, DynamoDB calls and
transactions per create, and how many of the creates wrote the busiest item.

    .venv/bin/python -m bench.ones_add2 [--creates 96] [--latency-ms 5]

One process, the embedded store in memory, the service called from threads as concurrent
requests call it, one task per add2, a fresh team per row. The store applies one request at
a time in a fraction of a millisecond, where DynamoDB answers each in a few milliseconds and
many at once: `--latency-ms` pauses before every AWS call, outside the store, as that round
trip would, so writers overlap as they would against DynamoDB. The store never refuses a
transaction for a conflict (it runs one at a time), which DynamoDB does for items another
transaction holds: the refusals counted here are conditions that failed, so they are a floor.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from botocore.client import BaseClient

from bench import embedded

STORE = embedded.start()

from chalicelib.core import resources, workspace  # noqa: E402
from chalicelib.core.auth import Principal  # noqa: E402
from chalicelib.core.identity import service as identity  # noqa: E402
from chalicelib.workitems import creating  # noqa: E402

USER, PROJECT, TASK_TYPE, TODO = "DU6krHBN", "DU6krHBNXuPAbpv8", "FF78d8EL", "MZQu4VaM"


def document(team: str) -> dict:
    return {
        "users": [{"uuid": USER, "name": "Dana", "email": "dana@example.com"}],
        "teams": [{"uuid": team, "name": team, "members": {USER: "admin"}}],
        "projects": [{"uuid": PROJECT[:8] + team, "team": team, "name": "Project"}],
        "statuses": [
            {"uuid": TODO, "team": team, "name": "To do", "category": "to_do", "default": True}
        ],
        "issue_types": [{"uuid": TASK_TYPE, "team": team, "name": "Task"}],
    }


class Meter:
    """Counts DynamoDB calls by operation and the writes each item was sent (transactions
    included, refused ones too); pauses `latency_s` before each AWS call."""

    def __init__(self, latency_s: float):
        self.latency_s = latency_s
        self.calls: Counter = Counter()
        self.writes: Counter = Counter()
        self.lock = threading.Lock()
        self.keys: dict[str, list[str]] = {}
        self.original = BaseClient._make_api_call

    def __enter__(self):
        meter = self

        def call(client, operation, params):
            if meter.latency_s:
                time.sleep(meter.latency_s)
            if client.meta.service_model.service_name == "dynamodb":
                meter.record(client, operation, params)
            try:
                return meter.original(client, operation, params)
            except Exception as exc:
                if operation == "TransactWriteItems":
                    with meter.lock:
                        meter.calls["TransactWriteItems refused"] += 1
                raise exc

        BaseClient._make_api_call = call
        return self

    def __exit__(self, *exc):
        BaseClient._make_api_call = self.original

    def key_names(self, client, table: str) -> list[str]:
        if table not in self.keys:
            found = self.original(client, "DescribeTable", {"TableName": table})
            self.keys[table] = [k["AttributeName"] for k in found["Table"]["KeySchema"]]
        return self.keys[table]

    def item(self, client, table: str, attrs: dict) -> str:
        values = [next(iter(attrs[k].values())) for k in self.key_names(client, table)]
        return f"{table.split('-', 2)[-1]} {'/'.join(values)}"

    def record(self, client, operation: str, params: dict) -> None:
        written = []
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            written.append((params["TableName"], params.get("Key") or params["Item"]))
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                for kind in ("Put", "Update", "Delete"):
                    if kind in entry:
                        part = entry[kind]
                        written.append((part["TableName"], part.get("Key") or part["Item"]))
        names = [self.item(client, table, attrs) for table, attrs in written]
        with self.lock:
            self.calls[operation] += 1
            self.calls["all"] += 1
            self.writes.update(names)


def run(writers: int, creates: int, latency_s: float) -> dict:
    team = f"Tm{writers:06d}"
    workspace.apply(document(team))
    principal = Principal(identity.get_user(USER))
    per_writer = creates // writers
    start = threading.Barrier(writers)

    def writer(w: int) -> list[int]:
        got = []
        start.wait(timeout=60)
        for i in range(per_writer):
            task = {
                "uuid": f"{USER}{writers:02d}{w:02d}{i:04d}",
                "assign": USER,
                "summary": "bench",
                "project_uuid": PROJECT[:8] + team,
                "issue_type_uuid": TASK_TYPE,
            }
            created, bad = creating.add_tasks(principal, team, [task])
            assert not bad, bad
            got.append(created[0]["number"])
        return got

    with Meter(latency_s) as meter, ThreadPoolExecutor(writers) as pool:
        began = time.perf_counter()
        numbers = [n for got in pool.map(writer, range(writers)) for n in got]
        wall = time.perf_counter() - began
    total = per_writer * writers
    assert sorted(numbers) == list(range(1, total + 1)), "numbers not dense and distinct"
    busiest, hits = meter.writes.most_common(1)[0]
    return {
        "writers": writers,
        "creates": total,
        "per_s": total / wall,
        "calls": meter.calls["all"] / total,
        "tx": meter.calls["TransactWriteItems"] / total,
        "refused": meter.calls["TransactWriteItems refused"] / total,
        "busiest": busiest.replace(team, "<team>"),
        "busiest_share": hits / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=96, help="creates per row")
    parser.add_argument("--latency-ms", type=float, default=5.0, help="pause before each call")
    args = parser.parse_args()
    resources.rebind()
    resources.create_all()
    try:
        rows = [run(w, args.creates, args.latency_ms / 1000) for w in (1, 4, 16)]
    finally:
        STORE.stop()
    print(f"ONES add2 into one team, {args.latency_ms:g} ms per AWS call, embedded store")
    print(
        f"{'writers':>7} {'creates':>7} {'creates/s':>9} {'calls':>6} {'tx':>5} {'refused':>7}"
        f"  busiest item (writes per create)"
    )
    for r in rows:
        print(
            f"{r['writers']:>7} {r['creates']:>7} {r['per_s']:>9.1f} {r['calls']:>6.1f} "
            f"{r['tx']:>5.2f} {r['refused']:>7.2f}  {r['busiest']} ({r['busiest_share']:.2f})"
        )
    print("numbers dense and distinct in every row: yes")


if __name__ == "__main__":
    main()
