"""Web console: DynamoDB calls per page, with a small and a large project behind each page.

    .venv/bin/python -m bench.console_calls [--requests 5]

Runs the app in one process against the embedded store. A JOBX job runs to its end through
the queue pump (three batches); then the pump stops, so only the page being measured calls
DynamoDB while `count_calls` counts. Each page is measured with 10 JOBX tasks, 10 scans and
10 ONES tasks behind it, then again with 300 JOBX tasks, 300 scans and 2,000 ONES tasks
(the extra JOBX tasks queued, the scans and ONES tasks written straight to their tables).
"""

from __future__ import annotations

import argparse
import sys
import time

from bench import embedded

STORE = embedded.start({"TASKHUB_JOBX_LOCAL": "on"})

from chalice.test import Client  # noqa: E402

from app import app  # noqa: E402
from chalicelib.core import resources, workspace  # noqa: E402
from chalicelib.core.metering import count_calls  # noqa: E402
from chalicelib.core.pump import QueuePump  # noqa: E402
from chalicelib.jobs import engine, runs  # noqa: E402
from chalicelib.jobs.schemas import RunIn  # noqa: E402

from .ones_data import bulk_tasks  # noqa: E402

USER, TOKEN = "DU6krHBN", "bench-console-token-0123456789"
PROJECT, ORG, TEAM = "web", "acme", "backend"
ONES_TEAM, ONES_PROJECT, TASK_TYPE, TODO = "3pDzCwAe", "DU6krHBNXuPAbpv8", "FF78d8EL", "MZQu4VaM"
DOCUMENT = {
    "users": [{"uuid": USER, "name": "Dana", "email": "dana@example.com", "token": TOKEN}],
    "namespaces": [
        {"face": "jobx", "id": PROJECT, "members": {USER: "member"}},
        {"face": "tca", "id": ORG, "kind": "org", "members": {USER: "member"}},
        {"face": "tca", "id": f"{ORG}/{TEAM}", "kind": "team", "parent": ORG},
    ],
    "jobx_nodes": [{"project": PROJECT, "name": f"web{i}"} for i in range(1, 6)],
    "teams": [{"uuid": ONES_TEAM, "name": "Team", "members": {USER: "admin"}}],
    "projects": [{"uuid": ONES_PROJECT, "team": ONES_TEAM, "name": "Project"}],
    "statuses": [
        {"uuid": TODO, "team": ONES_TEAM, "name": "To do", "category": "to_do", "default": True}
    ],
    "issue_types": [{"uuid": TASK_TYPE, "team": ONES_TEAM, "name": "Task"}],
    "sprints": [{"uuid": "LJZM6N3J", "team": ONES_TEAM, "project": ONES_PROJECT, "name": "S"}],
}
BULK = {
    "team": ONES_TEAM,
    "user": USER,
    "project": ONES_PROJECT,
    "sprint": "LJZM6N3J",
    "issue_type": TASK_TYPE,
    "status": TODO,
}
OWNER = f"tca:{ORG}/{TEAM}"


def jobx_setup() -> str:
    """Group and jobs; one task run to its end (the page measured) and nine more."""
    from chalicelib.jobs import catalog
    from chalicelib.jobs.schemas import GroupIn, JobIn

    catalog.create_group(
        PROJECT, USER, GroupIn(name="web", group_type="list", node="web1;web2,web3;web4,web5")
    )
    steps = [{"name": "deploy", "plugin_type": "cmd", "script": "echo deployed $node"}]
    catalog.create_job(PROJECT, USER, JobIn(name="deploy", steps=steps))
    shown = None
    for _ in range(10):
        task, _ = runs.start_task(PROJECT, USER, RunIn(jobname="deploy", group="web"))
        shown = shown or task.uuid
    deadline = time.monotonic() + 300
    while engine.load(shown).status in ("init", "running"):
        if time.monotonic() > deadline:
            raise RuntimeError("the task did not end")
        time.sleep(0.05)
    return shown


