"""A real `chalice local --stage local` process on free ports with its own data directory,
as `make run` starts it: started, stopped (SIGTERM), killed (SIGKILL) and started again on the
same data directory. The e2e tests and the bench scripts drive it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "e2e-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, seconds: float = 60.0, every: float = 0.2):
    """Poll until `predicate()` is truthy; its last value (falsy when time ran out)."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


class LocalServer:
    def __init__(self, data_dir: Path | None = None, **env: str):
        self.port, self.aws_port = free_port(), free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.data_dir = Path(data_dir or tempfile.mkdtemp(prefix="taskhub-e2e-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.extra_env = env
        self.proc: subprocess.Popen | None = None
        self.log = self.data_dir / "server.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKHUB_", "AWS_"))}
        env.update(
            TASKHUB_EMBEDDED_PORT=str(self.aws_port),
            TASKHUB_ADMIN_TOKEN=ADMIN_TOKEN,
            TASKHUB_DATA_DIR=str(self.data_dir),
            **self.extra_env,
        )
        return env

    def argv(self) -> list[str]:
        chalice = Path(sys.executable).with_name("chalice")
        return [str(chalice), "local", "--stage", "local", "--port", str(self.port)]

    def start(self, timeout: float = 90, attempts: int = 3) -> LocalServer:
        """Start and wait for /health. A free port can be taken by another process between
        `free_port()` and the bind (many stores and servers start at once under load): then
        the server gives up or another answers in its place, and it starts on new ports."""
        for _ in range(attempts):
            if self._start(timeout):
                return self
            self.port, self.aws_port = free_port(), free_port()
            self.base = f"http://127.0.0.1:{self.port}"
        raise RuntimeError(f"no free ports for chalice local in {attempts} tries")

    def _start(self, timeout: float) -> bool:
        """True once this server answers /health; False if its ports were taken."""
        seen = self.log.stat().st_size if self.log.exists() else 0
        out = open(self.log, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [*self.argv(), "--no-autoreload"],
            cwd=ROOT,
            env=self.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                self.proc = None
                printed = self.log.read_bytes()[seen:].decode(errors="replace")
                if "in use" in printed.lower():
                    return False
                raise RuntimeError("chalice local exited:\n" + printed)
            try:
                if self.call("GET", "/health")[0] == 200:
                    return True
            except OSError:
                pass
            except ValueError:  # not our server's JSON: something else holds the port
                self.kill()
                return False
            if time.monotonic() > deadline:
                raise RuntimeError("chalice local did not serve /health in time")
            time.sleep(0.2)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Stop the server with `sig`; its exit code."""
        assert self.proc is not None
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(timeout=timeout)
        self.proc = None
        return code

    def kill(self) -> int:
        return self.stop(signal.SIGKILL)

    def call(self, method: str, path: str, body=None, headers=None, timeout: float = 30):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def admin(self, document: dict) -> dict:
        status, body = self.call(
            "PUT", "/admin/v1/workspace", document, {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )
        assert status == 200, body
        return body
