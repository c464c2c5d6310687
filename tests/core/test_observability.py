"""Logs, metrics and traces around every handler (core.observability): JSON lines with the
request's keys, no credential in any line, EMF per request and per schedule, X-Ray off here."""

from __future__ import annotations

import contextlib
import logging
import sys

import pytest

from chalicelib.admin import service as admin_service
from chalicelib.core import observability
from chalicelib.core.identity import service as identity
from tests.conftest import ADMIN_TOKEN
from tests.observed import emf, log_lines, metric_values, schedule

PASSWORD = "correct-horse-battery-9"
WRONG = "wrong-horse-battery-77"
ONES_TOKEN = "ones-token-abcdefghijklmnop"
X_AUTH = "x-auth-token-qrstuvwxyz012345"
REPO_PASSWORD = "repo-pass-5f3e2a"


def test_a_request_logs_one_json_line_with_its_keys(api, admin):
    with log_lines() as lines:
        status, _ = api.call("GET", "/admin/v1/workspace?limit=1", headers=admin)
    assert status == 200
    (line,) = [x for x in lines.json() if x["message"] == "GET /admin/v1/workspace 200"]
    assert (line["level"], line["logger"], line["service"]) == ("INFO", "taskhub", "taskhub")
    assert (line["face"], line["route"], line["method"]) == ("admin", "/admin/v1/workspace", "GET")
    assert line["function_name"] == "api_handler" and line["status"] == 200
    assert line["request_id"] and line["function_request_id"]
    assert isinstance(line["latency_ms"], float) and isinstance(line["cold_start"], bool)
    assert line["timestamp"].endswith("+00:00")


def test_an_engine_line_inside_a_request_carries_the_request_keys(api, admin, monkeypatch):
    def failing(limit, cursor):
        logging.getLogger("taskhub.jobx").warning("deep inside")
        raise RuntimeError("boom")

    monkeypatch.setattr(admin_service, "export_workspace", failing)
    with log_lines() as lines:
        status, body = api.call("GET", "/admin/v1/workspace", headers=admin)
    assert status == 500 and body["error"]["message"] == "internal error"
    found = {x["message"]: x for x in lines.json()}
    deep = found["deep inside"]
    assert (deep["logger"], deep["face"], deep["route"]) == (
        "taskhub.jobx",
        "admin",
        "/admin/v1/workspace",
    )
    error = found["unhandled error in GET /admin/v1/workspace"]
    assert error["level"] == "ERROR" and "RuntimeError: boom" in error["exception"]
    assert (
        error["request_id"]
        == deep["request_id"]
        == found["GET /admin/v1/workspace 500"]["request_id"]
    )
    assert observability.logger().get_current_keys().get("face") is None  # cleared after


