"""Who is calling, and may they do this here?

Every face accepts its native credentials and `Authorization: Bearer <token>`; they all
resolve to one `Principal`. Permissions are named by each face and granted per namespace
through the viewer/member/admin roles.

A request signed with an access key (Huawei's `SDK-HMAC-SHA256`, core.sdk_signing)
authenticates as the key's user, for any face: the signature is checked over the request's
method, path, query and raw body as received, against the key's secret decrypted for that
one check. An unknown (or revoked) key and a wrong signature are one answer to the client,
so the refusal does not tell which keys exist; the log keeps the reason (never the secret).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from . import sdk_signing
from .errors import Forbidden, Unauthorized
from .identity import service as identity
from .identity.service import User

log = logging.getLogger("taskhub.auth")

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

    def resolve_roles(self, face: str, parent: str, children: Iterable[str]) -> None:
        """Learn the roles in `parent` and in namespaces whose parent it is with one batched
        read of the children's own memberships: a child's role is its own, else its parent's,
        as `identity.role_in` walks them (one request may ask about many projects)."""
        inherited = self.role(face, parent)
        todo = [c for c in dict.fromkeys(children) if (face, c) not in self._roles]
        own = identity.own_roles(self.user.uuid, face, todo) if todo else {}
        for child in todo:
            self._roles[(face, child)] = own.get(child, inherited)

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


@dataclass(frozen=True)
class Received:
    """What a signature covers besides the headers, as the server received it: the path as
    on the wire (percent-encoded, as the client dialled it), the query with every value of a
    repeated key, and the raw body bytes."""

    method: str
    path: str | None
    query: Any
    body: bytes


class SignatureRejected(Unauthorized):
    """A signed request refused. `reason` is what a client may be told: an unknown key and a
    wrong signature are both SIGNATURE_MISMATCH here (the log has which it was)."""

    def __init__(self, reason: sdk_signing.Refusal):
        if reason is sdk_signing.Refusal.UNKNOWN_ACCESS_KEY:
            reason = sdk_signing.Refusal.SIGNATURE_MISMATCH
        super().__init__(
            "invalid signature"
            if reason is sdk_signing.Refusal.SIGNATURE_MISMATCH
            else reason.value
        )
        self.reason = reason


def _signer(headers: Mapping[str, str], received: Received | None, now: datetime | None) -> User:
    """The user whose access key signed the request, or SignatureRejected."""
    if received is None or not received.path:
        raise Unauthorized("a signed request cannot be checked here")
    owners: list[User] = []

    def secret_for(access_key: str) -> str | None:
        try:
            owner, secret = identity.access_key_secret(access_key)
        except Unauthorized:
            return None
        owners.append(owner)
        return secret

    try:
        sdk_signing.verify_request(
            method=received.method,
            path=received.path,
            query=received.query,
            headers=headers,
            body=received.body,
            now=now or datetime.now(UTC),
            secret_for=secret_for,
        )
    except sdk_signing.SignatureRefused as exc:
        log.info("signed request refused: %s", exc.reason.name)
        raise SignatureRejected(exc.reason) from None
    return owners[0]


def authenticate(
    headers: Mapping[str, str], received: Received | None = None, now: datetime | None = None
) -> Principal:
    """Resolve the credentials a request carries to one Principal, or raise Unauthorized.

    Every credential present must be valid and all must name the same user: a good Bearer
    token does not cover a bad `Ones-Auth-Token`, nor a good signature a bad `X-Auth-Token`.
    ONES's own pair needs both headers. An SDK-signed `Authorization` is checked against
    `received` (the request's method, path, query and body)."""
    tokens: list[str] = []
    found: list[User] = []
    authorization = _header(headers, "Authorization")
    if authorization and sdk_signing.is_sdk_authorization(authorization):
        found.append(_signer(headers, received, now))
    elif authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in {"bearer", "token"} and value.strip():
            tokens.append(value.strip())
    ones_token, ones_user = _header(headers, "Ones-Auth-Token"), _header(headers, "Ones-User-Id")
    if ones_token:
        if not ones_user:
            raise Unauthorized("Ones-Auth-Token needs Ones-User-Id")
        tokens.append(ones_token)
    x_auth = _header(headers, "X-Auth-Token")
    if x_auth:
        tokens.append(x_auth)
    if not tokens and not found:
        raise Unauthorized("missing credentials")
    found += map(identity.user_for_token, dict.fromkeys(tokens))
    users = {user.uuid: user for user in found}
    if len(users) > 1:
        raise Unauthorized("the credentials name different users")
    (user,) = users.values()
    if ones_user and ones_user != user.uuid:
        raise Unauthorized("token does not belong to Ones-User-Id")
    return Principal(user)
