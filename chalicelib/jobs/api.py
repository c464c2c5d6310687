"""The JOBX face (seed 002, open-c3 "分组作业"): groups, jobs, tasks run in batches over
machine groups, subtasks, logs, analysis and the third-party interface, under `/jobx`.

Envelope `{"stat": true, "data": ...}` (task creation adds `uuid`); errors
`{"stat": false, "info": "..."}` with the honest HTTP status. Permissions per project:
read, write, control (stop/confirm/rollback/next/retry/approve), delete.

Path variables: API Gateway wants one name per path level, so `/subtask/{projectid}/{uuid}`
takes a task uuid while `/subtask/{projectid}/{uuid}/confirm` (and its siblings) take a
subtask uuid; `/task/{projectid}/{uuid}/{control}` is rollback or norollback.
"""

from __future__ import annotations

from typing import Any

from chalice import Response

from ..core import lazy
from ..core.auth import register_permissions
from ..core.errors import BadRequest, Conflict, NotFound, TaskhubError
from ..core.face import Face, FaceRequest, json_response
from . import FACE

# the domain, imported by the first request that uses it (core.lazy)
catalog = lazy.module(".catalog", __package__)
inventory = lazy.module(".inventory", __package__)
oplog = lazy.module(".oplog", __package__)
reports = lazy.module(".reports", __package__)
runs = lazy.module(".runs", __package__)
transitions = lazy.module(".transitions", __package__)
views = lazy.module(".views", __package__)
schemas = lazy.module(".schemas", __package__)

register_permissions(
    FACE,
    {
        "viewer": {"read"},
        "member": {"read", "write", "control"},
        "admin": {"read", "write", "control", "delete"},
    },
)


class Data:
    """A success body with extra top-level keys next to `data` (uuid, cursor)."""

    def __init__(self, data: Any, **extra: Any):
        self.data, self.extra = data, extra


def _render(result: Any) -> Response:
    if isinstance(result, Data):
        return json_response({"stat": True, "data": result.data, **result.extra})
    return json_response({"stat": True, "data": result})


def _render_error(exc: TaskhubError) -> Response:
    info = exc.message
    if exc.status == 400 and exc.field and not info.startswith("check format fail"):
        # JOBX's wording for a bad parameter, with what is wrong with it when that says more
        detail = "" if info == f"{exc.field} is not valid" else f": {info}"
        info = f"check format fail {exc.field}{detail}"
    return json_response({"stat": False, "info": info}, exc.status)


face = Face(
    FACE,
    __name__,
    prefix="/jobx",
    render=_render,
    render_error=_render_error,
    error_keys=("stat", "info"),
)


def _allow(request: FaceRequest, project: str, permission: str) -> str:
    if len(project) > 64:
        raise BadRequest("check format fail projectid")
    request.principal.require(FACE, project, permission)
    return request.principal.uuid


def _parse(request: FaceRequest, model, data=None):
    try:
        return request.parse(model, data)
    except BadRequest as exc:
        head, colon, _ = exc.message.partition(":")
        field = head.split(".")[0]
        if not colon or not field.isidentifier():  # not a field's error: the body as a whole
            field = "body"
        raise BadRequest(f"check format fail {field}: {exc.message}") from exc


# ---- nodes (the inventory) --------------------------------------------------------------------


