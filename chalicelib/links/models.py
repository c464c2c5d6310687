"""PynamoDB models of the DTask links domain. Only `service.py` touches them."""

from __future__ import annotations

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.models import Model

from ..core.resources import table


@table
class TaskModel(Model):
    """One DTask task. `links` maps a target to a DynamoDB string set of target ids, so a
    link is an atomic `ADD` and two concurrent links to one task never lose each other."""

    class Meta:
        short_name = "dtask-tasks"

    task_id = UnicodeAttribute(hash_key=True)
    create_at = NumberAttribute()
    tower_todo = UnicodeAttribute(null=True)
    links = MapAttribute(default=dict)
    link_count = NumberAttribute(default=0)
    # bumped by every link change; a task is deleted only at the version it was read at,
    # so its index entries are removed in the same transaction as the task itself
    version = NumberAttribute(default=0)


@table
class LinkIndexModel(Model):
    """Reverse index: one item per (target#target_id, task) pair, written in the same
    TransactWrite as the task's link, so a Query answers "which tasks link to X"."""

    class Meta:
        short_name = "dtask-link-index"

    link_key = UnicodeAttribute(hash_key=True)
    task_id = UnicodeAttribute(range_key=True)


@table
class ItemLinkModel(Model):
    """The successor's flat links: an adjacency list of tracker items. Linking A and B
    writes (A, B) and (B, A) in one TransactWrite, so either side answers with a Query."""

    class Meta:
        short_name = "dtask-item-links"

    item_key = UnicodeAttribute(hash_key=True)  # target#id
    other_key = UnicodeAttribute(range_key=True)  # target#id
