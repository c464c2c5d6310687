"""ONES work items face (seed 001, ONES legacy task API) under `/project/api/project`.

Success bodies are the documented ones; errors are `{"code", "errcode", "type", "desc"}`.
ONES-specific codes travel in the body with an honest HTTP status: 603/610 -> 404,
607/611/801/821 -> 400, 608/820 -> 409; 401/403/404/500 are their own HTTP status.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..core import lazy
from ..core.auth import register_permissions
from ..core.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    Stale,
    TaskhubError,
    Unauthorized,
    Unavailable,
)
from ..core.face import Face, FaceRequest, json_response, parse_json
from . import FACE, PERMISSIONS, errors

if TYPE_CHECKING:
    from .context import Failure

# the domain, imported by the first request that uses it (core.lazy)
copying = lazy.module(".copying", __package__)
creating = lazy.module(".creating", __package__)
deleting = lazy.module(".deleting", __package__)
queries = lazy.module(".queries", __package__)
relations = lazy.module(".relations", __package__)
transitions = lazy.module(".transitions", __package__)
updating = lazy.module(".updating", __package__)
v = lazy.module(".validation", __package__)
identity_login = lazy.module("chalicelib.core.identity.login")
core_validation = lazy.module("chalicelib.core.validation")

OK = {"code": 200, "errcode": "OK", "type": "OK"}

# The one error map: domain error -> ONES code, the nearest class along the error's MRO, so
# a plain core error gets the code of its kind. ONES code -> (HTTP status, type, errcode).
ONES_CODES: dict[type[TaskhubError], int] = {
    errors.TaskToModifyMissing: 603,
    errors.BadTaskUuid: 607,
    errors.TaskExists: 608,
    errors.TaskMissing: 610,
    errors.BadFieldValue: 611,
    Stale: 820,
    errors.RelatedToItself: 821,
    BadRequest: 801,
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 608,
    Unavailable: 503,
}
CODES = {
    401: (401, "Unauthorized", "AuthFailure"),
    403: (403, "PermissionDenied", "PermissionDenied"),
    404: (404, "NotFound", "NotFound"),
    500: (500, "ServerError", "ServerError"),
    503: (503, "ServerError", "ServiceUnavailable"),
    603: (404, "NotFound", "NotFound.TaskToModify"),
    607: (400, "InvalidParameter", "InvalidParameter.Task.UUID"),
    608: (409, "AlreadyExists", "AlreadyExists.Task.UUID"),
    610: (404, "NotFound", "NotFound.Task"),
    611: (400, "InvalidParameter", "InvalidParameter.FieldValue"),
    801: (400, "InvalidParameter", "InvalidParameter"),
    820: (409, "ServerUpdateStampOutdated", "ServerUpdateStampOutdated"),
    821: (400, "InvalidParameter", "InvalidParameter.Task.RelatedToSelf"),
}


def code_of(exc: TaskhubError) -> int:
    """The ONES code of an error, for the error body and for bad_tasks / errors entries."""
    return next((ONES_CODES[k] for k in type(exc).__mro__ if k in ONES_CODES), 500)


def render_error(exc: TaskhubError):
    code = code_of(exc)
    status, kind, errcode = CODES[code]
    return json_response(
        {"code": code, "errcode": errcode, "type": kind, "desc": exc.message}, status
    )


def failures(items: list[Failure]) -> list[dict]:
    """`bad_tasks` / `errors`: each failed item with its code."""
    return [{"uuid": f.uuid, "code": code_of(f.error), "desc": f.error.message} for f in items]


face = Face(
    FACE,
    __name__,
    prefix="/project/api/project",
    render=json_response,
    render_error=render_error,
    error_keys=("code", "errcode", "type"),
)
register_permissions(FACE, PERMISSIONS)


# a line's code up to `//`: everything but quotes and slashes, whole JSON strings, or a lone
# slash; possessive, so the match never backtracks and costs one pass over the text
_LINE_COMMENT = re.compile(r'^((?:[^"/\n]++|"(?:[^"\\\n]++|\\.)*+"|/(?!/))*+)//[^\n]*', re.M)


def strip_comments(text: str) -> str:
    """Drop `// ...` line comments outside strings, as the seed's own examples carry them."""
    return _LINE_COMMENT.sub(r"\1", text)


def body(request: FaceRequest, model):
    """Parse the JSON body; every problem is an 801 in the face envelope."""
    try:
        data = request.object()
    except BadRequest as exc:
        text = request.text() if b"//" in request.raw_body else ""
        if not text:
            raise BadRequest(exc.message) from exc
        try:
            data = parse_json(strip_comments(text))
        except BadRequest as again:
            raise BadRequest(again.message) from exc
        if not isinstance(data, dict):
            raise BadRequest("request body must be a JSON object") from exc
    return core_validation.validate(model, data)


