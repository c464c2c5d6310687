"""Every face of taskhub, in one list: app.py mounts them, the CLI and tests load them.

Importing a face also registers its domain's tables, queues and workspace sections.
"""

from __future__ import annotations

import importlib

from .core.face import Face

FACE_MODULES = (
    "chalicelib.admin.api",
    "chalicelib.workitems.api",
    "chalicelib.links.api",
    "chalicelib.jobs.api",
    "chalicelib.tca.api",
    "chalicelib.tca.analysis",
    "chalicelib.codearts.api",
)


def load_faces() -> list[Face]:
    return [importlib.import_module(name).face for name in FACE_MODULES]
