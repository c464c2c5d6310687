"""ONES task trees: a team's tasks, newest first, one page of the face's own list, drawn as
parents with their sub-tasks.

The page is one `workitems.queries.list_tasks` page (the caller sees only the projects they
may view) and the team's catalog for names. A sub-task whose parent is on another page is
shown at the top level, saying whose sub-task it is.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..core.auth import Principal
from ..core.validation import validate
from ..workitems import catalog, queries
from ..workitems import validation as v
from .html import crumbs, esc, link, url

PAGE = 50
CATEGORY_STATUS = {"to_do": "init", "in_progress": "running", "done": "success"}


def _item(
    task: dict[str, Any], names: dict[str, dict], children: dict[str, list], note: str = ""
) -> str:
    status = names["statuses"].get(task["status_uuid"], {}).get("name", task["status_category"])
    kind = names["issue_types"].get(task["issue_type_uuid"], {}).get("name", "")
    project = names["projects"].get(task["project_uuid"], {}).get("name", task["project_uuid"])
    total, done = task["subtask_count"]
    counts = f' <span class="muted">{done}/{total} sub-tasks done</span>' if total else ""
    head = (
        f'<li class="task" data-uuid="{esc(task["uuid"])}" data-parent="{esc(task["parent_uuid"])}">'
        f'<span class="muted">#{esc(task["number"])}</span> {esc(task["summary"])}{note} '
        f'<span class="badge s-{CATEGORY_STATUS.get(task["status_category"], "init")}">'
        f"{esc(status)}</span> "
        f'<span class="muted">{esc(kind)} · {esc(project)} · {esc(task["assign"])}</span>{counts}'
    )
    kids = children.get(task["uuid"], [])
    inner = "".join(_item(k, names, children) for k in kids)
    return head + (f'<ul class="tree">{inner}</ul>' if inner else "") + "</li>"


def tree_page(principal: Principal, team: str, query: dict[str, str]) -> tuple[str, str]:
    cursor = query.get("cursor") or None
    page = queries.list_tasks(
        principal, team, validate(v.ListQuery, {"limit": PAGE, "cursor": cursor})
    )
    found = catalog.load(team)
    names = {
        "statuses": found.statuses if found else {},
        "issue_types": found.issue_types if found else {},
        "projects": found.projects if found else {},
    }
    tasks = page["tasks"]
    shown = {t["uuid"] for t in tasks}
    children: dict[str, list] = defaultdict(list)
    roots = []
    for task in sorted(tasks, key=lambda t: (int(t.get("position") or 0), int(t["number"]))):
        parent = task["parent_uuid"]
        if parent and parent in shown:
            children[parent].append(task)
        else:
            roots.append(task)
    roots.sort(key=lambda t: -int(t["number"]))
    items = []
    for task in roots:
        parent = task["parent_uuid"]
        note = f' <span class="muted">(sub-task of {esc(parent)})</span>' if parent else ""
        items.append(_item(task, names, children, note))
    team_name = ((found.team or {}).get("name") if found else None) or team
    body = crumbs((url(), "home"), f"ONES {team_name}")
    body += f"<h1>ONES team {esc(team_name)}: task trees</h1>"
    body += (
        f'<ul class="tree top">{"".join(items)}</ul>' if items else '<p class="muted">No tasks.</p>'
    )
    pager = []
    if cursor:
        pager.append(link(url("ones", team), "newest"))
    if page["cursor"]:
        pager.append(link(url("ones", team, cursor=page["cursor"]), "older tasks →"))
    if pager:
        body += '<p class="pager">' + " · ".join(pager) + "</p>"
    return f"ONES {team_name}", body
