"""A cold start as Lambda has it: a fresh process imports app.py (routes only, no domain), then
serves a first request of each face and a first message of each queue, each loading what it
needs on its own (core.lazy), and none failing for something only a full load registers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from chalicelib.core import lazy
from chalicelib.faces import FACE_MODULES

ROOT = Path(__file__).resolve().parents[1]
# what `import app` must not load: each costs milliseconds of every cold start
HEAVY = (
    "pydantic",
    "httpx",
    "dulwich",
    "lizard",
    "pytokei",
    "cryptography",
    "aws_xray_sdk",
    "aws_lambda_powertools.utilities.batch",
    "chalicelib.core.workspace",
    "chalicelib.scans.engine",
    "chalicelib.jobs.engine",
    "chalicelib.webhooks.delivering",
    "chalicelib.webhooks.allowlist",
)

FIRST_REQUESTS = (
    "/health",
    "/admin/v1/workspace?limit=5",
    "/project/api/project/team/Team0001/tasks",
    "/dtask/task/0123456789abcdef01234567",
    "/jobx/task/p1",
    "/server/main/api/orgs/o1/teams/t1/repos",
    "/server/analysis/api/orgs/o1/teams/t1/repos/1/projects/1/overview",
    "/console",
)

SCRIPT = """
import json, sys
HEAVY = json.loads(sys.argv[1])
import app
before = [m for m in HEAVY if m in sys.modules]
from chalice.test import Client
from chalicelib.core.pump import LambdaContext
statuses = {}
with Client(app.app) as client:
    for path in json.loads(sys.argv[2]):
        got = client.http.get(path, headers={"Authorization": "Bearer " + sys.argv[3]})
        statuses[path] = got.status_code
record = {"messageId": "m1", "receiptHandle": "r1", "body": "not json", "attributes": {},
          "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:0:q"}
handled = {}
for name in ("jobx_queue", "jobx_local", "scan_queue", "webhook_queue"):
    handled[name] = getattr(app, name)({"Records": [record]}, LambdaContext(name))
event = {"version": "0", "id": "1", "source": "aws.events", "detail-type": "Scheduled Event",
         "account": "0", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
         "resources": [], "detail": {}}
for name in ("jobx_reaper", "scan_reaper", "webhook_reaper"):
    getattr(app, name)(event, LambdaContext(name))
print(json.dumps({"before": before, "statuses": statuses, "handled": handled}))
"""


def test_import_app_loads_no_domain_and_each_first_request_loads_its_own(admin, store):
    from tests.conftest import ADMIN_TOKEN

    env = {**os.environ, "TASKHUB_ENDPOINT_URL": store.url, "POWERTOOLS_METRICS_DISABLED": "1"}
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(HEAVY), json.dumps(FIRST_REQUESTS), ADMIN_TOKEN],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert got["before"] == [], got["before"]
    assert all(status < 500 for status in got["statuses"].values()), got["statuses"]
    assert got["statuses"]["/health"] == 200
    assert got["statuses"]["/admin/v1/workspace?limit=5"] == 200  # every section loaded
    assert got["statuses"]["/jobx/task/p1"] == 200
    assert got["statuses"]["/console"] == 200  # the console by the same bearer token
    assert all(answer == {"batchItemFailures": []} for answer in got["handled"].values())


def test_every_face_declares_its_domain_lazy():
    """`load_faces()` (template, CLI, tests) reaches every domain through these declarations."""
    declared = set(lazy.declared())
    for module in FACE_MODULES:
        package = module.rsplit(".", 1)[0]
        if package != "chalicelib.tca":
            assert any(name.startswith(package + ".") for name in declared), module
    assert "chalicelib.scans.workspace" in declared


def test_a_lazy_module_reads_through_and_says_what_it_is():
    stand_in = lazy.module("json")
    assert "not loaded" in repr(stand_in)
    assert stand_in.dumps([1]) == "[1]"
    assert "loaded" in repr(stand_in) and "not" not in repr(stand_in)
