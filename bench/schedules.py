"""What a scheduler tick costs as the number of schedules grows, due and not due.

Against the embedded store, in one process: N JOBX crontabs of one project, D of them due at
the tick (their next run is the current slot), the others due next year. Prints the tick's
DynamoDB calls (all, Queries of the deadline index, per due schedule) and SQS messages, and
beside them the floor measured in the same run: a tick with nothing due, one Query per shard
of the index. The tick's cost should follow D, not N.

    .venv/bin/python -m bench.schedules
"""

from __future__ import annotations

import sys

from bench import embedded

STORE = embedded.start({"TASKHUB_JOBX_LOCAL": "on"})

from chalicelib.core import (  # noqa: E402
    ids,
    resources,
    workspace,
)
from chalicelib.core.identity import service as identity  # noqa: E402
from chalicelib.core.metering import count_calls  # noqa: E402
from chalicelib.jobs import catalog  # noqa: E402
from chalicelib.jobs.schemas import GroupIn, JobIn  # noqa: E402
from chalicelib.schedules import firing, setting, store, timing  # noqa: E402
from chalicelib.schedules.models import ScheduleModel  # noqa: E402

PROJECT = "benchcron"
USER = "BenchUs1"
SIZES = ((10, 0), (1000, 0), (10000, 0), (1000, 10), (10000, 10), (10000, 100))


def setup() -> ScheduleModel:
    resources.rebind()
    resources.create_all()
    identity.upsert_user(uuid=USER, name="bench", email="bench@x.io")
    identity.upsert_namespace("jobx", PROJECT, kind="project")
    identity.set_membership("jobx", PROJECT, USER, "member")
    workspace.apply({"jobx_nodes": [{"project": PROJECT, "name": "n1"}]})
    catalog.create_group(PROJECT, USER, GroupIn(name="g", group_type="list", node="n1"))
    steps = [{"name": "noop", "plugin_type": "cmd", "script": "true"}]
    catalog.create_job(PROJECT, USER, JobIn(name="noop", steps=steps))
    target = {"project": PROJECT, "jobname": "noop", "group": "g", "variable": {}}
    spec = setting.Spec("model", "* * * * *", "UTC", True, USER)
    model = setting.create("jobx", target, spec, USER)
    store.remove(model.owner, model.sid, "model")  # only its copies are measured
    return model


def fill(model: ScheduleModel, total: int, due: int, slot: int) -> list[tuple[str, str]]:
    """`total` schedules (copies of the one set through the face's checks), `due` at `slot`;
    their keys."""
    later = slot + 365 * 86400
    keys = []
    with ScheduleModel.batch_write() as batch:
        for n in range(total):
            owner = f"jobx:{PROJECT}{n % 50}"  # spread over owners, as projects would be
            sid = store.sid_of(n + 1)
            keys.append((owner, sid))
            batch.save(
                ScheduleModel(
                    owner,
                    sid,
                    **{
                        k: getattr(model, k)
                        for k in ("kind", "name", "target", "cron", "timezone", "run_as")
                    },
                    kind_key=f"{owner}#{sid}",
                    enabled=True,
                    version=1,
                    due_shard=store.due_shard(owner, sid),
                    next_run=slot if n < due else later,
                )
            )
    return keys


def empty(keys: list[tuple[str, str]]) -> None:
    with ScheduleModel.batch_write() as batch:
        for owner, sid in keys:
            batch.delete(ScheduleModel(owner, sid))


def measure(model: ScheduleModel, total: int, due: int, minute: int) -> dict[str, float]:
    """A tick (its clock injected) at a minute of its own: each run's slots are new ones."""
    slot = timing.latest("* * * * *", "UTC", ids.now_s()) + 60 * minute
    keys = fill(model, total, due, slot)
    with count_calls() as calls:
        counts = firing.tick(now=slot + 5)
    empty(keys)
    assert counts["fired"] == due and counts["errors"] == 0, counts
    return {
        "total": total,
        "due": due,
        "ddb": calls["dynamodb"],
        "queries": calls["dynamodb.Query"],
        "sqs": calls["sqs.SendMessage"],
    }


def main() -> int:
    model = setup()
    try:
        rows = [measure(model, total, due, n) for n, (total, due) in enumerate(SIZES)]
    finally:
        STORE.stop()
    floor = rows[0]["ddb"]
    print(f"floor (a tick with nothing due): {floor} DynamoDB calls, one Query per shard")
    print(
        f"{'schedules':>9} {'due':>4} {'DDB calls':>9} {'Queries':>7} {'x floor':>7} "
        f"{'DDB per due':>11} {'SQS sent':>8}"
    )
    for r in rows:
        per_due = (r["ddb"] - floor) / r["due"] if r["due"] else 0.0
        print(
            f"{r['total']:>9} {r['due']:>4} {r['ddb']:>9} {r['queries']:>7} "
            f"{r['ddb'] / floor:>6.1f}x {per_due:>11.1f} {r['sqs']:>8}"
        )
    idle = [r["ddb"] for r in rows if r["due"] == 0]
    busy = {r["total"]: r["ddb"] for r in rows if r["due"] == 10}
    flat = len(set(idle)) == 1 and busy[1000] == busy[10000]
    print(f"cost follows the due schedules, not all of them: {'yes' if flat else 'NO'}")
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
