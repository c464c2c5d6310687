"""TCA's main server (seed 003), under `/server/main/api/`: repositories, schemes, projects,
scans and jobs, as TCA's `ScriptsAPI.py` and CI scripts call them.

Auth is `Authorization: Token <key>` (the keyword in any case) or Bearer. Bodies may be
JSON, form-urlencoded or empty, as DRF's parsers take them. A path id that is not a number
is TCA's 404, as Django's `<int:…>` converter answers. Organisations and teams are
namespaces of face `tca` (`<org>` and `<org>/<team>`); a team inherits its org's roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core import lazy
from ..core.errors import NotFound
from ..core.face import FaceRequest
from . import wire
from .wire import READ, WRITE, Created

if TYPE_CHECKING:
    from ..scans.owners import Owner

# the domain, imported by the first request that uses it (core.lazy)
owners = lazy.module("chalicelib.scans.owners")
projects = lazy.module("chalicelib.scans.projects")
queries = lazy.module("chalicelib.scans.queries")
repos = lazy.module("chalicelib.scans.repos")
scanning = lazy.module("chalicelib.scans.scanning")
schemes = lazy.module("chalicelib.scans.schemes")
schemas = lazy.module("chalicelib.scans.schemas")
lazy.module("chalicelib.scans.workspace")  # registers the tca_* workspace sections
views = lazy.module(".views", __package__)

face = wire.make_face(__name__, "/server/main/api", default_code=1000)

TEAM = "/orgs/{org_sid}/teams/{team_name}/repos"
REPO = TEAM + "/{repo_id}"
SCHEME = REPO + "/schemes/{scheme_id}"
PROJECT = REPO + "/projects/{project_id}"


def number(value: str) -> int:
    """A path id: digits only, else TCA's 404."""
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise NotFound("not found")
    return int(value)


def team(request: FaceRequest, org_sid: str, team_name: str, permission: str) -> Owner:
    return owners.require(
        request.principal, wire.FACE_TCA, owners.team_id(org_sid, team_name), permission
    )


def form_bools(request: FaceRequest, body: dict[str, Any], *names: str) -> dict[str, Any]:
    """DRF's HTML-form rule: a boolean left out of a form body is false."""
    ctype = (request.headers.get("content-type") or "").lower()
    if ctype.startswith("application/x-www-form-urlencoded") and request.raw_body.strip():
        for name in names:
            body.setdefault(name, False)
    return body


def creator(request: FaceRequest) -> str:
    return request.principal.user.name or request.principal.uuid


# ---- repositories --------------------------------------------------------------------------


@face.route(TEAM, methods=("GET",))
def list_repos(request: FaceRequest, org_sid: str, team_name: str):
    owner = team(request, org_sid, team_name, READ)
    fuzzy = wire.contains(request, "scm_url_or_name")
    exact = request.query.get("scm_url", "").strip() or None
    if fuzzy and "://" in fuzzy:
        fuzzy = fuzzy.split("://", 1)[1]

    def keep(repo) -> bool:
        if exact and repo.scm_url != exact:
            return False
        return not fuzzy or fuzzy in repo.scm_url.lower() or fuzzy in repo.name.lower()

    filtered = exact or fuzzy
    offset, limit = wire.paging(request)
    found = repos.listing(owner, keep if filtered else None, offset, limit)
    return wire.page(request, found, offset, limit, [views.repo_row(r) for r in found.rows])


@face.route(TEAM, methods=("POST",))
def create_repo(request: FaceRequest, org_sid: str, team_name: str):
    owner = team(request, org_sid, team_name, WRITE)
    body = request.parse(schemas.RepoIn)
    return Created(views.repo_created(repos.create(owner, body, creator(request))))


@face.route(REPO, methods=("GET",))
def get_repo(request: FaceRequest, org_sid: str, team_name: str, repo_id: str):
    owner = team(request, org_sid, team_name, READ)
    return views.repo_row(repos.get(owner, number(repo_id)))


# ---- schemes -------------------------------------------------------------------------------


@face.route("/orgs/{org_sid}/schemes", methods=("GET",))
def list_templates(request: FaceRequest, org_sid: str):
    """The organisation's scheme templates (TCA's global schemes)."""
    owners.require(request.principal, wire.FACE_TCA, org_sid, READ)
    offset, limit = wire.paging(request)
    found = schemes.listing(owners.org_key(wire.FACE_TCA, org_sid), offset, limit)
    return wire.page(request, found, offset, limit, [views.scheme_basic(s) for s in found.rows])


