"""Reading and writing schedule items: every write is conditional on the version it read."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ..core import cursors
from ..core.conditions import applied
from ..core.errors import Conflict, NotFound
from ..core.retry import until_done
from .models import ID_WIDTH, SEQUENCE, ScheduleModel

SHARDS = 16  # the deadline index is spread over this many partitions
MAX_PER_OWNER = 500  # schedules per project or team: an owner's list is one bounded read


def due_shard(owner: str, sid: str) -> str:
    digest = hashlib.sha256(f"{owner}#{sid}".encode()).hexdigest()
    return f"s{int(digest, 16) % SHARDS:02d}"


def sid_of(number: int) -> str:
    return f"{number:0{ID_WIDTH}d}"


def parse_id(value: str) -> str | None:
    """A schedule id from the wire (digits), as stored; None if it cannot be one."""
    if not value.isascii() or not value.isdigit() or len(value) > ID_WIDTH or int(value) == 0:
        return None
    return sid_of(int(value))


def take_id(owner: str) -> str:
    """The owner's next id: one atomic ADD on its sequence item."""
    counter = ScheduleModel(owner, SEQUENCE)
    counter.update(actions=[ScheduleModel.seq.add(1)])
    return sid_of(int(counter.seq))


def get(owner: str, sid: str | None) -> ScheduleModel | None:
    if sid is None:
        return None
    try:
        return ScheduleModel.get(owner, sid, consistent_read=True)
    except ScheduleModel.DoesNotExist:
        return None


def load(owner: str, sid: str | None, label: str) -> ScheduleModel:
    found = get(owner, sid)
    if found is None:
        raise NotFound(f"{label} not found")
    return found


def page(owner: str, limit: int, cursor: str | None) -> tuple[list[ScheduleModel], str | None]:
    start = cursors.start_key(cursor, owner, "owner", "sid")
    found = ScheduleModel.query(
        owner, ScheduleModel.sid < SEQUENCE, limit=limit, last_evaluated_key=start
    )
    items, key = cursors.page_of(found)
    return items, cursors.encode(key)


def of_owner(owner: str) -> list[ScheduleModel]:
    """Every schedule of an owner (at most MAX_PER_OWNER, so one bounded read)."""
    found = ScheduleModel.query(
        owner, ScheduleModel.sid < SEQUENCE, consistent_read=True, limit=MAX_PER_OWNER
    )
    return list(found)


def count(owner: str) -> int:
    found = ScheduleModel.query(
        owner, ScheduleModel.sid < SEQUENCE, limit=MAX_PER_OWNER + 1, attributes_to_get=["sid"]
    )
    return sum(1 for _ in found)


def insert(item: ScheduleModel) -> None:
    item.save(condition=ScheduleModel.sid.does_not_exist())


def revise(owner: str, sid: str, label: str, change: Callable[[ScheduleModel], list[Any]]):
    """Read, change and write back on the version read; another writer in between (a firing
    bumps the version too) means read again. `change` returns the update's actions."""
    done: list[ScheduleModel] = []

    def attempt(_: int) -> bool:
        item = load(owner, sid, label)
        actions = change(item)
        if not actions:
            done.append(item)
            return True
        actions.append(ScheduleModel.version.set(int(item.version or 0) + 1))
        target = ScheduleModel(owner, sid)
        if not applied(
            lambda: target.update(actions=actions, condition=ScheduleModel.version == item.version)
        ):
            return False
        done.append(load(owner, sid, label))
        return True

    if not until_done(attempt):
        raise Conflict(f"{label} keeps changing; try again")
    return done[-1]


def remove(owner: str, sid: str, label: str) -> None:
    if not applied(lambda: ScheduleModel(owner, sid).delete(condition=ScheduleModel.sid.exists())):
        raise NotFound(f"{label} not found")