@face.route("/node/{projectid}", methods=("GET",))
def list_nodes(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    limit = request.integer("page_size", 500, 1, 1000)
    page = catalog.list_nodes(projectid, limit, request.query.get("cursor"))
    return Data(page["data"], cursor=page["cursor"])


@face.route("/node/{projectid}", methods=("POST",))
def put_node(request: FaceRequest, projectid: str):
    user = _allow(request, projectid, "write")
    node = _parse(request, inventory.NodeIn)
    catalog.save_node(projectid, user, node)
    return inventory.get(projectid, node.name)


@face.route("/node/{projectid}/{id}", methods=("DELETE",))
def delete_node(request: FaceRequest, projectid: str, id: str):
    user = _allow(request, projectid, "delete")
    catalog.delete_node(projectid, user, id)
    return 1


# ---- groups -------------------------------------------------------------------------------


@face.route("/group/{projectid}", methods=("GET",))
def list_groups(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    limit = request.integer("page_size", 1000, 1, 1000)
    page = catalog.list_groups(projectid, limit, request.query.get("cursor"))
    return Data(page["data"], cursor=page["cursor"])


@face.route("/group/{projectid}", methods=("POST",))
def create_group(request: FaceRequest, projectid: str):
    """JOBX answers `data: true`; the new id rides along as a top-level extra."""
    user = _allow(request, projectid, "write")
    group = catalog.create_group(projectid, user, _parse(request, schemas.GroupIn))
    return Data(True, id=group["id"])


@face.route("/group/{projectid}/{id}", methods=("GET",))
def get_group(request: FaceRequest, projectid: str, id: str):
    _allow(request, projectid, "read")
    return catalog.get_group(projectid, id)


@face.route("/group/{projectid}/{id}", methods=("POST",))
def update_group(request: FaceRequest, projectid: str, id: str):
    user = _allow(request, projectid, "write")
    catalog.update_group(projectid, user, id, _parse(request, schemas.GroupIn))
    return True


@face.route("/group/{projectid}/{id}", methods=("DELETE",))
def delete_group(request: FaceRequest, projectid: str, id: str):
    user = _allow(request, projectid, "delete")
    catalog.delete_group(projectid, user, id)
    return 1


@face.route("/group/{projectid}/{id}/node", methods=("GET",))
def group_nodes(request: FaceRequest, projectid: str, id: str):
    _allow(request, projectid, "read")
    return catalog.group_nodes(projectid, id)


# ---- jobs ---------------------------------------------------------------------------------


@face.route("/job/{projectid}", methods=("GET",))
def list_jobs(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    limit = request.integer("page_size", 1000, 1, 1000)
    page = catalog.list_jobs(projectid, limit, request.query.get("cursor"))
    return Data(page["data"], cursor=page["cursor"])


@face.route("/job/{projectid}", methods=("POST",))
def create_job(request: FaceRequest, projectid: str):
    user = _allow(request, projectid, "write")
    job = catalog.create_job(projectid, user, _parse(request, schemas.JobIn))
    return Data(job, uuid=job["uuid"])


@face.route("/job/{projectid}/{id}", methods=("GET",))
def get_job(request: FaceRequest, projectid: str, id: str):
    _allow(request, projectid, "read")
    return catalog.get_job(projectid, id)


@face.route("/job/{projectid}/{id}", methods=("POST",))
def update_job(request: FaceRequest, projectid: str, id: str):
    user = _allow(request, projectid, "write")
    return catalog.update_job(projectid, user, id, _parse(request, schemas.JobIn))


@face.route("/job/{projectid}/{id}", methods=("DELETE",))
def delete_job(request: FaceRequest, projectid: str, id: str):
    user = _allow(request, projectid, "delete")
    catalog.delete_job(projectid, user, id)
    return 1


# ---- tasks --------------------------------------------------------------------------------

TASK_FILTERS = ("name", "user", "status", "time_start", "time_end", "taskuuid")


@face.route("/task/{projectid}", methods=("GET",))
def list_tasks(request: FaceRequest, projectid: str):
    """JOBX's list: every task, oldest first (capped, see reports.all_tasks). `page_size` or
    `cursor` ask for one page instead, newest first; `order=asc|desc` sets either order."""
    _allow(request, projectid, "read")
    filters = {k: request.query[k][:128] for k in TASK_FILTERS if request.query.get(k)}
    cursor = request.query.get("cursor")
    paged = bool(cursor or request.query.get("page_size"))
    order = request.query.get("order") or ("desc" if paged else "asc")
    if order not in ("asc", "desc"):
        raise BadRequest("check format fail order: asc or desc")
    if paged:
        limit = request.integer("page_size", 20, 1, 100)
        page = reports.list_tasks(projectid, filters, limit, cursor, newest_first=order == "desc")
    else:
        page = reports.all_tasks(projectid, filters, newest_first=order == "desc")
    return Data(page["data"], cursor=page["cursor"])


@face.route("/task/{projectid}/count", methods=("GET",))
def count_tasks(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    return reports.count_tasks(projectid)


@face.route("/task/{projectid}/{uuid}", methods=("GET",))
def get_task(request: FaceRequest, projectid: str, uuid: str):
    _allow(request, projectid, "read")
    return reports.get_task(projectid, uuid)


@face.route("/task/{projectid}/job/byname", methods=("POST",))
def run_job(request: FaceRequest, projectid: str):
    user = _allow(request, projectid, "write")
    task, _ = runs.start_task(projectid, user, _parse(request, schemas.RunIn))
    return Data(views.render_task(task), uuid=task.uuid)


@face.route("/task/{projectid}/{uuid}/{control}", methods=("PUT",))
def control_task(request: FaceRequest, projectid: str, uuid: str, control: str):
    """JOBX answers `{stat: true, info: "ok"}`; a rollback adds its task's `uuid` (extra),
    which is also the deploy's uuid with the last letter upper-cased."""
    user = _allow(request, projectid, "control")
    child = runs.control_task(projectid, user, uuid, control)
    extra = {"uuid": child["uuid"]} if child is not None else {}
    return json_response({"stat": True, "info": "ok", **extra})


@face.route("/task/{projectid}/{uuid}", methods=("DELETE", "PUT"))
def stop_task(request: FaceRequest, projectid: str, uuid: str):
    user = _allow(request, projectid, "control")
    return views.render_task(runs.stop_task(projectid, user, uuid))


@face.route("/task/{projectid}/analysis/last", methods=("GET",))
def analysis_last(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    return reports.analysis_last(projectid, request.integer("count", 10, 1, 100))


@face.route("/task/{projectid}/analysis/date", methods=("GET",))
def analysis_date(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    return reports.analysis_date(projectid)


@face.route("/task/{projectid}/analysis/hour", methods=("GET",))
def analysis_hour(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    return reports.analysis_hour(projectid)


@face.route("/task/{projectid}/analysis/runtime", methods=("GET",))
def analysis_runtime(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    return reports.analysis_runtime(projectid)


# ---- subtasks -----------------------------------------------------------------------------


@face.route("/subtask/{projectid}/{uuid}", methods=("GET",))
def list_subtasks(request: FaceRequest, projectid: str, uuid: str):
    _allow(request, projectid, "read")
    return reports.list_subtasks(projectid, uuid)


@face.route("/subtask/{projectid}/{uuid}/confirm", methods=("PUT",))
def confirm_subtask(request: FaceRequest, projectid: str, uuid: str):
    user = _allow(request, projectid, "control")
    transitions.confirm(projectid, user, uuid)
    return 1


@face.route("/subtask/{projectid}/{uuid}/next", methods=("PUT",))
def next_subtask(request: FaceRequest, projectid: str, uuid: str):
    user = _allow(request, projectid, "control")
    transitions.resume(projectid, user, uuid)
    return 1


@face.route("/subtask/{projectid}/{uuid}/retry", methods=("PUT",))
def retry_subtask(request: FaceRequest, projectid: str, uuid: str):
    user = _allow(request, projectid, "control")
    body = _parse(request, schemas.RetryIn)
    transitions.retry(projectid, user, uuid, body.only_failed)
    return 1


@face.route("/subtask/{projectid}/{uuid}/approve", methods=("PUT",))
def approve_subtask(request: FaceRequest, projectid: str, uuid: str):
    user = _allow(request, projectid, "control")
    body = _parse(request, schemas.ApproveIn)
    transitions.approve(
        projectid, user, uuid, body.opinion, is_admin=request.principal.user.is_admin
    )
    return 1


@face.route("/subtask/{projectid}/{uuid}/node", methods=("GET",))
def subtask_nodes(request: FaceRequest, projectid: str, uuid: str):
    _allow(request, projectid, "read")
    limit = request.integer("page_size", 500, 1, 1000)
    attempt = request.integer("attempt", 0, 0, 999) or None
    page = reports.node_results(projectid, uuid, limit, request.query.get("cursor"), attempt)
    return Data(page["data"], cursor=page["cursor"])


@face.route("/subtask/{projectid}/{uuid}/node/{node}", methods=("GET",))
def subtask_node_output(request: FaceRequest, projectid: str, uuid: str, node: str):
    _allow(request, projectid, "read")
    step = request.integer("step", 0, 0, 49)
    offset = request.integer("offset", 0, 0, 2**40)
    limit = request.integer("limit", 65536, 1, 1024 * 1024)
    attempt = request.integer("attempt", 0, 0, 999) or None
    return reports.node_output(projectid, uuid, node, step, offset, limit, attempt)


# ---- logs ---------------------------------------------------------------------------------


@face.route("/log/{projectid}", methods=("GET",))
def operation_log(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    limit = request.integer("page_size", 50, 1, 200)
    page = oplog.list_oplog(projectid, limit, request.query.get("cursor"))
    return Data(page["data"], cursor=page["cursor"])


@face.route("/slave/{slave}/log/{uuid}", methods=("GET",))
def slave_log(request: FaceRequest, slave: str, uuid: str):
    """The text log, a page at a time: `X-Taskhub-Cursor` names the next page."""
    if len(uuid) > 64:
        raise BadRequest("check format fail uuid")
    text, more = reports.slave_log(request.principal, uuid, request.query.get("cursor"))
    headers = {"Content-Type": "text/plain; charset=utf-8"}
    if more:
        headers["X-Taskhub-Cursor"] = more
    return Response(body=text, status_code=200, headers=headers)


# ---- third-party interface ------------------------------------------------------------------


def _third(body: dict[str, Any]) -> Response:
    return json_response(body)


@face.route("/third/option/groupname", methods=("POST",))
def third_groupnames(request: FaceRequest):
    body = _parse(request, schemas.ProjectIn)
    _allow(request, body.project_id, "read")
    return catalog.group_names(body.project_id)


@face.route("/third/interface/dry-run", methods=("POST",))
def third_dry_run(request: FaceRequest):
    body = _parse(request, schemas.ThirdIn)
    _allow(request, body.project_id, "write")
    uuid = runs.third_uuid(body.uuid, body.retry_count)
    runs.plan(body.project_id, body.params.jobname, body.params.group, body.params.variable)
    if runs.uuid_taken(uuid):  # what invoke would answer as already created
        raise Conflict("uuid has already existed in the task")
    return _third({"stat": True, "uuid": uuid, "msg": "ok"})


@face.route("/third/interface/invoke", methods=("POST",))
def third_invoke(request: FaceRequest):
    """JOBX's answers: `{stat, uuid, data: 1}`, a repeat `{stat, info}` (uuid as an extra)."""
    body = _parse(request, schemas.ThirdIn)
    user = _allow(request, body.project_id, "write")
    params = body.params
    run = schemas.RunIn(
        jobname=params.jobname,
        group=params.group,
        variable=params.variable,
        uuid=runs.third_uuid(body.uuid, body.retry_count),
        callbacks=params.callback_urls(),
    )
    task, created = runs.start_task(
        body.project_id, user, run, calltype="api", given=params.given()
    )
    if not created:
        return _third(
            {"stat": True, "info": "This task has been successfully created", "uuid": task.uuid}
        )
    return _third({"stat": True, "uuid": task.uuid, "data": 1, "msg": "ok"})


@face.route("/third/interface/query", methods=("POST",))
def third_query(request: FaceRequest):
    body = _parse(request, schemas.UuidIn)
    try:
        deploy, answer = reports.third_query(runs.third_uuid(body.uuid, body.retry_count))
    except NotFound as exc:
        raise NotFound("no find uuid") from exc
    request.principal.require(FACE, deploy.project, "read")
    return _third(answer)


@face.route("/third/interface/stop", methods=("POST",))
def third_stop(request: FaceRequest):
    """Stops the rollback when one runs, else the deploy, recording "no rollback" as JOBX's
    `_skip_` row. A finished target answers JOBX's `jobx uuid:<uuid> status: <status>`."""
    body = _parse(request, schemas.UuidIn)
    uuid = runs.third_uuid(body.uuid, body.retry_count)
    try:
        deploy = runs.load_task(None, uuid)
    except NotFound as exc:
        raise NotFound("no find task") from exc
    user = _allow(request, deploy.project, "control")
    target = runs.load_task(None, deploy.rollback_task) if deploy.rollback_task else deploy
    if target is deploy:
        runs.mark_skip(deploy)
    if target.status not in ("init", "running"):
        info = f"jobx uuid:{target.uuid} status: {target.status}"
        if target is deploy:
            runs.stop_task(deploy.project, user, uuid, norollback=True)  # an open decision
        return _third({"stat": True, "info": info, "uuid": target.uuid})
    runs.stop_task(target.project, user, target.uuid, norollback=target is deploy)
    return _third({"stat": True, "uuid": target.uuid, "msg": "ok"})


# ---- crontabs (the schedules domain registers its routes on this face) ---------------------

from ..schedules import api as _crontabs  # noqa: E402, F401
