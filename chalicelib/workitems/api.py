"""ONES work items face (seed 001, ONES legacy task API) under `/project/api/project`.

Success bodies are the documented ones; errors are `{"code", "errcode", "type", "desc"}`.
ONES-specific codes travel in the body with an honest HTTP status: 603/610 -> 404,
607/611/801/821 -> 400, 608/820 -> 409; 401/403/404/500 are their own HTTP status.
"""

from __future__ import annotations

import re

from ..core.auth import register_permissions
from ..core.errors import BadRequest, TaskhubError
from ..core.face import Face, FaceRequest, json_response, parse_json
from . import service
from . import validation as v
from .catalog import FACE

OK = {"code": 200, "errcode": "OK", "type": "OK"}

# ONES code -> (HTTP status, type, errcode)
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
DEFAULT_CODE = {400: 801, 401: 401, 403: 403, 404: 404, 409: 608, 503: 503}


def render_error(exc: TaskhubError):
    code = exc.code if exc.code in CODES else DEFAULT_CODE.get(exc.status, 500)
    status, kind, errcode = CODES[code]
    return json_response(
        {"code": code, "errcode": errcode, "type": kind, "desc": exc.message}, status
    )


face = Face(
    FACE,
    __name__,
    prefix="/project/api/project",
    render=json_response,
    render_error=render_error,
    error_keys=("code", "errcode", "type"),
)
register_permissions(FACE, service.PERMISSIONS)


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
            raise BadRequest(exc.message, code=service.INVALID) from exc
        try:
            data = parse_json(strip_comments(text))
        except BadRequest as again:
            raise BadRequest(again.message, code=service.INVALID) from exc
        if not isinstance(data, dict):
            raise BadRequest("request body must be a JSON object", code=service.INVALID) from exc
    return service.parse(model, data)


@face.route("/auth/login", methods=("POST",), public=True)
def login(request: FaceRequest):
    """The only public route: email + password -> user with uuid and token."""
    item = body(request, v.Login)
    return service.login(item.email, item.password)


@face.route("/team/{teamUUID}/tasks/add2", methods=("POST",))
def add_tasks(request: FaceRequest, teamUUID: str):
    return service.add_tasks(request.principal, teamUUID, body(request, v.Batch).tasks)


@face.route("/team/{teamUUID}/tasks/update2", methods=("POST",))
def update2(request: FaceRequest, teamUUID: str):
    return service.update_tasks(request.principal, teamUUID, body(request, v.Batch).tasks)


@face.route("/team/{teamUUID}/tasks/update3", methods=("POST",))
def update3(request: FaceRequest, teamUUID: str):
    return service.update_tasks(request.principal, teamUUID, body(request, v.Batch).tasks)


@face.route("/team/{teamUUID}/tasks/info", methods=("GET", "POST"))
def tasks_info(request: FaceRequest, teamUUID: str):
    if request.method == "GET":
        raw = request.query.get("ids", "")
        data = {"ids": [i.strip() for i in raw.split(",") if i.strip()]}
        ids = service.parse(v.Ids, data).ids
    else:
        ids = body(request, v.Ids).ids
    return service.tasks_info(request.principal, teamUUID, ids)


@face.route("/team/{teamUUID}/tasks", methods=("GET",))
def list_tasks(request: FaceRequest, teamUUID: str):
    """Beyond ONES: a paged, filtered list served from an index."""
    query = service.parse(v.ListQuery, request.query)
    return service.list_tasks(request.principal, teamUUID, query)


@face.route("/team/{teamUUID}/task_stats", methods=("GET",))
def task_stats(request: FaceRequest, teamUUID: str):
    return service.task_stats(request.principal, teamUUID)


@face.route("/team/{teamUUID}/task/{taskUUID}/info", methods=("GET",))
def task_info(request: FaceRequest, teamUUID: str, taskUUID: str):
    """By uuid or by the per-team number."""
    return service.task_info(request.principal, teamUUID, taskUUID)


@face.route("/team/{teamUUID}/task/{taskUUID}/delete", methods=("POST",))
def delete_task(request: FaceRequest, teamUUID: str, taskUUID: str):
    service.delete_task(request.principal, teamUUID, taskUUID)
    return OK


@face.route("/team/{teamUUID}/task/{taskUUID}/copy", methods=("POST",))
def copy_task(request: FaceRequest, teamUUID: str, taskUUID: str):
    return service.copy_task(request.principal, teamUUID, taskUUID, body(request, v.Copy))


@face.route("/team/{teamUUID}/task/{taskUUID}/transitions", methods=("GET",))
def transitions(request: FaceRequest, teamUUID: str, taskUUID: str):
    return service.transitions(request.principal, teamUUID, taskUUID)


@face.route("/team/{teamUUID}/task/{taskUUID}/new_transit", methods=("POST",))
def new_transit(request: FaceRequest, teamUUID: str, taskUUID: str):
    item = body(request, v.Transit)
    service.transit(request.principal, teamUUID, taskUUID, item.transition_uuid)
    return OK


@face.route("/team/{teamUUID}/task/{taskUUID}/related_tasks", methods=("POST",))
def related_tasks(request: FaceRequest, teamUUID: str, taskUUID: str):
    service.relate(request.principal, teamUUID, taskUUID, body(request, v.Relate))
    return OK


@face.route("/team/{teamUUID}/task/{taskUUID}/delete/related_tasks", methods=("POST",))
def delete_related_tasks(request: FaceRequest, teamUUID: str, taskUUID: str):
    service.unrelate(request.principal, teamUUID, taskUUID, body(request, v.Unrelate))
    return OK


@face.route("/team/{teamUUID}/task/{taskUUID}/activities", methods=("GET",))
def activities(request: FaceRequest, teamUUID: str, taskUUID: str):
    """Beyond ONES: who changed which field from what to what, and when."""
    query = service.parse(v.PageQuery, request.query)
    return service.activities(request.principal, teamUUID, taskUUID, query)
