"""Field values of ONES tasks (seed 001 `field_value`): built-in fields and type checks.

Every built-in attribute can also be set through `field_values` (field001 summary, ...);
custom fields come from the team catalog. A value that does not fit the field's type is a
BadFieldValue; malformed `field_values`, or a built-in the document marks as not settable, is
a BadRequest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.errors import BadRequest
from .errors import BadFieldValue

# field uuid -> (task attribute, type, settable on create, settable on update)
BUILTIN: dict[str, tuple[str, int, bool, bool]] = {
    "field001": ("summary", 2, True, True),
    "field002": ("owner", 8, False, False),
    "field004": ("assign", 8, True, True),
    "field005": ("status_uuid", 12, False, True),
    "field006": ("project_uuid", 9, True, False),
    "field007": ("issue_type_uuid", 11, True, False),
    "field008": ("watchers", 13, False, False),
    "field009": ("create_time", 5, False, False),
    "field011": ("sprint_uuid", 7, True, True),
    "field012": ("priority", 1, True, True),
    "field013": ("deadline", 5, True, True),
    "field014": ("parent_uuid", 10, True, True),
    "field015": ("number", 14, False, False),
    "field016": ("desc_rich", 2, True, True),
}
ATTRIBUTE_FIELD = {attr: uuid for uuid, (attr, *_rest) in BUILTIN.items()}

MAX_TEXT = 65536
MAX_INT = 2**63 - 1
MAX_SECONDS = 253402300799  # 9999-12-31T23:59:59Z: dates are seconds, not milliseconds


@dataclass
class Lookups:
    """What type checks need to know about the world; filled by the use cases."""

    custom: dict[str, dict]  # the team's custom fields by uuid
    options: dict[str, set[str]]  # field uuid -> option uuids (priority is field012)
    sprints: set[str]
    projects: set[str]
    issue_types: set[str]
    statuses: set[str]
    user_exists: Any  # callable(uuid) -> bool
    task_exists: Any  # callable(uuid) -> bool


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT


def check_value(field_uuid: str, ftype: int, value: Any, look: Lookups) -> Any:
    """Return the value to store, or raise BadFieldValue. None clears a field."""
    if value is None:
        return None
    bad = BadFieldValue(f"{field_uuid}: invalid value for field type {ftype}")
    if ftype in (2, 15):
        if not isinstance(value, str) or len(value) > MAX_TEXT:
            raise bad
    elif ftype in (3, 4, 5, 6, 14):
        if not _is_int(value) or (ftype in (5, 6) and value < 0):
            raise bad
        if ftype == 5 and value > MAX_SECONDS:
            raise bad
    elif ftype == 1:
        if not isinstance(value, str) or value not in look.options.get(field_uuid, set()):
            raise bad
    elif ftype == 16:
        if not isinstance(value, list) or any(
            not isinstance(v, str) or v not in look.options.get(field_uuid, set()) for v in value
        ):
            raise bad
        value = list(dict.fromkeys(value))
    elif ftype == 7:
        if not isinstance(value, str) or value not in look.sprints:
            raise bad
    elif ftype == 8:
        if not isinstance(value, str) or len(value) != 8 or not look.user_exists(value):
            raise bad
    elif ftype == 13:
        if not isinstance(value, list) or any(
            not isinstance(v, str) or len(v) != 8 or not look.user_exists(v) for v in value
        ):
            raise bad
        value = list(dict.fromkeys(value))
    elif ftype == 9:
        if not isinstance(value, str) or value not in look.projects:
            raise bad
    elif ftype == 10:
        if not isinstance(value, str) or len(value) != 16 or not look.task_exists(value):
            raise bad
    elif ftype == 11:
        if not isinstance(value, str) or value not in look.issue_types:
            raise bad
    elif ftype == 12:
        if not isinstance(value, str) or value not in look.statuses:
            raise bad
    else:
        raise bad
    return value


def split_field_values(
    raw: Any, look: Lookups, *, creating: bool
) -> tuple[dict[str, Any], dict[str, dict]]:
    """Check `field_values`; returns (built-in attribute values, custom values by field)."""
    if raw is None:
        return {}, {}
    if not isinstance(raw, list) or len(raw) > 200:
        raise BadRequest("field_values must be a list of at most 200 items")
    custom = look.custom
    builtin: dict[str, Any] = {}
    values: dict[str, dict] = {}
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("field_uuid"), str):
            raise BadRequest("field_values: each item needs field_uuid, type, value")
        field_uuid, ftype = entry["field_uuid"], entry.get("type")
        if not _is_int(ftype) or "value" not in entry:
            raise BadRequest(f"{field_uuid}: type and value are required")
        if field_uuid in BUILTIN:
            attr, expected, on_create, on_update = BUILTIN[field_uuid]
            if not (on_create if creating else on_update):
                when = "created" if creating else "updated"
                raise BadRequest(f"{field_uuid} ({attr}) cannot be {when} here")
            if ftype != expected:
                raise BadFieldValue(f"{field_uuid}: type must be {expected}")
            builtin[attr] = check_value(field_uuid, ftype, entry["value"], look)
        elif field_uuid in custom:
            if ftype != custom[field_uuid]["type"]:
                raise BadFieldValue(f"{field_uuid}: type must be {custom[field_uuid]['type']}")
            value = check_value(field_uuid, ftype, entry["value"], look)
            values[field_uuid] = {"type": ftype, "value": value}
        else:
            raise BadFieldValue(f"{field_uuid}: unknown field")
    return builtin, values


def render(task: dict[str, Any], custom_values: dict[str, dict]) -> list[dict[str, Any]]:
    """Built-in fields that hold a value, then custom fields, as ONES lists them."""
    out = []
    for field_uuid, (attr, ftype, *_rest) in BUILTIN.items():
        value = task.get(attr)
        if attr == "create_time" and value is not None:
            value = int(value) // 1_000_000  # the task holds µs; a date field is seconds
        if value not in (None, ""):
            out.append({"field_uuid": field_uuid, "type": ftype, "value": value, "value_type": 0})
    for field_uuid in sorted(custom_values):
        entry = custom_values[field_uuid]
        out.append(
            {
                "field_uuid": field_uuid,
                "type": entry["type"],
                "value": entry["value"],
                "value_type": 0,
            }
        )
    return out
