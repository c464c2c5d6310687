"""The console face (`/console`): read-only HTML pages, logged in with a token kept in a cookie.

The login form is the only public route: it checks the token with the identity service and
stores it in the cookie of `core.browser`, nothing else. Every other route authenticates by
that cookie (or the usual headers). A page asked for without credentials redirects (303) to
the login form, which comes back to it; the live fragment the page's script polls answers 401.
Errors are HTML pages with the honest status, mapped here in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from chalice import Response

from ..core import browser, lazy
from ..core.errors import BadRequest, Forbidden, TaskhubError, Unauthorized
from ..core.face import Face, FaceRequest, json_response
from . import FACE
from .html import HEADERS, document, esc, redirect, response, url

# the pages, imported by the first request that uses them (core.lazy)
home = lazy.module(".home", __package__)
jobx = lazy.module(".jobx", __package__)
ones = lazy.module(".ones", __package__)
scans = lazy.module(".scans", __package__)
login = lazy.module(".login", __package__)

SCRIPT = Path(__file__).with_name("static") / "console.js"
FRAGMENT_SUFFIX = "/live"  # routes the page's script polls: they answer 401, not a redirect


class Page:
    """A page's title and body HTML; the face frames it (who is logged in, the script)."""

    def __init__(self, title: str, body: str, *, who: str = "", script: bool = False):
        self.title, self.body, self.who, self.script = title, body, who, script


class Fragment:
    """Part of a page, as the page's script asks for it; `running` says to ask again."""

    def __init__(self, body: str, *, running: bool):
        self.body, self.running = body, running


def _render(result: Any) -> Response:
    if isinstance(result, Fragment):
        return response(result.body, headers={"X-Taskhub-Running": "1" if result.running else "0"})
    if isinstance(result, Page):
        return response(document(result.title, result.body, who=result.who, script=result.script))
    raise TypeError(f"a console handler returned {type(result).__name__}")


def _where() -> tuple[str, bool]:
    """The path the refused request asked for (with its query), and whether it is a fragment."""
    request = face.blueprint.current_request
    context = getattr(request, "context", None) or {}
    path = context.get("path") or request.path
    query = urlencode(request.query_params or {})
    return path + ("?" + query if query else ""), path.endswith(FRAGMENT_SUFFIX)


def _render_error(exc: TaskhubError) -> Response:
    if isinstance(exc, Unauthorized):
        path, fragment = _where()
        if fragment:
            return json_response({"error": exc.message, "login": url("login")}, 401, HEADERS)
        return redirect(url("login", next=login.safe_next(path)))
    title = {400: "Bad request", 403: "Not allowed", 404: "Not found"}.get(exc.status, "Error")
    body = f'<h1>{esc(title)}</h1><p class="error">{esc(exc.message)}</p><p>'
    body += f'<a href="{url()}">Back to the console</a></p>'
    return response(document(title, body), exc.status)


def refusal(path: str, method: str) -> tuple[int, tuple[str, ...]]:
    """How a request without valid credentials is refused (the contract tests check it)."""
    if path.endswith(FRAGMENT_SUFFIX):
        return 401, ("error",)
    return 303, ()


face = Face(
    FACE,
    __name__,
    prefix="/console",
    render=_render,
    render_error=_render_error,
    error_keys=("error",),
    namespaced=False,
    credentials=browser.request_principal,
    refusal=refusal,
)


def _who(request: FaceRequest) -> str:
    user = request.principal.user
    return user.name or user.email or user.uuid


def _page(request: FaceRequest, built: tuple[str, str], *, script: bool = False) -> Page:
    title, body = built
    return Page(title, body, who=_who(request), script=script)


# ---- login --------------------------------------------------------------------------------


def _form(request: FaceRequest) -> dict[str, str]:
    """The login form's fields (form-urlencoded, as a browser posts it)."""
    ctype = (request.headers.get("content-type") or "").lower()
    if not ctype.startswith("application/x-www-form-urlencoded"):
        raise BadRequest("the login form is posted as application/x-www-form-urlencoded")
    try:
        fields = parse_qs(request.text(), keep_blank_values=True, max_num_fields=8)
    except ValueError as exc:  # more fields than the form has
        raise BadRequest("the login form has two fields: token and next") from exc
    return {k: v[-1] for k, v in fields.items()}


