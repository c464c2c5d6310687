"""The task model of seed 001 as ONES renders it (µs stamps, deadline in seconds)."""

from __future__ import annotations

import json
from typing import Any

from . import fields as fieldlib
from .catalog import issue_type_scope_uuid
from .models import TaskModel


def custom_values(task: TaskModel) -> dict[str, dict]:
    return json.loads(task.custom_values or "{}")


def task_attrs(task: TaskModel) -> dict[str, Any]:
    return {
        "uuid": task.uuid,
        "owner": task.owner,
        "assign": task.assign,
        "summary": task.summary,
        "project_uuid": task.project_uuid,
        "issue_type_uuid": task.issue_type_uuid,
        "sub_issue_type_uuid": task.sub_issue_type_uuid or "",
        "status_uuid": task.status_uuid,
        "sprint_uuid": task.sprint_uuid,
        "priority": task.priority,
        "deadline": task.deadline,
        "parent_uuid": task.parent_uuid or "",
        "desc_rich": task.desc_rich or "",
        "watchers": list(task.watchers or []),
        "create_time": task.create_time,
        "number": task.number,
    }


def brief(task: TaskModel, readable: bool = True) -> dict[str, Any]:
    """A related task or subtask; one the caller may not view shows no summary."""
    return {
        "uuid": task.uuid,
        "number": int(task.number),
        "summary": task.summary if readable else "",
        "owner": task.owner,
        "assign": task.assign,
        "project_uuid": task.project_uuid,
        "issue_type_uuid": task.issue_type_uuid,
        "sub_issue_type_uuid": task.sub_issue_type_uuid or "",
        "status_uuid": task.status_uuid,
        "status": 1,
        "readable": readable,
    }


def view(
    task: TaskModel,
    *,
    related: list[dict] | None = None,
    links: list[dict] | None = None,
    subtasks: list[dict] | None = None,
) -> dict[str, Any]:
    """The task model of seed 001, with its documented units (µs stamps, deadline in s)."""
    attrs = task_attrs(task)
    out = {
        **{k: attrs[k] for k in ("uuid", "owner", "assign")},
        "tags": "",
        "sprint_uuid": task.sprint_uuid,
        "project_uuid": task.project_uuid,
        "issue_type_scope_uuid": issue_type_scope_uuid(task.project_uuid, task.issue_type_uuid),
        "issue_type_uuid": task.issue_type_uuid,
        "sub_issue_type_uuid": task.sub_issue_type_uuid or "",
        "status_uuid": task.status_uuid,
        "status_category": task.status_category,
        "create_time": task.create_time,
        "deadline": task.deadline,
        "status": 1,
        "summary": task.summary,
        "desc": task.desc or "",
        "desc_rich": task.desc_rich or "",
        "parent_uuid": task.parent_uuid or "",
        "position": int(task.position or 0),
        "number": task.number,
        "priority": task.priority,
        "assess_manhour": task.assess_manhour,
        "total_manhour": 0,
        "remaining_manhour": None,
        "estimate_variance": None,
        "time_progress": 0,
        "attribute": None,
        "watchers": list(task.watchers or []),
        "field_values": fieldlib.render(attrs, custom_values(task)),
        "update_time": task.update_time,
        "server_update_stamp": task.server_update_stamp,
        "related_tasks": related if related is not None else [],
        "links": links if links is not None else [],
        "subtasks": subtasks if subtasks is not None else [],
        "path": task.path,
        "code_commits": [],
        "related_task_count": [int(task.related_total), int(task.related_done)],
        "visible_subtask_count": int(task.subtask_total),
        "subtask_count": [int(task.subtask_total), int(task.subtask_done)],
        "discussion_count": 0,
        "attachment_count": 0,
        "related_cases": [],
        "related_plan_cases": [],
        "related_testcase_plans": [],
        "related_wiki_pages": [],
        "related_activities": [],
        "related_devops_commits": [],
        "manhours": [],
        "gantt": None,  # no time-view data is held
        "publish_version": None,
        "publish_content": [],
        "publish_content_done_count": 0,
        "publish_content_count": 0,
        "product_uuids": list(task.product_uuids) if task.product_uuids is not None else None,
        "SkipCheckFieldPermissions": False,
        "manhourStatisticMode": 0,
        "link_source_task": None,
    }
    for key in ("number", "create_time", "update_time", "server_update_stamp", "deadline"):
        if out[key] is not None:
            out[key] = int(out[key])
    return out
