"""TCA's wire: the envelope, the error body and its codes, DRF's paging and parsing.

Both of TCA's servers wrap every success as `{"data", "code": 0, "msg", "status_code"}`
(`msg` is the payload's own `msg` when it has one) and answer errors, unwrapped, as
`{"status_code", "code", "msg"[, "invalid_fields"]}`: code 1000 on the main server, 100 on
the analysis server, or the business code of the error (300 busy project, 110-115 SCM,
311/312/321 scheme). Messages are DRF's Chinese ones, as TCA's settings have them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from chalice import Response

from ..core.auth import register_permissions
from ..core.errors import BadRequest, TaskhubError
from ..core.face import Face, FaceRequest, json_response
from ..core.paging import OffsetPage
from ..scans import FACE_TCA

READ, WRITE, ADMIN = "read", "write", "admin"
register_permissions(
    FACE_TCA,
    {"viewer": {READ}, "member": {READ, WRITE}, "admin": {READ, WRITE, ADMIN}},
)

OK_MSG = "请求成功"
PAGE_SIZE = 10
MAX_LIMIT = 1000  # DRF's LimitOffsetPagination has none; a request here reads bounded
STATUS_TEXT = {
    401: "认证令牌无效。",
    403: "您没有执行该操作的权限。",
    404: "未找到。",
    405: "方法不被允许。",
    409: "资源冲突，请重试。",
    500: "服务器内部错误。",
    503: "服务暂不可用，请稍后重试。",
}
NOT_PROVIDED = "身份认证信息未提供。"


class Created:
    """A 201 answer (TCA's creates, but scans/create, which answers 200)."""

    def __init__(self, data: Any):
        self.data = data


def render(result: Any) -> Response:
    status = 200
    if isinstance(result, Created):
        status, result = 201, result.data
    msg = result.get("msg", OK_MSG) if isinstance(result, dict) else OK_MSG
    return json_response({"data": result, "code": 0, "msg": msg, "status_code": status}, status)


def _drf_message(problem: dict[str, Any]) -> str:
    """pydantic's account of a bad field in DRF's words."""
    kind = problem.get("type", "")
    ctx = problem.get("ctx") or {}
    if kind == "missing":
        return "该字段是必填项。"
    if kind.startswith("bool"):
        return "Must be a valid boolean."
    if kind.startswith("int") or kind == "float_parsing":
        return "请填写合法的整数值。"
    if kind == "string_too_long":
        return f"请确保这个字段不能超过 {ctx.get('max_length')} 个字符。"
    if kind == "string_too_short":
        return "该字段不能为空。"
    if kind == "greater_than_equal":
        return f"请确保该值大于或者等于 {ctx.get('ge')}。"
    if kind == "less_than_equal":
        return f"请确保该值小于或者等于 {ctx.get('le')}。"
    if kind in ("literal_error", "enum"):
        return "不是合法选项。"
    if kind == "too_long":
        return f"请确保这个字段不能超过 {ctx.get('max_length')} 个元素。"
    return "无效的输入。"


def error_renderer(default_code: int) -> Callable[[TaskhubError], Response]:
    def render_error(exc: TaskhubError) -> Response:
        status = exc.status
        code = getattr(exc, "code", None)
        code = code if isinstance(code, int) else default_code
        body: dict[str, Any] = {"status_code": status, "code": code}
        headers = None
        if status == 401:
            headers = {"WWW-Authenticate": "Token"}
            missing = exc.message == "missing credentials"
            body["msg"] = NOT_PROVIDED if missing else STATUS_TEXT[401]
        elif status == 400 and exc.problems:
            fields = []
            for problem in exc.problems[:5]:
                loc = problem.get("loc") or ("non_field_errors",)
                fields.append({"field": str(loc[0]), "message": [_drf_message(problem)]})
            first = fields[0]
            body["msg"] = f"{first['field']} {first['message'][0]}"
            body["invalid_fields"] = fields
        elif status == 400 and exc.field:
            body["msg"] = f"{exc.field} {exc.message}"
            body["invalid_fields"] = [{"field": exc.field, "message": [exc.message]}]
        elif status == 400:
            body["msg"] = exc.message
        else:
            body["msg"] = STATUS_TEXT.get(status, exc.message)
        return json_response(body, status, headers)

    return render_error


def make_face(import_name: str, prefix: str, default_code: int) -> Face:
    return Face(
        FACE_TCA,
        import_name,
        prefix=prefix,
        render=render,
        render_error=error_renderer(default_code),
        error_keys=("status_code", "code", "msg"),
    )


def paging(request: FaceRequest) -> tuple[int, int]:
    """(offset, limit) as DRF's LimitOffsetPagination reads them: a value that is not a
    non-negative integer is ignored (the default is used), as DRF ignores it."""

    def read(name: str, default: int) -> int:
        raw = request.query.get(name, "")
        try:
            value = int(raw)
        except ValueError:
            return default
        return value if value >= 0 else default

    limit = read("limit", PAGE_SIZE) or PAGE_SIZE
    return read("offset", 0), min(limit, MAX_LIMIT)


def page(request: FaceRequest, found: OffsetPage, offset: int, limit: int, rows: list) -> dict:
    """DRF's `{count, next, previous, results}` with absolute links, as TCA answers. A count
    that stopped at the read bound is what was read; `next` is then still given."""
    count = found.count

    def link(at: int | None) -> str | None:
        if at is None:
            return None
        query = {k: v for k, v in request.query.items() if k not in ("limit", "offset")}
        query["limit"] = str(limit)
        if at > 0:
            query["offset"] = str(at)
        return f"{request.base_url()}?{urlencode(query)}"

    following = offset + limit if offset + limit < count or found.truncated else None
    previous = None
    if offset > 0:
        previous = max(0, offset - limit)
    return {
        "count": count,
        "next": link(following),
        "previous": link(previous),
        "results": rows,
    }


def comma_ints(request: FaceRequest, name: str) -> set[int] | None:
    """A comma list of integers (django-filter's BaseInFilter); None when not given."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    values = set()
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            values.add(int(part))
        except ValueError:
            raise BadRequest("请输入一个数字列表。", field=name) from None
    return values


def int_param(request: FaceRequest, name: str) -> int | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest("请填写合法的整数值。", field=name) from None


def contains(request: FaceRequest, name: str) -> str | None:
    raw = request.query.get(name, "").strip()
    return raw.lower() if raw else None


def time_param(request: FaceRequest, name: str) -> int | None:
    """A datetime filter, ISO 8601 (no offset: UTC), as ms since the epoch."""
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        raise BadRequest("日期时间格式错误。", field=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
