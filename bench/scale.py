"""Per request of each face: DynamoDB calls, estimated read and write units (table and
indexes) and SQS messages, the inputs of docs/scaling.md.

    .venv/bin/python -m bench.scale            # every face, each in a process of its own
    .venv/bin/python -m bench.scale ones       # one of: ones dtask jobx tca

The capacity is bench.capacity's estimate from the items each call reads and writes. ONES
and DTask run against moto in-process, as bench.ones_calls and bench.dtask_calls do; JOBX
(a 1,000-node rolling run through the queue pump, then API requests) and TCA (a 100-file
scan fed to the handler, then its polls and result pages) run on the embedded store.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

FACES = ("ones", "dtask", "jobx", "tca")
REPEAT = 10


def row(name: str, cap, per: float = 1.0) -> str:
    return (
        f"{name:34} {cap.calls['all'] / per:7.1f} {cap.rcu / per:7.1f} {cap.wcu / per:7.1f} "
        f"{cap.gsi_wcu / per:7.1f} {cap.sqs_messages / per:6.2f} "
        f"{cap.s3['PutObject'] / per:6.2f} {cap.s3['GetObject'] / per:6.2f}"
    )


def header(title: str) -> None:
    print(title)
    print(
        f"{'request':34} {'calls':>7} {'RCU':>7} {'WCU':>7} {'GSI WCU':>7} {'SQS':>6} "
        f"{'S3 put':>6} {'S3 get':>6}"
    )


def ones() -> None:
    import moto
    from chalice.test import Client

    from bench import ones_calls as oc
    from bench.capacity import Capacity
    from bench.ones_data import bulk_tasks
    from chalicelib.core import crypto, resources, workspace

    with moto.mock_aws():
        from app import app

        resources.rebind()
        crypto.reset()
        resources.create_all()
        crypto.ensure_secret_parameter()
        workspace.apply(oc.DOCUMENT)
        with Client(app) as client:
            bench = oc.Bench(client)
            bulk_tasks(10, 1, **oc.BULK)
            bench.serial = 100
            header(f"ONES, per request (mean of {REPEAT}; auth and the team's catalog included)")
            for name, make in bench.requests().items():
                requests = [make() for _ in range(REPEAT)]
                with Capacity() as cap:
                    for request in requests:
                        bench.call(*request)
                print(row(name, cap, REPEAT))


def dtask() -> None:
    import moto
    from chalice.test import Client

    from bench import dtask_calls as dc
    from bench.capacity import Capacity
    from chalicelib.core import crypto, resources
    from chalicelib.core.identity import service as identity

    with moto.mock_aws():
        from app import app
        from chalicelib.links import service

        resources.rebind()
        crypto.reset()
        resources.create_all()
        crypto.ensure_secret_parameter()
        identity.upsert_user(uuid="Bench001", name="b", email="b@example.com")
        identity.issue_token("Bench001", token=dc.TOKEN)
        identity.upsert_namespace("dtask", "default", kind="deployment")
        identity.set_membership("dtask", "default", "Bench001", "member")
        for _ in range(10):
            service.link(service.create_task(), "bugzilla", "42")
        fresh = [service.create_task() for _ in range(REPEAT)]
        headers = {"Authorization": f"Bearer {dc.TOKEN}"}
        with Client(app) as client:
            header(f"DTask, per request (mean of {REPEAT}; auth included)")
            cases = {
                "link": ("put", "/task/{t}/link/bugzilla/{i}"),
                "get task": ("get", "/task/{t}"),
                "reverse lookup": ("get", "/task/link/bugzilla/{i}"),
            }
            for name, (method, path) in cases.items():
                with Capacity() as cap:
                    for i, task in enumerate(fresh):
                        url = "/dtask" + path.format(t=task, i=100 + i)
                        response = getattr(client.http, method)(url, headers=headers)
                        assert response.status_code == 200, response.body
                print(row(name, cap, REPEAT))


def jobx() -> None:
    from bench import jobx_rolling as jr  # starts the embedded store
    from bench.capacity import Capacity
    from chalicelib.core import resources, workspace
    from chalicelib.core.pump import QueuePump
    from chalicelib.jobs import catalog, engine, runs
    from chalicelib.jobs.schemas import GroupIn, JobIn, RunIn

    resources.rebind()
    resources.create_all()
    pump = QueuePump(jr.app, workers_per_queue=4)
    pump.start()
    token = "bench-jobx-member-token-0123456789"
    try:
        nodes = 1000
        project = "scale1000"
        workspace.apply(
            {
                "users": [{"uuid": "Bench001", "name": "b", "email": "b@x.io", "token": token}],
                "namespaces": [{"face": "jobx", "id": project, "members": {"Bench001": "member"}}],
                "jobx_nodes": [{"project": project, "name": f"n{i:05d}"} for i in range(nodes)],
            }
        )
        group = GroupIn(name="all", group_type="percent", percent="10%")
        catalog.create_group(project, "bench", group)
        small = GroupIn(
            name="ten", group_type="list", node=";".join(f"n{i:05d}" for i in range(10))
        )
        catalog.create_group(project, "bench", small)
        steps = [{"name": "noop", "plugin_type": "cmd", "script": "true"}]
        catalog.create_job(project, "bench", JobIn(name="noop", steps=steps))
        polls = 0
        with Capacity() as cap:
            task, _ = runs.start_task(project, "bench", RunIn(jobname="noop", group="all"))
            deadline = time.monotonic() + 600
            while engine.load(task.uuid).status in ("init", "running"):
                polls += 1
                if time.monotonic() > deadline:
                    raise RuntimeError("the task did not end in 10 minutes")
                time.sleep(0.5)
        assert engine.load(task.uuid).status == "success"
        cap.rcu -= polls  # the wait above reads the task (a consistent read, one unit)
        cap.calls["all"] -= polls
        header("JOBX, a rolling run of 1,000 nodes in 10% batches (engine + runner), per node")
        print(row("node (run of 1,000)", cap, nodes))
        print(f"  busiest partitions (WCU per node): {busiest(cap, nodes)}")

        from chalice.test import Client

        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with Client(jr.app) as client:

            def call(method: str, path: str, body: str | None = None) -> None:
                response = getattr(client.http, method)(path, headers=headers, body=body)
                assert response.status_code == 200, (path, response.body)

            import json

            invoke = [
                json.dumps(
                    {
                        "project_id": project,
                        "uuid": f"third{i:06d}x",
                        "params": {"jobname": "noop", "group": "ten"},
                    }
                )
                for i in range(REPEAT)
            ]
            header(f"JOBX, per API request (mean of {REPEAT}; auth included)")
            started = [f"third{i:06d}a" for i in range(REPEAT)]
            polls = 0
            with Capacity() as cap:
                for body in invoke:
                    call("post", "/jobx/third/interface/invoke", body)
                deadline = time.monotonic() + 300
                while any(engine.load(u).status in ("init", "running") for u in started):
                    polls += REPEAT
                    if time.monotonic() > deadline:
                        raise RuntimeError("the invoked tasks did not end in 5 minutes")
                    time.sleep(0.5)
            cap.rcu -= polls
            cap.calls["all"] -= polls
            print(row("invoke + the run it starts (10 nodes)", cap, REPEAT))
            cases = {
                "third/interface/query": lambda i: (
                    "post",
                    "/jobx/third/interface/query",
                    json.dumps({"uuid": f"third{i:06d}x"}),
                ),
                "task detail": lambda i: ("get", f"/jobx/task/{project}/{task.uuid}", None),
                "task list (first page)": lambda i: ("get", f"/jobx/task/{project}", None),
            }
            for name, make in cases.items():
                with Capacity() as cap:
                    for i in range(REPEAT):
                        call(*make(i))
                print(row(name, cap, REPEAT))
    finally:
        pump.stop()
        jr.STORE.stop()


def tca() -> None:
    import json
    import os

    from bench import scan_engine as se  # starts the embedded store
    from bench.capacity import Capacity

    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        tca_face = se.setup()
        os.environ["TASKHUB_SCAN_SHARD_FILES"] = str(se.SHARDED_FILES)
        files = se.synthetic_tree(100)
        repo = se.bare_repo(work / "synthetic100.git", files)
        with Capacity() as cap:
            result = se.scan(tca_face, repo)
        header("TCA, a full scan of 100 files (create + every engine message), per scan")
        print(row(f"scan ({result['findings']} findings)", cap))
        print(f"  busiest partitions (WCU per scan): {busiest(cap, 1)}")
        handler_s = sum(result["op_seconds"].values())
        print(
            f"  worker time (every message's handler): {handler_s:.2f} s; create to closed: {result['job_s']:.2f} s"
        )
        job = result["job"]
        repo_id = job.repo_id if hasattr(job, "repo_id") else 1
        main = f"{se.MAIN}/repos/{repo_id}/projects/{result['project_id']}"
        analysis = main.replace("/server/main/", "/server/analysis/")
        client = tca_face.client
        cases = {
            "job detail (the CI poll)": f"{main}/jobs/{job.job_id}/detail/",
            "issues page (20)": f"{analysis}/codelint/issues/?state=1&limit=20",
            "overview": f"{analysis}/overview/",
        }
        header(f"TCA, per API request (mean of {REPEAT}; auth included)")
        for name, path in cases.items():
            with Capacity() as cap:
                for _ in range(REPEAT):
                    response = client.http.get(path, headers=se.HEADERS)
                    assert response.status_code == 200, (path, response.body)
                    json.loads(response.body)
            print(row(name, cap, REPEAT))
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        se.STORE.stop()


def busiest(cap, per: float) -> str:
    top = cap.hot.most_common(3)
    return ", ".join(f"{t.split('-', 2)[-1]} {k[:24]} {w / per:.2f}" for (t, k), w in top)


def main() -> int:
    faces = sys.argv[1:] or list(FACES)
    if len(faces) == 1:
        globals()[faces[0]]()
        return 0
    failed = 0
    for face in faces:
        print(flush=True)
        failed |= subprocess.call([sys.executable, "-m", "bench.scale", face])
    return failed


if __name__ == "__main__":
    sys.exit(main())
