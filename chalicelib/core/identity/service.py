"""Identity operations: users, tokens, access keys, namespaces and memberships.

Every write here is an upsert keyed by a natural id, so applying the same workspace
document twice changes nothing.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, PutError

from .. import crypto, cursors, ids
from ..errors import BadRequest, NotFound, Unauthorized
from .models import AccessKeyModel, MembershipModel, NamespaceModel, TokenModel, UserModel

ROLES = ("viewer", "member", "admin")
ACTIVE = "active"  # the status of a user who may sign in; no other status is written yet
USER_UUID_RE = re.compile(r"^[A-Za-z0-9]{8}$")


@dataclass(frozen=True)
class User:
    uuid: str
    name: str
    email: str
    is_admin: bool
    status: str

    @classmethod
    def of(cls, model: UserModel) -> User:
        return cls(model.uuid, model.name, model.email, bool(model.is_admin), model.status)


@dataclass(frozen=True)
class Namespace:
    face: str
    ns_id: str
    kind: str
    name: str
    parent: str | None

    @property
    def key(self) -> str:
        return namespace_key(self.face, self.ns_id)


def namespace_key(face: str, ns_id: str) -> str:
    return f"{face}:{ns_id}"


# ---- users -------------------------------------------------------------------------------


def get_user(uuid: str) -> User | None:
    try:
        return User.of(UserModel.get(uuid))
    except DoesNotExist:
        return None


def active_users(limit: int, start: dict | None) -> Iterator[tuple[User, dict | None]]:
    """The user directory: active users in uuid order, each with the key to go on after it."""
    start = cursors.check_key(start, ACTIVE, "status", "uuid")
    found = UserModel.by_status.query(ACTIVE, limit=limit, last_evaluated_key=start)
    for model, key in cursors.keyed(found):
        yield User.of(model), key


def find_user_by_email(email: str) -> User | None:
    for hit in UserModel.by_email.query(email.strip().lower(), limit=1):
        return get_user(hit.uuid)
    return None


def upsert_user(
    *,
    name: str,
    email: str,
    uuid: str | None = None,
    password: str | None = None,
    is_admin: bool = False,
) -> tuple[User, bool]:
    """Create or update a user; returns (user, changed)."""
    email = email.strip().lower()
    if uuid is not None and not USER_UUID_RE.match(uuid):
        raise BadRequest("user uuid must be 8 letters or digits", field="uuid")
    other = find_user_by_email(email)
    if uuid is None:
        uuid = other.uuid if other else ids.user_uuid()
    elif other and other.uuid != uuid:
        raise BadRequest(f"email {email} already belongs to user {other.uuid}", field="email")
    try:
        model = UserModel.get(uuid)
        changed = False
    except DoesNotExist:
        model = UserModel(uuid=uuid, created_at=ids.now_ms())
        changed = True
    for attr, value in (("name", name), ("email", email), ("is_admin", bool(is_admin))):
        if getattr(model, attr) != value:
            setattr(model, attr, value)
            changed = True
    if password is not None and not crypto.verify_password(password, model.password_hash):
        model.password_hash = crypto.hash_password(password)
        changed = True
    if changed:
        model.save()
    return User.of(model), changed


def set_password(uuid: str, password: str) -> None:
    try:
        model = UserModel.get(uuid)
    except DoesNotExist as exc:
        raise NotFound(f"user {uuid} not found") from exc
    model.update(actions=[UserModel.password_hash.set(crypto.hash_password(password))])


def check_password(email: str, password: str) -> User:
    """Login check. The same error for unknown email and wrong password."""
    user = find_user_by_email(email)
    if user is not None:
        model = UserModel.get(user.uuid)
        if model.status == ACTIVE and crypto.verify_password(password, model.password_hash):
            return user
    raise Unauthorized("invalid email or password")


# ---- tokens ------------------------------------------------------------------------------

MIN_TOKEN_LENGTH = 16


def token_id_of(token: str) -> str:
    return crypto.hash_token(token)[:16]


def issue_token(user_uuid: str, *, name: str = "", token: str | None = None) -> tuple[str, bool]:
    """Store a token for the user; returns (token, created). Only its hash is kept."""
    if get_user(user_uuid) is None:
        raise NotFound(f"user {user_uuid} not found")
    token = token or crypto.new_token()
    if len(token) < MIN_TOKEN_LENGTH:
        raise BadRequest(f"a token must be at least {MIN_TOKEN_LENGTH} characters", field="token")
    digest = crypto.hash_token(token)
    model = TokenModel(
        token_hash=digest,
        token_id=digest[:16],
        user_uuid=user_uuid,
        name=name,
        created_at=ids.now_ms(),
    )
    try:
        model.save(condition=TokenModel.token_hash.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code != "ConditionalCheckFailedException":
            raise
        existing = TokenModel.get(digest)
        if existing.user_uuid != user_uuid:
            raise BadRequest("that token belongs to another user", field="token") from exc
        if existing.revoked_at is not None:
            raise BadRequest("that token was revoked and cannot be reused", field="token") from exc
        return token, False
    return token, True


def revoke_token(token_or_id: str) -> str:
    """Revoke by the token itself or by its id (first 16 hex of its hash)."""
    candidates = [crypto.hash_token(token_or_id)]
    for hit in TokenModel.by_id.query(token_or_id, limit=1):
        candidates.append(hit.token_hash)
    for digest in candidates:
        try:
            model = TokenModel.get(digest)
        except DoesNotExist:
            continue
        if model.revoked_at is None:
            model.update(actions=[TokenModel.revoked_at.set(ids.now_ms())])
        return model.token_id
    raise NotFound("token not found")


def list_tokens(user_uuid: str) -> list[dict]:
    return [
        {
            "token_id": t.token_id,
            "name": t.name,
            "created_at": t.created_at,
            "revoked": t.revoked_at is not None,
        }
        for t in TokenModel.by_user.query(user_uuid)
    ]


def user_for_token(token: str) -> User:
    try:
        model = TokenModel.get(crypto.hash_token(token))
    except DoesNotExist as exc:
        raise Unauthorized("unknown token") from exc
    if model.revoked_at is not None:
        raise Unauthorized("token revoked")
    user = get_user(model.user_uuid)
    if user is None or user.status != ACTIVE:
        raise Unauthorized("user disabled")
    return user


# ---- access keys -------------------------------------------------------------------------


def create_access_key(user_uuid: str) -> tuple[str, str]:
    """Returns (access key id, secret). The secret is shown once and stored encrypted."""
    if get_user(user_uuid) is None:
        raise NotFound(f"user {user_uuid} not found")
    ak = "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(20))
    sk = secrets.token_urlsafe(30)
    AccessKeyModel(
        access_key_id=ak,
        user_uuid=user_uuid,
        secret_encrypted=crypto.encrypt(sk),
        created_at=ids.now_ms(),
    ).save(condition=AccessKeyModel.access_key_id.does_not_exist())
    return ak, sk


def access_key_secret(ak: str) -> tuple[User, str]:
    """For signature checks: the owner and the decrypted secret of an active key. The key id
    comes from a request's Authorization header: anything that is not one is unknown without
    a read (DynamoDB refuses an empty or oversized key)."""
    if not ACCESS_KEY_ID_RE.fullmatch(ak):
        raise Unauthorized("unknown access key")
    try:
        model = AccessKeyModel.get(ak)
    except DoesNotExist as exc:
        raise Unauthorized("unknown access key") from exc
    if model.revoked_at is not None:
        raise Unauthorized("access key revoked")
    user = get_user(model.user_uuid)
    if user is None or user.status != ACTIVE:
        raise Unauthorized("user disabled")
    return user, crypto.decrypt(model.secret_encrypted)


ACCESS_KEY_ID_RE = re.compile(r"^[A-Z0-9]{20}$")


def revoke_access_key(ak: str) -> str:
    """Revoke a key; revoking it again keeps the first revocation. Returns the key id."""
    if not ACCESS_KEY_ID_RE.match(ak):  # never a key, and never a GetItem DynamoDB refuses
        raise NotFound("access key not found")
    try:
        model = AccessKeyModel.get(ak)
    except DoesNotExist as exc:
        raise NotFound("access key not found") from exc
    if model.revoked_at is None:
        model.update(actions=[AccessKeyModel.revoked_at.set(ids.now_ms())])
    return ak


# ---- namespaces and memberships ----------------------------------------------------------


def upsert_namespace(
    face: str, ns_id: str, *, kind: str, name: str = "", parent: str | None = None
) -> tuple[Namespace, bool]:
    key = namespace_key(face, ns_id)
    try:
        model = NamespaceModel.get(key)
        changed = False
    except DoesNotExist:
        model = NamespaceModel(key=key, face=face, ns_id=ns_id)
        changed = True
    for attr, value in (("kind", kind), ("name", name), ("parent", parent)):
        if getattr(model, attr, None) != value:
            setattr(model, attr, value)
            changed = True
    if changed:
        model.save()
    return Namespace(face, ns_id, kind, name, parent), changed


def get_namespace(face: str, ns_id: str) -> Namespace | None:
    try:
        m = NamespaceModel.get(namespace_key(face, ns_id))
    except DoesNotExist:
        return None
    return Namespace(m.face, m.ns_id, m.kind, m.name, m.parent)


def set_membership(face: str, ns_id: str, user_uuid: str, role: str) -> bool:
    """Returns True when something changed."""
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}", field="role")
    if get_user(user_uuid) is None:
        raise NotFound(f"user {user_uuid} not found")
    key = namespace_key(face, ns_id)
    try:
        if MembershipModel.get(key, user_uuid).role == role:
            return False
    except DoesNotExist:
        pass
    MembershipModel(ns_key=key, user_uuid=user_uuid, role=role).save()
    return True


def remove_membership(face: str, ns_id: str, user_uuid: str) -> None:
    MembershipModel(ns_key=namespace_key(face, ns_id), user_uuid=user_uuid).delete()


def role_in(user_uuid: str, face: str, ns_id: str) -> str | None:
    """The user's role in a namespace, inherited from its parent chain (team -> project)."""
    key: str | None = namespace_key(face, ns_id)
    for _ in range(4):
        if key is None:
            return None
        try:
            return MembershipModel.get(key, user_uuid).role
        except DoesNotExist:
            pass
        try:
            parent = NamespaceModel.get(key).parent
        except DoesNotExist:
            return None
        key = namespace_key(face, parent) if parent else None
    return None