def test_no_credential_reaches_a_log_line(api, admin, monkeypatch):
    identity.upsert_user(uuid="Dana0001", name="dana", email="dana@t.io", password=PASSWORD)
    identity.issue_token("Dana0001", token=ONES_TOKEN)
    identity.issue_token("Dana0001", token=X_AUTH)

    def leaky(limit, cursor):  # an error whose text holds every kind of secret
        raise RuntimeError(
            f"boom Authorization: Bearer {ADMIN_TOKEN} password={PASSWORD} "
            f'{{"token": "{ONES_TOKEN}"}} https://ci:{REPO_PASSWORD}@git.example/x.git'
        )

    monkeypatch.setattr(admin_service, "export_workspace", leaky)
    with log_lines("DEBUG") as lines:
        login = "/project/api/project/auth/login"
        status, body = api.call("POST", login, {"email": "dana@t.io", "password": PASSWORD})
        assert status == 200
        issued = body["user"]["token"]
        assert api.call("POST", login, {"email": "dana@t.io", "password": WRONG})[0] == 401
        ones = {"Ones-Auth-Token": ONES_TOKEN, "Ones-User-Id": "Dana0001"}
        assert api.call("GET", "/jobx/task/p1", headers=ones)[0] == 403
        assert api.call("GET", "/jobx/task/p1", headers={"X-Auth-Token": X_AUTH})[0] == 403
        tca = {"Authorization": f"Token {ADMIN_TOKEN}"}
        repo = {"scm_url": f"https://ci:{REPO_PASSWORD}@git.example/x.git", "scm_type": "git"}
        api.call("POST", "/server/main/api/orgs/o/teams/t/repos", repo, tca)
        bad = {"Authorization": "Bearer not-a-known-token-0123456789"}
        assert api.call("GET", "/admin/v1/workspace", headers=bad)[0] == 401
        assert api.call("GET", "/admin/v1/workspace", headers=admin)[0] == 500
    text = lines.text
    assert "unhandled error in GET /admin/v1/workspace" in text and "***" in text
    assert "POST /project/api/project/auth/login 200" in text
    secrets = [ADMIN_TOKEN, PASSWORD, WRONG, ONES_TOKEN, X_AUTH, REPO_PASSWORD, issued]
    assert [s for s in secrets if s in text] == []
    assert "not-a-known-token-0123456789" not in text


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("Authorization: Bearer abcdefghijklmnop1234", "Authorization: ***"),
        ("headers {'Authorization': 'Token abcdefghijklmnop1234'}", "'Authorization': '***'"),
        ('{"password": "hunter2-x", "name": "n"}', '{"password": "***", "name": "n"}'),
        ('body {\\"secret_key\\": \\"s3cr3t\\"}', 'body {\\"secret_key\\": \\"***\\"}'),
        ("clone https://ci:pw-123@git.example/r.git failed", "clone https://***@git.example/r.git"),
        ("sk=ABCDEF123456&ak=AKID", "sk=***&ak=AKID"),
        ("Signature=0123456789abcdef0123456789abcdef", "Signature=***"),
        ("jobx abc123 seq 3: moved (lease_token kept)", "jobx abc123 seq 3: moved (lease_token"),
        ("a token that expired", "a token that expired"),
    ],
)
def test_redact_cuts_secret_shapes_and_leaves_the_rest(line, kept):
    assert kept in observability.redact(line)


def test_redact_cuts_the_request_credentials_wherever_they_appear():
    assert observability.redact("user abc x-opaque-value-1 y", ("x-opaque-value-1",)) == (
        "user abc *** y"
    )


def test_local_lines_are_text_with_their_keys():
    formatter = observability.TextFormatter(
        log_record_order=["timestamp", "level", "logger", "message"], utc=True
    )
    formatter.append_keys(task="T0001", seq=3)
    record = logging.LogRecord("taskhub.jobx", logging.INFO, __file__, 1, "moved %s", ("x",), None)
    line = formatter.format(record)
    assert "INFO" in line and "taskhub.jobx: moved x" in line and "task=T0001 seq=3" in line
    assert not line.startswith("{")


