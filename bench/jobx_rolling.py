"""JOBX rolling run at 100 and 1,000 nodes with `10%` batches and a trivial local command.

Runs in-process against moto (the embedded mode's AWS), driving the SQS queue the way the
local pump and Lambda do: receive, call the same `handle_sqs` handler, delete what it did not
report as failed. Prints wall time, SQS messages sent and DynamoDB calls per node.

    .venv/bin/python -m bench.jobx_rolling
"""

from __future__ import annotations

import os
import sys
import time

os.environ["TASKHUB_STAGE"] = "bench"
os.environ.pop("TASKHUB_EMBEDDED", None)
os.environ.pop("TASKHUB_ENDPOINT_URL", None)
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"

import moto

from chalicelib.core import aws, config, resources
from chalicelib.core.metering import count_calls
from chalicelib.core.pump import sqs_event

config.reload()

from chalicelib.faces import load_faces  # noqa: E402

load_faces()

from chalicelib.core.identity import service as identity  # noqa: E402
from chalicelib.jobs import catalog, engine, inventory, runs, worker  # noqa: E402
from chalicelib.jobs.schemas import GroupIn, JobIn, RunIn  # noqa: E402


def drain() -> int:
    """Deliver every queued message to the Lambda handler; returns how many were handled."""
    sqs = aws.client("sqs")
    url = resources.queue_url("jobx")
    handled = 0
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not got:
            return handled
        result = worker.handle_sqs(sqs_event(got, "arn:aws:sqs:us-east-1:000000000000:jobx"))
        if not result["batchItemFailures"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=got[0]["ReceiptHandle"])
        handled += 1


def run(nodes: int) -> dict[str, float]:
    project = f"bench{nodes}"
    identity.upsert_namespace("jobx", project, kind="project")
    for i in range(nodes):
        inventory.upsert(project, inventory.NodeIn(name=f"node{i:05d}"))
    catalog.create_group(project, "bench", GroupIn(name="all", group_type="percent", percent="10%"))
    steps = [{"name": "noop", "plugin_type": "cmd", "script": "true"}]
    catalog.create_job(project, "bench", JobIn(name="noop", steps=steps))
    started = time.perf_counter()
    with count_calls() as calls:
        task, _ = runs.start_task(project, "bench", RunIn(jobname="noop", group="all"))
        handled = drain()
    wall = time.perf_counter() - started
    final = engine.load(task.uuid)
    assert final.status == "success", (final.status, final.reason)
    return {
        "nodes": nodes,
        "batches": len(final.batches),
        "wall_s": wall,
        "messages": handled,
        "sqs_sent": calls["sqs.SendMessage"],
        "ddb_calls": calls["dynamodb"],
        "ddb_per_node": calls["dynamodb"] / nodes,
        "nodes_per_s": nodes / wall,
    }


def main() -> int:
    engine.STOP_CHECK_S = 1.0
    rows = []
    with moto.mock_aws():
        resources.rebind()
        resources.create_all()
        for nodes in (100, 1000):
            rows.append(run(nodes))
    print(
        f"{'nodes':>6} {'batches':>7} {'wall s':>7} {'nodes/s':>8} {'SQS sent':>8} {'DDB calls':>9} {'DDB/node':>8}"
    )
    for r in rows:
        print(
            f"{r['nodes']:>6} {r['batches']:>7} {r['wall_s']:>7.2f} {r['nodes_per_s']:>8.0f} "
            f"{r['sqs_sent']:>8} {r['ddb_calls']:>9} {r['ddb_per_node']:>8.2f}"
        )
    ratio = rows[1]["ddb_per_node"] / rows[0]["ddb_per_node"]
    print(
        f"DynamoDB calls per node, 1,000 vs 100 nodes: {ratio:.2f}x (flat or falling is the goal)"
    )
    return 0 if ratio <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
