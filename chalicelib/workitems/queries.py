"""Reads of the ONES face (seed 001): info, tasks/info, task_stats, the paged list and the
change history. Every read is a GetItem, a bounded batch or a Query of one key; none scans."""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..core import cursors
from ..core.auth import Principal
from ..core.counters import shard_keys
from ..core.errors import BadRequest, Forbidden, NotFound
from . import numbers
from . import validation as v
from .changes import STATS_SHARDS
from .context import NUMBER_RE, UUID_RE, Failure, Team, batch_get, children_of, links_of
from .errors import TaskMissing
from .models import ActivityModel, TaskModel, TeamCounterModel
from .views import brief, view

CATEGORIES = ("to_do", "in_progress", "done")
MAX_EXAMINED = 200  # tasks one list request reads at most when filters leave some out


def full_view(team: Team, task: TaskModel) -> dict[str, Any]:
    """Task with related tasks, links and subtasks: a few reads bounded by that task alone."""
    links = links_of(task.uuid) if task.related_total else []
    child_ids = children_of(task.uuid, team.uuid) if task.subtask_total else []
    others = batch_get([link.other_uuid for link in links] + child_ids)
    related = [
        brief(others[link.other_uuid], team.can(others[link.other_uuid].project_uuid, "view_tasks"))
        for link in links
        if link.other_uuid in others
    ]
    subtasks = [brief(others[c]) for c in child_ids if c in others]
    subtasks.sort(key=lambda t: t["number"])
    link_view = [
        {
            "task_uuid": link.other_uuid,
            "task_link_type_uuid": link.task_link_type_uuid,
            "link_desc_type": link.link_desc_type,
        }
        for link in links
    ]
    return view(task, related=related, links=link_view, subtasks=subtasks)


def task_info(principal: Principal, team_uuid: str, uuid_or_number: str) -> dict[str, Any]:
    team = Team(principal, team_uuid)
    uuid = uuid_or_number
    if NUMBER_RE.match(uuid_or_number):
        found = numbers.lookup(team.uuid, int(uuid_or_number))
        if found is None:
            raise NotFound(f"task number {uuid_or_number} not found")
        uuid = found
    task = team.visible(uuid)
    return full_view(team, task)


def tasks_info(
    principal: Principal, team_uuid: str, task_ids: list[str]
) -> tuple[list[dict], list[Failure]]:
    """Views of the tasks found, and a Failure for each id that is not."""
    team = Team(principal, team_uuid)
    tasks: list[dict] = []
    errors: list[Failure] = []
    if len(set(task_ids)) != len(task_ids):
        raise BadRequest("ids must not repeat")
    valid = [i for i in task_ids if UUID_RE.match(i)]
    found = batch_get(valid)
    for uuid in task_ids:
        task = found.get(uuid)
        if not UUID_RE.match(uuid):
            errors.append(Failure(uuid, BadRequest("uuid must be 16 characters")))
        elif (
            task is None
            or task.team_uuid != team.uuid
            or not team.can(task.project_uuid, "view_tasks")
        ):
            errors.append(Failure(uuid, TaskMissing("task not found")))
        else:
            tasks.append(full_view(team, task))
    return tasks, errors


def task_stats(principal: Principal, team_uuid: str) -> dict[str, Any]:
    """Counts per project and sprint, read from counters kept on write: one Query per shard
    of the team's stats rows (see changes.STATS_SHARDS), all at once, added up."""
    team = Team(principal, team_uuid)
    cat = team.catalog
    visible = sorted(team.projects())
    if not visible:
        raise Forbidden("not a member of any project of this team")
    counts: dict[str, Counter] = defaultdict(Counter)
    stamp = 0
    for rows in _readers.map(_shard_rows, shard_keys(team.uuid, STATS_SHARDS)):
        for c in rows:
            stamp = max(stamp, int(c.stamp or 0))
            for category in CATEGORIES:
                counts[c.name][category] += int(getattr(c, category) or 0)

    def row(key: str, name: str, uuid: str) -> dict[str, Any]:
        return {key: uuid, **{k: counts[name][k] for k in CATEGORIES}}

    sprints = sorted(s for s, d in cat.sprints.items() if d["project"] in visible)
    return {
        "task_count_by_project": [row("project_uuid", f"project#{p}", p) for p in visible],
        "task_count_by_sprint": [row("sprint_uuid", f"sprint#{s}", s) for s in sprints],
        "server_update_stamp": stamp,
    }


_readers = ThreadPoolExecutor(STATS_SHARDS, thread_name_prefix="ones-stats")  # threads on first use


def _shard_rows(key: str) -> list[TeamCounterModel]:
    return list(TeamCounterModel.query(key, consistent_read=True))