def test_request_latency_and_server_errors_per_face_as_emf(
    api, admin, capsys, monkeypatch, metrics_on
):
    assert api.call("GET", "/admin/v1/workspace?limit=1", headers=admin)[0] == 200
    docs = emf(capsys.readouterr().out)
    assert len(metric_values(docs, "RequestLatency", face="admin")) == 1
    assert metric_values(docs, "ServerErrors", face="admin") == []
    (latency,) = [d for d in docs if "RequestLatency" in d]
    (directive,) = latency["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "taskhub" and latency["stage"] == "test"
    assert directive["Metrics"][0] == {"Name": "RequestLatency", "Unit": "Milliseconds"}

    monkeypatch.setattr(admin_service, "export_workspace", lambda *a: 1 / 0)
    assert api.call("GET", "/admin/v1/workspace", headers=admin)[0] == 500
    assert api.call("GET", "/jobx/task/p1", headers=admin)[0] == 200
    docs = emf(capsys.readouterr().out)
    assert metric_values(docs, "ServerErrors", face="admin") == [1.0]
    assert len(metric_values(docs, "RequestLatency", face="jobx")) == 1
    assert metric_values(docs, "ServerErrors", face="jobx") == []


def test_metrics_are_dropped_outside_an_invocation_and_when_disabled(
    capsys, monkeypatch, metrics_on
):
    observability.metric("BatchesRun")
    assert emf(capsys.readouterr().out) == []
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    with observability.invocation("jobx_queue"):
        observability.metric("BatchesRun")
    assert emf(capsys.readouterr().out) == []
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    with observability.invocation("jobx_queue"):
        observability.metric("NodesFailed", 2)
        observability.metric("NodesFailed", 1)
    assert metric_values(emf(capsys.readouterr().out), "NodesFailed") == [2.0, 1.0]


def test_the_reapers_count_stuck_work(aws, capsys, metrics_on):
    schedule("jobx_reaper")
    schedule("scan_reaper")
    docs = emf(capsys.readouterr().out)
    assert metric_values(docs, "JobxTasksReaped") == [0.0]
    assert metric_values(docs, "ScanJobsReaped") == [0.0]


def test_tracing_is_off_here_and_on_only_in_lambda(monkeypatch):
    assert not observability.tracing_enabled()
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")
    assert observability.tracing_enabled()
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    assert not observability.tracing_enabled()
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED")
    monkeypatch.setenv("AWS_CHALICE_CLI_MODE", "true")  # chalice local
    assert not observability.tracing_enabled()


def test_no_request_here_loads_the_xray_sdk(api, admin):
    assert api.call("GET", "/admin/v1/workspace?limit=1", headers=admin)[0] == 200
    assert "aws_xray_sdk" not in sys.modules


class FakeSubsegment:
    def __init__(self, name: str, found: list):
        self.name, self.annotations, self.metadata, self.exceptions = name, {}, {}, []
        found.append(self)

    def put_annotation(self, key, value):
        self.annotations[key] = value

    def put_metadata(self, key, value, namespace="default"):
        self.metadata[key] = value

    def add_exception(self, exception, stack, remote=False):
        self.exceptions.append(exception)


class FakeProvider:
    """X-Ray's recorder as Powertools' Tracer uses it, recording instead of sending."""

    def __init__(self):
        self.subsegments: list[FakeSubsegment] = []

    @contextlib.contextmanager
    def in_subsegment(self, name=None, **kwargs):
        yield FakeSubsegment(name, self.subsegments)

    def put_annotation(self, key, value):
        self.subsegments[-1].put_annotation(key, value)

    def put_metadata(self, key, value, namespace="default"):
        self.subsegments[-1].put_metadata(key, value)

    def patch(self, modules):  # pragma: no cover - auto_patch is off
        pass


@pytest.fixture
def traced(monkeypatch):
    from aws_lambda_powertools import Tracer

    provider = FakeProvider()
    tracer = Tracer(service="taskhub", provider=provider, disabled=False, auto_patch=False)
    monkeypatch.setattr(observability, "tracing_enabled", lambda: True)
    monkeypatch.setattr(observability, "tracer", lambda: tracer)
    yield provider
    Tracer._reset_config()


def test_in_lambda_each_request_is_a_subsegment_without_its_response(api, admin, traced):
    assert api.call("GET", "/admin/v1/workspace?limit=1", headers=admin)[0] == 200
    (segment,) = traced.subsegments
    assert segment.name == "## api_handler"
    assert segment.annotations["face"] == "admin"
    assert segment.annotations["route"] == "/admin/v1/workspace"
    assert segment.annotations["Service"] == "taskhub" and "ColdStart" in segment.annotations
    assert segment.metadata == {}  # capture_response is off: answers carry tokens
    assert "aws_xray_sdk" not in sys.modules


def test_in_lambda_a_schedule_is_a_subsegment_too(aws, traced):
    schedule("jobx_reaper")
    assert [s.name for s in traced.subsegments] == ["## jobx_reaper"]