def more_jobx(count: int) -> None:
    """Tasks that stay queued (the pump is stopped): rows of the project's list all the same."""
    for _ in range(count):
        runs.start_task(PROJECT, USER, RunIn(jobname="deploy", group="web"))


def scans(first: int, count: int) -> None:
    """A repository, a project and `count` closed scans, written as the engine leaves them."""
    from chalicelib.scans.models import JobModel, ProjectModel, RepoModel

    now = int(time.time() * 1000)
    if first == 1:
        RepoModel(
            OWNER, 1, name="shop", scm_url="https://git.example/shop.git", created_time=now
        ).save()
        ProjectModel(1, 1, owner=OWNER, branch="master", scheme_id=1, created_time=now).save()
    languages = {"Python": {"files": 30, "code": 4000}, "Shell": {"files": 4, "code": 200}}
    with JobModel.batch_write() as batch:
        for job_id in range(first, first + count):
            lint = {
                "issue_open_num": 2,
                "issue_fix_num": 1,
                "active_issue_num": 100 + job_id % 7,
                "active_severity_detail": {"2": 40, "3": 60 + job_id % 7},
            }
            cloc = {"files": 34, "code": 4200, "languages": languages}
            batch.save(
                JobModel(
                    1,
                    job_id,
                    repo_id=1,
                    scan_id=job_id,
                    state=2,
                    phase="done",
                    result_code=0,
                    result_msg="success",
                    create_time=now + job_id,
                    code_line_num=4200,
                    summary={"lint": lint, "cloc": cloc},
                )
            )


def pages(task: str, last_scan: int) -> dict[str, str]:
    tca = f"/console/tca/{ORG}/{TEAM}"
    return {
        "home": "/console",
        "JOBX tasks": f"/console/jobx/{PROJECT}",
        "JOBX task": f"/console/jobx/{PROJECT}/{task}",
        "JOBX live fragment": f"/console/jobx/{PROJECT}/{task}/live",
        "JOBX node output": f"/console/jobx/{PROJECT}/{task}/output?batch=2&node=web3&step=0",
        "TCA repositories": tca,
        "TCA projects": f"{tca}/1",
        "scans of a project": f"{tca}/1/1",
        "a scan": f"{tca}/1/1/{last_scan}",
        "ONES task tree": f"/console/ones/{ONES_TEAM}",
    }


def measure(client: Client, routes: dict[str, str], n: int) -> dict[str, float]:
    out = {}
    for name, path in routes.items():
        total = 0
        for _ in range(n):
            with count_calls() as calls:
                got = client.http.get(path, headers={"Cookie": f"taskhub_token={TOKEN}"})
            assert got.status_code == 200, (path, got.status_code, got.body[:300])
            total += calls["dynamodb"]
        out[name] = total / n
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5, help="requests per page")
    args = parser.parse_args()
    resources.rebind()
    resources.create_all()
    workspace.apply(DOCUMENT)
    pump = QueuePump(app, workers_per_queue=2)
    pump.start()
    try:
        task = jobx_setup()
    finally:
        pump.stop()
    try:
        scans(1, 10)
        bulk_tasks(10, 1, **BULK)
        with Client(app) as client:
            small = measure(client, pages(task, 10), args.requests)
            more_jobx(290)
            scans(11, 290)
            bulk_tasks(1990, 20_000, **BULK)
            large = measure(client, pages(task, 300), args.requests)
    finally:
        STORE.stop()
    print(f"web console, DynamoDB calls per page ({args.requests} requests each)")
    print(f"{'page':22} {'small':>7} {'large':>7}")
    for name in small:
        print(f"{name:22} {small[name]:7.1f} {large[name]:7.1f}")
    print("small: 10 JOBX tasks, 10 scans, 10 ONES tasks; large: 300, 300, 2,000")
    flat = all(large[k] <= small[k] for k in small)
    print("calls per page flat from small to large:", "yes" if flat else "NO")
    return 0 if flat else 1


if __name__ == "__main__":
    sys.exit(main())
