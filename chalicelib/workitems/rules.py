"""Rules a task's values follow whether it is created or updated (seed 001 field limits)."""

from __future__ import annotations

import html
import re
from typing import Any

from ..core.errors import BadRequest
from . import validation as v
from .context import USER_RE, Team
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
        raise BadRequest(f"desc, desc_rich and field values together exceed {MAX_TEXT_BYTES} bytes")


def text_of(rich: str) -> str:
    """`desc` derived from `desc_rich` when only the rich text is sent."""
    return html.unescape(TAG_RE.sub("", rich)).replace("\xa0", " ").strip()


def checked_summary(summary: Any) -> str:
    """The summary may come through field001 too, so its rules are checked after the merge."""
    if not summary or not summary.strip():
        raise BadRequest("summary cannot be empty")
    if len(summary) > v.MAX_SUMMARY:
        raise BadRequest(f"summary must be at most {v.MAX_SUMMARY} characters")
    return summary


def checked_assign(team: Team, assign: Any) -> str:
    if not assign or not USER_RE.match(assign) or not team.user_exists(assign):
        raise BadRequest("assign must be the uuid of a user")
    return assign
