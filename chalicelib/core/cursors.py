"""Opaque list cursors, one encoding for every face: a JSON object, base64url-encoded.

A cursor comes back from the client, so decoding treats it as untrusted input: anything that
is not one of ours is a BadRequest, never a query the store refuses.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
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
    return check_key(decode(cursor), hash_value, *keys)


def check_key(value: Any, hash_value: str, *keys: str) -> dict[str, Any] | None:
    """`start_key` for a key that is one part of a bigger cursor, already decoded."""
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or set(value) != set(keys)
        or value[keys[0]] != {"S": hash_value}
        or not all(_key_string(v) for v in value.values())
    ):
        raise BadRequest("cursor is not valid", field="cursor")
    return value


def keyed(results: Any) -> Iterator[tuple[Any, dict[str, Any] | None]]:
    """A PynamoDB query's items, each with the key to go on from after it (None after the
    last one)."""
    for item in results:
        yield item, results.last_evaluated_key


def page_of(results: Any) -> tuple[list[Any], dict[str, Any] | None]:
    """A PynamoDB query's items (run with a limit) and the key to go on from, if any."""
    items = list(results)
    return items, results.last_evaluated_key


def number(data: dict[str, Any], key: str) -> int:
    """A positive integer of a cursor (a task number, a stamp), never a bool or a float."""
    value = data.get(key)
    if type(value) is not int or not 0 < value < 2**63:
        raise BadRequest("cursor is not valid", field="cursor")
    return value


def _key_string(value: Any) -> bool:
    """A string key value DynamoDB takes: UTF-8, and a range key has at most 1024 bytes."""
    if not (isinstance(value, dict) and list(value) == ["S"] and isinstance(value["S"], str)):
        return False
    try:
        size = len(value["S"].encode())
    except UnicodeEncodeError:  # a lone surrogate, which JSON can carry
        return False
    return 0 < size <= 1024
