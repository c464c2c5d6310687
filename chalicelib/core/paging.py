"""Offset paging (the originals' `limit`/`offset` with a `count`) over a bounded read.

DynamoDB has no offset and no filtered count, so a page is taken from one ordered Query
read item by item, and the count is of the matching items among at most `max_read`: a
request never reads without bound, and a list beyond the bound says so (`truncated`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_READ = 5000


@dataclass
class OffsetPage:
    count: int
    rows: list[Any] = field(default_factory=list)
    truncated: bool = False  # more items than were read: `count` is a lower bound


def offset_page(
    results: Iterable[Any],
    offset: int,
    limit: int,
    keep: Callable[[Any], bool] | None = None,
    max_read: int = MAX_READ,
) -> OffsetPage:
    page = OffsetPage(0)
    iterator = iter(results)
    for read, row in enumerate(iterator, start=1):
        if keep is None or keep(row):
            if offset <= page.count < offset + limit:
                page.rows.append(row)
            page.count += 1
        if read >= max_read:
            page.truncated = next(iterator, None) is not None
            break
    return page
