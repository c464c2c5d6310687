"""TCA's analysis server (seed 003), under `/server/analysis/api/`: a project's overview,
lint issues and metric results.

Errors carry the analysis server's default code 100. In TCA these paths sit behind an
nginx check that answers 403 for a repository or project the caller cannot see, whether
or not it exists; so do these (in TCA's JSON error body rather than nginx's HTML page).
Metric lists read the report of the project's last successful scan of that kind, one S3
object; issues come from the issue index.
"""

from __future__ import annotations

from typing import Any

from ..core import lazy
from ..core.errors import BadRequest, Forbidden, NotFound
from ..core.face import FaceRequest
from ..core.paging import offset_page
from . import wire
from .api import number
from .wire import READ

# the domain, imported by the first request that uses it (core.lazy)
owners = lazy.module("chalicelib.scans.owners")
projects = lazy.module("chalicelib.scans.projects")
queries = lazy.module("chalicelib.scans.queries")
repos = lazy.module("chalicelib.scans.repos")
views = lazy.module(".views", __package__)

face = wire.make_face(__name__, "/server/analysis/api", default_code=100)

PROJECT = "/orgs/{org_sid}/teams/{team_name}/repos/{repo_id}/projects/{project_id}"


def _project(request: FaceRequest, org_sid: str, team_name: str, repo_id: str, project_id: str):
    try:
        owner = owners.require(
            request.principal, wire.FACE_TCA, owners.team_id(org_sid, team_name), READ
        )
        repo = repos.get(owner, number(repo_id))
        item = projects.get(repo.repo_id, number(project_id))
    except NotFound:
        raise Forbidden("permission denied") from None
    return owner, repo, item


@face.route(PROJECT + "/overview", methods=("GET",))
def overview(request: FaceRequest, org_sid, team_name, repo_id, project_id):
    """The latest successful lint, complexity, duplication and line-count scans (null for a
    kind never scanned successfully)."""
    _, _, item = _project(request, org_sid, team_name, repo_id, project_id)
    return views.overview(item)


def _issue_filter(request: FaceRequest):
    states = wire.comma_ints(request, "state")
    severities = wire.comma_ints(request, "severity")
    resolutions = wire.comma_ints(request, "resolution")
    packages = {p.strip() for p in request.query.get("checkpackage", "").split(",") if p.strip()}
    scan_open = wire.int_param(request, "scan_open")
    scan_fix = wire.int_param(request, "scan_fix")
    path = wire.contains(request, "file_path")
    rule = wire.contains(request, "checkrule_real_name")
    display = wire.contains(request, "checkrule_display_name")
    tool = wire.contains(request, "checktool_name")
    after = wire.time_param(request, "ci_time_gte")
    before = wire.time_param(request, "ci_time_lte")
    author = request.query.get("author", "").strip() or None
    given = (states, severities, resolutions, scan_open, scan_fix, path, rule, display, tool)
    if all(v is None for v in given) and not packages and after is before is author is None:
        return None

    def keep(issue) -> bool:
        return (
            (states is None or issue.state in states)
            and (severities is None or issue.severity in severities)
            and (resolutions is None or issue.resolution in resolutions)
            and (not packages or issue.category in packages)
            and (scan_open is None or issue.scan_open == scan_open)
            and (scan_fix is None or issue.scan_fix == scan_fix)
            and (path is None or path in issue.file_path.lower())
            and (rule is None or rule in issue.rule.lower())
            and (display is None or display in issue.rule.lower())
            and (tool is None or tool in issue.tool.lower())
            and (after is None or issue.ci_time >= after)
            and (before is None or issue.ci_time <= before)
            and author is None  # no blame here: no issue has an author
        )

    return keep


@face.route(PROJECT + "/codelint/issues", methods=("GET",))
def issues(request: FaceRequest, org_sid, team_name, repo_id, project_id):
    owner, repo, item = _project(request, org_sid, team_name, repo_id, project_id)
    offset, limit = wire.paging(request)
    found = queries.issues(item, offset, limit, _issue_filter(request))
    rows = [views.issue_row(i, owner, repo) for i in found.rows]
    return wire.page(request, found, offset, limit, rows)