def _same_site(request: FaceRequest) -> None:
    """A form posted from another site is refused (no login or logout on someone's behalf).
    Browsers say where a POST comes from in `Sec-Fetch-Site`, and in `Origin` (`null` under
    the pages' no-referrer policy, which tells nothing)."""
    fetched = (request.headers.get("sec-fetch-site") or "").lower()
    origin = request.headers.get("origin") or "null"
    host = request.headers.get("host") or ""
    if fetched and fetched not in ("same-origin", "none"):
        raise Forbidden("a form of another site cannot post here")
    if origin != "null" and urlsplit(origin).netloc != host:
        raise Forbidden("a form of another site cannot post here")


@face.route("/login", methods=("GET",), public=True)
def login_form(request: FaceRequest):
    return login.form(request.query.get("next"))


@face.route("/login", methods=("POST",), public=True)
def login_submit(request: FaceRequest):
    _same_site(request)
    secure = (request.headers.get("x-forwarded-proto") or "").startswith("https")
    return login.submit(_form(request), secure=secure)


@face.route("/logout", methods=("POST",))
def logout(request: FaceRequest):
    _same_site(request)
    return redirect(url("login"), {"Set-Cookie": browser.logout_cookie()})


@face.route("/console.js", methods=("GET",))
def script(request: FaceRequest):
    """The live refresh, the console's only script; no-cache so a deploy's new one is used."""
    return Response(
        body=SCRIPT.read_text(),
        status_code=200,
        headers={
            "Content-Type": "text/javascript; charset=utf-8",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-cache",
        },
    )


# ---- pages --------------------------------------------------------------------------------


@face.route("/", methods=("GET",))
def index(request: FaceRequest):
    return _page(request, home.page(request.principal))


@face.route("/jobx/{projectid}", methods=("GET",))
def jobx_tasks(request: FaceRequest, projectid: str):
    return _page(request, jobx.tasks_page(request.principal, projectid, request.query))


@face.route("/jobx/{projectid}/{uuid}", methods=("GET",))
def jobx_task(request: FaceRequest, projectid: str, uuid: str):
    built = jobx.task_page(request.principal, projectid, uuid, request.query)
    return _page(request, built, script=True)


@face.route("/jobx/{projectid}/{uuid}/live", methods=("GET",))
def jobx_task_live(request: FaceRequest, projectid: str, uuid: str):
    body, running = jobx.live(request.principal, projectid, uuid, request.query)
    return Fragment(body, running=running)


@face.route("/jobx/{projectid}/{uuid}/output", methods=("GET",))
def jobx_output(request: FaceRequest, projectid: str, uuid: str):
    return _page(request, jobx.output_page(request, projectid, uuid))


@face.route("/ones/{team}", methods=("GET",))
def ones_tree(request: FaceRequest, team: str):
    return _page(request, ones.tree_page(request.principal, team, request.query))


# Scans: TCA teams (`<org>/<team>`) and CodeArts projects own repositories; a repository has
# projects (branch + scheme, a CodeArts task), a project has scans.


@face.route("/tca/{org}/{team}", methods=("GET",))
def tca_repos(request: FaceRequest, org: str, team: str):
    return _page(request, scans.repos_page(request, scans.tca(org, team)))


@face.route("/tca/{org}/{team}/{repo}", methods=("GET",))
def tca_projects(request: FaceRequest, org: str, team: str, repo: str):
    return _page(request, scans.projects_page(request, scans.tca(org, team), repo))


@face.route("/tca/{org}/{team}/{repo}/{project}", methods=("GET",))
def tca_scans(request: FaceRequest, org: str, team: str, repo: str, project: str):
    return _page(request, scans.scans_page(request, scans.tca(org, team), repo, project))


@face.route("/tca/{org}/{team}/{repo}/{project}/{job}", methods=("GET",))
def tca_scan(request: FaceRequest, org: str, team: str, repo: str, project: str, job: str):
    return _page(request, scans.scan_page(request, scans.tca(org, team), repo, project, job))


@face.route("/codearts/{ns}", methods=("GET",))
def codearts_repos(request: FaceRequest, ns: str):
    return _page(request, scans.repos_page(request, scans.codearts(ns)))


@face.route("/codearts/{ns}/{repo}", methods=("GET",))
def codearts_projects(request: FaceRequest, ns: str, repo: str):
    return _page(request, scans.projects_page(request, scans.codearts(ns), repo))


@face.route("/codearts/{ns}/{repo}/{project}", methods=("GET",))
def codearts_scans(request: FaceRequest, ns: str, repo: str, project: str):
    return _page(request, scans.scans_page(request, scans.codearts(ns), repo, project))


@face.route("/codearts/{ns}/{repo}/{project}/{job}", methods=("GET",))
def codearts_scan(request: FaceRequest, ns: str, repo: str, project: str, job: str):
    return _page(request, scans.scan_page(request, scans.codearts(ns), repo, project, job))
