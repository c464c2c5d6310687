"""First run: a second server, a short admin token and the admin CLI without a server each
get one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

from .conftest import ADMIN_TOKEN, ROOT, LocalServer


def _start_fails(server: LocalServer, **env: str) -> str:
    """Start a second server process that must refuse; its output."""
    done = subprocess.run(
        [*server.argv(), "--no-autoreload"],
        cwd=ROOT,
        env={**server.env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    return done.stderr.strip()


def test_a_second_server_fails_fast_with_one_line(server, tmp_path):
    message = _start_fails(server)
    assert len(message.splitlines()) == 1 and message.startswith("taskhub: "), message
    assert "TASKHUB_DATA_DIR" in message and "PORT" in message
    other = LocalServer(tmp_path / "other")
    other.port = server.port  # its own data, but the same HTTP port
    message = _start_fails(other)
    assert message == f"taskhub: port {server.port} is in use; set PORT to another port"


def test_a_short_admin_token_is_one_line_at_start(tmp_path):
    server = LocalServer(tmp_path / "short")
    message = _start_fails(server, TASKHUB_ADMIN_TOKEN="short")
    assert message == "taskhub: TASKHUB_ADMIN_TOKEN must be at least 16 characters (it has 5)"


def test_the_admin_cli_refuses_without_a_running_server(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKHUB_", "AWS_"))}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chalicelib.admin",
            "--stage",
            "local",
            "create-user",
            "--name",
            "x",
            "--email",
            "x@x.io",
        ],
        cwd=ROOT,
        env={**env, "TASKHUB_DATA_DIR": str(tmp_path / "none")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "no local taskhub is running" in done.stderr, done.stderr
    assert ADMIN_TOKEN not in done.stderr