def list_tasks(principal: Principal, team_uuid: str, query: v.ListQuery) -> dict[str, Any]:
    """Newest first, one Query of the GSI of the most selective filter (the other filters
    narrow it). The Query reads `limit + 1` tasks when every task it reads is shown, else at
    most MAX_EXAMINED: a sparse filter ends the page early, with has_more and a cursor to go
    on from, instead of reading on without bound."""
    team = Team(principal, team_uuid)
    if query.project_uuid:
        if not team.sees_project(query.project_uuid):
            raise NotFound(f"project {query.project_uuid} not found")
        visible = {query.project_uuid}
    else:
        visible = team.projects()
        if not visible:
            raise Forbidden("not a member of any project of this team")
    # a caller who views one project lists it from its own index, as if they had named it
    project = query.project_uuid or (min(visible) if len(visible) == 1 else None)
    filters = {
        "sprint_uuid": ("by_sprint", "sprint_key", query.sprint_uuid),
        "assign": ("by_assign", "assign_key", query.assign),
        "project_uuid": ("by_project", "project_key", project),
        "status_category": ("by_category", "category_key", query.status_category),
    }
    chosen = next(((a, f) for a, f in filters.items() if f[2]), None)
    if chosen:
        attr, (index_name, key_attr, value) = chosen
        hash_value = f"{team.uuid}#{value}"
    else:
        attr, index_name, key_attr, hash_value = None, "by_team", "team_key", team.uuid
    condition = None
    for other, (_, _, value) in filters.items():
        if value and other != attr:
            term = getattr(TaskModel, other) == value
            condition = term if condition is None else condition & term
    # a cursor names the filters sent: one from another list would page from an unrelated place
    sent = (query.sprint_uuid, query.assign, query.project_uuid, query.status_category)
    query_tag = hashlib.sha256(json.dumps([team.uuid, *sent]).encode()).hexdigest()[:16]
    start = None
    if query.cursor:
        data = cursors.decode(query.cursor) or {}
        number = cursors.number(data, "n")
        if not isinstance(data.get("u"), str) or not UUID_RE.match(data["u"]):
            raise BadRequest("cursor is not valid")
        if data.get("q") != query_tag:
            raise BadRequest("cursor belongs to a list with other filters")
        start = {
            "uuid": {"S": data["u"]},
            key_attr: {"S": hash_value},
            "number": {"N": str(number)},
        }
    every_one_shown = condition is None and (
        project is not None or visible >= set(team.catalog.projects)
    )
    read, resume = _one_query(
        getattr(TaskModel, index_name),
        hash_value,
        condition,
        start,
        query.limit + 1 if every_one_shown else MAX_EXAMINED,
    )
    page: list[TaskModel] = []
    for task in read:
        if task.project_uuid not in visible:
            continue
        if len(page) == query.limit:
            resume = (int(page[-1].number), page[-1].uuid)  # more to show in what was read
            break
        page.append(task)
    cursor = cursors.encode({"n": resume[0], "u": resume[1], "q": query_tag}) if resume else None
    return {
        "tasks": [view(t) for t in page],
        "count": len(page),
        "cursor": cursor,
        "has_more": resume is not None,
    }


def _one_query(
    index: Any, hash_value: str, condition: Any, start: dict | None, examined: int
) -> tuple[list[TaskModel], tuple[int, str] | None]:
    """One Query call, newest first, evaluating at most `examined` tasks (DynamoDB may stop
    sooner at 1 MB): the tasks that pass `condition`, and the (number, uuid) of the last task
    evaluated when the index may hold more after it."""
    pages = index.query(
        hash_value,
        filter_condition=condition,
        scan_index_forward=False,
        last_evaluated_key=start,
        page_size=examined,
    ).page_iter
    page = next(pages)
    last = page.get("LastEvaluatedKey")
    read = [TaskModel.from_raw_data(item) for item in page.get("Items", [])]
    return read, (int(last["number"]["N"]), last["uuid"]["S"]) if last else None


def activities(
    principal: Principal, team_uuid: str, task_uuid: str, query: v.PageQuery
) -> dict[str, Any]:
    team = Team(principal, team_uuid)
    team.visible(task_uuid)
    start = None
    if query.cursor:
        stamp = cursors.number((cursors.decode(query.cursor) or {}), "s")
        start = {"task_uuid": {"S": task_uuid}, "stamp": {"N": str(stamp)}}
    out, more = [], False
    for item in ActivityModel.query(
        task_uuid, last_evaluated_key=start, page_size=query.limit + 1, consistent_read=True
    ):
        if len(out) == query.limit:
            more = True
            break
        out.append(
            {
                "task_uuid": item.task_uuid,
                "user_uuid": item.user_uuid,
                "action": item.action,
                "time": int(item.stamp),
                "changes": json.loads(item.changes),
            }
        )
    cursor = cursors.encode({"s": out[-1]["time"]}) if more else None
    return {"activities": out, "cursor": cursor, "has_more": more}
