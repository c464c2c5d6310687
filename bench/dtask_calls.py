"""DTask face: DynamoDB calls per request at N=10 vs N=300 tasks, and link_info wall time
with one slow bug. Run: `.venv/bin/python -m bench.dtask_calls` (moto in process).

Every request goes through the face (Chalice test client), so the counts include the
three reads that authenticate the caller and check its role.
"""

from __future__ import annotations

import os

os.environ.update(
    TASKHUB_STAGE="bench",
    AWS_ACCESS_KEY_ID="bench",
    AWS_SECRET_ACCESS_KEY="bench",
    AWS_DEFAULT_REGION="us-east-1",
    TASKHUB_LINKS_TIMEOUT="0.5",
    TASKHUB_LINKS_CACHE_TTL="0",
)
for name in ("TASKHUB_EMBEDDED", "TASKHUB_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(name, None)

import contextlib  # noqa: E402
import json  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402
from urllib.parse import parse_qs, urlsplit  # noqa: E402

import moto  # noqa: E402
from chalice.test import Client  # noqa: E402

from chalicelib.core import config, crypto, resources  # noqa: E402
from chalicelib.core.identity import service as identity  # noqa: E402
from chalicelib.core.metering import count_calls  # noqa: E402

config.reload()

TOKEN = "bench-token-0123456789abcdef"
SLOW_SECONDS = 2.0
SLOW_BUG = "999"


def dynamodb_calls(client: Client, method: str, path: str) -> tuple[int, dict[str, int]]:
    with count_calls() as calls:
        response = getattr(client.http, method.lower())(
            "/dtask" + path, headers={"Authorization": f"Bearer {TOKEN}"}
        )
    assert response.status_code == 200, response.body
    ops = {k.split(".", 1)[1]: v for k, v in calls.items() if k.startswith("dynamodb.")}
    return calls["dynamodb"], ops


def measure(n: int) -> dict[str, tuple[int, dict[str, int]]]:
    from app import app
    from chalicelib.links import service

    with moto.mock_aws():
        resources.rebind()
        crypto.reset()
        resources.create_all()
        crypto.ensure_secret_parameter()
        identity.upsert_user(uuid="Bench001", name="b", email="b@example.com")
        identity.issue_token("Bench001", token=TOKEN)
        identity.upsert_namespace("dtask", "default", kind="deployment")
        identity.set_membership("dtask", "default", "Bench001", "member")
        tasks = [service.create_task() for _ in range(n)]
        for task_id in tasks:
            service.link(task_id, "bugzilla", "42")
        fresh = service.create_task()
        with Client(app) as client:
            result = {
                "link": dynamodb_calls(client, "PUT", f"/task/{fresh}/link/bugzilla/42"),
                "reverse lookup": dynamodb_calls(client, "GET", "/task/link/bugzilla/42"),
                "get task": dynamodb_calls(client, "GET", f"/task/{fresh}"),
                "unlink from all": dynamodb_calls(client, "DELETE", "/task/link/bugzilla/42"),
            }
        resources.rebind()
        return result


class Trackers(BaseHTTPRequestHandler):
    """Bugzilla answers a request naming bug SLOW_BUG only after SLOW_SECONDS, any other at
    once; Gerrit answers at once."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path.startswith("/bugzilla/"):
            ids = parse_qs(url.query)["id"][0].split(",")
            if SLOW_BUG in ids:
                time.sleep(SLOW_SECONDS)
            bugs = [{"id": int(bug), "status": "NEW", "resolution": ""} for bug in ids]
            body = json.dumps({"bugs": bugs})
        else:
            body = ")]}'\n" + json.dumps({"status": "MERGED"})
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(OSError):  # the client gave up on the slow answer
            self.wfile.write(data)


def link_info_wall_time() -> list[tuple[str, float, list[str]]]:
    from chalicelib.links import config as links_config
    from chalicelib.links import connectors

    server = ThreadingHTTPServer(("127.0.0.1", 0), Trackers, bind_and_activate=False)
    server.daemon_threads = True
    server.block_on_close = False
    server.request_queue_size = 128  # all requests connect at once
    server.server_bind()
    server.server_activate()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    os.environ.update(TASKHUB_BUGZILLA_URL=f"{base}/bugzilla", TASKHUB_GERRIT_URL=f"{base}/gerrit")
    gerrit = [("gerrit", str(n)) for n in range(1, 21)]
    bugs = [("bugzilla", "1"), ("bugzilla", SLOW_BUG)]
    cases = [
        ("bug 1 + slow bug + 20 gerrit, no cache", [*bugs, *gerrit], "0"),
        ("20 gerrit, no cache", gerrit, "0"),
        ("20 gerrit, cache 60s, 2nd call", gerrit, "60"),
    ]
    rows = []
    for label, items, ttl in cases:
        os.environ["TASKHUB_LINKS_CACHE_TTL"] = ttl
        links_config.reload()
        connectors.clear_cache()
        if ttl != "0":
            connectors.describe(items)
        started = time.perf_counter()
        lines = connectors.describe(items)
        rows.append((label, time.perf_counter() - started, lines))
    server.shutdown()
    return rows


def main() -> None:
    small, large = measure(10), measure(300)
    print("DynamoDB calls per request (auth included), N = tasks linked to bugzilla 42")
    print(f"{'request':<18}{'N=10':>6}{'N=300':>7}   operations at N=300")
    for name in small:
        ops = ", ".join(f"{k} {v}" for k, v in sorted(large[name][1].items()))
        print(f"{name:<18}{small[name][0]:>6}{large[name][0]:>7}   {ops}")
    print()
    print(
        f"link_info wall time, timeout 0.5s, bug {SLOW_BUG} is answered after {SLOW_SECONDS:.0f}s"
    )
    for label, seconds, lines in link_info_wall_time():
        failed = sum(line.startswith("failed get") for line in lines)
        print(f"  {label:<40}{seconds:6.3f}s  {len(lines) - failed} ok, {failed} failed")


if __name__ == "__main__":
    main()
