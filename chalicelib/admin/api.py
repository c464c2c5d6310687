"""HTTP admin surface. Envelope: the plain result; errors `{"error": {"code", "message"}}`."""

from __future__ import annotations

from ..core import lazy
from ..core.errors import TaskhubError
from ..core.face import Face, FaceRequest, json_response

workspace = lazy.module("chalicelib.core.workspace")
service = lazy.module(".service", __package__)


def _render_error(exc: TaskhubError):
    return json_response({"error": {"code": exc.kind, "message": exc.message}}, exc.status)


face = Face(
    "admin",
    __name__,
    prefix="/admin/v1",
    render=json_response,
    render_error=_render_error,
    error_keys=("error",),
    namespaced=False,
)


@face.route("/workspace", methods=("GET",))
def get_workspace(request: FaceRequest):
    """One page of the workspace document PUT takes, secrets left out; `cursor` goes on."""
    request.principal.require_admin()
    limit = request.integer("limit", workspace.DEFAULT_LIMIT, 1, workspace.MAX_LIMIT)
    return service.export_workspace(limit, request.query.get("cursor"))


@face.route("/workspace", methods=("PUT",))
def put_workspace(request: FaceRequest):
    """Upsert users, namespaces and every domain's sections; idempotent."""
    request.principal.require_admin()
    return {"applied": service.apply_workspace(request.object())}


@face.route("/access-keys/{access_key_id}", methods=("DELETE",))
def revoke_access_key(request: FaceRequest, access_key_id: str):
    """Revoke an AK/SK pair at once (a leaked key), without AWS credentials; idempotent."""
    request.principal.require_admin()
    return service.revoke_access_key(access_key_id)


# completion webhooks' deliveries (chalicelib/webhooks)
from ..webhooks import api as webhooks_api  # noqa: E402

webhooks_api.register(face)
