"""PynamoDB models of the scan domain, read and written by its use-case modules and the
engine, never by a face.

Keys follow the paths: a repository is read under its owner, a project under its
repository, a job under its project, so lists are Queries and reads are consistent.

A code repository has projects (a branch and a scan scheme); a project has scan jobs; a
job has one task per tool, and a task over many files has shards, each its own SQS
message. Ids are numeric sequences, as TCA's are. Reports (finding lists, per-file counts)
live in S3 under `scans/`; DynamoDB keeps summaries and the issue index.

Owners: a repository belongs to one namespace, `<face>:<namespace id>` (a TCA team is
`tca:<org>/<team>`); a scheme belongs to a repository (`repo:<id>`) or is an organisation's
template (`org:<face>:<namespace id>`).
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    NumberSetAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..core.resources import table


@table
class CounterModel(Model):
    """The domain's id sequences, one attribute per kind of id (see core.sequences)."""

    class Meta:
        short_name = "scan-counters"

    key = UnicodeAttribute(hash_key=True)
    repo = NumberAttribute(null=True)
    scheme = NumberAttribute(null=True)
    project = NumberAttribute(null=True)
    job = NumberAttribute(null=True)
    scan = NumberAttribute(null=True)
    task = NumberAttribute(null=True)
    issue = NumberAttribute(null=True)


@table
class ClaimModel(Model):
    """A unique claim (`repo:<owner>:<url digest>` -> repo id, `scan:<project>:<key>` -> the
    job a client's idempotency key made), written in the same transaction as what it names,
    so two writers can never make the same thing twice. A repository's claim lives as long as
    the repository; an idempotency key's expires (`expires_at`, DynamoDB's TTL, which deletes
    the item within a day or two of it: readers take a claim past it as absent)."""

    class Meta:
        short_name = "scan-claims"

    key = UnicodeAttribute(hash_key=True)
    target = UnicodeAttribute()
    expires_at = TTLAttribute(null=True)


@table
class RepoModel(Model):
    class Meta:
        short_name = "scan-repos"

    owner = UnicodeAttribute(hash_key=True)
    repo_id = NumberAttribute(range_key=True)
    name = UnicodeAttribute()
    scm_url = UnicodeAttribute()
    scm_type = UnicodeAttribute(default="git")
    ssh_url = UnicodeAttribute(null=True)
    created_from = UnicodeAttribute(default="api")
    creator = UnicodeAttribute(default="")
    created_time = NumberAttribute()  # ms
    labels = ListAttribute(of=UnicodeAttribute, default=list)
    auth_type = UnicodeAttribute(null=True)  # password | token, or none
    scm_username = UnicodeAttribute(null=True)
    scm_secret = UnicodeAttribute(null=True)  # encrypted (core.crypto), never answered
    scheme_count = NumberAttribute(default=0)
    project_count = NumberAttribute(default=0)
    job_count = NumberAttribute(default=0)
    recent = JSONAttribute(null=True)  # the last scanned project: id, branch, time, lines


@table
class SchemeModel(Model):
    """A scan scheme: which tools run and their thresholds. TCA's basic, lint and metric
    configurations are one item; `metric` holds TCA's metricconf fields as given."""

    class Meta:
        short_name = "scan-schemes"

    owner = UnicodeAttribute(hash_key=True)
    scheme_id = NumberAttribute(range_key=True)
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    languages = ListAttribute(of=UnicodeAttribute, default=list)
    tag = UnicodeAttribute(null=True)
    status = NumberAttribute(default=1)  # 1 active, 2 deprecated
    default_flag = BooleanAttribute(default=False)
    refer_scheme = NumberAttribute(null=True)  # the template it was made from
    lint_enabled = BooleanAttribute(default=True)
    build_cmd = UnicodeAttribute(null=True)
    envs = UnicodeAttribute(null=True)
    pre_cmd = UnicodeAttribute(null=True)
    metric = JSONAttribute(default=dict)
    exclude = ListAttribute(of=UnicodeAttribute, default=list)  # path globs not scanned
    created_time = NumberAttribute()
    creator = UnicodeAttribute(default="")
    modified_time = NumberAttribute(null=True)
    version = NumberAttribute(default=1)


