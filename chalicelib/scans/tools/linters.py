"""One linter interface and its registry, so adding a tool is adding one module.

The engine asks `linters_for(languages)` which linters a scheme's languages need, each linter
which files it `wants`, and runs `lint` on a shard; every linter returns fingerprinted
Findings with repo-relative paths.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import ClassVar, TypeVar

from .base import Finding, regular_files
from .base import head as read_head


class Linter(ABC):
    """A linter: a TCA task name, the TCA language it covers, and how to run it on a shard."""

    name: ClassVar[str]
    language: ClassVar[str]
    suffixes: ClassVar[frozenset[str]] = frozenset()

    def wants(self, path: str, head: bytes) -> bool:
        """Whether this linter reads the file; `head` is its first 128 bytes."""
        return PurePosixPath(path).suffix.lower() in self.suffixes

    def select(self, root: Path, paths: Iterable[str]) -> list[str]:
        """The paths this linter should read: regular files inside root that it wants."""
        return [p for p in regular_files(root, paths) if self.wants(p, read_head(root, p))]

    @abstractmethod
    def lint(self, root: Path, paths: list[str], *, timeout_s: float = 600) -> list[Finding]:
        """Findings in the given repo-relative paths under root; ToolError if it cannot run."""


LINTERS: dict[str, Linter] = {}

L = TypeVar("L", Linter, type[Linter])


def register(linter: L) -> L:
    """Add a linter (an instance, or a class to instantiate, as a decorator) to LINTERS."""
    instance = linter() if isinstance(linter, type) else linter
    known = LINTERS.get(instance.name)
    if known is not None and type(known).__qualname__ != type(instance).__qualname__:
        raise ValueError(f"two linters are named {instance.name!r}")
    LINTERS[instance.name] = instance
    return linter


def linters_for(languages: Iterable[str]) -> list[Linter]:
    """The registered linters for the given TCA language names, sorted by name."""
    wanted = {lang.lower() for lang in languages}
    return sorted((lt for lt in LINTERS.values() if lt.language in wanted), key=lambda lt: lt.name)


# The linters register themselves on import; importing them here makes LINTERS complete.
from . import ruff_lint, shellcheck_lint  # noqa: E402, F401
