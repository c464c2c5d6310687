"""Logs, metrics and traces of every Lambda function, as Chalice middleware (Powertools).

**Logs.** One handler on the `taskhub` logger, so every engine logger below it
(`taskhub.jobx`, `taskhub.scans`, ...) writes JSON lines to stdout, which Lambda sends to
CloudWatch. Each line carries the invocation's keys: `function_name`, `function_request_id`,
`cold_start`; for a request `request_id` (API Gateway's), `face`, `route`, `method`; for a
queue message `message_id` and the ids its body names (`task`, `seq`, `batch`, `step`,
`job`, `op`, ...). Each request ends with one line `<METHOD> <route> <status>` with
`status` and `latency_ms`. With `TASKHUB_LOG_FORMAT=text` (the local stage) the same lines
are plain text. Secrets are cut from every line, whatever wrote it: the values of the
credential headers of the request being served, bearer tokens, `key=value` pairs whose key
names a secret, and user:password in URLs (`redact`).

**Metrics.** CloudWatch embedded metric format on stdout (namespace
`POWERTOOLS_METRICS_NAMESPACE`, default `taskhub`), one document per set of dimensions,
flushed at the end of each invocation; dimension `stage` on everything. `RequestLatency`
(ms) and `ServerErrors` per `face`, `ColdStart` per `function`, and what the engines count
with `metric()`: `BatchesRun`, `NodesFailed`, `JobxTasksReaped`, `ScanJobsReaped`,
`ScansClosed` per `result` class. Metrics outside an invocation, or with
`POWERTOOLS_METRICS_DISABLED` (the local stage), are dropped.

**Traces.** X-Ray through Powertools' Tracer: a `## <function>` subsegment per invocation
(responses are never recorded: they carry tokens), botocore patched so each AWS call is a
subsegment. Only in Lambda and unless `POWERTOOLS_TRACE_DISABLED`; `aws_xray_sdk` loads at
the first invocation, not at import.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import EphemeralMetrics
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from .config import settings

SERVICE = "taskhub"
DEFAULT_NAMESPACE = "taskhub"
# headers whose values are credentials: never in a log line, whatever logged them
CREDENTIAL_HEADERS = (
    "authorization",
    "x-auth-token",
    "ones-auth-token",
    "x-api-key",
    "cookie",
    "proxy-authorization",
)
# ids a queue message's body may name, logged with every line while it is handled
MESSAGE_KEYS = (
    "task",
    "seq",
    "batch",
    "step",
    "attempt",
    "job",
    "project",
    "op",
    "shard",
    "delivery",
)

_SENSITIVE_FIELDS = (  # key names whose values are credentials
    r"password|passwd|pwd|secret|secret_key|secretkey|client_secret|sk|token|access_token"
    r"|refresh_token|auth_token|api_key|apikey|private_key|authorization|x-auth-token"
    r"|ones-auth-token|credentials?|scm_password"
)
_PATTERNS = (
    # Authorization: Bearer/Token/Basic <credential>
    (re.compile(r"\b([Bb]earer|[Tt]oken|[Bb]asic)(\s+)[A-Za-z0-9._~+/=-]{12,}"), r"\1\2***"),
    # SDK-HMAC-SHA256 ... Signature=<hex>
    (re.compile(r"(?i)\b(signature=)[0-9a-f]{16,}"), r"\1***"),
    # scheme://user:password@host (a repository's credentials in its URL)
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s\"'\\@]+@"), r"\1***@"),
    # password=..., "token": "...", token: ... (also inside escaped JSON)
    (
        re.compile(
            rf"(?i)(?<![\w-])((?:{_SENSITIVE_FIELDS})(?:\\?[\"'])?\s*[:=]\s*(?:\\?[\"'])?)"
            r"(?:(?:[Bb]earer|[Tt]oken|[Bb]asic)\s+)?[^\s\"'\\,&;}\]]+"
        ),
        r"\1***",
    ),
)
MIN_SECRET = 6  # shorter header values are not secrets worth a blind replace

_cold = True
_invocation: contextvars.ContextVar[Invocation | None] = contextvars.ContextVar(
    "taskhub_invocation", default=None
)


# ---- logs ----------------------------------------------------------------------------------


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """`text` with every known secret value and every secret-looking pattern cut out."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON lines, redacted."""

    def format(self, record: logging.LogRecord) -> str:
        record.logger = record.name  # which engine wrote it (`taskhub.jobx`)
        current = _invocation.get()
        return redact(super().format(record), current.secrets if current else ())


