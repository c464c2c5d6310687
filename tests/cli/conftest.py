"""The CLI as users run it: `python -m chalicelib.cli` in a subprocess (or under a pty)
against a real `chalice local`, one server per test process, and a profiles file of the
test's own."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.local import ADMIN_TOKEN, ROOT, LocalServer, free_port, wait_for

__all__ = ["ADMIN_TOKEN", "ROOT", "Cli", "free_port", "wait_for"]


@pytest.fixture(scope="session")
def server():
    srv = LocalServer().start()
    try:
        yield srv
    finally:
        if srv.proc is not None:
            srv.stop()


@dataclass
class Done:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


class Cli:
    """Runs `taskhub` with an environment of the test's own (no TASKHUB_* of the caller)."""

    def __init__(self, config: Path, **env: str):
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("TASKHUB_")}
        self.env.update(TASKHUB_CONFIG=str(config), COLUMNS="120", **env)

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "chalicelib.cli", *args]

    def __call__(self, *args: str, input: str | None = None, timeout: float = 120, **env) -> Done:
        done = subprocess.run(
            self.argv(*args),
            cwd=ROOT,
            env={**self.env, **env},
            input=input if input is not None else "",
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Done(done.returncode, done.stdout, done.stderr)

    def popen(self, *args: str, **env) -> subprocess.Popen:
        return subprocess.Popen(
            self.argv(*args),
            cwd=ROOT,
            env={**self.env, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def spawn(self, *args: str, **env):
        """Under a pty, as a person at a terminal runs it."""
        import pexpect

        return pexpect.spawn(
            sys.executable,
            ["-m", "chalicelib.cli", *args],
            cwd=str(ROOT),
            env={**self.env, **env, "TERM": "xterm"},
            encoding="utf-8",
            timeout=90,
            dimensions=(40, 160),
        )


@pytest.fixture
def cli(tmp_path):
    return Cli(tmp_path / "profiles.toml")


# ---- a JOBX project with groups and jobs, once per server --------------------------------

TOKEN = "cli-jobx-token-0123456789abcdef"
P = "cliproj"
WORKSPACE = {
    "users": [{"uuid": "CLIjobx1", "name": "Ops", "email": "ops-cli@example.com", "token": TOKEN}],
    "namespaces": [{"face": "jobx", "id": P, "members": {"CLIjobx1": "member"}}],
    "jobx_nodes": [{"project": P, "name": f"web{i}"} for i in range(1, 6)],
}
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
GROUPS = {
    "web": "web1;web2,web3;web4,web5",
    "pair": "web1;web2",
    "one": "web1",
}
JOBS = {
    "hello": [{"name": "say", "plugin_type": "cmd", "script": 'echo "hi $node"; echo "bye $node"'}],
    "flaky": [
        {"name": "check", "plugin_type": "cmd", "script": 'echo "on $node"; [ "$node" != web2 ]'}
    ],
    "slow": [
        {"name": "wait", "plugin_type": "cmd", "script": "echo started; sleep 60", "timeout": 120}
    ],
    "gated": [
        {"name": "gate", "plugin_type": "approval"},
        {"name": "ship", "plugin_type": "cmd", "script": "echo shipped $node"},
    ],
}
_numbers = itertools.count()


def uuid() -> str:
    """A task uuid of the test's own, so it can be watched from outside the CLI."""
    return f"cli{next(_numbers):08d}a"


@pytest.fixture(scope="session")
def jobx(server):
    server.admin(WORKSPACE)
    for name, node in GROUPS.items():
        group = {"name": name, "group_type": "list", "node": node}
        assert server.call("POST", f"/jobx/group/{P}", group, HEADERS)[0] == 200
    for name, steps in JOBS.items():
        job = {"name": name, "steps": steps}
        assert server.call("POST", f"/jobx/job/{P}", job, HEADERS)[0] == 200
    return server


@pytest.fixture
def taskhub(cli, jobx):
    cli.env.update(TASKHUB_URL=jobx.base, TASKHUB_TOKEN=TOKEN)
    return cli


def task_of(server, task_uuid):
    return server.call("GET", f"/jobx/task/{P}/{task_uuid}", None, HEADERS)[1]["data"]