def namespaces_of_face(
    face: str, limit: int, start: dict | None, *, kind: str | None = None
) -> Iterator[tuple[Namespace, dict | None]]:
    """A face's namespaces (of one kind, or all) by kind, each with the key to go on after it."""
    start = cursors.check_key(start, face, "face", "kind", "key")
    if start is not None and kind is not None and start["kind"] != {"S": kind}:
        raise BadRequest("cursor is not valid", field="cursor")  # outside the Query's range
    found = NamespaceModel.by_face.query(
        face,
        NamespaceModel.kind == kind if kind is not None else None,
        limit=limit,
        last_evaluated_key=start,
    )
    for m, key in cursors.keyed(found):
        yield Namespace(m.face, m.ns_id, m.kind, m.name, m.parent), key


def members_page(
    face: str, ns_id: str, limit: int, start: dict | None
) -> tuple[list[tuple[str, str]], dict | None]:
    """Up to `limit` (user, role) of a namespace in user order, and the key to go on from."""
    key = namespace_key(face, ns_id)
    start = cursors.check_key(start, key, "ns_key", "user_uuid")
    found, more = cursors.page_of(MembershipModel.query(key, limit=limit, last_evaluated_key=start))
    return [(m.user_uuid, m.role) for m in found], more


def own_roles(user_uuid: str, face: str, ns_ids: Iterable[str]) -> dict[str, str]:
    """The user's own roles among `ns_ids` (nothing inherited), in batched reads."""
    keys = [(namespace_key(face, ns_id), user_uuid) for ns_id in dict.fromkeys(ns_ids)]
    prefix = len(namespace_key(face, ""))
    found: dict[str, str] = {}
    for start in range(0, len(keys), 100):
        for membership in MembershipModel.batch_get(keys[start : start + 100]):
            found[membership.ns_key[prefix:]] = membership.role
    return found


def members_of(face: str, ns_id: str) -> list[tuple[str, str]]:
    return [(m.user_uuid, m.role) for m in MembershipModel.query(namespace_key(face, ns_id))]


def namespaces_of(user_uuid: str, face: str, limit: int | None = None) -> list[str]:
    """The ids of the user's own namespaces of a face (the first `limit`, when given)."""
    prefix = f"{face}:"
    found = MembershipModel.by_user.query(
        user_uuid, MembershipModel.ns_key.startswith(prefix), limit=limit
    )
    return [m.ns_key[len(prefix) :] for m in found]