class TextFormatter(JsonFormatter):
    """The same record as one readable line: time, level, logger, message, then the keys."""

    QUIET = (
        *("timestamp", "level", "logger", "message", "location", "service", "sampling_rate"),
        *("function_request_id", "cold_start", "exception", "exception_name", "stack_trace"),
    )

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        head = f"{log.get('timestamp', '')} {log.get('level', ''):<7} {log.get('logger', '')}"
        keys = " ".join(f"{k}={v}" for k, v in log.items() if k not in self.QUIET)
        line = f"{head}: {log.get('message', '')}" + (f"  [{keys}]" if keys else "")
        if log.get("exception"):
            line += "\n" + str(log["exception"])
        return line


@functools.cache
def logger() -> Logger:
    """The `taskhub` logger, configured once (a second call returns the same)."""
    text = (os.environ.get("TASKHUB_LOG_FORMAT") or "json").strip().lower() == "text"
    formatter = (TextFormatter if text else JsonFormatter)(
        log_record_order=["timestamp", "level", "logger", "message"],
        utc=True,
        use_rfc3339=True,
        serialize_stacktrace=False,  # the traceback is in `exception` already
    )
    # the process's own stdout (CloudWatch in Lambda), even where sys.stdout was swapped by then
    stream = sys.__stdout__ or sys.stdout
    return Logger(service=SERVICE, logger_formatter=formatter, stream=stream)


def log_handler() -> logging.Handler:
    """The handler every `taskhub` line goes through (tests point its stream elsewhere)."""
    return logger().registered_handler


@contextlib.contextmanager
def log_keys(**keys: Any) -> Iterator[None]:
    """Add `keys` to every line logged in this thread until the block ends."""
    keys = {k: v for k, v in keys.items() if v is not None}
    log = logger()
    log.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        log.thread_safe_remove_keys(keys)


def message_keys(body: Any) -> dict[str, Any]:
    """The correlation ids a queue message's body names (scalars only: never its command)."""
    if not isinstance(body, dict):
        return {}
    return {
        k: body[k]
        for k in MESSAGE_KEYS
        if isinstance(body.get(k), str | int) and not isinstance(body.get(k), bool)
    }


# ---- metrics -------------------------------------------------------------------------------


@dataclass
class Invocation:
    """What one Lambda invocation has measured so far, and the secrets it must not log."""

    function: str
    stage: str
    secrets: tuple[str, ...] = ()
    enabled: bool = True
    # (dimensions) -> name -> (unit, values)
    metrics: dict[tuple[tuple[str, str], ...], dict[str, tuple[str, list[float]]]] = field(
        default_factory=dict
    )

    def add(self, name: str, value: float, unit: str, dimensions: dict[str, str]) -> None:
        dims = tuple(sorted({**dimensions, "stage": self.stage}.items()))
        entry = self.metrics.setdefault(dims, {}).setdefault(name, (unit, []))
        entry[1].append(float(value))

    def flush(self) -> None:
        """One EMF document per set of dimensions, printed to stdout."""
        if not self.enabled:
            return
        namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
        for dims, named in self.metrics.items():
            emf = EphemeralMetrics(namespace=namespace, service="")
            for key, value in dims:
                emf.add_dimension(key, value)
            for name, (unit, values) in named.items():
                for value in values:
                    emf.add_metric(name=name, unit=unit, value=value)
            emf.flush_metrics()
        self.metrics.clear()


def metric(name: str, value: float = 1, unit: str = "Count", **dimensions: str) -> None:
    """Count or measure something in this invocation, with dimension `stage` and
    `dimensions`; nothing outside an invocation."""
    current = _invocation.get()
    if current is not None and current.enabled:
        current.add(name, value, unit, {k: str(v) for k, v in dimensions.items()})


@contextlib.contextmanager
def invocation(
    function: str,
    context: Any = None,
    *,
    keys: dict[str, Any] | None = None,
    secrets: tuple[str, ...] = (),
) -> Iterator[Invocation]:
    """One Lambda invocation: its log keys, its metrics (flushed when it ends), its cold start."""
    global _cold
    cold, _cold = _cold, False
    current = Invocation(
        function,
        settings().stage,
        secrets=tuple(s for s in secrets if len(s) >= MIN_SECRET),
        enabled=not is_metrics_disabled(),
    )
    token = _invocation.set(current)
    log = logger()
    log.thread_safe_clear_keys()
    log.thread_safe_append_keys(
        function_name=function,
        function_request_id=getattr(context, "aws_request_id", None),
        cold_start=cold,
        **{k: v for k, v in (keys or {}).items() if v is not None},
    )
    try:
        if cold and current.enabled:
            current.add("ColdStart", 1, "Count", {"function": function})
        yield current
    finally:
        try:
            current.flush()
        finally:
            log.thread_safe_clear_keys()
            _invocation.reset(token)


