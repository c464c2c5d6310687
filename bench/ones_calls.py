"""ONES face: DynamoDB calls per request and requests/second, at 10 and at 2,000 tasks.

    .venv/bin/python -m bench.ones_calls [--requests 50]

Runs the app in-process against moto (no AWS account, nothing on the network). Call counts
are exact (`count_calls` wraps botocore); throughput is what moto in one Python process
allows, so read it as a relative figure between request kinds, not as DynamoDB latency.
moto deep-copies every table a TransactWrite touches (to roll back on failure), so its
write throughput falls with table size; DynamoDB's does not.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.update(
    TASKHUB_STAGE="bench",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="us-east-1",
)
os.environ.pop("TASKHUB_EMBEDDED", None)
os.environ.pop("TASKHUB_ENDPOINT_URL", None)

import moto

from chalicelib.core import config, crypto, resources, workspace
from chalicelib.core.metering import count_calls

from .ones_data import bulk_tasks

config.reload()

PREFIX = "/project/api/project"
TEAM, USER, TOKEN = "3pDzCwAe", "DU6krHBN", "bench-token-0123456789abcdef"
PROJECT, SPRINT, TASK_TYPE, TODO = "DU6krHBNXuPAbpv8", "LJZM6N3J", "FF78d8EL", "MZQu4VaM"
# a viewer of another project only: every task of the bench is in a project they cannot view
VIEWER, VIEWER_TOKEN, OTHER = "ViEw0001", "viewer-token-0123456789abcdef", "PRZy8efJ3HohVuf2"
DOCUMENT = {
    "users": [
        {"uuid": USER, "name": "Dana", "email": "dana@example.com", "token": TOKEN},
        {"uuid": VIEWER, "name": "Vera", "email": "vera@example.com", "token": VIEWER_TOKEN},
    ],
    "teams": [{"uuid": TEAM, "name": "Team", "members": {USER: "admin"}}],
    "projects": [
        {"uuid": PROJECT, "team": TEAM, "name": "Project"},
        {"uuid": OTHER, "team": TEAM, "name": "Other", "members": {VIEWER: "viewer"}},
    ],
    "statuses": [
        {"uuid": TODO, "team": TEAM, "name": "To do", "category": "to_do", "default": True},
        {"uuid": "4HfKoazf", "team": TEAM, "name": "Doing", "category": "in_progress"},
    ],
    "issue_types": [{"uuid": TASK_TYPE, "team": TEAM, "name": "Task"}],
    "transitions": [
        {
            "uuid": "TrStart1",
            "team": TEAM,
            "name": "Start",
            "start_status": TODO,
            "end_status": "4HfKoazf",
        },
        {
            "uuid": "TrBack01",
            "team": TEAM,
            "name": "Back",
            "start_status": "4HfKoazf",
            "end_status": TODO,
        },
    ],
    "priorities": [{"uuid": "7tKAV46c", "team": TEAM, "value": "Normal", "default": True}],
    "sprints": [{"uuid": SPRINT, "team": TEAM, "project": PROJECT, "name": "Sprint"}],
}
BULK = {
    "team": TEAM,
    "user": USER,
    "project": PROJECT,
    "sprint": SPRINT,
    "issue_type": TASK_TYPE,
    "status": TODO,
}
HEADERS = {"Content-Type": "application/json", "Ones-User-Id": USER, "Ones-Auth-Token": TOKEN}
VIEWER_HEADERS = {**HEADERS, "Ones-User-Id": VIEWER, "Ones-Auth-Token": VIEWER_TOKEN}


class Bench:
    def __init__(self, client):
        self.client = client
        self.serial = 0

    def call(self, method: str, path: str, body=None, headers=HEADERS):
        response = getattr(self.client.http, method.lower())(
            PREFIX + path, headers=headers, body=json.dumps(body) if body is not None else None
        )
        assert response.status_code == 200, (path, response.body)
        return json.loads(response.body)

    def new_uuid(self) -> str:
        self.serial += 1
        return f"{USER}b{self.serial:07d}"

    def requests(self) -> dict:
        """One callable per request kind; each call is one HTTP request."""
        target = self.new_uuid()
        self.call("POST", f"/team/{TEAM}/tasks/add2", {"tasks": [self._task(target)]})
        victims: list[str] = []
        state = {"flip": False}

        def add2():
            uuid = self.new_uuid()
            victims.append(uuid)
            return ("POST", f"/team/{TEAM}/tasks/add2", {"tasks": [self._task(uuid)]})

        def transit():
            state["flip"] = not state["flip"]
            tr = "TrStart1" if state["flip"] else "TrBack01"
            return ("POST", f"/team/{TEAM}/task/{target}/new_transit", {"transition_uuid": tr})

        return {
            "add2 (1 task)": add2,
            "info": lambda: ("GET", f"/team/{TEAM}/task/{target}/info", None),
            "tasks/info (2 ids)": lambda: (
                "POST",
                f"/team/{TEAM}/tasks/info",
                {"ids": [target, victims[0]]},
            ),
            "update2 (1 task)": lambda: (
                "POST",
                f"/team/{TEAM}/tasks/update2",
                {"tasks": [{"uuid": target, "summary": f"s{time.time_ns()}"}]},
            ),
            "new_transit": transit,
            "task_stats": lambda: ("GET", f"/team/{TEAM}/task_stats", None),
            "list (20, sprint filter)": lambda: (
                "GET",
                f"/team/{TEAM}/tasks?sprint_uuid={SPRINT}&limit=20",
                None,
            ),
            "list (project + done: none)": lambda: (
                "GET",
                f"/team/{TEAM}/tasks?project_uuid={PROJECT}&status_category=done&limit=20",
                None,
            ),
            "list (viewer of another)": lambda: (
                "GET",
                f"/team/{TEAM}/tasks?limit=20",
                None,
                VIEWER_HEADERS,
            ),
            "delete (leaf)": lambda: ("POST", f"/team/{TEAM}/task/{victims.pop()}/delete", None),
        }

    @staticmethod
    def _task(uuid: str) -> dict:
        return {
            "uuid": uuid,
            "assign": USER,
            "summary": "bench",
            "project_uuid": PROJECT,
            "issue_type_uuid": TASK_TYPE,
            "sprint_uuid": SPRINT,
        }

    def measure(self, n: int) -> dict[str, tuple[float, float]]:
        out = {}
        for name, make in self.requests().items():
            calls_total = 0
            start = time.perf_counter()
            for _ in range(n):
                request = make()
                with count_calls() as calls:
                    self.call(*request)
                calls_total += calls["dynamodb"]
            elapsed = time.perf_counter() - start
            out[name] = (calls_total / n, n / elapsed)
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per kind")
    args = parser.parse_args()
    from chalice.test import Client

    with moto.mock_aws():
        from app import app

        resources.rebind()
        crypto.reset()
        resources.create_all()
        crypto.ensure_secret_parameter()
        workspace.apply(DOCUMENT)
        with Client(app) as client:
            bench = Bench(client)
            bulk_tasks(10, 1, **BULK)
            bench.serial = 100
            small = bench.measure(args.requests)
            bulk_tasks(1990, 20_000, **BULK)
            large = bench.measure(args.requests)
    print(f"ONES face, {args.requests} requests per kind, moto in-process")
    print(f"{'request':28} {'calls@10':>9} {'calls@2000':>11} {'req/s@10':>9} {'req/s@2000':>11}")
    for name in small:
        (c1, r1), (c2, r2) = small[name], large[name]
        print(f"{name:28} {c1:9.1f} {c2:11.1f} {r1:9.0f} {r2:11.0f}")
    flat = all(small[k][0] == large[k][0] for k in small)
    print("calls per request flat from 10 to 2,000 tasks:", "yes" if flat else "NO")


if __name__ == "__main__":
    main()