@table
class ProjectModel(Model):
    """A branch of a repository scanned with a scheme. `open_jobs` holds the ids of its
    jobs not yet closed (a new scan without force_create needs it empty, in the same
    transaction that adds the new job); `latest` holds the summaries of the last successful
    scan of each kind, which the overview answers in one read."""

    class Meta:
        short_name = "scan-projects"

    repo_id = NumberAttribute(hash_key=True)
    project_id = NumberAttribute(range_key=True)
    owner = UnicodeAttribute()
    branch = UnicodeAttribute()
    scheme_id = NumberAttribute()
    scan_path = UnicodeAttribute(null=True)
    status = NumberAttribute(default=1)  # 1 active, 2 inactive, 3 archived
    created_from = UnicodeAttribute(default="api")
    creator = UnicodeAttribute(default="")
    created_time = NumberAttribute()
    name = UnicodeAttribute(null=True)  # a CodeArts task's name
    open_jobs = NumberSetAttribute(null=True)
    job_count = NumberAttribute(default=0)
    lint_revision = UnicodeAttribute(null=True)  # of the last successful lint scan
    lint_tools = ListAttribute(of=UnicodeAttribute, null=True)  # the linters it ran
    initial_revision = UnicodeAttribute(null=True)
    last_job = NumberAttribute(null=True)
    last_scan_time = NumberAttribute(null=True)
    latest = JSONAttribute(default=dict)  # kind -> summary of the last successful scan
    store_lock = NumberAttribute(null=True)  # the job storing its results now
    store_until = NumberAttribute(null=True)


class JobByDeadline(GlobalSecondaryIndex):
    """Sparse: only unclosed jobs carry `watch` (a shard of the reaper's index); the reaper
    queries each shard for jobs whose next check is due."""

    class Meta:
        index_name = "by_deadline"
        projection = KeysOnlyProjection()

    watch = UnicodeAttribute(hash_key=True)
    deadline = NumberAttribute(range_key=True)


@table
class JobModel(Model):
    """One scan of a project. `phase` is the engine's cursor (init, run, store, done) under
    the TCA state the faces show (0 waiting, 1 running, 2 closed, 3 storing)."""

    class Meta:
        short_name = "scan-jobs"

    project_id = NumberAttribute(hash_key=True)
    job_id = NumberAttribute(range_key=True)
    repo_id = NumberAttribute()
    scan_id = NumberAttribute()
    state = NumberAttribute(default=0)
    phase = UnicodeAttribute(default="init")
    result_code = NumberAttribute(null=True)
    result_msg = UnicodeAttribute(null=True)
    remarks = UnicodeAttribute(null=True)
    remarked_by = UnicodeAttribute(null=True)
    created_from = UnicodeAttribute(default="api")
    creator = UnicodeAttribute(default="")
    create_time = NumberAttribute()  # ms
    start_time = NumberAttribute(null=True)
    end_time = NumberAttribute(null=True)
    expire_time = NumberAttribute(null=True)  # only when force-closed, as TCA writes it
    store_time = NumberAttribute(null=True)  # storing began (TCA's save_time runs from it)
    incr_scan = BooleanAttribute(default=True)  # asked for
    incremental = BooleanAttribute(null=True)  # what ran
    force_create = BooleanAttribute(default=False)
    revision = UnicodeAttribute(null=True)
    base_revision = UnicodeAttribute(null=True)
    note = UnicodeAttribute(null=True)  # said in result_msg (e.g. a fallback to full)
    task_num = NumberAttribute(default=0)
    task_done = NumberAttribute(default=0)
    done_tasks = NumberSetAttribute(null=True)  # counted once each
    task_ids = ListAttribute(of=NumberAttribute, default=list)
    file_count = NumberAttribute(null=True)
    code_line_num = NumberAttribute(default=0)
    comment_line_num = NumberAttribute(default=0)
    blank_line_num = NumberAttribute(default=0)
    total_line_num = NumberAttribute(default=0)
    summary = JSONAttribute(default=dict)  # kind -> what this scan found
    hooks = JSONAttribute(null=True)  # webhooks told of its end: face, namespace, urls, link
    lease_token = UnicodeAttribute(null=True)
    lease_until = NumberAttribute(default=0)
    beat = NumberAttribute(default=0)  # last progress (ms): the reaper's heartbeat
    redrives = NumberAttribute(default=0)
    hard_deadline = NumberAttribute(null=True)  # ms: past it, the job times out (297)
    watch = UnicodeAttribute(null=True)
    deadline = NumberAttribute(null=True)  # next reaper check (ms)
    by_deadline = JobByDeadline()