@face.route(REPO + "/schemes", methods=("GET",))
def list_schemes(request: FaceRequest, org_sid: str, team_name: str, repo_id: str):
    owner = team(request, org_sid, team_name, READ)
    repo = repos.get(owner, number(repo_id))
    name = wire.contains(request, "name")
    status = wire.int_param(request, "status")

    def keep(scheme) -> bool:
        if name and name not in scheme.name.lower():
            return False
        return status is None or scheme.status == status

    offset, limit = wire.paging(request)
    found = schemes.listing(owners.repo_key(repo.repo_id), offset, limit, keep)
    return wire.page(request, found, offset, limit, [views.scheme_basic(s) for s in found.rows])


def _conf_part(conf: str) -> tuple[Any, Any, tuple[str, ...]]:
    """A scheme configuration part's model, renderer and the booleans of its form."""
    return {
        "basicconf": (schemas.BasicConfIn, views.scheme_basic, ("default_flag",)),
        "lintconf": (schemas.LintConfIn, views.scheme_lint, ("enabled",)),
        "metricconf": (
            schemas.MetricConfIn,
            views.scheme_metric,
            ("cc_scan_enabled", "dup_scan_enabled", "cloc_scan_enabled"),
        ),
    }[conf]


def _scheme_conf(request: FaceRequest, org_sid, team_name, repo_id, scheme_id, conf: str):
    permission = READ if request.method == "GET" else WRITE
    owner = team(request, org_sid, team_name, permission)
    repo = repos.get(owner, number(repo_id))
    scheme = schemes.of_repo(repo.repo_id, number(scheme_id))
    model, render, flags = _conf_part(conf)
    if request.method != "GET":
        body = request.object()
        if request.method == "PUT":  # a full update: DRF's form rule for booleans left out
            body = form_bools(request, body, *flags)
        scheme = schemes.update(scheme.owner, scheme.scheme_id, request.parse(model, body))
    return render(scheme)


@face.route(SCHEME + "/basicconf", methods=("GET", "PUT"))
def basic_conf(request: FaceRequest, org_sid, team_name, repo_id, scheme_id):
    return _scheme_conf(request, org_sid, team_name, repo_id, scheme_id, "basicconf")


@face.route(SCHEME + "/lintconf", methods=("GET", "PUT"))
def lint_conf(request: FaceRequest, org_sid, team_name, repo_id, scheme_id):
    return _scheme_conf(request, org_sid, team_name, repo_id, scheme_id, "lintconf")


@face.route(SCHEME + "/metricconf", methods=("GET", "PUT", "PATCH"))
def metric_conf(request: FaceRequest, org_sid, team_name, repo_id, scheme_id):
    """An empty PUT (what ScriptsAPI sends) changes nothing and answers the configuration."""
    return _scheme_conf(request, org_sid, team_name, repo_id, scheme_id, "metricconf")


# ---- projects ------------------------------------------------------------------------------


def _project(request: FaceRequest, org_sid, team_name, repo_id, project_id, permission):
    owner = team(request, org_sid, team_name, permission)
    repo = repos.get(owner, number(repo_id))
    return owner, repo, projects.get(repo.repo_id, number(project_id))


@face.route(REPO + "/projects", methods=("GET",))
def list_projects(request: FaceRequest, org_sid: str, team_name: str, repo_id: str):
    owner = team(request, org_sid, team_name, READ)
    repo = repos.get(owner, number(repo_id))
    branch = request.query.get("branch", "").strip() or None
    scan_path = wire.contains(request, "scan_path")
    scheme_id = wire.int_param(request, "scan_scheme")
    status = wire.int_param(request, "status")

    def keep(item) -> bool:
        return (
            (branch is None or item.branch == branch)
            and (scan_path is None or scan_path in (item.scan_path or "").lower())
            and (scheme_id is None or item.scheme_id == scheme_id)
            and (status is None or item.status == status)
        )

    filtered = any(v is not None for v in (branch, scan_path, scheme_id, status))
    offset, limit = wire.paging(request)
    found = projects.listing(repo.repo_id, offset, limit, keep if filtered else None)
    rows = [views.project(p, repo, None) for p in found.rows]
    return wire.page(request, found, offset, limit, rows)


