"""Fixtures of the scan tests. Sectioned by owner: add yours in a section of its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.scans.gitserver import GitRepo, GitServer

# --- git: a loopback smart-HTTP server and a repository it serves ------------------------


@pytest.fixture
def git_root(tmp_path: Path) -> Path:
    """The directory `git_server` serves; each repository is a directory in it."""
    root = tmp_path / "repos"
    root.mkdir()
    return root


@pytest.fixture
def git_server(git_root: Path) -> Iterator[GitServer]:
    with GitServer(git_root) as server:
        yield server


@pytest.fixture
def git_repo(git_root: Path) -> Iterator[GitRepo]:
    """An empty bare repository `demo.git` (default branch master): `git_server.url("demo.git")`."""
    repo = GitRepo.init(git_root / "demo.git")
    yield repo
    repo.close()
