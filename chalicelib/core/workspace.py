"""The workspace document: one idempotent upsert of users, namespaces and each domain's data.

Each domain registers its own sections. `apply` validates every section before writing any,
so a bad document writes nothing; applying the same document twice changes nothing.

`export` reads the document back a page at a time, sections in their order, each section
through its own export function over Queries (never a Scan). Secrets are left out: users come
without password or token (only their hashes are stored), and access keys are not part of the
document. So applying an export to the same store changes nothing, and to an empty one makes
the same data, minus those secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from . import cursors, lazy
from .documents import merge  # noqa: F401 - the export's pages joined, also by clients
from .errors import BadRequest
from .face import namespace_faces
from .identity import service as identity
from .validation import describe_validation

ItemCheck = Callable[[list[Any], "Plan"], None]
ItemApply = Callable[[list[Any], "Plan"], dict[str, int]]
# export(page, position) -> where to go on from in this section, or None once it is all out
ItemExport = Callable[["Page", Any], Any]


@dataclass
class Section:
    name: str
    order: int
    item: type[BaseModel]
    check: ItemCheck | None
    apply: ItemApply
    export: ItemExport | None = None


SECTIONS: dict[str, Section] = {}


def section(
    name: str,
    item: type[BaseModel],
    *,
    order: int = 100,
    check: ItemCheck | None = None,
    export: ItemExport | None = None,
):
    """Register `fn(items, plan) -> {"created": n, "updated": n, "unchanged": n}` for a key;
    `export` adds the section's items to an export page (see `walk`)."""

    def decorator(fn: ItemApply) -> ItemApply:
        SECTIONS[name] = Section(name, order, item, check, fn, export)
        return fn

    return decorator


class Plan:
    """The validated document, so sections can check references across sections."""

    def __init__(self, items: dict[str, list[Any]]):
        self.items = items

    def get(self, name: str) -> list[Any]:
        return self.items.get(name, [])

    def user_exists(self, user_uuid: str) -> bool:
        return any(u.uuid == user_uuid for u in self.get("users")) or (
            identity.get_user(user_uuid) is not None
        )


def validate(document: Any) -> Plan:
    lazy.load_all()  # every domain's sections, not only those a request has loaded so far
    if not isinstance(document, dict):
        raise BadRequest("workspace document must be a JSON object")
    unknown = sorted(set(document) - set(SECTIONS))
    if unknown:
        raise BadRequest(
            f"unknown section(s): {', '.join(unknown)}; known: {', '.join(sorted(SECTIONS))}"
        )
    items: dict[str, list[Any]] = {}
    for name, value in document.items():
        try:
            items[name] = TypeAdapter(list[SECTIONS[name].item]).validate_python(value)
        except ValidationError as exc:
            raise BadRequest(f"{name}: {describe_validation(exc)}") from exc
    plan = Plan(items)
    for sec in sorted(SECTIONS.values(), key=lambda s: s.order):
        if sec.check and sec.name in items:
            sec.check(items[sec.name], plan)
    return plan


def apply(document: Any) -> dict[str, dict[str, int]]:
    plan = validate(document)
    report: dict[str, dict[str, int]] = {}
    for sec in sorted(SECTIONS.values(), key=lambda s: s.order):
        if sec.name in plan.items:
            report[sec.name] = sec.apply(plan.items[sec.name], plan)
    return report


def tally() -> dict[str, int]:
    return {"created": 0, "updated": 0, "unchanged": 0}


# ---- export ------------------------------------------------------------------------------

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

# rows(start, limit) -> (row, key to go on from after it: None after the last) for the rows
# after `start`, of which `walk` takes at most `limit`; inner(row, start, limit) -> (at most
# `limit` records of the row, key to go on from or None); emit(row, records) -> section items
Rows = Callable[[Any, int], Iterator[tuple[Any, Any]]]
Inner = Callable[[Any, Any, int], tuple[list[Any], Any]]
Emit = Callable[[Any, list[Any]], list[dict[str, Any]]]


