"""Identifier and clock helpers shared by the faces."""

from __future__ import annotations

import hashlib
import os
import secrets
import string
import time

ALNUM = string.ascii_letters + string.digits


def random_alnum(length: int) -> str:
    return "".join(secrets.choice(ALNUM) for _ in range(length))


def derived_alnum(length: int, *parts: str) -> str:
    """`length` letters and digits derived from `parts`: the same parts, the same id, for an
    entity that has an id on the wire but is not stored as one of its own."""
    number = int.from_bytes(hashlib.sha256("\x1f".join(parts).encode()).digest(), "big")
    out = []
    for _ in range(length):
        number, digit = divmod(number, len(ALNUM))
        out.append(ALNUM[digit])
    return "".join(out)


def user_uuid() -> str:
    """ONES-style 8-character user id."""
    return random_alnum(8)


def object_id(seconds: int | None = None) -> str:
    """24-hex MongoDB-style ObjectId: 4 bytes of creation seconds (now, unless given), then 8
    random bytes."""
    return f"{int(time.time()) if seconds is None else seconds:08x}" + os.urandom(8).hex()


def now_us() -> int:
    return time.time_ns() // 1000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def now_s() -> int:
    return int(time.time())
