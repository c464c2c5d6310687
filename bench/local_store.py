"""The local server's store, measured through a real `chalice local --stage local` (what
`make run` starts), each case on a data directory of its own:

1. ONES writes from 8 concurrent clients with the store on disk (`fsync` before each answer),
   handed to the OS (`write`) and in memory (`off`): requests per second and the ratios, i.e.
   what durability costs a client. update2 on a task of each client's own, and add2 into one
   team, where every create also takes the team's next number.
2. The store alone, in process: PutItem per second and per-write cost in each mode.
3. A restart with 10,000 items stored: time until `/health` answers, beside an empty start
   measured in the same run.
4. A workspace of 1,000 JOBX nodes through `PUT /admin/v1/workspace`: wall time.

    .venv/bin/python -m bench.local_store
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.local import LocalServer  # noqa: E402
from tests.e2e.ones import new_task, ones_login  # noqa: E402
from tests.workitems.conftest import PREFIX, TEAM  # noqa: E402

CLIENTS = 8
TOKEN = "bench-viewer-token-0123"
PER_CLIENT = 40


def write_rates(sync: str) -> tuple[float, float]:
    """(update2 per second, add2 per second) from CLIENTS concurrent clients."""
    server = LocalServer(Path(tempfile.mkdtemp(prefix="bench-store-")), TASKHUB_DATA_SYNC=sync)
    server.start()
    try:
        headers = ones_login(server)
        path = f"{PREFIX}/team/{TEAM}/tasks"

        def add(c: int) -> int:
            ok = 0
            for j in range(PER_CLIENT):
                body = {"tasks": [new_task(f"DU6krHBN{c:02d}{j:06d}", "bench")]}
                status, answer = server.call("POST", f"{path}/add2", body, headers)
                ok += status == 200 and answer["bad_tasks"] == []
            return ok

        def update(c: int) -> int:
            ok = 0
            for j in range(PER_CLIENT):
                body = {"tasks": [{"uuid": f"DU6krHBN{c:02d}{0:06d}", "summary": f"v{j}"}]}
                status, answer = server.call("POST", f"{path}/update2", body, headers)
                ok += status == 200 and answer["bad_tasks"] == []
            return ok

        rates = []
        for work in (add, update):
            started = time.perf_counter()
            with ThreadPoolExecutor(CLIENTS) as pool:
                done = sum(pool.map(work, range(CLIENTS)))
            assert done == CLIENTS * PER_CLIENT, done
            rates.append(done / (time.perf_counter() - started))
        return rates[1], rates[0]
    finally:
        server.stop()


def store_rates() -> dict[str, tuple[float, float]]:
    """PutItem per second through the store alone, one client, for each sync mode."""
    import subprocess

    code = """
import os, sys, tempfile, time
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
import boto3
from chalicelib.core.store import Store
mode = sys.argv[1]
store = Store(None if mode == "off" else tempfile.mkdtemp(), sync=mode == "fsync").start()
ddb = boto3.client("dynamodb", endpoint_url=store.url)
ddb.create_table(TableName="t", KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
n = 1000
started = time.perf_counter()
for i in range(n):
    ddb.put_item(TableName="t", Item={"k": {"S": f"k{i}"}, "v": {"S": "x" * 200}})
print(n / (time.perf_counter() - started))
"""
    rates = {}
    for mode in ("off", "write", "fsync"):
        out = subprocess.run(
            [sys.executable, "-c", code, mode], cwd=ROOT, capture_output=True, text=True, check=True
        )
        rate = float(out.stdout.strip().splitlines()[-1])
        rates[mode] = (rate, 1000 / rate)
    return rates


def restart_seconds(nodes: int) -> tuple[float, float, float]:
    """(empty start, start with `nodes` JOBX nodes stored, workspace load of 1,000 nodes)."""
    server = LocalServer(Path(tempfile.mkdtemp(prefix="bench-restart-")))
    started = time.perf_counter()
    server.start()
    empty = time.perf_counter() - started
    server.admin(
        {
            "users": [{"uuid": "BenchUs1", "name": "B", "email": "b@x.io", "token": TOKEN}],
            "namespaces": [{"face": "jobx", "id": "bench", "members": {"BenchUs1": "viewer"}}],
        }
    )
    load = []
    for chunk in range(nodes // 1000):
        document = {
            "jobx_nodes": [
                {"project": "bench", "name": f"n{chunk:02d}{i:04d}"} for i in range(1000)
            ]
        }
        began = time.perf_counter()
        server.admin(document)
        load.append(time.perf_counter() - began)
    server.stop()
    started = time.perf_counter()
    server.start()
    full = time.perf_counter() - started
    seen, cursor = 0, ""
    while True:  # every node written is there after the restart
        status, body = server.call(
            "GET",
            f"/jobx/node/bench?page_size=1000&cursor={cursor}",
            None,
            {"Authorization": f"Bearer {TOKEN}"},
        )
        assert status == 200, body
        seen += len(body["data"])
        cursor = body.get("cursor") or ""
        if not cursor:
            break
    assert seen == nodes, seen
    server.stop()
    return empty, full, min(load)


def main() -> int:
    print(f"1) ONES writes through chalice local, {CLIENTS} clients x {PER_CLIENT} requests each")
    rates = {sync: write_rates(sync) for sync in ("off", "write", "fsync")}
    print("   TASKHUB_DATA_SYNC   update2/s  vs off    add2/s  vs off")
    off_update, off_add = rates["off"]
    for sync, (update, add) in rates.items():
        print(
            f"   {sync:<17} {update:9.1f} {update / off_update:6.2f}x"
            f" {add:9.1f} {add / off_add:6.2f}x"
        )
    print("2) the store alone: PutItem, one client, in process")
    for mode, (rate, ms) in store_rates().items():
        print(f"   {mode:<6} {rate:7.0f} writes/s  {ms:.2f} ms per write")
    empty, full, load = restart_seconds(10_000)
    print("3) restart with 10,000 items stored (JOBX nodes), until /health answers")
    print(f"   empty store      {empty:6.2f} s")
    print(f"   10,000 items     {full:6.2f} s  ({full - empty:+.2f} s, {full / empty:.2f}x empty)")
    print("4) workspace of 1,000 JOBX nodes through PUT /admin/v1/workspace")
    print(f"   {load:6.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
