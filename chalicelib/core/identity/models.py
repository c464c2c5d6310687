"""PynamoDB models of identity. Only `service.py` touches them."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    IncludeProjection,
    KeysOnlyProjection,
)
from pynamodb.models import Model

from ..resources import table


class UserByEmail(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_email"
        projection = KeysOnlyProjection()

    email = UnicodeAttribute(hash_key=True)


class UserDirectory(GlobalSecondaryIndex):
    """Users by status, then uuid: the directory the admin export pages through.

    Nearly every user is `active`, so this is one partition, which is fine for users: admins
    write them rarely (one partition takes 1000 writes a second) and only the export reads it.
    It is keyed on an attribute every user already has, so adding it to a table with users
    needs no backfill, and the password hash is not projected into it."""

    class Meta:
        index_name = "by_status"
        projection = IncludeProjection(["name", "email", "is_admin"])

    status = UnicodeAttribute(hash_key=True)
    uuid = UnicodeAttribute(range_key=True)


@table
class UserModel(Model):
    class Meta:
        short_name = "users"

    uuid = UnicodeAttribute(hash_key=True)
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    password_hash = UnicodeAttribute(null=True)
    is_admin = BooleanAttribute(default=False)
    status = UnicodeAttribute(default="active")
    created_at = NumberAttribute()
    by_email = UserByEmail()
    by_status = UserDirectory()


class TokenById(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_token_id"
        projection = AllProjection()

    token_id = UnicodeAttribute(hash_key=True)


class TokenByUser(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_uuid = UnicodeAttribute(hash_key=True)
    created_at = NumberAttribute(range_key=True)


@table
class TokenModel(Model):
    """Keyed by SHA-256 of the token: the token itself is never stored."""

    class Meta:
        short_name = "tokens"

    token_hash = UnicodeAttribute(hash_key=True)
    token_id = UnicodeAttribute()
    user_uuid = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    created_at = NumberAttribute()
    revoked_at = NumberAttribute(null=True)
    by_id = TokenById()
    by_user = TokenByUser()


@table
class AccessKeyModel(Model):
    """AK/SK pair; the secret is encrypted because signature checks need it back."""

    class Meta:
        short_name = "access-keys"

    access_key_id = UnicodeAttribute(hash_key=True)
    user_uuid = UnicodeAttribute()
    secret_encrypted = UnicodeAttribute()
    created_at = NumberAttribute()
    revoked_at = NumberAttribute(null=True)


class NamespaceByFace(GlobalSecondaryIndex):
    """A face's namespaces by kind: the directory the admin export pages through (ONES teams
    are `ones` / `team`).

    One partition per face, which is fine for namespaces: admins write them rarely and only
    the export reads this. Keyed on attributes every namespace already has: no backfill."""

    class Meta:
        index_name = "by_face"
        projection = AllProjection()

    face = UnicodeAttribute(hash_key=True)
    kind = UnicodeAttribute(range_key=True)


@table
class NamespaceModel(Model):
    """A team, project or org of one face; `key` is `<face>:<id>`; `parent` is an id of the same face."""

    class Meta:
        short_name = "namespaces"

    key = UnicodeAttribute(hash_key=True)
    face = UnicodeAttribute()
    ns_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    name = UnicodeAttribute(default="")
    parent = UnicodeAttribute(null=True)
    by_face = NamespaceByFace()


class MembershipByUser(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_user"
        projection = AllProjection()

    user_uuid = UnicodeAttribute(hash_key=True)
    ns_key = UnicodeAttribute(range_key=True)


@table
class MembershipModel(Model):
    class Meta:
        short_name = "memberships"

    ns_key = UnicodeAttribute(hash_key=True)
    user_uuid = UnicodeAttribute(range_key=True)
    role = UnicodeAttribute()
    by_user = MembershipByUser()