@dataclass
class Page:
    """One export page: the items of the section being read, and how many more store records
    the page may take."""

    left: int
    items: list[dict[str, Any]] = field(default_factory=list)


def export(limit: int = DEFAULT_LIMIT, cursor: str | None = None) -> dict[str, Any]:
    """One page of the document: `{"workspace": {section: items}, "cursor": next or None}`."""
    if not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be from 1 to {MAX_LIMIT}", field="limit")
    lazy.load_all()
    ordered = [s for s in sorted(SECTIONS.values(), key=lambda s: s.order) if s.export]
    names = [s.name for s in ordered]
    position = cursors.decode(cursor)
    if position is not None and (set(position) - {"s", "at"} or position.get("s") not in names):
        raise BadRequest("cursor is not valid", field="cursor")
    first = names.index(position["s"]) if position else 0
    document: dict[str, list[dict[str, Any]]] = {}
    left, at = limit, position.get("at") if position else None
    for sec in ordered[first:]:
        if left <= 0:
            return {"workspace": document, "cursor": cursors.encode({"s": sec.name})}
        page = Page(left)
        at = sec.export(page, at)
        if page.items:
            document[sec.name] = page.items
        if at is not None:
            return {"workspace": document, "cursor": cursors.encode({"s": sec.name, "at": at})}
        left = page.left
    return {"workspace": document, "cursor": None}


def walk(page: Page, at: Any, rows: Rows, emit: Emit, inner: Inner | None = None) -> Any:
    """Add to the page the items of `rows`, each made with the records `inner` reads for it
    (a namespace's members, a team's statuses), until the page is full or the rows end.

    The position returned is `{"o": the key before the current row, "i": where in its records
    to go on}`, so a row with more records than a page takes goes on over the next pages (its
    members then come in parts: `merge` joins them). A row costs the page one per record read
    for it, and at least one, so every page moves on, and reads at most `limit` records and
    rows, and one lookahead Query of rows."""
    if at is not None and (not isinstance(at, dict) or set(at) - {"o", "i"}):
        raise BadRequest("cursor is not valid", field="cursor")
    before, inner_start = (at or {}).get("o"), (at or {}).get("i")
    found = rows(before, page.left)
    while page.left > 0:
        step = next(found, None)
        if step is None:
            return None
        row, after = step
        records, more = inner(row, inner_start, page.left) if inner else ([], None)
        page.left -= max(1, len(records))
        if records or inner_start is None:  # a row going on with nothing left adds nothing
            page.items.extend(emit(row, records))
        if more is not None:
            return {"o": before, "i": more}
        if after is None:  # that was the last row
            return None
        before, inner_start = after, None
    return {"o": before}


def members(ns: identity.Namespace, start: Any, limit: int) -> tuple[list[Any], Any]:
    """`inner` for rows that are namespaces: their members, as (user, role)."""
    return identity.members_page(ns.face, ns.ns_id, limit, start)


# ---- the core sections: users and namespaces ---------------------------------------------


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserItem(Strict):
    uuid: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{8}$")
    name: str = Field(min_length=1, max_length=128)
    email: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str | None = Field(default=None, min_length=6, max_length=256)
    token: str | None = Field(default=None, min_length=16, max_length=256)
    admin: bool = False


class NamespaceItem(Strict):
    face: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    id: str = Field(min_length=1, max_length=64)
    kind: str = Field(default="project", min_length=1, max_length=32)
    name: str = Field(default="", max_length=256)
    parent: str | None = Field(default=None, max_length=64)
    members: dict[str, str] = Field(default_factory=dict)


def _check_users(items: list[UserItem], plan: Plan) -> None:
    seen: set[str] = set()
    for user in items:
        if user.email.lower() in seen:
            raise BadRequest(f"users: duplicate email {user.email}")
        seen.add(user.email.lower())
        if user.token and user.uuid is None:
            raise BadRequest(f"users: {user.email} has a token but no fixed uuid")


