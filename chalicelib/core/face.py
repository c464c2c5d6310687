"""A face is one original API's surface: its prefix, envelope and error mapping.

Handlers stay thin: the face refuses an oversized body before anything else, authenticates,
parses the body, calls the handler and renders whatever it returns (or raises) in the face's
own envelope, in one place per face. A 500's message never leaves the server.

Importing this module stays cheap (no pydantic, no identity tables): `import app` registers
every route through it, and authentication and validation load with the first request.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs

from chalice import Blueprint, Response

from .errors import BadRequest, TaskhubError, Unavailable

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .auth import Principal, Received

log = logging.getLogger("taskhub")

CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "text/plain",
    "application/octet-stream",
]
MAX_BODY = 6 * 1024 * 1024
FACES: list[Face] = []

M = TypeVar("M", bound="BaseModel")


def parse_json(text: str) -> Any:
    """JSON, or BadRequest: invalid text and nesting too deep for the parser alike."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise BadRequest("request body is not valid JSON") from exc


class FaceRequest:
    """What a handler needs from the HTTP request, with parsing errors as domain errors."""

    def __init__(self, request: Any, principal: Principal | None):
        self._request = request
        self.principal = principal
        self.headers = request.headers or {}
        self.query: dict[str, str] = dict(request.query_params or {})
        self.method = request.method

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """A query parameter that must be an integer from `low` to `high`, else BadRequest."""
        raw = self.query.get(name)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError as exc:
            raise BadRequest(f"{name} must be an integer", field=name) from exc
        if not low <= value <= high:
            raise BadRequest(f"{name} must be from {low} to {high}", field=name)
        return value

    def base_url(self) -> str:
        """This request's absolute URL without its query (for paging links), as the client
        reached it: the stage's path included, the scheme a proxy says it was."""
        scheme = (self.headers.get("x-forwarded-proto") or "http").split(",")[0].strip()
        host = self.headers.get("host") or "localhost"
        context = getattr(self._request, "context", None) or {}
        path = context.get("path") or self._request.path
        return f"{scheme}://{host}{path}"

    @property
    def raw_body(self) -> bytes:
        return self._request.raw_body or b""

    def text(self) -> str:
        try:
            return self.raw_body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest("request body is not UTF-8") from exc

    def json(self) -> Any:
        raw = self.raw_body
        if not raw.strip():
            return {}
        ctype = (self.headers.get("content-type") or "").lower()
        text = self.text()
        looks_json = text.lstrip()[:1] in ("{", "[")
        if ctype.startswith("application/x-www-form-urlencoded") and not looks_json:
            return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}
        return parse_json(text)

    def object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise BadRequest("request body must be a JSON object")
        return body

    def parse(self, model: type[M], data: Any = None) -> M:
        """Validate the body (or `data`) with a pydantic model; errors become BadRequest."""
        from .validation import validate

        return validate(model, self.object() if data is None else data)


Renderer = Callable[[Any], Response]
ErrorRenderer = Callable[[TaskhubError], Response]


class Face:
    def __init__(
        self,
        name: str,
        import_name: str,
        *,
        prefix: str,
        render: Renderer,
        render_error: ErrorRenderer,
        error_keys: tuple[str, ...],
        namespaced: bool = True,
        credentials: Callable[[Any], Principal] | None = None,
        refusal: Callable[[str, str], tuple[int, tuple[str, ...]]] | None = None,
    ):
        self.name = name
        # how a request proves who it is: the faces' headers, or the console's cookie (core.browser)
        self.credentials = credentials or _authenticate
        # an original API scopes its data by namespaces of its name; the admin surface does not
        self.namespaced = namespaced
        self.prefix = prefix
        self.blueprint = Blueprint(import_name)
        self.render = render
        self.render_error = render_error
        self.error_keys = error_keys  # keys every error body of this face has (contract tests)
        self._refusal = refusal
        self.public_routes: set[tuple[str, str]] = set()
        FACES.append(self)

    def refusal(self, path: str, method: str) -> tuple[int, tuple[str, ...]]:
        """How a route refuses a request without valid credentials: (status, keys its body
        has). A JSON face answers 401 in its envelope; an HTML face may send a browser to its
        login page instead (the contract tests ask each face)."""
        if self._refusal is not None:
            return self._refusal(path, method)
        return 401, self.error_keys

    def route(self, path: str, methods: tuple[str, ...] = ("GET",), *, public: bool = False):
        """Register a handler `fn(request: FaceRequest, **path_params)` under this face."""

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def handler(**params: str) -> Response:
                return self.dispatch(fn, public, params)

            if public:
                for method in methods:
                    self.public_routes.add((self.prefix + path, method))
            self.blueprint.route(path, methods=list(methods), content_types=CONTENT_TYPES)(handler)
            return fn

        return decorator

    def dispatch(self, fn: Callable[..., Any], public: bool, params: dict[str, str]) -> Response:
        request = self.blueprint.current_request
        try:
            if len(request.raw_body or b"") > MAX_BODY:  # before any parsing, even auth
                raise BadRequest(f"request body too large (at most {MAX_BODY} bytes)")
            principal = None if public else self.credentials(request)
            result = fn(FaceRequest(request, principal), **params)
        except TaskhubError as exc:
            if exc.status >= 500 and not isinstance(exc, Unavailable):
                log.error("%s %s failed: %s", request.method, request.path, exc.message)
                exc = TaskhubError("internal error")
            return self.render_error(exc)
        except Exception:
            log.exception("unhandled error in %s %s", request.method, request.path)
            return self.render_error(TaskhubError("internal error"))
        if isinstance(result, Response):
            return result
        return self.render(result)


def _authenticate(request: Any) -> Principal:
    from .auth import authenticate

    return authenticate(request.headers or {}, received(request))


def received(request: Any) -> Received:
    """What a signed request's signature covers, as Chalice hands it on: the path as the
    client sent it (`context["path"]`, not the route template) and every query value."""
    from .auth import Received

    context = getattr(request, "context", None) or {}
    return Received(
        request.method, context.get("path"), request.query_params, request.raw_body or b""
    )


def namespace_faces() -> list[str]:
    """The faces a namespace may name: every loaded face that has namespaces, so a face
    registers itself by being loaded."""
    return sorted({f.name for f in FACES if f.namespaced})


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
