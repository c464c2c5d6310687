"""Huawei CodeArts Check (seed 004), under `/v2`: the operations Huawei's Python SDK
(`huaweicloudsdkcodeartscheck` / `huaweicloudsdkcodecheck`, v2 client) calls to make,
run, stop, poll and read a check task, with its wire names and JSON types.

Credentials: a request the SDK signed with an access key (`SDK-HMAC-SHA256`), the REST
docs' `X-Auth-Token`, or `Authorization: Bearer`. `{project_id}` is the CodeArts project
(a namespace of face `codearts`); `X-Project-Id`, when it names one, is checked too.
Paging: the task list's `offset` is a page index from 0 (the seed: 页码, 类似page_num);
the defect list's and check records' `offset` is the number of items skipped (偏移量).
"""

from __future__ import annotations

from ..core import lazy
from ..core.face import FaceRequest
from . import wire
from .wire import CREATE, DELETE, EXECUTE, UPDATE, VIEW

# the domain, imported by the first request that uses it (core.lazy)
defects = lazy.module(".defects", __package__)
reports = lazy.module(".reports", __package__)
runs = lazy.module(".runs", __package__)
schemas = lazy.module(".schemas", __package__)
tasks = lazy.module(".tasks", __package__)
views = lazy.module(".views", __package__)

face = wire.make_face(__name__, "/v2")

PROJECT_TASK = "/{project_id}/tasks/{task_id}"
TASK = "/tasks/{task_id}"


def caller(request: FaceRequest):
    tasks.check_header_project(request.principal, request.headers.get("x-project-id"))
    return request.principal


@face.route("/{project_id}/tasks", methods=("GET",))
def list_tasks(request: FaceRequest, project_id: str):
    """ShowTaskListByProjectId: limit 1-100 (default 10), offset a page index 0-999999."""
    limit = request.integer("limit", 10, 1, 100)
    offset = request.integer("offset", 0, 0, 999_999)
    rows, total = tasks.listing(caller(request), project_id, offset, limit, VIEW)
    return views.task_list(rows, total)


@face.route("/{project_id}/task", methods=("POST",))
def create_task(request: FaceRequest, project_id: str):
    principal = caller(request)
    body = request.parse(schemas.CreateTaskIn)
    return views.created(tasks.create(principal, project_id, body, CREATE))


@face.route(TASK, methods=("DELETE",))
def delete_task(request: FaceRequest, task_id: str):
    tasks.delete(caller(request), task_id, DELETE)
    return {}


@face.route(TASK + "/run", methods=("POST",))
def run_task(request: FaceRequest, task_id: str):
    principal = caller(request)
    body = request.parse(schemas.RunIn)
    return views.ran(runs.run(principal, task_id, body, EXECUTE))


@face.route(TASK + "/stop", methods=("POST",))
def stop_task(request: FaceRequest, task_id: str):
    runs.stop(caller(request), task_id, EXECUTE)
    return {}


@face.route(TASK + "/progress", methods=("GET",))
def progress(request: FaceRequest, task_id: str):
    return views.progress(runs.progress(caller(request), task_id, VIEW))


@face.route(TASK + "/defects-summary", methods=("GET",))
def defects_summary(request: FaceRequest, task_id: str):
    return views.summary(reports.summary(caller(request), task_id, VIEW))


@face.route(TASK + "/defects-detail", methods=("GET",))
def defects_detail(request: FaceRequest, task_id: str):
    """ShowTaskDefects: offset items skipped, limit 1-200 (default 10), status_ids (default
    0, pending) and severity comma lists."""
    offset = request.integer("offset", 0, 0, 999_999)
    limit = request.integer("limit", 10, 1, 200)
    statuses = wire.codes(request, "status_ids", range(3), {defects.PENDING})
    levels = wire.codes(request, "severity", range(4), None)
    found = defects.page(caller(request), task_id, offset, limit, statuses, levels, VIEW)
    return views.defect_page(found.rows, found.count)


@face.route(TASK + "/defects-statistic", methods=("GET",))
def defects_statistic(request: FaceRequest, task_id: str):
    return views.statistic(defects.statistic(caller(request), task_id, VIEW))


@face.route(TASK + "/defect-status", methods=("PUT",))
def defect_status(request: FaceRequest, task_id: str):
    principal = caller(request)
    body = request.parse(schemas.DefectStatusIn)
    defects.set_status(principal, task_id, body.defect_id, int(body.defect_status), UPDATE)
    return {}


@face.route(PROJECT_TASK + "/metrics-summary", methods=("GET",))
def metrics_summary(request: FaceRequest, project_id: str, task_id: str):
    return views.metrics(reports.metrics(caller(request), project_id, task_id, VIEW))


@face.route(PROJECT_TASK + "/checkrecord", methods=("GET",))
def check_record(request: FaceRequest, project_id: str, task_id: str):
    """CheckRecord: offset items skipped, limit 1-1000 (default 10), start_time/end_time on
    a run's start."""
    offset = request.integer("offset", 0, 0, 999_999)
    limit = request.integer("limit", 10, 1, 1000)
    start, end = wire.moment(request, "start_time"), wire.moment(request, "end_time")
    principal = caller(request)
    found = runs.records(principal, project_id, task_id, offset, limit, start, end, VIEW)
    return views.records(found.rows, found.count)
