"""The served files: from the sources in a working tree, from the built bundle in a package.

Read once per process; a name outside the index is NotFound, so no request names a path.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from ..core.errors import NotFound, Unavailable
from . import bundle

CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}


@functools.cache
def files() -> dict[str, bytes]:
    if bundle.SOURCES.is_dir():
        return bundle.contents()
    return read(bundle.DIST)


def read(dest: Path) -> dict[str, bytes]:
    """A built bundle, as `bundle.contents()` gives it."""
    if not (dest / bundle.INDEX).is_file():
        raise Unavailable("the API docs are not in this package (make package builds them)")
    return {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()}


def index() -> list[dict[str, str]]:
    """The documents, `[{name, title}]` in name order."""
    return json.loads(files()[bundle.INDEX])


def title(name: str) -> str:
    for entry in index():
        if entry["name"] == name:
            return entry["title"]
    raise NotFound(f"no API document named {name!r}")


def document(name: str) -> bytes:
    title(name)
    return files()[f"openapi/{name}.json"]


def asset(name: str) -> tuple[bytes, str]:
    """An asset's bytes and content type."""
    data = files().get(f"assets/{name}")
    if data is None:
        raise NotFound(f"no asset named {name!r}")
    return data, CONTENT_TYPES[Path(name).suffix]