# ---- traces --------------------------------------------------------------------------------


def tracing_enabled() -> bool:
    """In Lambda (not SAM or Chalice local) and not switched off by POWERTOOLS_TRACE_DISABLED."""
    off = (os.environ.get("POWERTOOLS_TRACE_DISABLED") or "").strip().lower()
    return (
        bool(os.environ.get("LAMBDA_TASK_ROOT"))
        and off not in ("1", "true", "yes", "on")
        and not os.environ.get("AWS_SAM_LOCAL")
        and not os.environ.get("AWS_CHALICE_CLI_MODE")
    )


@functools.cache
def tracer() -> Any:
    """Powertools' Tracer, made on the first traced invocation (aws_xray_sdk loads then)."""
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE, patch_modules=("botocore",))


def traced(function: str, call: Callable[[], Any], annotations: dict[str, Any]) -> Any:
    """`call()` in a `## <function>` subsegment, as Powertools' capture_lambda_handler."""
    if not tracing_enabled():
        return call()
    active = tracer()

    def handler(event: Any, context: Any) -> Any:
        for key, value in annotations.items():
            if value is not None:
                active.put_annotation(key=key, value=value)
        return call()

    handler.__name__ = function
    return active.capture_lambda_handler(handler, capture_response=False)({}, None)


# ---- the middleware ------------------------------------------------------------------------


def _function_name(context: Any, default: str) -> str:
    """The handler's name (`jobx_queue`) from Lambda's `taskhub-<stage>-jobx_queue`."""
    name = getattr(context, "function_name", None) or default
    prefix = f"{SERVICE}-{settings().stage}-"
    return name[len(prefix) :] if name.startswith(prefix) else name


def _face_of(path: str) -> str:
    from .face import FACES

    best = max(
        (f for f in FACES if path.startswith(f.prefix)), key=lambda f: len(f.prefix), default=None
    )
    return best.name if best is not None else "app"


def _credentials(headers: Any) -> tuple[str, ...]:
    found: list[str] = []
    for name in CREDENTIAL_HEADERS:
        value = (headers.get(name) or "").strip()
        if value:
            found.append(value)
            _, _, rest = value.partition(" ")
            if rest.strip():
                found.append(rest.strip())
    return tuple(found)


def http_middleware(request: Any, get_response: Callable[[Any], Any]) -> Any:
    started = time.perf_counter()
    context = request.lambda_context
    route = request.path
    face = _face_of(route)
    request_id = (request.context or {}).get("requestId") or getattr(
        context, "aws_request_id", None
    )
    keys = {"request_id": request_id, "face": face, "route": route, "method": request.method}
    with invocation(
        "api_handler",
        context,
        keys=keys,
        secrets=_credentials(request.headers or {}),
    ):
        status = 500  # what Chalice answers when the handler raises past the face
        try:
            response = traced(
                "api_handler", lambda: get_response(request), {"face": face, "route": route}
            )
            status = response.status_code
        finally:
            _request_done(request.method, route, face, status, started)
        return response


def _request_done(method: str, route: str, face: str, status: int, started: float) -> None:
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    metric("RequestLatency", latency_ms, "Milliseconds", face=face)
    if status >= 500:
        metric("ServerErrors", face=face)
    logger().info(
        "%s %s %s", method, route, status, extra={"status": status, "latency_ms": latency_ms}
    )


def event_middleware(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """SQS messages and schedules: the function's keys; each record's come from
    `core.batches`."""
    context = getattr(event, "context", None)
    function = _function_name(context, type(event).__name__)
    raw = event.to_dict() if hasattr(event, "to_dict") else {}
    records = raw.get("Records") or []
    queue = records[0].get("eventSourceARN", "").rsplit(":", 1)[-1] if records else None
    with invocation(function, context, keys={"queue": queue}):
        return traced(function, lambda: get_response(event), {"queue": queue})


def install(app: Any) -> None:
    """Configure logging and wrap every handler of `app`: requests, queues and schedules."""
    logger()
    app.register_middleware(http_middleware, "http")
    for kind in ("sqs", "scheduled"):
        app.register_middleware(event_middleware, kind)
