"""Domain errors. Services raise these (or a domain's subclasses of them, which say what went
wrong in that domain's terms); each face maps them to its envelope and codes in one place."""

from __future__ import annotations


class TaskhubError(Exception):
    """Base of every domain error. `status` is the honest HTTP status."""

    status = 500
    kind = "InternalError"

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message or self.kind)
        self.message = message or self.kind
        self.field = field
        self.problems: list[dict] = []  # a validator's own account, when there was one


class BadRequest(TaskhubError):
    status = 400
    kind = "InvalidParameter"


class Unauthorized(TaskhubError):
    status = 401
    kind = "Unauthorized"


class Forbidden(TaskhubError):
    status = 403
    kind = "PermissionDenied"


class NotFound(TaskhubError):
    status = 404
    kind = "NotFound"


class Conflict(TaskhubError):
    status = 409
    kind = "Conflict"


class Stale(Conflict):
    """A write based on an old version (optimistic concurrency)."""

    kind = "Stale"


class Unavailable(TaskhubError):
    status = 503
    kind = "Unavailable"
