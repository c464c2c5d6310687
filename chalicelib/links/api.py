"""DTask face (seed 000 "Task 接口"): tasks, their Tower todo and links, under `/dtask`.

Envelope `{"error": false, "result": ...}`; errors `{"error": true, "result": "<message>"}`
with the honest HTTP status. The seed's paths that end in `/` (`POST /task/`,
`GET|DELETE /task/:task_id/tower/todo/`) answer with and without the slash: API Gateway,
`chalice local` and the Chalice test client all route `/x/` to the route `/x`.

Beyond the seed: the original's successor, flat links between any two tracker items
(`PUT|DELETE|GET /dtask/links`, form, query or JSON parameters).

Permissions live in one DTask namespace per deployment (`TASKHUB_DTASK_NAMESPACE`, default
`default`): `read` for viewers, `read` + `write` for members and admins.
"""

from __future__ import annotations

from ..core import lazy
from ..core.auth import register_permissions
from ..core.errors import BadRequest, TaskhubError
from ..core.face import Face, FaceRequest, json_response
from .config import links_config

# the domain, imported by the first request that uses it (core.lazy)
service = lazy.module(".service", __package__)
schemas = lazy.module(".schemas", __package__)

FACE = "dtask"
READ, WRITE = "read", "write"

register_permissions(FACE, {"viewer": {READ}, "member": {READ, WRITE}, "admin": {READ, WRITE}})


class Capped:
    """A result read up to a cap: the rest is named by the `X-Taskhub-Cursor` header (pass it
    back as `cursor`), so the body stays the original's."""

    def __init__(self, result, cursor: str | None):
        self.result, self.cursor = result, cursor


def _render(result):
    if isinstance(result, Capped):
        headers = {"X-Taskhub-Cursor": result.cursor} if result.cursor else None
        return json_response({"error": False, "result": result.result}, headers=headers)
    return json_response({"error": False, "result": result})


def _render_error(exc: TaskhubError):
    return json_response({"error": True, "result": exc.message}, exc.status)


face = Face(
    FACE,
    __name__,
    prefix="/dtask",
    render=_render,
    render_error=_render_error,
    error_keys=("error", "result"),
)


def _allow(request: FaceRequest, permission: str) -> None:
    request.principal.require(FACE, links_config().namespace, permission)


# ---- tasks --------------------------------------------------------------------------------


@face.route("/task", methods=("POST",))
def create_task(request: FaceRequest):
    """`POST /task/`: a new task; the result is its 24-hex id."""
    _allow(request, WRITE)
    return service.create_task()


@face.route("/task/{task_id}", methods=("GET",))
def get_task(request: FaceRequest, task_id: str):
    _allow(request, READ)
    return service.get_task(task_id)


@face.route("/task/{task_id}", methods=("DELETE",))
def delete_task(request: FaceRequest, task_id: str):
    _allow(request, WRITE)
    service.delete_task(task_id)
    return True


@face.route("/task/{task_id}/tower/todo", methods=("GET",))
def get_tower_todo(request: FaceRequest, task_id: str):
    """`GET /task/:task_id/tower/todo/`: the guid, or null when none is set."""
    _allow(request, READ)
    return service.tower_todo(task_id)


@face.route("/task/{task_id}/tower/todo/{todo_guid}", methods=("PUT",))
def set_tower_todo(request: FaceRequest, task_id: str, todo_guid: str):
    _allow(request, WRITE)
    service.set_tower_todo(task_id, todo_guid)
    return True


@face.route("/task/{task_id}/tower/todo", methods=("DELETE",))
def delete_tower_todo(request: FaceRequest, task_id: str):
    _allow(request, WRITE)
    service.set_tower_todo(task_id, None)
    return True


# ---- links --------------------------------------------------------------------------------


@face.route("/task/{task_id}/link/{target}/{target_id}", methods=("PUT",))
def link(request: FaceRequest, task_id: str, target: str, target_id: str):
    """Linking an item twice is a no-op; both answer true."""
    _allow(request, WRITE)
    service.link(task_id, target, target_id)
    return True


@face.route("/task/{task_id}/link/{target}/{target_id}", methods=("DELETE",))
def unlink(request: FaceRequest, task_id: str, target: str, target_id: str):
    _allow(request, WRITE)
    service.unlink(task_id, target, target_id)
    return True


