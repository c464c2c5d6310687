"""The workspace document: one idempotent upsert of users, namespaces and each domain's data.

Each domain registers its own sections. `apply` validates every section before writing any,
so a bad document writes nothing; applying the same document twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import BadRequest
from .face import describe_validation, namespace_faces
from .identity import service as identity

ItemCheck = Callable[[list[Any], "Plan"], None]
ItemApply = Callable[[list[Any], "Plan"], dict[str, int]]


@dataclass
class Section:
    name: str
    order: int
    item: type[BaseModel]
    check: ItemCheck | None
    apply: ItemApply


SECTIONS: dict[str, Section] = {}


def section(name: str, item: type[BaseModel], *, order: int = 100, check: ItemCheck | None = None):
    """Register `fn(items, plan) -> {"created": n, "updated": n, "unchanged": n}` for a key."""

    def decorator(fn: ItemApply) -> ItemApply:
        SECTIONS[name] = Section(name, order, item, check, fn)
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


@section("users", UserItem, order=0, check=_check_users)
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


@section("namespaces", NamespaceItem, order=10, check=_check_namespaces)
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
