"""JOBX rolling run at 100 and 1,000 nodes with `10%` batches and a trivial local command.

Runs in one process against the embedded store, with the queue pump that `make run` uses:
the engine's messages and the local runner's orders go through SQS to the same handlers
Lambda calls. Prints wall time, SQS messages (engine moves and runner orders, per step per
batch) and DynamoDB calls per node, and beside them the floor: the same `true` commands in
the same batches, 16 at a time, with bare subprocesses, measured in the same run.

    .venv/bin/python -m bench.jobx_rolling
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from bench import embedded

STORE = embedded.start({"TASKHUB_JOBX_LOCAL": "on"})

from app import app  # noqa: E402
from chalicelib.core import (  # noqa: E402
    resources,
    workspace,
)
from chalicelib.core.identity import service as identity  # noqa: E402
from chalicelib.core.metering import count_calls  # noqa: E402
from chalicelib.core.pump import QueuePump  # noqa: E402
from chalicelib.jobs import catalog, engine, runner, runs  # noqa: E402
from chalicelib.jobs.schemas import GroupIn, JobIn, RunIn  # noqa: E402


def floor(batches: list[list[str]]) -> float:
    """The same commands with nothing around them: `bash <file>` per node, 16 at a time."""
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as script:
        script.write("true\n")
    started = time.perf_counter()
    with ThreadPoolExecutor(runner.POOL) as pool:
        for batch in batches:
            list(pool.map(lambda _: subprocess.run(["bash", script.name], check=True), batch))  # noqa: S607
    took = time.perf_counter() - started
    os.unlink(script.name)
    return took


def run(nodes: int) -> dict[str, float]:
    project = f"bench{nodes}"
    identity.upsert_namespace("jobx", project, kind="project")
    workspace.apply(
        {"jobx_nodes": [{"project": project, "name": f"node{i:05d}"} for i in range(nodes)]}
    )
    catalog.create_group(project, "bench", GroupIn(name="all", group_type="percent", percent="10%"))
    steps = [{"name": "noop", "plugin_type": "cmd", "script": "true"}]
    catalog.create_job(project, "bench", JobIn(name="noop", steps=steps))
    started = time.perf_counter()
    with count_calls() as calls:
        task, _ = runs.start_task(project, "bench", RunIn(jobname="noop", group="all"))
        deadline = time.monotonic() + 600
        while engine.load(task.uuid).status in ("init", "running"):
            if time.monotonic() > deadline:
                raise RuntimeError("the task did not end in 10 minutes")
            time.sleep(0.05)
    wall = time.perf_counter() - started
    final = engine.load(task.uuid)
    assert final.status == "success", (final.status, final.reason)
    batch_steps = len(final.batches) * len(final.steps)
    polls = calls["dynamodb.GetItem"]  # the loop above reads the task: not the engine's
    return {
        "nodes": nodes,
        "batches": len(final.batches),
        "wall_s": wall,
        "floor_s": floor(final.batches),
        "engine_messages": calls["sqs.SendMessage"] / batch_steps,
        "runner_orders": calls["sqs.SendMessageBatch"] / batch_steps,
        "ddb_per_node": (calls["dynamodb"] - polls) / nodes,
    }


def main() -> int:
    resources.rebind()
    resources.create_all()
    pump = QueuePump(app, workers_per_queue=4)
    pump.start()
    try:
        rows = [run(nodes) for nodes in (100, 1000)]
    finally:
        pump.stop()
        STORE.stop()
    print(
        f"{'nodes':>6} {'batches':>7} {'wall s':>7} {'floor s':>7} {'ratio':>6} "
        f"{'moves/step/batch':>16} {'orders/step/batch':>17} {'DDB/node':>8}"
    )
    for r in rows:
        print(
            f"{r['nodes']:>6} {r['batches']:>7} {r['wall_s']:>7.2f} {r['floor_s']:>7.2f} "
            f"{r['wall_s'] / r['floor_s']:>5.1f}x {r['engine_messages']:>16.1f} "
            f"{r['runner_orders']:>17.1f} {r['ddb_per_node']:>8.2f}"
        )
    ratio = rows[1]["ddb_per_node"] / rows[0]["ddb_per_node"]
    print(
        f"DynamoDB calls per node, 1,000 vs 100 nodes: {ratio:.2f}x (flat or falling is the goal)"
    )
    return 0 if ratio <= 1.05 else 1


if __name__ == "__main__":
    sys.exit(main())
