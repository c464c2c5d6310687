"""PynamoDB models of the JOBX domain (seed 002), read and written by the domain's modules
(catalog, runs, transitions, reports, inventory, the engine), never by api.py.

Tables: nodes (inventory per project), groups, jobs, names (unique-name claims), tasks (the
state machine of a run), subtasks (one per started batch), results (one per node and step),
oplog (operation log per project), stats (per-project counters kept on write) and counters
(per-project id sequences).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..core.resources import table


@table
class NodeModel(Model):
    """A machine of a project's inventory; Query by project returns it in name order."""

    class Meta:
        short_name = "jobx-nodes"

    project = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute(range_key=True)
    address = UnicodeAttribute(default="")
    labels = JSONAttribute(default=dict)
    executor = UnicodeAttribute(default="local")
    instance_id = UnicodeAttribute(null=True)


@table
class NameModel(Model):
    """A unique-name claim (`group:<project>:<name>` -> id), written in the same transaction
    as the thing it names, so two writers can never save the same name twice. A task's
    subtask key claims `subtask:<key>` -> the task's uuid: subtask uuids are that key and
    the batch, so one GetItem turns a subtask uuid back into its task."""

    class Meta:
        short_name = "jobx-names"

    key = UnicodeAttribute(hash_key=True)
    target = UnicodeAttribute()


@table
class CounterModel(Model):
    """A project's id sequences (JOBX's auto-increment ids), one item per project. Each id
    is taken with one atomic ADD, so two writers never get the same one; an id taken by a
    write that then fails is skipped, as MySQL's auto-increment skips it."""

    class Meta:
        short_name = "jobx-counters"

    project = UnicodeAttribute(hash_key=True)
    group = NumberAttribute(null=True)
    task = NumberAttribute(null=True)
    subtask = NumberAttribute(null=True)


GROUP_ID_WIDTH = 12


@table
class GroupModel(Model):
    """`id` is the group's number zero-padded to `GROUP_ID_WIDTH` digits, so a Query by
    project comes in id order; the wire shows it without the padding."""

    class Meta:
        short_name = "jobx-groups"

    project = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    group_uuid = UnicodeAttribute(null=True)  # names the saved node/percent; new at every edit
    name = UnicodeAttribute()
    note = UnicodeAttribute(default="")
    group_type = UnicodeAttribute()
    node = UnicodeAttribute(default="")
    percent = UnicodeAttribute(default="")
    create_user = UnicodeAttribute(default="")
    create_time = NumberAttribute(default=0)
    edit_user = UnicodeAttribute(default="")
    edit_time = NumberAttribute(default=0)
    version = NumberAttribute(default=1)


@table
class JobModel(Model):
    class Meta:
        short_name = "jobx-jobs"

    project = UnicodeAttribute(hash_key=True)
    uuid = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    note = UnicodeAttribute(default="")
    steps = JSONAttribute(default=list)
    variable = JSONAttribute(default=dict)
    create_user = UnicodeAttribute(default="")
    create_time = NumberAttribute(default=0)
    edit_user = UnicodeAttribute(default="")
    edit_time = NumberAttribute(default=0)
    version = NumberAttribute(default=1)


class TaskByProject(GlobalSecondaryIndex):
    """Tasks of a project by start time: the task list, `last` analysis and filters."""

    class Meta:
        index_name = "by_project"
        projection = AllProjection()

    project = UnicodeAttribute(hash_key=True)
    start_key = UnicodeAttribute(range_key=True)


class TaskByDeadline(GlobalSecondaryIndex):
    """Sparse: only tasks that still need attention carry `watch`; the reaper queries it
    (keys only: it reads each task it acts on anyway)."""

    class Meta:
        index_name = "by_deadline"
        projection = KeysOnlyProjection()

    watch = UnicodeAttribute(hash_key=True)
    deadline = NumberAttribute(range_key=True)


