"""The embedded store's front door: a WSGI layer that applies AWS requests to moto one at a
time, journals what each changed, and answers only once that is on disk.

moto is not thread-safe (two TransactWrites interleave; its own rollback restores whole
tables over other threads' commits). DynamoDB applies each request atomically, so here each
request runs alone under one lock, and a DynamoDB request that fails is undone item by item.
Long polls (`ReceiveMessage` with `WaitTimeSeconds`) wait outside the lock, woken by sends.

Every request is classified by service and action. Reads pass; writes of a known kind are
journaled; anything else is refused with an error that names it, so the store never
acknowledges a change it would not keep.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode
from xml.sax.saxutils import escape

from . import state
from .journal import Journal

log = logging.getLogger("taskhub.store")

READ, ITEMS, MESSAGES, OBJECTS, CALL = "read", "items", "messages", "objects", "call"

ACTIONS: dict[str, dict[str, str]] = {
    "dynamodb": {
        **dict.fromkeys(
            [
                "GetItem",
                "BatchGetItem",
                "Query",
                "Scan",
                "TransactGetItems",
                "DescribeTable",
                "ListTables",
                "DescribeTimeToLive",
                "ListTagsOfResource",
                "DescribeContinuousBackups",
                "DescribeEndpoints",
                "DescribeLimits",
            ],
            READ,
        ),
        **dict.fromkeys(
            ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"],
            ITEMS,
        ),
        **dict.fromkeys(
            [
                "CreateTable",
                "DeleteTable",
                "UpdateTable",
                "UpdateTimeToLive",
                "TagResource",
                "UntagResource",
            ],
            CALL,
        ),
    },
    "sqs": {
        **dict.fromkeys(
            [
                "GetQueueUrl",
                "GetQueueAttributes",
                "ListQueues",
                "ListQueueTags",
                "ListDeadLetterSourceQueues",
            ],
            READ,
        ),
        **dict.fromkeys(
            [
                "SendMessage",
                "SendMessageBatch",
                "ReceiveMessage",
                "DeleteMessage",
                "DeleteMessageBatch",
                "ChangeMessageVisibility",
                "ChangeMessageVisibilityBatch",
                "PurgeQueue",
            ],
            MESSAGES,
        ),
        **dict.fromkeys(
            ["CreateQueue", "DeleteQueue", "SetQueueAttributes", "TagQueue", "UntagQueue"], CALL
        ),
    },
    "ssm": {
        **dict.fromkeys(
            [
                "GetParameter",
                "GetParameters",
                "GetParametersByPath",
                "DescribeParameters",
                "GetParameterHistory",
                "GetCommandInvocation",
                "ListCommands",
                "ListCommandInvocations",
                "DescribeInstanceInformation",
                "ListTagsForResource",
            ],
            READ,
        ),
        **dict.fromkeys(
            [
                "PutParameter",
                "DeleteParameter",
                "DeleteParameters",
                "AddTagsToResource",
                "RemoveTagsFromResource",
                "SendCommand",
                "CancelCommand",
            ],
            CALL,
        ),
    },
    "sts": {"GetCallerIdentity": READ},
}
# S3 sub-resources whose changes do not go through put_object/delete_object
_S3_REFUSED = {"acl", "tagging", "retention", "legal-hold", "restore", "select", "versioning"}
_S3_QUIET = {"x-id"}  # botocore adds it to name the operation; not a sub-resource


class Refused(Exception):
    """A request the store would not keep: refused, never silently acknowledged."""


@dataclass
class Request:
    environ: dict[str, Any]
    body: bytes
    service: str = ""
    action: str = ""
    account: str = ""
    region: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    form: bool = False  # SQS query protocol (form fields) rather than JSON

    @property
    def method(self) -> str:
        return self.environ.get("REQUEST_METHOD", "GET")

    @property
    def path(self) -> str:
        return self.environ.get("PATH_INFO", "/")

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.environ.get("QUERY_STRING", ""), keep_blank_values=True)

    def header(self, name: str) -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), "")

    def set_body(self, body: bytes) -> None:
        self.body = body
        self.environ["wsgi.input"] = io.BytesIO(body)
        self.environ["CONTENT_LENGTH"] = str(len(body))


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH")
    if length:
        return stream.read(int(length))
    if environ.get("wsgi.input_terminated"):
        return stream.read()
    return b""


def _account(access_key: str, environ: dict[str, Any]) -> str:
    """The account moto files the request under (its own precedence)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    from moto.iam.models import get_account_id_from

    return get_account_id_from(access_key)


