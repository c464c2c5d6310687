"""e2e fixtures: `server` is shared by the e2e tests of one test process; `fresh_server` is a
server of a test's own, for tests that stop, kill or load it."""

from __future__ import annotations

import pytest

from .local import ADMIN_TOKEN, ROOT, LocalServer, free_port, wait_for

__all__ = ["ADMIN_TOKEN", "ROOT", "LocalServer", "free_port", "wait_for"]


@pytest.fixture(scope="session")
def server():
    srv = LocalServer().start()
    try:
        yield srv
    finally:
        if srv.proc is not None:
            srv.stop()


@pytest.fixture
def fresh_server(tmp_path):
    """A server of its own, for tests that stop, kill or load it; stopped afterwards."""
    srv = LocalServer(tmp_path / "data")
    try:
        yield srv
    finally:
        if srv.proc is not None:
            srv.kill()
