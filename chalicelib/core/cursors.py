"""Opaque list cursors, one encoding for every face: a JSON object, base64url-encoded.

A cursor comes back from the client, so decoding treats it as untrusted input: anything that
is not one of ours is a BadRequest, never a query the store refuses.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import BadRequest


def encode(data: dict[str, Any] | None) -> str | None:
    if not data:
        return None
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode()


def decode(cursor: str | None) -> dict[str, Any] | None:
    """The object a cursor holds; None for no cursor."""
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError, binascii.Error, RecursionError) as exc:
        raise BadRequest("cursor is not valid", field="cursor") from exc
    if not isinstance(data, dict):
        raise BadRequest("cursor is not valid", field="cursor")
    return data


def start_key(cursor: str | None, hash_value: str, *keys: str) -> dict[str, Any] | None:
    """A DynamoDB key to go on from (an `ExclusiveStartKey` we encoded). `keys` names every
    string attribute of that key, the hash key first, whose value must be `hash_value`, so a
    cursor of another list or project is refused."""
    value = decode(cursor)
    if value is None:
        return None
    if (
        set(value) != set(keys)
        or value[keys[0]] != {"S": hash_value}
        or not all(_key_string(v) for v in value.values())
    ):
        raise BadRequest("cursor is not valid", field="cursor")
    return value


def number(data: dict[str, Any], key: str) -> int:
    """A positive integer of a cursor (a task number, a stamp), never a bool or a float."""
    value = data.get(key)
    if type(value) is not int or not 0 < value < 2**63:
        raise BadRequest("cursor is not valid", field="cursor")
    return value


def _key_string(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and list(value) == ["S"]
        and isinstance(value["S"], str)
        and 0 < len(value["S"]) <= 1024
    )