def parse(environ: dict[str, Any]) -> Request:
    body = _read_body(environ)
    request = Request(environ, body)
    request.set_body(body)
    auth = environ.get("HTTP_AUTHORIZATION", "")
    try:
        credential = auth.split(",")[0].split()[1]
        access_key, _, region, service, _ = credential.split("=", 1)[-1].split("/")
    except (IndexError, ValueError):
        access_key, region, service = "", "", ""
    request.service, request.region = service.lower(), region
    request.account = _account(access_key, environ) if service else ""
    target = request.header("X-Amz-Target")
    if target:
        request.action = target.rsplit(".", 1)[-1]
        try:
            request.params = json.loads(body or b"{}")
        except ValueError:
            request.params = {}
    elif request.service in ("sqs", "ssm", "sts") and body:
        fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        request.params = {k: v[0] for k, v in fields.items()}
        request.action = request.params.get("Action", "")
        request.form = True
    return request


def classify(request: Request) -> str:
    if request.path.startswith("/moto-api"):
        if request.method == "GET":
            return READ
        raise Refused("moto's own API is closed; the store is wiped with `make wipe`")
    if request.service == "s3":
        return _classify_s3(request)
    kinds = ACTIONS.get(request.service)
    if kinds is None:
        raise Refused(f"the embedded store does not serve {request.service or 'unsigned'} calls")
    kind = kinds.get(request.action)
    if kind is None:
        raise Refused(f"the embedded store does not keep {request.service} {request.action}")
    return kind


def _classify_s3(request: Request) -> str:
    if request.method in ("GET", "HEAD"):
        return READ
    subresources = set(request.query) - _S3_QUIET
    parts = request.path.lstrip("/").split("/", 1)
    if len(parts) == 1 or not parts[1]:  # the bucket itself
        if request.method == "POST" and subresources == {"delete"}:
            return OBJECTS
        if request.method in ("PUT", "DELETE") and not subresources:
            return CALL
        raise Refused(f"the embedded store does not keep bucket settings ({sorted(subresources)})")
    if subresources & _S3_REFUSED:
        raise Refused(f"the embedded store does not keep object {sorted(subresources)}")
    return OBJECTS


def _queue_name(request: Request) -> str:
    url = request.params.get("QueueUrl") or ""
    return url.rstrip("/").rsplit("/", 1)[-1]


def _error(
    status: int, message: str, request: Request | None = None
) -> tuple[str, list[tuple[str, str]], bytes]:
    """An error each SDK parses: JSON for JSON protocols, XML for S3 and the query ones."""
    reason = "Bad Request" if status == 400 else "Internal Server Error"
    if request is None or request.header("X-Amz-Target"):
        body = json.dumps({"__type": "UnsupportedOperation", "message": message}).encode()
        ctype = "application/x-amz-json-1.0"
    else:
        text = escape(message)
        error = f"<Error><Type>Sender</Type><Code>UnsupportedOperation</Code><Message>{text}</Message></Error>"
        if request.service != "s3":
            error = f"<ErrorResponse>{error}<RequestId>0</RequestId></ErrorResponse>"
        body = error.encode()
        ctype = "application/xml"
    return f"{status} {reason}", [("Content-Type", ctype), ("Content-Length", str(len(body)))], body


