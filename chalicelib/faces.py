"""Every face of taskhub, in one list: app.py mounts them, the CLI and tests load them.

A face module registers its routes when imported and declares its domain modules lazy
(`core.lazy`), so `import app` stays small. `load_faces()` also imports every domain, which
registers its tables, queues and workspace sections; `load_faces(domains=False)` (app.py)
leaves each domain to the first request that uses it.
"""

from __future__ import annotations

import importlib

from .core import lazy
from .core.face import Face

FACE_MODULES = (
    "chalicelib.admin.api",
    "chalicelib.workitems.api",
    "chalicelib.links.api",
    "chalicelib.jobs.api",
    "chalicelib.tca.api",
    "chalicelib.tca.analysis",
    "chalicelib.codearts.api",
    "chalicelib.apidocs.api",
    "chalicelib.console.api",
)


def load_faces(domains: bool = True) -> list[Face]:
    faces = [importlib.import_module(name).face for name in FACE_MODULES]
    if domains:
        lazy.load_all()
    return faces
