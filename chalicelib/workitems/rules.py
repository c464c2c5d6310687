"""Rules a task's values follow whether it is created or updated (seed 001 field limits)."""

from __future__ import annotations

import html
import re
from typing import Any

from . import fields as fieldlib
from . import validation as v
from .context import USER_RE, Team, invalid
from .models import TaskModel

TAG_RE = re.compile(r"<[^>]*>")
MAX_TEXT_BYTES = 300_000  # desc + desc_rich + custom values, UTF-8; a DynamoDB item is <= 400 KB


def check_size(task: TaskModel) -> None:
    """65536 characters of CJK text in both descriptions would not fit one item."""
    size = sum(
        len((text or "").encode("utf-8"))
        for text in (task.desc, task.desc_rich, task.custom_values, task.summary)
    )
    if size > MAX_TEXT_BYTES:
        raise invalid(f"desc, desc_rich and field values together exceed {MAX_TEXT_BYTES} bytes")


def text_of(rich: str) -> str:
    """`desc` derived from `desc_rich` when only the rich text is sent."""
    return html.unescape(TAG_RE.sub("", rich)).replace("\xa0", " ").strip()


def field_values(
    raw: Any, team: Team, look: fieldlib.Lookups, creating: bool
) -> tuple[dict[str, Any], dict[str, dict]]:
    """`field_values` split into built-in attributes and custom values; 611 / 801 on error."""
    try:
        return fieldlib.split_field_values(raw, team.catalog.fields, look, creating=creating)
    except fieldlib.FieldValueError as exc:
        raise invalid(str(exc), exc.code) from exc


def checked_summary(summary: Any) -> str:
    """The summary may come through field001 too, so its rules are checked after the merge."""
    if not summary or not summary.strip():
        raise invalid("summary cannot be empty")
    if len(summary) > v.MAX_SUMMARY:
        raise invalid(f"summary must be at most {v.MAX_SUMMARY} characters")
    return summary


def checked_assign(team: Team, assign: Any) -> str:
    if not assign or not USER_RE.match(assign) or not team.user_exists(assign):
        raise invalid("assign must be the uuid of a user")
    return assign