@table
class TaskModel(Model):
    """One run of a job over a group. The cursor (batch, step, seq, phase) is the state
    machine; every SQS message names the `seq` it was sent for, and only the message whose
    seq matches may move the cursor (a conditional write), so duplicates change nothing."""

    class Meta:
        short_name = "jobx-tasks"

    uuid = UnicodeAttribute(hash_key=True)  # 11 letters or digits, then a-z (A-Z: a rollback)
    project = UnicodeAttribute()
    number = NumberAttribute(null=True)  # JOBX's `id`: the project's task sequence
    start_key = UnicodeAttribute()
    name = UnicodeAttribute()  # the job's name
    jobuuid = UnicodeAttribute(default="")
    group = UnicodeAttribute(default="")
    user = UnicodeAttribute(default="")
    calltype = UnicodeAttribute(default="page")
    kind = UnicodeAttribute(default="deployonly")  # deploy | deployonly | rollback
    parent = UnicodeAttribute(null=True)
    variable = JSONAttribute(default=dict)  # what the steps see: the job's defaults and `given`
    given = JSONAttribute(null=True)  # the variables the caller gave (JOBX's `variable`)
    batch_count = NumberAttribute(default=0)
    sub_key = UnicodeAttribute(null=True)  # its subtasks' uuids start with it (claimed)
    subtask_base = NumberAttribute(null=True)  # JOBX's subtask `id` of batch 0 (a sequence)
    node_total = NumberAttribute(default=0)
    max_fail = UnicodeAttribute(default="")
    batch_mode = UnicodeAttribute(default="stop")  # stop | continue | confirm
    status = UnicodeAttribute(default="init")
    reason = UnicodeAttribute(default="")
    starttime = NumberAttribute()  # ms
    finishtime = NumberAttribute(default=0)
    month = UnicodeAttribute()  # counters this task belongs to (start month/day/hour)
    day = UnicodeAttribute()
    hour = UnicodeAttribute()
    # the cursor
    batch = NumberAttribute(default=0)
    step = NumberAttribute(default=0)
    seq = NumberAttribute(default=0)
    phase = UnicodeAttribute(
        default="run"
    )  # run | wait_confirm | pause | approval | wait_next | done
    lease_token = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(default=0)
    lease_boot = NumberAttribute(null=True)  # local stage: start of the server holding the lease
    started = NumberAttribute(default=0)  # batches started so far (progress)
    tries = NumberAttribute(default=0)  # claims of the current cursor (a crash leaves one)
    failed = NumberAttribute(default=0)  # failed nodes so far
    ignored = NumberAttribute(default=0)  # failed batches confirmed past
    stop = BooleanAttribute(default=False)
    # rollback decision
    rollback_version = UnicodeAttribute(null=True)
    decision = UnicodeAttribute(default="")  # "" | wait | rollback | norollback | expired
    rollback_task = UnicodeAttribute(null=True)
    rollback_name = UnicodeAttribute(null=True)  # the name JOBX's norollback row shows
    callbacks = ListAttribute(of=UnicodeAttribute, null=True)  # webhook URLs told of its end
    # attention index
    watch = UnicodeAttribute(null=True)
    deadline = NumberAttribute(null=True)
    by_project = TaskByProject()
    by_deadline = TaskByDeadline()


@table
class PlanModel(Model):
    """What a task runs, fixed when it starts: the job's steps, the batches and how each node
    is reached. Kept apart from the task so the task item, updated at every move, stays small;
    written once, it is cached by the workers."""

    class Meta:
        short_name = "jobx-plans"

    uuid = UnicodeAttribute(hash_key=True)
    steps = JSONAttribute(default=list)
    batches = JSONAttribute(default=list)
    nodes = JSONAttribute(default=dict)  # name -> [executor, address, instance_id]


