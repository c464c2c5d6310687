"""The `taskhub` CLI against a real `chalice local` (as `make run` serves it): its start-up
time against a bare `python -c pass`, what following a task costs the server (requests per
second and per batch) and how soon after the task ends the CLI exits, and the text log of a
task of 200 nodes, which carries every node's output, read page by page.

    .venv/bin/python -m bench.cli_follow
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.e2e.local import ROOT, LocalServer

TOKEN = "bench-cli-token-0123456789abcdef"
P = "benchcli"
REQUEST = re.compile(r'\] "(GET|PUT|POST|DELETE) /')  # the access log's lines


def seconds(argv: list[str], env: dict[str, str], runs: int = 7) -> float:
    took = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)
        took.append(time.perf_counter() - started)
    return statistics.median(took)


def requests_logged(server: LocalServer) -> int:
    return len(REQUEST.findall(server.log.read_text(errors="replace")))


def main() -> int:
    server = LocalServer().start()
    try:
        return run(server)
    finally:
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


def run(server: LocalServer) -> int:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    server.admin(
        {
            "users": [{"uuid": "BenchCli", "name": "b", "email": "b@bench.io", "token": TOKEN}],
            "namespaces": [{"face": "jobx", "id": P, "members": {"BenchCli": "member"}}],
            "jobx_nodes": [{"project": P, "name": f"n{i:03d}"} for i in range(200)],
        }
    )
    nodes = ";".join(",".join(f"n{i:03d}" for i in range(b * 5, b * 5 + 5)) for b in range(4))
    groups = {
        "four": {"group_type": "list", "node": nodes},
        "all": {"group_type": "percent", "percent": "50%"},
    }
    for name, group in groups.items():
        assert server.call("POST", f"/jobx/group/{P}", {"name": name, **group}, headers)[0] == 200
    jobs = {
        "tick": [{"name": "tick", "script": "for i in 1 2 3; do echo $node $i; sleep 1; done"}],
        "say": [{"name": "say", "script": 'printf "%s says hello\\n" "$node"; seq 1 40'}],
    }
    for name, steps in jobs.items():
        assert (
            server.call("POST", f"/jobx/job/{P}", {"name": name, "steps": steps}, headers)[0] == 200
        )

    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
    env.update(
        TASKHUB_URL=server.base,
        TASKHUB_TOKEN=TOKEN,
        TASKHUB_CONFIG=str(Path(tempfile.mkdtemp()) / "none.toml"),
    )
    cli = [sys.executable, "-m", "chalicelib.cli"]
    floor = seconds([sys.executable, "-c", "pass"], env)
    start = seconds([*cli, "--version"], env)
    listing = seconds([*cli, "jobx", "list", P, "--json"], env)
    print(
        f"start-up: taskhub --version {start * 1000:.0f} ms, python -c pass {floor * 1000:.0f} ms "
        f"({start / floor:.1f}x); jobx list (one request) {listing * 1000:.0f} ms"
    )

    before = requests_logged(server)
    started = time.perf_counter()
    done = subprocess.run(
        [*cli, "jobx", "run", P, "tick", "--group", "four", "-f", "--json", "--node", "n017"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    ended = time.time()
    body = json.loads(done.stdout)
    task = body["task"]
    made = requests_logged(server) - before
    after_end = ended - float(task["finishtimems"])
    print(
        f"follow: task of 4 batches x 5 nodes, 3 s a step: task {float(task['runtime']):.2f} s, "
        f"CLI {wall:.2f} s (exit {done.returncode}); {made} requests = {made / wall:.1f}/s, "
        f"{made / 4:.0f} per batch; exited {after_end:.2f} s after the task's end; "
        f"node output streamed: {body['output'][0]['output'].count(chr(10))} lines"
    )

    _, answer = server.call(
        "POST", f"/jobx/task/{P}/job/byname", {"jobname": "say", "group": "all"}, headers
    )
    uuid = answer["uuid"]
    deadline = time.monotonic() + 300
    while server.call("GET", f"/jobx/task/{P}/{uuid}", None, headers)[1]["data"]["status"] in (
        "init",
        "running",
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the 200-node task did not end")
        time.sleep(0.5)
    pages, size, cursor, took = 0, 0, None, []
    while True:
        query = f"?cursor={cursor}" if cursor else ""
        url = f"{server.base}/jobx/slave/any/log/{uuid}{query}"
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - loopback
        t0 = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - loopback
            text = response.read()
            cursor = response.headers.get("X-Taskhub-Cursor")
        took.append(time.perf_counter() - t0)
        pages, size = pages + 1, size + len(text)
        if not cursor:
            break
    print(
        f"text log: 200 nodes with their output: {pages} pages (50 outputs each), "
        f"{size / 1024:.0f} KiB, {statistics.median(took) * 1000:.0f} ms a page (median)"
    )
    t0 = time.perf_counter()
    logs = subprocess.run(
        [*cli, "jobx", "logs", P, uuid, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    )
    entries = json.loads(logs.stdout)
    print(f"taskhub jobx logs: {len(entries)} node outputs in {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
