"""Modules imported on first use, so a Lambda's cold start (`import app`) registers every
route but loads a face's domain (its pydantic models, HTTP and git clients) only when the
first request that needs it arrives.

    queries = lazy.module(".queries", __package__)   # instead of `from . import queries`

The stand-in imports the module the first time an attribute is read (`queries.list_tasks`);
`importlib` serialises concurrent first imports, so threads may share it. Importing a domain
has side effects here (tables, queues and workspace sections register themselves), so what
needs every registration (the deployment template, the workspace document, the embedded
store, the CLI) calls `load_all()` first.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType
from typing import Any

_declared: list[str] = []


class LazyModule:
    """Attribute access to a module that is imported on the first read."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str):
        self._name = name
        self._module: ModuleType | None = None

    def _load(self) -> ModuleType:
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded"
        return f"<lazy module {self._name!r} ({state})>"


def module(name: str, package: str | None = None) -> Any:
    """A stand-in for `import name` (relative to `package` when it starts with a dot)."""
    full = importlib.util.resolve_name(name, package) if name.startswith(".") else name
    _declared.append(full)
    return LazyModule(full)


def load_all() -> None:
    """Import every module declared lazy so far, and those they declare in turn."""
    done = 0
    while done < len(_declared):
        importlib.import_module(_declared[done])
        done += 1


def declared() -> list[str]:
    return list(_declared)