class Ledger:
    def __init__(self, app: Any, journal: Journal | None):
        self.app = app
        self.journal = journal
        self.lock = threading.RLock()
        self.messages_moved = threading.Condition(self.lock)
        self.tracker = state.tracker()

    # ---- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        request = parse(environ)
        try:
            kind = classify(request)
        except Refused as exc:
            status, headers, body = _error(400, str(exc), request)
            start_response(status, headers)
            return [body]
        if kind == MESSAGES and request.action == "ReceiveMessage":
            status, headers, body, seq = self._long_poll(request)
        else:
            with self.lock:
                status, headers, body, seq = self.apply(request, kind)
        if self.journal is not None:
            self.journal.wait(seq)
        start_response(status, headers)
        return [body]

    def _respond(self, environ: dict[str, Any]) -> tuple[str, list, bytes]:
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list, exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        try:
            result = self.app(environ, start_response)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except NotImplementedError as exc:  # an operation moto does not have
            return _error(400, f"the embedded store does not serve this: {exc}", None)
        except Exception:
            log.exception("the embedded store failed on %s", environ.get("PATH_INFO"))
            return _error(500, "the embedded store failed on this request")
        return captured["status"], captured["headers"], b"".join(chunks)

    # ---- applying one request (the caller holds the lock) ----------------------------------

    def apply(self, request: Request, kind: str) -> tuple[str, list, bytes, int]:
        keep = self.journal is not None
        touches = state.Touches(request.account, request.region)
        marks = {}
        if kind == MESSAGES and keep:
            marks = state.message_marks(request.account, request.region, _queue_name(request))
        self.tracker.active = touches if kind in (ITEMS, OBJECTS) else None
        try:
            status, headers, body = self._respond(request.environ)
        finally:
            self.tracker.active = None
        ok = status.startswith("2")
        records: list[dict[str, Any]] = []
        if kind == ITEMS:
            if not ok:
                self.tracker.undo(touches)
            elif keep:
                records = state.item_records(touches)
        elif kind == OBJECTS and keep:
            records = state.object_records(touches, self.journal.put_blob)
        elif kind == MESSAGES:
            if keep:
                records = state.message_records(request.account, request.region, marks)
            if request.action != "ReceiveMessage":
                self.messages_moved.notify_all()
        elif kind == CALL and ok:
            if keep:
                records = [self._call_record(request, body)]
            if request.service == "sqs":
                self.messages_moved.notify_all()
        seq = 0
        if keep:
            seq = self.journal.append(records) if records else self.journal.seq
            if self.journal.needs_compaction:
                self.compact()
        return status, headers, body, seq

    def _call_record(self, request: Request, response: bytes) -> dict[str, Any]:
        record: dict[str, Any] = {
            "k": "call",
            "svc": request.service,
            "a": request.account,
            "r": request.region,
            "method": request.method,
            "path": request.path,
            "query": request.environ.get("QUERY_STRING", ""),
            "ctype": request.environ.get("CONTENT_TYPE", ""),
        }
        target = request.header("X-Amz-Target")
        if target:
            record["target"] = target
        try:
            record["body"] = request.body.decode()
        except UnicodeDecodeError:
            record["body64"] = base64.b64encode(request.body).decode()
        if request.action == "SendCommand":
            with contextlib.suppress(ValueError, KeyError, TypeError):
                record["command_id"] = json.loads(response)["Command"]["CommandId"]
        return record

    def _long_poll(self, request: Request) -> tuple[str, list, bytes, int]:
        """ReceiveMessage's wait, outside the lock: moto would sleep holding it."""
        wait = self._wait_seconds(request)
        if request.form:
            request.params["WaitTimeSeconds"] = "0"
            request.set_body(urlencode(request.params).encode())
        else:
            request.params["WaitTimeSeconds"] = 0
            request.set_body(json.dumps(request.params).encode())
        deadline = time.monotonic() + wait
        with self.lock:
            while True:
                request.set_body(request.body)  # moto read the last one
                status, headers, body, seq = self.apply(request, MESSAGES)
                left = deadline - time.monotonic()
                if not status.startswith("2") or left <= 0 or _has_messages(body):
                    return status, headers, body, seq
                due = state.next_visible(request.account, request.region, _queue_name(request))
                self.messages_moved.wait(timeout=max(0.01, min(left, due, 1.0)))

    def _wait_seconds(self, request: Request) -> float:
        value = request.params.get("WaitTimeSeconds")
        if value is None:
            with self.lock:
                queue = state.queue_of(request.account, request.region, _queue_name(request))
                value = queue.receive_message_wait_time_seconds if queue else 0
        try:
            return max(0.0, min(20.0, float(value)))
        except (TypeError, ValueError):
            return 0.0

    # ---- replay, compaction, truncation ------------------------------------------------------

    def replay(self) -> int:
        """Rebuild moto's state from the journal; returns how many records were applied."""
        assert self.journal is not None
        count = 0
        with self.lock:
            state.reset()
            for record in self.journal.replay():
                if record["k"] == "call":
                    self._replay_call(record)
                else:
                    state.restore(record, self.journal.read_blob)
                count += 1
            state.after_restart()
        return count

    def _replay_call(self, record: dict[str, Any]) -> None:
        from werkzeug.test import EnvironBuilder

        body = record.get("body", "").encode()
        if "body64" in record:
            body = base64.b64decode(record["body64"])
        scope = f"replay/20000101/{record['r'] or 'us-east-1'}/{record['svc']}/aws4_request"
        headers = {
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0",
            "X-Moto-Account-Id": record["a"],
        }
        if record.get("target"):
            headers["X-Amz-Target"] = record["target"]
        ctype = record.get("ctype") or (
            "application/x-amz-json-1.0" if record.get("target") else ""
        )
        builder = EnvironBuilder(
            path=record.get("path") or "/",
            method=record.get("method") or "POST",
            query_string=record.get("query") or "",
            headers=headers,
            data=body,
            content_type=ctype or None,
        )
        environ = builder.get_environ()
        status, _headers, response = self._respond(environ)
        if not status.startswith("2"):
            log.warning(
                "replay of %s %s answered %s: %.200s",
                record["svc"],
                record.get("target") or record.get("path"),
                status,
                response,
            )
            return
        if record.get("command_id"):
            state.rename_last_command(record["a"], record["r"], record["command_id"])

    def compact(self) -> None:
        """Write the whole state as the next snapshot (the caller holds the lock)."""
        assert self.journal is not None
        records = list(state.snapshot(self.journal.put_blob))
        self.journal.compact(records, state.blobs_of(records))

    def truncate(self) -> None:
        """Empty every table, queue and bucket, keeping their definitions."""
        with self.lock:
            state.truncate()
            if self.journal is not None:
                self.compact()
            self.messages_moved.notify_all()


def _has_messages(body: bytes) -> bool:
    if body.startswith(b"{"):
        try:
            return bool(json.loads(body).get("Messages"))
        except ValueError:
            return False
    return b"<Message>" in body