@face.route(REPO + "/projects", methods=("POST",))
def create_project(request: FaceRequest, org_sid: str, team_name: str, repo_id: str):
    owner = team(request, org_sid, team_name, WRITE)
    repo = repos.get(owner, number(repo_id))
    body = request.parse(schemas.ProjectIn)
    item, scheme = projects.create(owner, repo, body, creator(request))
    return Created(views.project(item, repo, scheme))


@face.route(PROJECT, methods=("GET",))
def get_project(request: FaceRequest, org_sid, team_name, repo_id, project_id):
    _, repo, item = _project(request, org_sid, team_name, repo_id, project_id, READ)
    return views.project(item, repo, projects.scheme_of(item))


# ---- scans and jobs ------------------------------------------------------------------------


@face.route(PROJECT + "/scans/create", methods=("POST",))
def create_scan(request: FaceRequest, org_sid, team_name, repo_id, project_id):
    """HTTP 200 (not 201), `{"job": {"id"}, "scan": {"id"}}`. `async_flag` is accepted and,
    as in TCA, has no effect: every scan runs asynchronously. An `Idempotency-Key` header
    makes a repeated request give back the job the first one made."""
    _, repo, item = _project(request, org_sid, team_name, repo_id, project_id, WRITE)
    body = request.parse(schemas.ScanIn, form_bools(request, request.object(), "incr_scan"))
    key = request.headers.get("idempotency-key")
    job = scanning.create(
        repo,
        item,
        body,
        creator(request),
        key,
        callbacks=body.callbacks,
        link=lambda job_id: (
            f"{face.prefix}/orgs/{org_sid}/teams/{team_name}/repos/"
            f"{repo.repo_id}/projects/{item.project_id}/jobs/{job_id}/detail/"
        ),
    )
    return {"job": {"id": job.job_id}, "scan": {"id": job.scan_id}}


def _job_filter(request: FaceRequest):
    states = wire.comma_ints(request, "state")
    gte, lte = (
        wire.int_param(request, "result_code_gte"),
        wire.int_param(request, "result_code_lte"),
    )
    msg = wire.contains(request, "result_msg")
    created_from = wire.contains(request, "created_from")
    who = wire.contains(request, "creator")
    after = wire.time_param(request, "create_time_gte")
    before = wire.time_param(request, "create_time_lte")
    given = (states, gte, lte, msg, created_from, who, after, before)
    if all(v is None for v in given):
        return None

    def keep(job) -> bool:
        code = job.result_code
        return (
            (states is None or job.state in states)
            and (gte is None or (code is not None and code >= gte))
            and (lte is None or (code is not None and code <= lte))
            and (msg is None or msg in (job.result_msg or "").lower())
            and (created_from is None or created_from in (job.created_from or "").lower())
            and (who is None or who in (job.creator or "").lower())
            and (after is None or job.create_time >= after)
            and (before is None or job.create_time <= before)
        )

    return keep


@face.route(PROJECT + "/jobs", methods=("GET",))
def list_jobs(request: FaceRequest, org_sid, team_name, repo_id, project_id):
    _, _, item = _project(request, org_sid, team_name, repo_id, project_id, READ)
    offset, limit = wire.paging(request)
    found = queries.jobs(item, offset, limit, _job_filter(request))
    return wire.page(request, found, offset, limit, [views.job_row(j) for j in found.rows])


@face.route(PROJECT + "/jobs/{job_id}/detail", methods=("GET",))
def job_detail(request: FaceRequest, org_sid, team_name, repo_id, project_id, job_id):
    _, repo, item = _project(request, org_sid, team_name, repo_id, project_id, READ)
    job = scanning.get_job(item, number(job_id))
    return views.job_detail(job, queries.tasks(job), item, repo)


@face.route("/v3" + PROJECT + "/jobs/{job_id}/cancel", methods=("POST",))
def cancel_job(request: FaceRequest, org_sid, team_name, repo_id, project_id, job_id):
    """TCA's v3 cancel: `{remarks, force}`; answers `{"msg": "取消成功"}`."""
    _, _, item = _project(request, org_sid, team_name, repo_id, project_id, WRITE)
    job = scanning.get_job(item, number(job_id))
    body = request.parse(schemas.CancelIn, form_bools(request, request.object(), "force"))
    scanning.cancel(job, body.remarks, creator(request))
    return {"msg": "取消成功"}