@table
class SubtaskModel(Model):
    """A batch that has started. Batches not started yet have no item: their status is
    `init` while the task runs and `cancel` once it has ended, so stop writes O(1) items."""

    class Meta:
        short_name = "jobx-subtasks"

    task = UnicodeAttribute(hash_key=True)
    batch = NumberAttribute(range_key=True)
    nodes = ListAttribute(of=UnicodeAttribute, default=list)
    status = UnicodeAttribute(default="running")
    confirm = UnicodeAttribute(default="")
    step = NumberAttribute(default=0)
    attempt = NumberAttribute(default=1)
    failed_nodes = ListAttribute(of=UnicodeAttribute, default=list)  # of this attempt
    attempt_nodes = ListAttribute(of=UnicodeAttribute, null=True)  # a retry of failed nodes
    starttime = NumberAttribute(default=0)
    finishtime = NumberAttribute(default=0)
    dispatched = NumberAttribute(null=True)  # ms: when the current step's nodes were sent


@table
class ResultModel(Model):
    """One node's result of one step of one batch in one attempt (see results.py), or the
    step's control row (node `~`)."""

    class Meta:
        short_name = "jobx-results"

    key = UnicodeAttribute(hash_key=True)  # <task>#<batch>
    rk = UnicodeAttribute(range_key=True)  # <attempt:03d>#<step:03d>#<node>
    node = UnicodeAttribute()
    step = NumberAttribute()
    attempt = NumberAttribute(default=1)
    status = UnicodeAttribute()  # queued | running | success | fail
    exit_code = NumberAttribute(null=True)
    error = UnicodeAttribute(default="")
    starttime = NumberAttribute(default=0)
    duration_ms = NumberAttribute(default=0)
    output_key = UnicodeAttribute(null=True)
    output_size = NumberAttribute(default=0)
    tail = UnicodeAttribute(default="")
    executor = UnicodeAttribute(default="local")
    runner = UnicodeAttribute(null=True)  # who runs it: local:<server start> | lambda:<request>
    token = UnicodeAttribute(null=True)  # the runner's claim; only it may record the outcome
    deadline = NumberAttribute(null=True)  # ms: past it, an open row's runner is taken as lost
    command_id = UnicodeAttribute(null=True)  # ssm
    instance_id = UnicodeAttribute(null=True)  # ssm
    cancel = BooleanAttribute(null=True)  # the control row: the step was stopped


@table
class OpLogModel(Model):
    class Meta:
        short_name = "jobx-oplog"

    project = UnicodeAttribute(hash_key=True)
    at = UnicodeAttribute(range_key=True)  # <time_us:016d>#<rand>
    time = NumberAttribute()
    user = UnicodeAttribute()
    action = UnicodeAttribute()
    target = UnicodeAttribute(default="")
    detail = UnicodeAttribute(default="")


HOURS = tuple(f"h{h:02d}" for h in range(24))
RUNTIME_BUCKETS = (
    ("0-1", "r0_1", 60),
    ("1-3", "r1_3", 180),
    ("3-5", "r3_5", 300),
    ("5-10", "r5_10", 600),
    ("10-30", "r10_30", 1800),
    ("30+", "r30p", None),
)
STATUSES = ("init", "running", "success", "fail", "refuse")


class _StatsBase(Model):
    class Meta:
        short_name = "jobx-stats"

    project = UnicodeAttribute(hash_key=True)
    key = UnicodeAttribute(range_key=True)  # m#YYYY-MM (statuses) | d#YYYY-MM-DD (day)
    total = NumberAttribute(null=True)
    success = NumberAttribute(null=True)
    finished = NumberAttribute(null=True)


def _stats_attributes() -> dict:
    attrs: dict = {f"c_{s}": NumberAttribute(null=True) for s in STATUSES}
    attrs.update({h: NumberAttribute(null=True) for h in HOURS})
    attrs.update({name: NumberAttribute(null=True) for _, name, _ in RUNTIME_BUCKETS})
    return attrs


# Per-project counters updated atomically (ADD) in the same transaction as the task change.
StatsModel = table(
    type(
        "StatsModel",
        (_StatsBase,),
        {"__module__": __name__, "Meta": _StatsBase.Meta, **_stats_attributes()},
    )
)
