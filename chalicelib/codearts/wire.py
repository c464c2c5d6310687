"""CodeArts Check's wire: documented bodies on success, `{"error_code", "error_msg"}` on
error, an `X-Request-Id` on every answer, and the error codes, in one place.

Huawei documents its CC codes with HTTP 200 (`api-codecheck/ErrorCode.html`), which the SDK
turns into a response of empty fields, raising nothing; here every error has its honest
status, so the SDK raises `ClientRequestException` with `status_code`, `error_code`,
`error_msg` and `request_id` filled. The codes are Huawei's where one fits:

| status | code | when |
| --- | --- | --- |
| 400 | CC.00050000 | a parameter or body is not valid (the message says which) |
| 401 | CC.00000003 | a signature whose X-Sdk-Date is more than 15 minutes off |
| 401 | CC.00050007 | no credentials, an unknown or revoked token or key, a bad signature |
| 403 | CC.00050010 | no permission in the CodeArts project |
| 404 | CC.00050013 | the CodeArts project does not exist |
| 404 | CC.10010204 | the task does not exist (or is another project's) |
| 404 | CC.00050000 | a defect id the task does not have |
| 409 | CC.00050015 | the task is running: a run while one is open |
| 409 | CC.00050012 | a write raced another; retry |
| 500 | CC.00050006 | an internal error (its detail stays in the log) |
| 503 | CC.00050012 | busy; retry later |
"""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime
from typing import Any

from chalice import Response

from ..core.auth import register_permissions
from ..core.errors import BadRequest, Conflict, TaskhubError
from ..core.face import Face, FaceRequest, json_response
from . import FACE

VIEW, CREATE, EXECUTE, UPDATE, DELETE = (
    "task:view",
    "task:create",
    "task:execute",
    "task:update",
    "task:delete",
)
register_permissions(
    FACE,
    {
        "viewer": {VIEW},
        "member": {VIEW, CREATE, EXECUTE, UPDATE},
        "admin": {VIEW, CREATE, EXECUTE, UPDATE, DELETE},
    },
)

PARAMS = "CC.00050000"
EXPIRED = "CC.00000003"
INNER = "CC.00050006"
IAM = "CC.00050007"
NO_PERMISSION = "CC.00050010"
BUSY = "CC.00050012"
PROJECT_MISSING = "CC.00050013"
RUNNING = "CC.00050015"
TASK_MISSING = "CC.10010204"

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # as the seed's examples: "2020-02-20 11:21:11", UTC


def _request_id() -> dict[str, str]:
    return {"X-Request-Id": uuid.uuid4().hex}


def render(result: Any) -> Response:
    return json_response({} if result is None else result, 200, _request_id())


def _is(exc: Exception, module: str, name: str) -> bool:
    """isinstance against a domain's error class, without importing the domain: an error
    of a module not loaded yet cannot have been raised."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(exc, getattr(loaded, name))


def classify(exc: TaskhubError) -> tuple[int, str, str]:
    """(status, code, message) of a domain error: the one place this face maps them."""
    if _is(exc, "chalicelib.core.auth", "SignatureRejected") and exc.reason.name == (
        "DATE_OUT_OF_RANGE"
    ):
        return 401, EXPIRED, "认证信息过期 (X-Sdk-Date is more than 15 minutes off)"
    if exc.status == 401:
        return 401, IAM, f"IAM校验失败: {exc.message}"
    if exc.status == 403:
        return 403, NO_PERMISSION, "权限不足"
    if _is(exc, "chalicelib.scans.owners", "NamespaceMissing"):
        return 404, PROJECT_MISSING, "项目不存在或项目已被删除"
    if _is(exc, "chalicelib.codearts.tasks", "TaskMissing"):
        return 404, TASK_MISSING, "任务不存在或者已被删除,请检查请求参数是否正确"
    if _is(exc, "chalicelib.scans.queries", "IssueMissing"):
        return 404, PARAMS, f"parameters not valid: defect_id ({exc.message})"
    if _is(exc, "chalicelib.scans.codes", "ProjectBusy"):
        return 409, RUNNING, "任务正在执行,稍后重试"
    if isinstance(exc, Conflict):
        return 409, BUSY, f"网络繁忙,请稍后再试 ({exc.message})"
    if exc.status == 400:
        return 400, PARAMS, f"parameters not valid: {exc.message}"
    if exc.status == 404:
        return 404, PARAMS, f"parameters not valid: {exc.message}"
    if exc.status == 503:
        return 503, BUSY, "网络繁忙,请稍后再试"
    return 500, INNER, "服务内部错误"


def render_error(exc: TaskhubError) -> Response:
    status, code, message = classify(exc)
    return json_response({"error_code": code, "error_msg": message}, status, _request_id())


def make_face(import_name: str, prefix: str) -> Face:
    return Face(
        FACE,
        import_name,
        prefix=prefix,
        render=render,
        render_error=render_error,
        error_keys=("error_code", "error_msg"),
    )


# ---- parameters ------------------------------------------------------------------------------


def codes(request: FaceRequest, name: str, allowed: range, default: set[int] | None):
    """A comma list of small integers (`status_ids=0,1`), each in `allowed`; `default` when
    the parameter is not given."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return default
    values = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isascii() or not part.isdigit() or int(part) not in allowed:
            raise BadRequest(
                f"{name} must be a comma list of {allowed.start} to {allowed.stop - 1}",
                field=name,
            )
        values.add(int(part))
    return values or default


def moment(request: FaceRequest, name: str) -> int | None:
    """A time filter: `2026-01-02 03:04:05` or ISO 8601 (UTC unless it says), or ms since
    the epoch; as ms."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 15:
        return int(raw)
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be a time such as 2026-01-02 03:04:05", field=name) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def when(ms: int | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).strftime(TIME_FORMAT)