def _check_namespaces(items: list[NamespaceItem], plan: Plan) -> None:
    faces = namespace_faces()
    for ns in items:
        if ns.face not in faces:
            raise BadRequest(
                f"namespaces: {ns.face}:{ns.id}: unknown face {ns.face}; known: {', '.join(faces)}"
            )
        for user_uuid, role in ns.members.items():
            if role not in identity.ROLES:
                raise BadRequest(f"namespaces: {ns.face}:{ns.id}: unknown role {role}")
            if not plan.user_exists(user_uuid):
                raise BadRequest(f"namespaces: {ns.face}:{ns.id}: unknown user {user_uuid}")


def _user_rows(start: Any, limit: int) -> Iterator[tuple[Any, Any]]:
    return identity.active_users(limit, start)


def _user_item(user: identity.User, _: list[Any]) -> list[dict[str, Any]]:
    """No password or token: only their hashes are kept. Users who are not active are left
    out rather than made active again where the document is applied."""
    return [{"uuid": user.uuid, "name": user.name, "email": user.email, "admin": user.is_admin}]


def _export_users(page: Page, at: Any) -> Any:
    return walk(page, at, _user_rows, _user_item)


def _namespace_rows(start: Any, limit: int) -> Iterator[tuple[Any, Any]]:
    """The namespaces of every loaded face, face by face (`{"face": f}`: the start of face
    f). Those of a face no longer loaded are left out: a document cannot name that face."""
    faces = namespace_faces()
    first = 0
    if start is not None:
        face = start.get("face") if isinstance(start, dict) else None
        if not isinstance(face, dict) or face.get("S") not in faces:
            raise BadRequest("cursor is not valid", field="cursor")
        first = faces.index(face["S"])
        start = None if set(start) == {"face"} else start
    for i in range(first, len(faces)):
        following = {"face": {"S": faces[i + 1]}} if i + 1 < len(faces) else None
        for ns, key in identity.namespaces_of_face(faces[i], limit, start):
            yield ns, key if key is not None else following
        start = None


def _namespace_item(ns: identity.Namespace, found: list[Any]) -> list[dict[str, Any]]:
    item: dict[str, Any] = {"face": ns.face, "id": ns.ns_id, "kind": ns.kind, "name": ns.name}
    if ns.parent:
        item["parent"] = ns.parent
    item["members"] = dict(found)
    return [item]


def _export_namespaces(page: Page, at: Any) -> Any:
    return walk(page, at, _namespace_rows, _namespace_item, members)


@section("users", UserItem, order=0, check=_check_users, export=_export_users)
def _apply_users(items: list[UserItem], plan: Plan) -> dict[str, int]:
    counts = tally()
    for item in items:
        found = (
            identity.get_user(item.uuid) if item.uuid else identity.find_user_by_email(item.email)
        )
        existed = found is not None
        user, changed = identity.upsert_user(
            uuid=item.uuid,
            name=item.name,
            email=item.email,
            password=item.password,
            is_admin=item.admin,
        )
        if item.token:
            _, created = identity.issue_token(user.uuid, name="workspace", token=item.token)
            changed = changed or created
        counts["unchanged" if not changed else "updated" if existed else "created"] += 1
    return counts


@section("namespaces", NamespaceItem, order=10, check=_check_namespaces, export=_export_namespaces)
def _apply_namespaces(items: list[NamespaceItem], plan: Plan) -> dict[str, int]:
    counts = tally()
    for item in items:
        existed = identity.get_namespace(item.face, item.id) is not None
        _, changed = identity.upsert_namespace(
            item.face, item.id, kind=item.kind, name=item.name, parent=item.parent
        )
        for user_uuid, role in item.members.items():
            changed = identity.set_membership(item.face, item.id, user_uuid, role) or changed
        counts["unchanged" if not changed else "updated" if existed else "created"] += 1
    return counts
