"""PynamoDB models of identity. Only `service.py` touches them."""

from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from ..resources import table


class UserByEmail(GlobalSecondaryIndex):
    class Meta:
        index_name = "by_email"
        projection = KeysOnlyProjection()

    email = UnicodeAttribute(hash_key=True)


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
