"""DTask fixtures: a workspace with one DTask namespace, tracker settings from the
environment, and a real HTTP server on loopback that answers like Bugzilla, Gerrit and
Tower."""

from __future__ import annotations

import base64
import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import TransactWriteError

from chalicelib.core import resources
from chalicelib.links import config as links_config
from chalicelib.links import connectors

MEMBER = "member-token-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdef"
OUTSIDER = "outsider-token-0123456789abcd"

WORKSPACE = {
    "users": [
        {"uuid": "Member01", "name": "M", "email": "m@example.com", "token": MEMBER},
        {"uuid": "Viewer01", "name": "V", "email": "v@example.com", "token": VIEWER},
        {"uuid": "Outsid01", "name": "O", "email": "o@example.com", "token": OUTSIDER},
    ],
    "namespaces": [
        {
            "face": "dtask",
            "id": "default",
            "kind": "deployment",
            "members": {"Member01": "member", "Viewer01": "viewer"},
        }
    ],
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def settings_env(monkeypatch):
    """Set TASKHUB_* variables and re-read the DTask settings (and restore afterwards)."""

    def apply(**values):
        for name, value in values.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, str(value))
        connectors.clear_cache()
        return links_config.reload()

    yield apply
    monkeypatch.undo()
    connectors.clear_cache()
    links_config.reload()


@pytest.fixture
def dtask(api, apply_workspace, settings_env):
    """Call the DTask face as the member (default), viewer or outsider."""
    settings_env()
    apply_workspace(WORKSPACE)

    class Caller:
        def __call__(self, method, path, token=MEMBER, body=None):
            return api.call(method, "/dtask" + path, body, bearer(token))

        def new_task(self) -> str:
            status, body = self("POST", "/task/")
            assert status == 200 and body["error"] is False, body
            return body["result"]

    return Caller()


def losing_transactions(monkeypatch, times: int) -> list[int]:
    """The next `times` transactions lose to a concurrent one: DynamoDB cancels them with
    TransactionConflict and writes nothing. Returns the list of those lost so far."""
    real = resources.transaction
    lost: list[int] = []

    def lose():
        reason = {"Code": "TransactionConflict", "Message": "Transaction is ongoing"}
        error = {"Code": "TransactionCanceledException", "Message": "[TransactionConflict]"}
        cause = ClientError({"Error": error, "CancellationReasons": [reason]}, "Transact")
        raise TransactWriteError("Failed to write transaction items", cause=cause)

    def transaction():
        tx = real()
        if len(lost) < times:
            lost.append(1)
            tx._commit = lose
        return tx

    monkeypatch.setattr(resources, "transaction", transaction)
    return lost


# ---- the fake trackers --------------------------------------------------------------------

CHANGE_ID = "I" + "a" * 40


class Trackers:
    """What the loopback trackers know, and every request they saw."""

    api_key = "bz-key-123"
    gerrit_user, gerrit_password = "dtask", "http-pass"
    tower_token = "tower-oauth-token"

    def __init__(self):
        self.requests: list[tuple[str, str, dict[str, str], dict[str, list[str]]]] = []
        self.release = threading.Event()  # lets the slow answers go once the test is done
        self.bugs = {
            "1": {"status": "ASSIGNED", "resolution": "", "is_open": True},
            "123": {"status": "CONFIRMED", "resolution": "", "is_open": True},
            "124": {"status": "RESOLVED", "resolution": "FIXED", "is_open": False},
            "125": {"status": "NEW", "resolution": "", "is_open": True},
            # slow, but known: a failed line for them means link_info did not wait
            "999": {"status": "NEW", "resolution": "", "is_open": True},
            "999999": {"status": "NEW", "resolution": "", "is_open": True},
        }
        self.invalid_bugs = {"404"}  # Bugzilla refuses the whole request: error 101
        self.secret_bugs = {"666"}  # error 102, access denied
        self.faulty_bugs = {"777"}  # listed in `faults`
        self.slow_bugs = {"999", "999999"}  # any request naming one is held back
        self.slow_bug = "999999"
        self.dropping_bug = "888888"  # the connection drops before any answer
        self.changes = {
            "4567": "MERGED",
            "4568": "NEW",
            CHANGE_ID: "ABANDONED",
            f"my/project~master~{CHANGE_ID}": "MERGED",
            "9001": "NEW",  # slow
        }
        self.slow_todo, self.dropping_todo = "a" * 32, "b" * 32
        self.todos = {"d9bb255f3c6d4deca4c7a127bb90b9be": True, "0" * 32: False}
        self.todos[self.slow_todo] = False
        self.deleted_todos = {"c" * 32, "e" * 32}  # answered with `is_active: false`
        self.todos.update({"c" * 32: False, "e" * 32: True})

    def seen(self, prefix: str) -> list:
        return [r for r in self.requests if r[1].startswith(prefix)]

    def bugzilla_ids(self) -> list[str]:
        """The `id` parameter of every Bugzilla request, sorted."""
        return sorted(r[3]["id"][0] for r in self.seen("/bugzilla/"))

    def hold(self) -> None:
        """A slow answer: held until the test is over (at most 30 s), so it can never
        arrive within link_info's timeout, however slowly the machine runs."""
        self.release.wait(30)


