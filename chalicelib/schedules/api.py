"""Cron schedules of JOBX jobs on the JOBX face, under `/jobx/crontab/{projectid}`, shaped
as open-c3's JOB crontab routes: list, count, get, create, edit, status, delete. Envelope
and errors are JOBX's; reading needs `read`, setting `write`, deleting `delete`. Naming
another user as `run_as` takes the project's admin role. Scan schedules are set in the
workspace document (`schedules`, see workspace.py)."""

from __future__ import annotations

from ..core import lazy
from ..core.errors import BadRequest
from ..core.face import FaceRequest
from ..jobs import FACE
from ..jobs.api import Data, _allow, _parse, face

crontabs = lazy.module(".crontabs", __package__)
schemas = lazy.module(".schemas", __package__)
lazy.module(".workspace", __package__)  # registers the `schedules` workspace section


def _run_as(request: FaceRequest, projectid: str, given: str | None) -> str:
    caller = request.principal
    if given in (None, caller.uuid):
        return caller.uuid
    if not caller.user.is_admin and caller.role(FACE, projectid) != "admin":
        raise BadRequest("check format fail run_as: only a project admin may name another user")
    return given


@face.route("/crontab/{projectid}", methods=("GET",))
def list_crontabs(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    limit = request.integer("page_size", 500, 1, 500)
    rows, cursor = crontabs.listing(projectid, limit, request.query.get("cursor"))
    return Data(rows, cursor=cursor)


@face.route("/crontab/{projectid}/count", methods=("GET",))
def count_crontabs(request: FaceRequest, projectid: str):
    _allow(request, projectid, "read")
    return crontabs.count(projectid)


@face.route("/crontab/{projectid}", methods=("POST",))
def create_crontab(request: FaceRequest, projectid: str):
    user = _allow(request, projectid, "write")
    body = _parse(request, schemas.CrontabIn)
    run_as = _run_as(request, projectid, body.run_as)
    created = crontabs.create(projectid, user, body, run_as)
    return Data(created, id=created["id"])


@face.route("/crontab/{projectid}/{crontabid}", methods=("GET",))
def get_crontab(request: FaceRequest, projectid: str, crontabid: str):
    _allow(request, projectid, "read")
    return crontabs.get(projectid, crontabid)


@face.route("/crontab/{projectid}/{crontabid}", methods=("POST",))
def update_crontab(request: FaceRequest, projectid: str, crontabid: str):
    user = _allow(request, projectid, "write")
    body = _parse(request, schemas.CrontabIn)
    run_as = _run_as(request, projectid, body.run_as)
    return crontabs.update(projectid, crontabid, user, body, run_as)


@face.route("/crontab/{projectid}/{crontabid}/status", methods=("POST",))
def crontab_status(request: FaceRequest, projectid: str, crontabid: str):
    user = _allow(request, projectid, "write")
    body = _parse(request, schemas.StatusIn)
    return crontabs.switch(projectid, crontabid, user, body.status == "available")


@face.route("/crontab/{projectid}/{crontabid}", methods=("DELETE",))
def delete_crontab(request: FaceRequest, projectid: str, crontabid: str):
    _allow(request, projectid, "delete")
    crontabs.delete(projectid, crontabid)
    return 1
