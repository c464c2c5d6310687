"""A real `chalice local --stage local` process on free ports, shared by the e2e tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADMIN_TOKEN = "e2e-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, port: int, aws_port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.aws_port = aws_port

    def call(self, method: str, path: str, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKHUB_", "AWS_"))}
        env.update(TASKHUB_EMBEDDED_PORT=str(self.aws_port), TASKHUB_ADMIN_TOKEN=ADMIN_TOKEN)
        return env


@pytest.fixture(scope="session")
def server():
    port, aws_port = free_port(), free_port()
    srv = Server(port, aws_port)
    chalice = Path(sys.executable).with_name("chalice")
    proc = subprocess.Popen(
        [str(chalice), "local", "--stage", "local", "--port", str(port), "--no-autoreload"],
        cwd=ROOT,
        env=srv.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError("chalice local exited:\n" + proc.stdout.read())
            try:
                if srv.call("GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chalice local did not serve /health in time")
            time.sleep(0.3)
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