def handler_for(trackers: Trackers):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def send(self, status: int, body: str, ctype: str = "application/json"):
            data = body.encode()
            with contextlib.suppress(OSError):  # a held answer's client has given up
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def drop(self):
            self.close_connection = True
            self.connection.shutdown(2)

        def do_GET(self):
            url = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            trackers.requests.append(("GET", url.path, headers, parse_qs(url.query)))
            if url.path == "/bugzilla/rest/bug":
                return self.bugzilla(parse_qs(url.query), headers)
            if url.path.startswith(("/gerrit/a/changes/", "/gerrit/changes/")):
                return self.gerrit(url.path, headers)
            if url.path.startswith("/tower/api/v1/todos/"):
                return self.tower(url.path.rsplit("/", 1)[1], headers)
            self.send(404, "no such page", "text/plain")

        def bugzilla(self, query, headers):
            if headers.get("x-bugzilla-api-key") != trackers.api_key:
                return self.send(
                    401, json.dumps({"error": True, "code": 410, "message": "You must log in"})
                )
            ids = query.get("id", [""])[0].split(",")
            if query.get("include_fields", [""])[0] != "id,status,resolution,is_open":
                return self.send(400, json.dumps({"error": True, "code": 1, "message": "?"}))
            if trackers.slow_bugs & set(ids):
                trackers.hold()
            if trackers.dropping_bug in ids:
                return self.drop()
            for bug in ids:
                if bug in trackers.invalid_bugs:
                    return self.send(
                        404,
                        json.dumps(
                            {
                                "error": True,
                                "code": 101,
                                "documentation": "https://bugzilla",
                                "message": f"Bug #{bug} does not exist.",
                            }
                        ),
                    )
                if bug in trackers.secret_bugs:
                    return self.send(
                        401,
                        json.dumps(
                            {
                                "error": True,
                                "code": 102,
                                "message": f"You are not authorized to access bug #{bug}.",
                            }
                        ),
                    )
            bugs = [{"id": int(bug), **trackers.bugs[bug]} for bug in ids if bug in trackers.bugs]
            faults = [
                {"id": int(bug), "faultCode": 101, "faultString": "Bug does not exist."}
                for bug in ids
                if bug in trackers.faulty_bugs
            ]
            self.send(200, json.dumps({"bugs": bugs, "faults": faults}))

        def gerrit(self, path, headers):
            authenticated = path.startswith("/gerrit/a/")
            change = unquote(path.split("/changes/", 1)[1])
            if authenticated:
                expected = base64.b64encode(
                    f"{trackers.gerrit_user}:{trackers.gerrit_password}".encode()
                ).decode()
                if headers.get("authorization") != f"Basic {expected}":
                    return self.send(401, "Unauthorized", "text/plain")
            if change == "9001":  # slow
                trackers.hold()
            if change == "9002":  # the connection drops before any answer
                return self.drop()
            if change == "9003":  # a proxy's error page instead of JSON
                return self.send(502, "<html>Bad Gateway</html>", "text/html")
            status = trackers.changes.get(change)
            if status is None:
                return self.send(404, f"Not found: {change}", "text/plain")
            body = {"id": f"proj~master~{CHANGE_ID}", "_number": 4567, "status": status}
            self.send(200, ")]}'\n" + json.dumps(body))

        def tower(self, guid, headers):
            if headers.get("authorization") != f"Bearer {trackers.tower_token}":
                return self.send(401, json.dumps({"errors": [{"status": "401"}]}))
            if guid == trackers.slow_todo:
                trackers.hold()
            if guid == trackers.dropping_todo:
                return self.drop()
            if guid not in trackers.todos:
                return self.send(
                    404,
                    json.dumps({"errors": [{"status": "404", "title": "Not Found"}]}),
                    "application/vnd.api+json",
                )
            body = {
                "data": {
                    "id": guid,
                    "type": "todos",
                    "attributes": {
                        "title": "t",
                        "is_completed": trackers.todos[guid],
                        "is_active": guid not in trackers.deleted_todos,
                    },
                }
            }
            self.send(200, json.dumps(body), "application/vnd.api+json")

    return Handler


class TrackerServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # every link_info request connects at once


@pytest.fixture
def trackers(settings_env):
    """A real HTTP server on 127.0.0.1 (ephemeral port) speaking the three trackers' APIs;
    the DTask settings point at it with a 1 s timeout and the cache off."""
    state = Trackers()
    server = TrackerServer(("127.0.0.1", 0), handler_for(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    state.base = base
    settings_env(
        TASKHUB_BUGZILLA_URL=f"{base}/bugzilla",
        TASKHUB_BUGZILLA_API_KEY=state.api_key,
        TASKHUB_GERRIT_URL=f"{base}/gerrit/",
        TASKHUB_GERRIT_USER=state.gerrit_user,
        TASKHUB_GERRIT_PASSWORD=state.gerrit_password,
        TASKHUB_TOWER_URL=f"{base}/tower",
        TASKHUB_TOWER_TOKEN=state.tower_token,
        TASKHUB_LINKS_TIMEOUT="1",
        TASKHUB_LINKS_CACHE_TTL="0",
    )
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
