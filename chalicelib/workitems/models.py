"""PynamoDB models of the work-items domain (seed 001, ONES legacy task API).

Only the use-case modules of this domain and `catalog.py` touch them. Key choices:
- tasks are keyed by their global uuid (ONES uuids are unique across teams, so a taken uuid is taken everywhere);
- every paged list is a GSI keyed `<team>#<filter value>` with the per-team `number` as
  range key, so a list is one Query per page in a stable order;
- counters (per-project and per-sprint stats) are items of their own, changed with ADD in
  the same TransactWrite as the task they count, split over shards of the team's key
  (changes.STATS_SHARDS); the per-team number comes from a counting network of counter
  items outside the transaction (numbers.py).
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..core.resources import table


def _index(name: str, hash_attr: str, projection=None):
    """A GSI `<hash_attr>` + `number`, newest-first lists page over it."""
    attrs = {
        "Meta": type("Meta", (), {"index_name": name, "projection": projection or AllProjection()}),
        hash_attr: UnicodeAttribute(hash_key=True),
        "number": NumberAttribute(range_key=True),
    }
    return type(f"Index_{name}", (GlobalSecondaryIndex,), attrs)()


@table
class TaskModel(Model):
    """One work item. `server_update_stamp` doubles as the optimistic-concurrency version."""

    class Meta:
        short_name = "ones-tasks"

    uuid = UnicodeAttribute(hash_key=True)
    team_uuid = UnicodeAttribute()
    number = NumberAttribute()
    owner = UnicodeAttribute()
    assign = UnicodeAttribute()
    project_uuid = UnicodeAttribute()
    issue_type_uuid = UnicodeAttribute()
    sub_issue_type_uuid = UnicodeAttribute(default="")
    status_uuid = UnicodeAttribute()
    status_category = UnicodeAttribute()
    sprint_uuid = UnicodeAttribute(null=True)
    summary = UnicodeAttribute()
    desc = UnicodeAttribute(default="")
    desc_rich = UnicodeAttribute(default="")
    parent_uuid = UnicodeAttribute(default="")
    path = UnicodeAttribute()
    position = NumberAttribute(default=0)
    priority = UnicodeAttribute(null=True)
    deadline = NumberAttribute(null=True)
    assess_manhour = NumberAttribute(null=True)
    watchers = ListAttribute(of=UnicodeAttribute, default=list)
    product_uuids = ListAttribute(of=UnicodeAttribute, null=True)
    custom_values = UnicodeAttribute(default="{}")  # JSON {field_uuid: {"type": t, "value": v}}
    create_time = NumberAttribute()
    update_time = NumberAttribute()
    server_update_stamp = NumberAttribute()
    subtask_total = NumberAttribute(default=0)
    subtask_done = NumberAttribute(default=0)
    related_total = NumberAttribute(default=0)
    related_done = NumberAttribute(default=0)
    # GSI keys, `<team>#<value>`; absent when the value is empty (sparse indexes)
    team_key = UnicodeAttribute()
    project_key = UnicodeAttribute()
    category_key = UnicodeAttribute()
    assign_key = UnicodeAttribute()
    sprint_key = UnicodeAttribute(null=True)
    parent_key = UnicodeAttribute(null=True)

    by_team = _index("by_team", "team_key")
    by_project = _index("by_project", "project_key")
    by_category = _index("by_category", "category_key")
    by_assign = _index("by_assign", "assign_key")
    by_sprint = _index("by_sprint", "sprint_key")
    by_parent = _index("by_parent", "parent_key", KeysOnlyProjection())


@table
class TaskNumberModel(Model):
    """`number` -> task uuid within a team, for `task/:number/info`; `team_uuid` is the shard
    of the team's key the number falls in (numbers.map_key)."""

    class Meta:
        short_name = "ones-task-numbers"

    team_uuid = UnicodeAttribute(hash_key=True)
    number = NumberAttribute(range_key=True)
    task_uuid = UnicodeAttribute()


@table
class TaskLinkModel(Model):
    """One direction of a related-task link; each link is stored from both ends."""

    class Meta:
        short_name = "ones-task-links"

    task_uuid = UnicodeAttribute(hash_key=True)
    other_uuid = UnicodeAttribute(range_key=True)
    task_link_type_uuid = UnicodeAttribute()
    link_desc_type = UnicodeAttribute()  # link_out_desc | link_in_desc, seen from task_uuid
    create_time = NumberAttribute()


@table
class TeamCounterModel(Model):
    """Per-team counters, under shards of the team's key: `project#<uuid>` and
    `sprint#<uuid>` stats; under the team's key, `number` (the offset of the task sequence)
    and the spare numbers; under `<team>#seq#<node>`, the sequence's network (numbers.py)."""

    class Meta:
        short_name = "ones-counters"

    team_uuid = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)
    value = NumberAttribute(default=0)
    to_do = NumberAttribute(default=0)
    in_progress = NumberAttribute(default=0)
    done = NumberAttribute(default=0)
    stamp = NumberAttribute(default=0)


@table
class ActivityModel(Model):
    """One change of one task: who changed which fields from what to what, and when."""

    class Meta:
        short_name = "ones-activities"

    task_uuid = UnicodeAttribute(hash_key=True)
    stamp = NumberAttribute(range_key=True)  # the task's server_update_stamp after the change
    team_uuid = UnicodeAttribute()
    user_uuid = UnicodeAttribute()
    action = UnicodeAttribute()
    changes = UnicodeAttribute(default="[]")  # JSON [{"field", "old", "new"}]


@table
class CatalogModel(Model):
    """A team's configuration: the team, projects, issue types, statuses, transitions,
    priorities, fields and sprints, each one item `<kind>#<uuid>` under the team."""

    class Meta:
        short_name = "ones-catalog"

    team_uuid = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    data = UnicodeAttribute()  # JSON of the workspace item
