"""PynamoDB models of CodeArts Check tasks. Only this package's use-case modules touch them.

A task is read by its id alone (most of the SDK's paths name only the task), and listed by
its CodeArts project newest first through a keys-only index: a page skips the keys before
it (small, about 12,000 to a 1 MB Query) and reads its own rows with one BatchGetItem. The
project's task count is an item of its own, changed in the transaction that makes or
deletes a task, so the list's `total` is one read.
"""

from __future__ import annotations

from pynamodb.attributes import JSONAttribute, ListAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..core.resources import table


class TasksOfProject(GlobalSecondaryIndex):
    """A CodeArts project's tasks by creation time (ms)."""

    class Meta:
        index_name = "by_project"
        projection = KeysOnlyProjection()

    project = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


@table
class CheckTaskModel(Model):
    """One CodeArts task: what the client gave and where it lives on the scan engine (the
    repository and project of owner `codearts:<project>`, the scheme made for it)."""

    class Meta:
        short_name = "codearts-tasks"

    task_id = UnicodeAttribute(hash_key=True)  # 32 hex
    project = UnicodeAttribute()  # the CodeArts project (a namespace of face codearts)
    created_at = NumberAttribute()  # ms
    name = UnicodeAttribute()
    creator_id = UnicodeAttribute()
    git_url = UnicodeAttribute()  # canonical, as the repository is registered
    git_branch = UnicodeAttribute()
    languages = ListAttribute(of=UnicodeAttribute, default=list)
    check_type = ListAttribute(of=UnicodeAttribute, default=list)
    task_type = UnicodeAttribute(default="full")  # full | inc
    rule_sets = JSONAttribute(default=list)  # as given: kept, not applied
    repo_id = NumberAttribute()
    scan_project = NumberAttribute()
    scheme_id = NumberAttribute()
    last_exec = NumberAttribute(null=True)  # the job of the last run asked for
    last_check_time = NumberAttribute(null=True)  # ms: when it was asked for
    by_project = TasksOfProject()


@table
class ProjectTasksModel(Model):
    """A CodeArts project's task count, kept by the writes that make and delete tasks."""

    class Meta:
        short_name = "codearts-projects"

    project = UnicodeAttribute(hash_key=True)
    task_count = NumberAttribute(default=0)
