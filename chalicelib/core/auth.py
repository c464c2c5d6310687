"""Who is calling, and may they do this here?

Every face accepts its native credentials and `Authorization: Bearer <token>`; they all
resolve to one `Principal`. Permissions are named by each face and granted per namespace
through the viewer/member/admin roles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .errors import Forbidden, Unauthorized
from .identity import service as identity
from .identity.service import User

# face -> role -> permission names of that face
_FACE_PERMISSIONS: dict[str, dict[str, frozenset[str]]] = {}


def register_permissions(face: str, roles: Mapping[str, Iterable[str]]) -> None:
    """A face names its permissions per role; roles missing from `roles` grant nothing."""
    _FACE_PERMISSIONS[face] = {role: frozenset(perms) for role, perms in roles.items()}


def permissions_for(face: str, role: str | None) -> frozenset[str]:
    if role is None:
        return frozenset()
    return _FACE_PERMISSIONS.get(face, {}).get(role, frozenset())


@dataclass
class Principal:
    user: User
    _roles: dict[tuple[str, str], str | None] = field(default_factory=dict, repr=False)

    @property
    def uuid(self) -> str:
        return self.user.uuid

    def role(self, face: str, ns_id: str) -> str | None:
        key = (face, ns_id)
        if key not in self._roles:
            self._roles[key] = identity.role_in(self.user.uuid, face, ns_id)
        return self._roles[key]

    def can(self, face: str, ns_id: str, permission: str) -> bool:
        if self.user.is_admin:
            return True
        return permission in permissions_for(face, self.role(face, ns_id))

    def require(self, face: str, ns_id: str, permission: str) -> None:
        if not self.can(face, ns_id, permission):
            raise Forbidden(f"permission denied: {permission}")

    def require_admin(self) -> None:
        if not self.user.is_admin:
            raise Forbidden("admin only")


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name) or headers.get(name.lower())
    return value.strip() if value else None


def authenticate(headers: Mapping[str, str]) -> Principal:
    """Resolve any accepted credential form to a Principal, or raise Unauthorized."""
    token = None
    authorization = _header(headers, "Authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in {"bearer", "token"} and value.strip():
            token = value.strip()
    token = token or _header(headers, "Ones-Auth-Token") or _header(headers, "X-Auth-Token")
    if not token:
        raise Unauthorized("missing credentials")
    user = identity.user_for_token(token)
    claimed = _header(headers, "Ones-User-Id")
    if claimed and claimed != user.uuid:
        raise Unauthorized("token does not belong to Ones-User-Id")
    return Principal(user)
