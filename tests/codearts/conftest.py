"""Fixtures of the CodeArts tests: two CodeArts projects, their users (a token each, an
AK/SK pair for the member), a repository served over loopback smart HTTP, the SDK's client
against the app, and the scan queue drained through the worker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.core.identity import service as identity
from tests.scans.conftest import drain
from tests.scans.gitserver import GitRepo, GitServer

from .sdk import codearts_model, sdk_client

PROJECT = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"
TOKENS = {
    "Member01": "codearts-member-token-0123456789",
    "Viewer01": "codearts-viewer-token-0123456789",
    "Outsid01": "codearts-outsider-token-01234567",
    "Admin001": "codearts-padmin-token-0123456789",
}
MEMBER = {"X-Auth-Token": TOKENS["Member01"]}
VIEWER = {"X-Auth-Token": TOKENS["Viewer01"]}
OUTSIDER = {"X-Auth-Token": TOKENS["Outsid01"]}
PADMIN = {"X-Auth-Token": TOKENS["Admin001"]}

PY_BAD = "import os\n\n\ndef f(x):\n    l = 1\n    return x == None\n"
SHELL_BAD = "#!/bin/sh\necho $1\n"
SOURCES = {
    "app/bad.py": PY_BAD,
    "app/ok.py": "def add(a, b):\n    return a + b\n",
    "run.sh": SHELL_BAD,
}

__all__ = ["codearts_model", "drain"]


def codearts_workspace() -> dict:
    users = [
        {"uuid": uuid, "name": uuid.lower(), "email": f"{uuid}@t.io", "token": token}
        for uuid, token in TOKENS.items()
    ]
    return {
        "users": users,
        "namespaces": [
            {
                "face": "codearts",
                "id": PROJECT,
                "name": "demo",
                "members": {"Member01": "member", "Viewer01": "viewer", "Admin001": "admin"},
            },
            {
                "face": "codearts",
                "id": OTHER,
                "name": "other",
                "members": {"Outsid01": "member", "Admin001": "viewer"},
            },
        ],
    }


class CodeArts:
    """The REST docs' calls (X-Auth-Token) over the Chalice test client."""

    def __init__(self, api, git: GitServer):
        self.api = api
        self.git = git

    def call(self, method: str, path: str, body=None, headers=None, raw=None):
        return self.api.call(method, "/v2" + path, body, headers or MEMBER, raw=raw)

    def ok(self, method: str, path: str, body=None, headers=None) -> dict:
        status, data = self.call(method, path, body, headers)
        assert status == 200, (method, path, status, data)
        return data

    def create(self, project: str = PROJECT, headers=None, **fields) -> str:
        body = {"git_url": self.git.url("demo.git"), "git_branch": "master", **fields}
        return self.ok("POST", f"/{project}/task", body, headers)["task_id"]

    def run(self, task_id: str, headers=None) -> str:
        return self.ok("POST", f"/tasks/{task_id}/run", {}, headers)["exec_id"]

    def progress(self, task_id: str) -> dict:
        return self.ok("GET", f"/tasks/{task_id}/progress")


@pytest.fixture
def git_repo(tmp_path: Path) -> Iterator[GitRepo]:
    repo = GitRepo.init(tmp_path / "repos" / "demo.git")
    repo.commit(SOURCES)
    yield repo
    repo.close()


@pytest.fixture
def git_server(tmp_path: Path, git_repo: GitRepo) -> Iterator[GitServer]:
    with GitServer(tmp_path / "repos") as server:
        yield server


@pytest.fixture
def codearts(api, apply_workspace, git_server, monkeypatch) -> CodeArts:
    monkeypatch.setenv("TASKHUB_SCAN_ALLOW_LOOPBACK", "1")
    apply_workspace(codearts_workspace())
    return CodeArts(api, git_server)


@pytest.fixture
def keys(codearts) -> tuple[str, str]:
    """An AK/SK pair of the project's member, as the admin CLI issues it."""
    return identity.create_access_key("Member01")


@pytest.fixture
def sdk(client, keys):
    """The SDK's client, signing with the member's key, its project the CodeArts project."""
    return sdk_client(client, *keys, project_id=PROJECT)


def body_of(response) -> dict:
    return json.loads(response.raw_content or b"null")