@face.route("/auth/login", methods=("POST",), public=True)
def login(request: FaceRequest):
    """The only public route: email + password -> user with uuid and token."""
    item = body(request, v.Login)
    session = identity_login.login(item.email, item.password, face=FACE, client="ones-login")
    return login_body(session)


def login_body(session: identity_login.Session) -> dict:
    user = session.user
    return {
        "user": {
            "uuid": user.uuid,
            "email": user.email,
            "name": user.name,
            "token": session.token,
            "status": 1,
        },
        "teams": [{"uuid": ns.ns_id, "name": ns.name} for ns in session.of_kind("team")],
    }


@face.route("/team/{teamUUID}/tasks/add2", methods=("POST",))
def add_tasks(request: FaceRequest, teamUUID: str):
    created, bad = creating.add_tasks(request.principal, teamUUID, body(request, v.Batch).tasks)
    return {"tasks": created, "bad_tasks": failures(bad)}


@face.route("/team/{teamUUID}/tasks/update2", methods=("POST",))
def update2(request: FaceRequest, teamUUID: str):
    bad = updating.update_tasks(request.principal, teamUUID, body(request, v.Batch).tasks)
    return {"bad_tasks": failures(bad)}


@face.route("/team/{teamUUID}/tasks/update3", methods=("POST",))
def update3(request: FaceRequest, teamUUID: str):
    bad = updating.update_tasks(request.principal, teamUUID, body(request, v.Batch).tasks)
    return {"bad_tasks": failures(bad)}


@face.route("/team/{teamUUID}/tasks/info", methods=("GET", "POST"))
def tasks_info(request: FaceRequest, teamUUID: str):
    if request.method == "GET":
        raw = request.query.get("ids", "")
        data = {"ids": [i.strip() for i in raw.split(",") if i.strip()]}
        ids = core_validation.validate(v.Ids, data).ids
    else:
        ids = body(request, v.Ids).ids
    tasks, failed = queries.tasks_info(request.principal, teamUUID, ids)
    return {"tasks": tasks, "count": len(tasks), "errors": failures(failed)}


@face.route("/team/{teamUUID}/tasks", methods=("GET",))
def list_tasks(request: FaceRequest, teamUUID: str):
    """Beyond ONES: a paged, filtered list served from an index."""
    query = core_validation.validate(v.ListQuery, request.query)
    return queries.list_tasks(request.principal, teamUUID, query)


@face.route("/team/{teamUUID}/task_stats", methods=("GET",))
def task_stats(request: FaceRequest, teamUUID: str):
    return queries.task_stats(request.principal, teamUUID)


@face.route("/team/{teamUUID}/task/{taskUUID}/info", methods=("GET",))
def task_info(request: FaceRequest, teamUUID: str, taskUUID: str):
    """By uuid or by the per-team number."""
    return queries.task_info(request.principal, teamUUID, taskUUID)


@face.route("/team/{teamUUID}/task/{taskUUID}/delete", methods=("POST",))
def delete_task(request: FaceRequest, teamUUID: str, taskUUID: str):
    deleting.delete_task(request.principal, teamUUID, taskUUID)
    return OK


@face.route("/team/{teamUUID}/task/{taskUUID}/copy", methods=("POST",))
def copy_task(request: FaceRequest, teamUUID: str, taskUUID: str):
    return copying.copy_task(request.principal, teamUUID, taskUUID, body(request, v.Copy))


@face.route("/team/{teamUUID}/task/{taskUUID}/transitions", methods=("GET",))
def task_transitions(request: FaceRequest, teamUUID: str, taskUUID: str):
    return transitions.transitions(request.principal, teamUUID, taskUUID)


@face.route("/team/{teamUUID}/task/{taskUUID}/new_transit", methods=("POST",))
def new_transit(request: FaceRequest, teamUUID: str, taskUUID: str):
    item = body(request, v.Transit)
    transitions.transit(request.principal, teamUUID, taskUUID, item.transition_uuid)
    return OK


@face.route("/team/{teamUUID}/task/{taskUUID}/related_tasks", methods=("POST",))
def related_tasks(request: FaceRequest, teamUUID: str, taskUUID: str):
    relations.relate(request.principal, teamUUID, taskUUID, body(request, v.Relate))
    return OK


@face.route("/team/{teamUUID}/task/{taskUUID}/delete/related_tasks", methods=("POST",))
def delete_related_tasks(request: FaceRequest, teamUUID: str, taskUUID: str):
    relations.unrelate(request.principal, teamUUID, taskUUID, body(request, v.Unrelate))
    return OK


@face.route("/team/{teamUUID}/task/{taskUUID}/activities", methods=("GET",))
def activities(request: FaceRequest, teamUUID: str, taskUUID: str):
    """Beyond ONES: who changed which field from what to what, and when."""
    query = core_validation.validate(v.PageQuery, request.query)
    return queries.activities(request.principal, teamUUID, taskUUID, query)
