"""What a task may link to, and what an id of each target looks like.

Ids are checked and normalised before anything is written, so the reverse index holds one
spelling per item (bugzilla `0123` is bug `123`; a tower guid is lower-case).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote

from ..core.errors import BadRequest
from .config import links_config

CHANGE_ID = r"I[0-9a-f]{40}"
_BUG = re.compile(r"^[0-9]{1,10}$")
_GERRIT = re.compile(
    r"^(?:[1-9][0-9]{0,9}"  # change number
    rf"|{CHANGE_ID}"  # Change-Id
    r"|[^~\s]{1,255}~[1-9][0-9]{0,9}"  # project~number
    rf"|[^~\s]{{1,255}}~[^~\s]{{1,255}}~{CHANGE_ID})$"  # project~branch~Change-Id
)
_TOWER = re.compile(r"^[0-9a-f]{32}$")
MAX_ID_BYTES = 1000
KEY_BYTES = 1024
_OTHER = re.compile(r"^[A-Za-z0-9._~:-]{1,128}$")


def _bugzilla(value: str) -> str | None:
    if _BUG.match(value) and int(value) > 0:
        return str(int(value))
    return None


def _gerrit(value: str) -> str | None:
    if "%" in value:  # project names with `/` arrive URL-encoded, as Gerrit expects them
        value = unquote(value)
    return value if len(value) <= 600 and _GERRIT.match(value) else None


def _tower(value: str) -> str | None:
    value = value.lower()
    return value if _TOWER.match(value) else None


def _other(value: str) -> str | None:
    return value if _OTHER.match(value) else None


NORMALISERS: dict[str, Callable[[str], str | None]] = {
    "bugzilla": _bugzilla,
    "gerrit": _gerrit,
    "tower": _tower,
    "tower_todo": _tower,
}
EXPECTED = {
    "bugzilla": "a positive bug number",
    "gerrit": "a change number, a Change-Id (I + 40 hex) or project~branch~Change-Id",
    "tower": "a todo guid of 32 hex characters",
    "tower_todo": "a todo guid of 32 hex characters",
}


def targets() -> tuple[str, ...]:
    return links_config().targets


def check_target(target: str) -> str:
    if target not in targets():
        raise BadRequest(
            f"unknown target {target[:40]!r}; known targets: {', '.join(targets())}",
            field="target",
        )
    return target


# The successor's flat `/links` calls a Tower todo `tower_todo`; `tower` is taken as well.
FLAT_NAMES = {"tower": "tower_todo"}


def flat_targets() -> tuple[str, ...]:
    return tuple(flat_name(t) for t in targets())


def flat_name(target: str) -> str:
    return FLAT_NAMES.get(target, target)


def flat_names() -> tuple[str, ...]:
    """Every name the flat links take: the flat targets and their aliases."""
    aliases = tuple(a for a, t in FLAT_NAMES.items() if t in flat_targets())
    return flat_targets() + tuple(a for a in aliases if a not in flat_targets())


def normalise(target: str, target_id: str, *, flat: bool = False) -> tuple[str, str]:
    """(target, canonical id) or BadRequest naming what was expected. `flat`: the names of
    the successor's `/links`."""
    if flat:
        target = flat_name(target)
        if target not in flat_targets():
            raise BadRequest(
                f"unknown target {target[:40]!r}; known targets: {', '.join(flat_targets())}",
                field="target",
            )
    else:
        check_target(target)
    value = NORMALISERS.get(target, _other)(target_id.strip())
    if value is None:
        expected = EXPECTED.get(target, "letters, digits and ._~:- (at most 128)")
        raise BadRequest(
            f"invalid {target} id {target_id[:80]!r}: expected {expected}", field="target_id"
        )
    # `target#id` is a DynamoDB key: the flat links' range key holds at most 1024 bytes
    limit = min(MAX_ID_BYTES, KEY_BYTES - len(target.encode()) - 1)
    if len(value.encode()) > limit:
        raise BadRequest(
            f"invalid {target} id {target_id[:80]!r}: at most {limit} bytes", field="target_id"
        )
    return target, value


def tower_guid(value: str) -> str:
    guid = _tower(value.strip())
    if guid is None:
        raise BadRequest(
            f"invalid tower todo guid {value[:80]!r}: expected 32 hex characters", field="todo"
        )
    return guid


def sort_ids(ids: set[str] | list[str]) -> list[str]:
    """Numbers in numeric order first, then the rest alphabetically (DynamoDB sets are
    unordered; this keeps answers stable)."""
    return sorted(ids, key=lambda v: (0, int(v), "") if v.isdigit() else (1, 0, v))