@face.route(PROJECT + "/codelint/issues/{issue_id}", methods=("GET",))
def issue(request: FaceRequest, org_sid, team_name, repo_id, project_id, issue_id):
    owner, repo, item = _project(request, org_sid, team_name, repo_id, project_id)
    return views.issue_detail(queries.issue(item, number(issue_id)), owner, repo)


def _report_page(request: FaceRequest, item, kind: str, rows_of, keep) -> dict[str, Any]:
    latest, report = queries.latest_report(item, kind)
    rows = rows_of(latest, report) if latest else []
    offset, limit = wire.paging(request)
    found = offset_page(rows, offset, limit, keep, max_read=len(rows) or 1)
    return wire.page(request, found, offset, limit, found.rows)


@face.route(PROJECT + "/codemetric/ccissues", methods=("GET",))
def cc_issues(request: FaceRequest, org_sid, team_name, repo_id, project_id):
    """Functions of the last complexity scan whose CCN exceeds the scheme's min_ccn."""
    _, repo, item = _project(request, org_sid, team_name, repo_id, project_id)
    path = wire.contains(request, "file_path")
    gte, lte = wire.int_param(request, "ccn_gte"), wire.int_param(request, "ccn_lte")
    statuses = wire.comma_ints(request, "status")

    def rows_of(latest, report):
        functions = report.get("functions", [])
        return [views.cc_row(n, f, latest, repo.repo_id) for n, f in enumerate(functions, 1)]

    def keep(row) -> bool:
        return (
            (path is None or path in row["file_path"].lower())
            and (gte is None or row["ccn"] >= gte)
            and (lte is None or row["ccn"] <= lte)
            and (statuses is None or row["status"] in statuses)
        )

    return _report_page(request, item, "cc", rows_of, keep)


@face.route(PROJECT + "/codemetric/dupfiles", methods=("GET",))
def dup_files(request: FaceRequest, org_sid, team_name, repo_id, project_id):
    """Files of the last duplication scan that have duplicated blocks. TCA's filter name is
    `issue_state` (its document's `issue__state` does nothing there, nor here; files have no
    owner here, so `issue_owner` is not read); `ordering` takes a field, `-` for descending
    (default `-id`)."""
    _, repo, item = _project(request, org_sid, team_name, repo_id, project_id)
    path = wire.contains(request, "file_path")
    low = _float(request, "duplicate_rate_gte")
    high = _float(request, "duplicate_rate_lte")
    states = wire.comma_ints(request, "issue_state")
    ordering = request.query.get("ordering", "").strip() or "-id"

    def rows_of(latest, report):
        files = report.get("files", [])
        rows = [views.dup_row(n, f, latest, repo.repo_id) for n, f in enumerate(files, 1)]
        field = ordering.lstrip("-")
        if rows and field in rows[0] and not isinstance(rows[0][field], dict | list):
            rows.sort(key=lambda r: (r[field] is None, r[field]), reverse=ordering[0] == "-")
        return rows

    def keep(row) -> bool:
        return (
            (path is None or path in row["file_path"].lower())
            and (low is None or row["duplicate_rate"] >= low)
            and (high is None or row["duplicate_rate"] <= high)
            and (states is None or row["issue"]["state"] in states)
        )

    return _report_page(request, item, "dup", rows_of, keep)


def _float(request: FaceRequest, name: str) -> float | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise BadRequest("请填写合法的数字。", field=name) from None


@face.route(PROJECT + "/codemetric/clocfiles", methods=("GET",))
def cloc_files(request: FaceRequest, org_sid, team_name, repo_id, project_id):
    """Per-file line counts of the last line-count scan (`file_path` matches the path)."""
    _, _, item = _project(request, org_sid, team_name, repo_id, project_id)
    path = wire.contains(request, "file_path")
    changes = {c.strip() for c in request.query.get("change_type", "").split(",") if c.strip()}

    def rows_of(latest, report):
        return [views.cloc_row(n, f, latest) for n, f in enumerate(report.get("files", []), 1)]

    def keep(row) -> bool:
        full = f"{row['dir_path']}/{row['file_name']}".lstrip("/").lower()
        return (path is None or path in full) and (not changes or row["change_type"] in changes)

    return _report_page(request, item, "cloc", rows_of, keep)
