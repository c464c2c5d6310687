"""`/docs`: each face's OpenAPI document in Swagger UI, for a logged-in browser or a Bearer.

Pages ask a browser without credentials to log in (303 to the console's login form, which
comes back here); assets and documents answer 401 in the admin envelope. Everything is
served from this app, under a Content-Security-Policy that allows nothing from elsewhere.
"""

from __future__ import annotations

from html import escape
from urllib.parse import quote, urlencode, urlparse

from chalice import Response

from ..core import browser, lazy
from ..core.errors import TaskhubError
from ..core.face import Face, FaceRequest, json_response

documents = lazy.module(".documents", __package__)

LOGIN = "/console/login"
# Swagger UI sets element styles from script (allowed) and shows its icons as data: images.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
SECURITY = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _render_error(exc: TaskhubError) -> Response:
    request = face.blueprint.current_request
    route = (getattr(request, "context", None) or {}).get("resourcePath")
    if exc.status == 401 and (route, request.method) in PAGE_ROUTES:
        return Response(body="", status_code=303, headers={**SECURITY, "Location": _login(request)})
    body = {"error": {"code": exc.kind, "message": exc.message}}
    return json_response(body, exc.status, {**SECURITY, "Cache-Control": "no-store"})


# routes that answer HTML: a browser without credentials is sent to log in
PAGE_ROUTES = {("/docs", "GET"), ("/docs/{name}", "GET")}


def _refusal(path: str, method: str) -> tuple[int, tuple[str, ...]]:
    return (303, ()) if (path, method) in PAGE_ROUTES else (401, ("error",))


face = Face(
    "docs",
    __name__,
    prefix="/docs",
    render=json_response,
    render_error=_render_error,
    error_keys=("error",),
    namespaced=False,
    credentials=browser.request_principal,
    refusal=_refusal,
)


def _stage(path: str, here: str) -> str:
    """What comes before `here` in the path the client reached (API Gateway's stage)."""
    return path[: -len(here)] if path.endswith(here) else ""


def _docs(request: FaceRequest, here: str) -> str:
    """`/docs` as the client reaches it, for the page's links."""
    return _stage(urlparse(request.base_url()).path, here) + "/docs"


def _login(request) -> str:
    """The login form, told to come back to this page (and its query)."""
    context = request.context or {}
    here = context.get("resourcePath", "/docs").replace(
        "{name}", (request.uri_params or {}).get("name", "")
    )
    back = context.get("path") or here
    if request.query_params:
        back += "?" + urlencode(request.query_params)
    return f"{_stage(back.split('?')[0], here)}{LOGIN}?{urlencode({'next': back})}"


def _page(title: str, body: str) -> Response:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'  # no favicon request
        f"<title>{escape(title)}</title>"
        f"{body}</html>"
    )
    headers = {**SECURITY, "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    return Response(body=html, status_code=200, headers=headers)


def _file(data: bytes, content_type: str) -> Response:
    headers = {**SECURITY, "Content-Type": content_type, "Cache-Control": "private, max-age=300"}
    return Response(body=data.decode("utf-8"), status_code=200, headers=headers)


@face.route("/")
def index(request: FaceRequest):
    """The documents, one link each."""
    docs = _docs(request, "/docs")
    items = "".join(
        f'<li><a href="{docs}/{quote(d["name"])}">{escape(d["title"])}</a> '
        f"(<code>{escape(d['name'])}</code>)</li>"
        for d in documents.index()
    )
    return _page(
        "taskhub API documentation",
        f'<link rel="stylesheet" href="{docs}/assets/docs.css"></head><body>'
        '<div class="taskhub-bar">taskhub API documentation</div>'
        f'<main class="taskhub-index"><h1>API documents</h1><ul>{items}</ul></main></body>',
    )


@face.route("/{name}")
def ui(request: FaceRequest, name: str):
    """Swagger UI on one face's document."""
    title = documents.title(name)
    docs = _docs(request, f"/docs/{name}")
    return _page(
        f"{title} · taskhub API",
        f'<link rel="stylesheet" href="{docs}/assets/swagger-ui.css">'
        f'<link rel="stylesheet" href="{docs}/assets/docs.css"></head><body>'
        f'<div class="taskhub-bar"><a href="{docs}">all documents</a>{escape(title)}</div>'
        f'<div id="swagger-ui" data-url="{docs}/{quote(name)}/openapi.json"></div>'
        f'<script src="{docs}/assets/swagger-ui-bundle.js"></script>'
        f'<script src="{docs}/assets/init.js"></script></body>',
    )


@face.route("/{name}/openapi.json")
def openapi(request: FaceRequest, name: str):
    """The face's OpenAPI document as JSON (what Swagger UI loads)."""
    return _file(documents.document(name), "application/json")


@face.route("/assets/{asset}")
def asset(request: FaceRequest, asset: str):
    """Swagger UI's script and style sheet, and ours."""
    return _file(*documents.asset(asset))
