"""The webhooks tables: each namespace's allow-list (with its encrypted signing secret) and
one delivery record per (event, URL)."""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..core.resources import table

ALLOWLIST = "allowlist"  # the one partition of allow-lists: exported by one paged Query


def ns_key(face: str, namespace: str) -> str:
    return f"{face}:{namespace}"


@table
class AllowListModel(Model):
    """The callback URLs (or `*`-ended prefixes) a namespace's tasks and scans may name, and
    the secret their events are signed with (Fernet-encrypted; never exported or shown)."""

    class Meta:
        short_name = "webhook-allowlists"

    kind = UnicodeAttribute(hash_key=True, default=ALLOWLIST)
    ns_key = UnicodeAttribute(range_key=True)  # "<face>:<namespace>"
    face = UnicodeAttribute()
    namespace = UnicodeAttribute()
    urls = ListAttribute(of=UnicodeAttribute, default=list)
    secret = UnicodeAttribute(null=True)  # encrypted
    updated = NumberAttribute(default=0)  # ms


class DeliveryByNamespace(GlobalSecondaryIndex):
    """A namespace's deliveries, newest first by `listed` ("<created ms>#<delivery id>")."""

    class Meta:
        index_name = "by_namespace"
        projection = AllProjection()

    ns_key = UnicodeAttribute(hash_key=True)
    listed = UnicodeAttribute(range_key=True)


class DeliveryByDeadline(GlobalSecondaryIndex):
    """Sparse: only pending deliveries carry `watch`; the reaper re-sends those whose message
    should have come by `deadline` (a send that failed after the end committed)."""

    class Meta:
        index_name = "by_deadline"
        projection = KeysOnlyProjection()

    watch = UnicodeAttribute(hash_key=True)
    deadline = NumberAttribute(range_key=True)


@table
class DeliveryModel(Model):
    """One event to one URL. Its id is derived from (event id, URL), and it is written with
    the end it reports (in the same transaction, only if absent), so an end is announced once
    however often the engine's message comes. `round` counts redeliveries: a queue message
    of an older round is stale."""

    class Meta:
        short_name = "webhook-deliveries"

    delivery_id = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute()
    ns_key = UnicodeAttribute()
    listed = UnicodeAttribute()
    face = UnicodeAttribute()
    namespace = UnicodeAttribute()
    url = UnicodeAttribute()
    event = JSONAttribute()  # the event's fields; each attempt adds its timestamp and number
    state = UnicodeAttribute(default="pending")  # pending | delivered | dead
    round = NumberAttribute(default=0)
    tries = NumberAttribute(default=0)  # attempts so far, every round
    base = NumberAttribute(default=0)  # `tries` when this round began
    attempts = JSONAttribute(default=list)  # the latest attempts: n, at, status, error, ms
    created = NumberAttribute()  # ms
    lease_token = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(default=0)
    watch = UnicodeAttribute(null=True)  # while pending: its reaper shard
    deadline = NumberAttribute(null=True)  # ms: by then its next message should have come
    by_namespace = DeliveryByNamespace()
    by_deadline = DeliveryByDeadline()
