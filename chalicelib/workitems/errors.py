"""What can go wrong with a work item, in the domain's own terms (seed 001).

Each is a core error with its honest HTTP status; the ONES face gives each its wire code in
one place (`api.py`). Anything else is the plain core error of its status.
"""

from __future__ import annotations

from ..core.errors import BadRequest, Conflict, NotFound


class TaskToModifyMissing(NotFound):
    """The task a change names does not exist, or the caller cannot see it."""


class TaskMissing(NotFound):
    """A task the request refers to (a parent, a related task, one of several ids) does not
    exist, or the caller cannot see it."""


class BadTaskUuid(BadRequest):
    """A new task's uuid is not 16 letters or digits, or does not start with its creator's."""


class TaskExists(Conflict):
    """A new task's uuid is taken (task uuids are unique across teams)."""


class BadFieldValue(BadRequest):
    """A value that does not fit its field's type."""


class RelatedToItself(BadRequest):
    """A task named among its own related tasks."""