@face.route("/task/{task_id}/link", methods=("GET",))
def links_of(request: FaceRequest, task_id: str):
    _allow(request, READ)
    return service.links_of(task_id)


@face.route("/task/{task_id}/link/{target}", methods=("GET",))
def links_of_target(request: FaceRequest, task_id: str, target: str):
    _allow(request, READ)
    return service.links_of_target(task_id, target)


@face.route("/task/link/{target}/{target_id}", methods=("GET",))
def tasks_linked_to(request: FaceRequest, target: str, target_id: str):
    """Reverse lookup, served from the link index."""
    _allow(request, READ)
    return Capped(*service.tasks_linked_to(target, target_id, request.query.get("cursor")))


@face.route("/task/link/{target}/{target_id}", methods=("DELETE",))
def unlink_everywhere(request: FaceRequest, target: str, target_id: str):
    _allow(request, WRITE)
    service.unlink_everywhere(target, target_id)
    return True


@face.route("/task/{task_id}/link_info", methods=("GET",))
def link_info(request: FaceRequest, task_id: str):
    """Live state of every linked item from its tracker; failures are lines, not errors."""
    _allow(request, READ)
    return service.link_info(task_id)


# ---- the successor's flat links -----------------------------------------------------------
# Two forms of the successor's parameters are taken: the later one names each parameter
# after its target (`bugzilla=1&gerrit=2`; on GET the wanted side is `-` and the answer is a
# list of its ids), the earlier one spells them out (`target_a`, `a_id`, `target_b`, `b_id`;
# on GET `target`, `id`, answering target -> ids).

WANTED = "-"


def _params(request: FaceRequest) -> dict:
    """Form or JSON body (even on GET, as the original's clients send it), else the query."""
    body = request.json()
    if not isinstance(body, dict):
        raise BadRequest("parameters must be form fields, a JSON object or a query string")
    return {**request.query, **body}


def _named(params: dict) -> list[tuple[str, str]]:
    """The later form's two items, (target, id), from parameters named after targets."""
    names = service.flat_names()
    items = []
    for name, value in params.items():
        if name not in names:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise BadRequest(f"{name}: expected an id")
        value = str(value).strip()
        if not value or len(value) > 600:
            raise BadRequest(f"{name}: expected an id of 1 to 600 characters")
        items.append((name, value))
    if len(items) != 2:
        raise BadRequest(
            f"give two items: two parameters named after targets ({', '.join(names)}), "
            "e.g. bugzilla=1&gerrit=2, or target_a, a_id, target_b, b_id"
        )
    return items


def _pair(request: FaceRequest) -> tuple[str, str, str, str]:
    params = _params(request)
    if not {"target_a", "a_id", "target_b", "b_id"} & params.keys():
        (target_a, a_id), (target_b, b_id) = _named(params)
        return target_a, a_id, target_b, b_id
    pair = request.parse(schemas.ItemPair, params)
    return pair.target_a, pair.a_id, pair.target_b, pair.b_id


@face.route("/links", methods=("PUT",))
def link_items(request: FaceRequest):
    """Link two items directly; idempotent."""
    _allow(request, WRITE)
    service.link_items(*_pair(request))
    return True


@face.route("/links", methods=("DELETE",))
def unlink_items(request: FaceRequest):
    _allow(request, WRITE)
    service.unlink_items(*_pair(request))
    return True


@face.route("/links", methods=("GET",))
def items_linked_to(request: FaceRequest):
    """What one item is linked to: the ids of the `-` target (later form), or target -> ids
    (`target`, `id`)."""
    _allow(request, READ)
    params = _params(request)
    if not {"target", "id"} & params.keys():
        (first, first_id), (second, second_id) = _named(params)
        if (first_id == WANTED) == (second_id == WANTED):
            raise BadRequest("one of the two must be '-', the target whose ids are wanted")
        cursor = request.query.get("cursor")
        if first_id == WANTED:
            return Capped(*service.items_linked_to(second, second_id, only=first, cursor=cursor))
        return Capped(*service.items_linked_to(first, first_id, only=second, cursor=cursor))
    item = request.parse(schemas.Item, params)
    return Capped(
        *service.items_linked_to(item.target, item.id, cursor=request.query.get("cursor"))
    )
