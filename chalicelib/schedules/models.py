"""PynamoDB models of the schedules domain, read and written by its modules, never by api.py.

One table: a schedule per item, under its owner (`jobx:<project>` or `tca:<team>`), with
two sparse, keys-only indexes: `by_due`, the deadline index the firing walks (only enabled
schedules carry `due_shard`), and `by_kind`, which the workspace export pages through. Each
owner's id sequence is the item at sort key `SEQUENCE` (no index names it).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..core.resources import table

SEQUENCE = "~seq"  # sorts after every zero-padded id
ID_WIDTH = 10


class ScheduleByDue(GlobalSecondaryIndex):
    """Sparse: only enabled schedules carry `due_shard`; the firing queries `next_run <= now`."""

    class Meta:
        index_name = "by_due"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    next_run = NumberAttribute(range_key=True)


class ScheduleByKind(GlobalSecondaryIndex):
    """Every schedule of a kind (`jobx`, `scan`), in owner order: the workspace export."""

    class Meta:
        index_name = "by_kind"
        projection = KeysOnlyProjection()

    kind = UnicodeAttribute(hash_key=True)
    kind_key = UnicodeAttribute(range_key=True)  # <owner>#<sid>


@table
class ScheduleModel(Model):
    class Meta:
        short_name = "schedules"

    owner = UnicodeAttribute(hash_key=True)
    sid = UnicodeAttribute(range_key=True)  # the id zero-padded to ID_WIDTH digits
    seq = NumberAttribute(null=True)  # the owner's id sequence (item SEQUENCE only)
    kind = UnicodeAttribute(null=True)  # jobx | scan
    kind_key = UnicodeAttribute(null=True)
    name = UnicodeAttribute(null=True)
    target = JSONAttribute(null=True)  # what a firing submits (see targets.py)
    cron = UnicodeAttribute(null=True)
    timezone = UnicodeAttribute(null=True)
    enabled = BooleanAttribute(null=True)
    run_as = UnicodeAttribute(null=True)  # the user uuid the task or scan is submitted as
    create_user = UnicodeAttribute(null=True)
    create_time = NumberAttribute(null=True)  # epoch seconds, as every time here
    edit_user = UnicodeAttribute(null=True)
    edit_time = NumberAttribute(null=True)
    version = NumberAttribute(null=True)  # every write checks and bumps it
    # the deadline index: the next slot not yet fired or skipped
    due_shard = UnicodeAttribute(null=True)
    next_run = NumberAttribute(null=True)
    # firing
    last_slot = NumberAttribute(null=True)  # the latest slot claimed (fired at most once)
    pending_slot = NumberAttribute(null=True)  # claimed, its submission not yet recorded
    pending_until = NumberAttribute(null=True)  # past it, a lost claim is driven again
    last_fire = JSONAttribute(null=True)  # {slot, at, result, detail, task | job}
    fired = NumberAttribute(null=True)
    refused = NumberAttribute(null=True)
    failed = NumberAttribute(null=True)
    # slots skipped while nothing fired (the scheduler stopped, or a slot past the grace)
    missed_count = NumberAttribute(null=True)
    missed_more = BooleanAttribute(null=True)  # a gap too long to count: missed_count is a floor
    missed_first = NumberAttribute(null=True)
    missed_last = NumberAttribute(null=True)
    missed_recent = ListAttribute(of=NumberAttribute, null=True)  # the latest few, newest last
    by_due = ScheduleByDue()
    by_kind = ScheduleByKind()