@table
class TaskModel(Model):
    """One tool's part of a job. Its shards' results are merged into one report; `done`
    holds the shard numbers counted, so a redelivered shard is counted once."""

    class Meta:
        short_name = "scan-tasks"

    job_id = NumberAttribute(hash_key=True)
    task_id = NumberAttribute(range_key=True)
    project_id = NumberAttribute()
    module = UnicodeAttribute()  # codelint | codemetric
    task_name = UnicodeAttribute()  # ruff, shellcheck, codecount, lizard, cpd
    params = JSONAttribute(default=dict)
    state = NumberAttribute(default=0)
    result_code = NumberAttribute(null=True)
    result_msg = UnicodeAttribute(null=True)
    start_time = NumberAttribute(null=True)
    end_time = NumberAttribute(null=True)
    shard_count = NumberAttribute(null=True)  # known once the job's files are planned
    done = NumberSetAttribute(null=True)
    done_count = NumberAttribute(default=0)
    summary = JSONAttribute(null=True)
    max_shard_ms = NumberAttribute(default=0)
    lease_token = UnicodeAttribute(null=True)  # the merge's claim
    lease_until = NumberAttribute(default=0)


@table
class ShardModel(Model):
    """A part of a task's files, run by one message. `attempt` counts claims: a claim is
    taken with a conditional write, so one delivery runs it at a time, and at most once per
    attempt."""

    class Meta:
        short_name = "scan-shards"

    task_key = UnicodeAttribute(hash_key=True)  # "<job>:<task>"
    shard = NumberAttribute(range_key=True)
    state = UnicodeAttribute(default="waiting")  # waiting | running | done | failed
    attempt = NumberAttribute(default=0)
    lease_until = NumberAttribute(default=0)
    file_count = NumberAttribute(default=0)
    ms = NumberAttribute(null=True)
    # DynamoDB's TTL: a week after the job's deadline, when nothing reads the shard again
    expires_at = TTLAttribute(null=True)


@table
class IssueModel(Model):
    """A lint issue of a project, keyed by the finding's fingerprint across scans: state 1
    active, 2 resolved, 3 closed; `scan_open` is the scan that found it (again),
    `scan_fix` the one that no longer did."""

    class Meta:
        short_name = "scan-issues"

    project_id = NumberAttribute(hash_key=True)
    issue_id = NumberAttribute(range_key=True)
    fingerprint = UnicodeAttribute()
    tool = UnicodeAttribute()
    rule = UnicodeAttribute()
    category = UnicodeAttribute(default="")
    severity = NumberAttribute()
    language = UnicodeAttribute(default="")
    file_path = UnicodeAttribute()
    line = NumberAttribute()
    column = NumberAttribute(default=1)
    msg = UnicodeAttribute()
    state = NumberAttribute(default=1)
    resolution = NumberAttribute(null=True)
    scan_open = NumberAttribute()
    scan_fix = NumberAttribute(null=True)
    revision = UnicodeAttribute(default="")
    ci_time = NumberAttribute()  # ms: when it was found
    fixed_time = NumberAttribute(null=True)
