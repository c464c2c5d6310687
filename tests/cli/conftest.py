"""The CLI as users run it: `python -m chalicelib.cli` in a subprocess (or under a pty)
against a real `chalice local`, one server per test process, and a profiles file of the
test's own."""

from __future__ import annotations

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
