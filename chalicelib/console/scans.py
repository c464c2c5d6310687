"""Scan pages for TCA teams and CodeArts projects alike (one scan engine serves both):
repositories, their projects, a project's scans with the trend of open issues, and a scan
with its lines by language, issues by severity and tools.

Reads go through the scan engine's services (`scans.owners`, `repos`, `projects`,
`scanning`, `queries`); a scan's figures are the summaries the engine stored on its job,
so a scan page is a few key reads and one bounded Query, whatever the project's size.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from ..core.errors import NotFound
from ..core.face import FaceRequest
from ..scans import owners, projects, queries, repos, scanning
from . import READ
from .charts import SEVERITY_COLOURS, bars, trend
from .html import badge, crumbs, esc, link, table, url

LIST = 50  # repositories or projects per page
SCANS = 20  # scans per page, and in a trend
STATES = {0: "waiting", 1: "running", 2: "closed", 3: "storing"}
SEVERITIES = {"1": "fatal", "2": "error", "3": "warning", "4": "info"}


@dataclass(frozen=True)
class Place:
    """Whose scans: a TCA team or a CodeArts project, and where its pages are."""

    face: str
    ns_id: str
    parts: tuple[str, ...]
    title: str


def tca(org: str, team: str) -> Place:
    return Place("tca", owners.team_id(org, team), ("tca", org, team), f"TCA {org}/{team}")


def codearts(ns: str) -> Place:
    return Place("codearts", ns, ("codearts", ns), f"CodeArts {ns}")


def number(value: str, what: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise NotFound(f"{what} {value} not found")
    return int(value)


def _owner(request: FaceRequest, place: Place):
    return owners.require(request.principal, place.face, place.ns_id, READ[place.face])


def _when(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%Y-%m-%d %H:%M")


def _offset(request: FaceRequest) -> int:
    return request.integer("offset", 0, 0, 100_000)


def _pager(base: tuple[Any, ...], offset: int, shown: int, count: int) -> str:
    links = []
    if offset:
        links.append(link(url(*base, offset=max(0, offset - LIST) or None), "← newer"))
    if offset + shown < count:
        links.append(link(url(*base, offset=offset + LIST), "older →"))
    return '<p class="pager">' + " · ".join(links) + "</p>" if links else ""


def repos_page(request: FaceRequest, place: Place) -> tuple[str, str]:
    owner = _owner(request, place)
    offset = _offset(request)
    found = repos.listing(owner, None, offset, LIST)
    rows = [
        [
            link(url(*place.parts, r.repo_id), r.name),
            esc(r.scm_url),
            esc(r.project_count),
            esc(r.job_count),
            esc(_when((r.recent or {}).get("scan_time"))),
        ]
        for r in found.rows
    ]
    body = crumbs((url(), "home"), place.title) + f"<h1>{esc(place.title)}: repositories</h1>"
    body += (
        table(("repository", "url", "projects", "scans", "last scan"), rows, (2, 3))
        if rows
        else '<p class="muted">No repositories yet.</p>'
    )
    body += _pager(place.parts, offset, len(rows), found.count)
    return place.title, body


def _repo(request: FaceRequest, place: Place, repo: str):
    return repos.get(_owner(request, place), number(repo, "repository"))


def _lint(job_or_latest: Any) -> dict[str, Any]:
    summary = job_or_latest if isinstance(job_or_latest, dict) else job_or_latest.summary
    return (summary or {}).get("lint") or {}


def projects_page(request: FaceRequest, place: Place, repo: str) -> tuple[str, str]:
    item = _repo(request, place, repo)
    offset = _offset(request)
    found = projects.listing(item.repo_id, offset, LIST)
    base = (*place.parts, item.repo_id)
    rows = [
        [
            link(url(*base, p.project_id), p.name or f"{p.branch} #{p.project_id}"),
            esc(p.branch),
            esc(p.scheme_id),
            esc(p.job_count),
            esc(_lint(p.latest or {}).get("active_issue_num", "")),
            esc(_when(p.last_scan_time)),
        ]
        for p in found.rows
    ]
    body = crumbs((url(), "home"), (url(*place.parts), place.title), item.name)
    body += f'<h1>{esc(item.name)}: projects</h1><p class="muted">{esc(item.scm_url)}</p>'
    body += (
        table(("project", "branch", "scheme", "scans", "open issues", "last scan"), rows, (3, 4))
        if rows
        else '<p class="muted">No projects yet.</p>'
    )
    body += _pager(base, offset, len(rows), found.count)
    return item.name, body


def _project(request: FaceRequest, place: Place, repo: str, project: str):
    item = _repo(request, place, repo)
    return item, projects.get(item.repo_id, number(project, "project"))


def _outcome(item: Any) -> str:
    """A job's or a tool's state: waiting, running or storing, then success or fail (TCA's
    result codes below 100 are successes)."""
    if item.result_code is None:
        return STATES.get(item.state, str(item.state))
    return "success" if item.result_code < 100 else "fail"


def _result(job: Any) -> str:
    said = job.result_msg if job.result_msg and job.result_msg != "success" else ""
    note = f' <span class="muted">{esc(said)}</span>' if said else ""
    return badge(_outcome(job)) + note


def _trend(jobs: list[Any]) -> str:
    """Open issues after each closed scan that linted, oldest first."""
    points = [
        (f"#{j.job_id}", int(_lint(j)["active_issue_num"]))
        for j in reversed(jobs)
        if "active_issue_num" in _lint(j)
    ]
    return trend(points, label="Open issues across scans")


def scans_page(request: FaceRequest, place: Place, repo: str, project: str) -> tuple[str, str]:
    item, proj = _project(request, place, repo, project)
    jobs, more = queries.recent_jobs(proj, SCANS, request.query.get("cursor") or None)
    base = (*place.parts, item.repo_id, proj.project_id)
    rows = [
        [
            link(url(*base, j.job_id), f"#{j.job_id}"),
            _result(j),
            esc(_when(j.create_time)),
            esc((j.revision or "")[:10]),
            f"{j.code_line_num:,}",
            esc(_lint(j).get("active_issue_num", "")),
            esc(_lint(j).get("issue_open_num", "")),
            esc(_lint(j).get("issue_fix_num", "")),
        ]
        for j in jobs
    ]
    name = proj.name or f"{proj.branch} #{proj.project_id}"
    body = crumbs(
        (url(), "home"),
        (url(*place.parts), place.title),
        (url(*place.parts, item.repo_id), item.name),
        name,
    )
    body += f"<h1>{esc(name)}: scans</h1>"
    body += f'<p class="muted">branch {esc(proj.branch)} of {esc(item.scm_url)}</p>'
    body += f'<div class="chart"><h2>Open issues, newest {len(jobs)} scans</h2>{_trend(jobs)}</div>'
    head = ("scan", "result", "created", "revision", "code lines", "open", "new", "fixed")
    body += table(head, rows, (4, 5, 6, 7)) if rows else '<p class="muted">No scans yet.</p>'
    if more:
        body += f'<p class="pager">{link(url(*base, cursor=more), "older scans →")}</p>'
    return name, body


def scan_page(
    request: FaceRequest, place: Place, repo: str, project: str, job_id: str
) -> tuple[str, str]:
    item, proj = _project(request, place, repo, project)
    job = scanning.get_job(proj, number(job_id, "scan"))
    tasks = queries.tasks(job)
    recent, _ = queries.recent_jobs(proj, SCANS)
    summary = job.summary or {}
    cloc = summary.get("cloc") or {}
    languages = sorted(
        ((name, int(v.get("code", 0))) for name, v in (cloc.get("languages") or {}).items()),
        key=lambda kv: (-kv[1], kv[0]),
    )
    lint = summary.get("lint") or {}
    severity = lint.get("active_severity_detail") or {}
    by_severity = [(code, int(severity.get(code, 0))) for code in SEVERITIES]
    name = proj.name or f"{proj.branch} #{proj.project_id}"
    base = (*place.parts, item.repo_id, proj.project_id)
    body = crumbs(
        (url(), "home"),
        (url(*place.parts), place.title),
        (url(*place.parts, item.repo_id), item.name),
        (url(*base), name),
        f"scan #{job.job_id}",
    )
    body += f"<h1>Scan #{esc(job.job_id)} of {esc(name)}</h1>"
    body += f"<p>{_result(job)} · created {esc(_when(job.create_time))}"
    body += f" · revision {esc((job.revision or '')[:12])}"
    body += f" · {'incremental' if job.incremental else 'full'}</p>"
    body += '<div class="cards">'
    for label, value in (
        ("code lines", job.code_line_num),
        ("comment lines", job.comment_line_num),
        ("files", cloc.get("files", job.file_count or 0)),
        ("open issues", lint.get("active_issue_num", "–")),
        ("new", lint.get("issue_open_num", "–")),
        ("fixed", lint.get("issue_fix_num", "–")),
    ):
        shown = f"{value:,}" if isinstance(value, int) else esc(value)
        body += f'<div class="card">{esc(label)}<b>{shown}</b></div>'
    body += '</div><div class="charts">'
    body += '<div class="chart"><h2>Lines of code by language</h2>'
    body += bars(languages, label="Lines by language", kind="languages") + "</div>"
    body += '<div class="chart"><h2>Open issues by severity</h2>'
    body += (
        bars(
            by_severity,
            label="Issues by severity",
            kind="severity",
            colours=SEVERITY_COLOURS,
            names=SEVERITIES,
        )
        + "</div>"
    )
    body += f'<div class="chart"><h2>Open issues across scans</h2>{_trend(recent)}</div></div>'
    rows = [
        [
            esc(t.task_name),
            esc(t.module),
            badge(_outcome(t)),
            esc(t.result_msg),
            esc((t.summary or {}).get("issue_count", "")),
        ]
        for t in tasks
    ]
    body += "<h2>Tools</h2>" + table(
        ("tool", "module", "result", "message", "findings"), rows, (4,)
    )
    return f"scan #{job.job_id}", body
