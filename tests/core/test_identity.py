"""Identity: users, password hashes, tokens, access keys and role-based permissions."""

import pytest

from chalicelib.core import auth, crypto
from chalicelib.core.errors import BadRequest, Forbidden, Unauthorized
from chalicelib.core.identity import service as identity
from chalicelib.core.identity.models import AccessKeyModel, TokenModel, UserModel
from chalicelib.core.metering import count_calls


def test_password_is_stored_as_salted_slow_hash(aws):
    user, _ = identity.upsert_user(name="Ann", email="Ann@X.io", password="s3cret!!")
    stored = UserModel.get(user.uuid).password_hash
    assert "s3cret" not in stored and stored.startswith("scrypt$16384$")
    other, _ = identity.upsert_user(name="Bob", email="bob@x.io", password="s3cret!!")
    assert UserModel.get(other.uuid).password_hash != stored  # salted
    assert identity.check_password("ann@x.io", "s3cret!!").uuid == user.uuid
    with pytest.raises(Unauthorized):
        identity.check_password("ann@x.io", "wrong")
    with pytest.raises(Unauthorized):
        identity.check_password("nobody@x.io", "s3cret!!")


def test_user_uuid_is_eight_alnum_and_email_unique(aws):
    user, created = identity.upsert_user(name="A", email="a@x.io")
    assert created and len(user.uuid) == 8 and user.uuid.isalnum()
    with pytest.raises(BadRequest):
        identity.upsert_user(uuid="bad-uuid", name="A", email="b@x.io")
    with pytest.raises(BadRequest):
        identity.upsert_user(uuid="ZZZZZZZZ", name="A", email="a@x.io")


def test_token_only_hash_stored_and_revocable(aws):
    user, _ = identity.upsert_user(name="A", email="a@x.io")
    token, created = identity.issue_token(user.uuid, name="ci")
    assert created and len(token) == 64
    rows = list(TokenModel.by_user.query(user.uuid))
    assert len(rows) == 1 and rows[0].token_hash == crypto.hash_token(token)
    assert token not in {rows[0].token_hash, rows[0].token_id}
    assert identity.user_for_token(token).uuid == user.uuid
    identity.revoke_token(identity.token_id_of(token))
    with pytest.raises(Unauthorized):
        identity.user_for_token(token)
    with pytest.raises(Unauthorized):
        identity.user_for_token("never-issued-token-xxxxxxxx")


def test_fixed_token_cannot_be_taken_by_another_user(aws):
    a, _ = identity.upsert_user(name="A", email="a@x.io")
    b, _ = identity.upsert_user(name="B", email="b@x.io")
    identity.issue_token(a.uuid, token="fixed-token-aaaaaaaaaaaa")
    assert identity.issue_token(a.uuid, token="fixed-token-aaaaaaaaaaaa")[1] is False
    with pytest.raises(BadRequest):
        identity.issue_token(b.uuid, token="fixed-token-aaaaaaaaaaaa")


def test_access_key_secret_encrypted_at_rest(aws):
    user, _ = identity.upsert_user(name="A", email="a@x.io")
    ak, sk = identity.create_access_key(user.uuid)
    assert len(ak) == 20
    assert sk not in AccessKeyModel.get(ak).secret_encrypted
    owner, secret = identity.access_key_secret(ak)
    assert owner.uuid == user.uuid and secret == sk
    identity.revoke_access_key(ak)
    with pytest.raises(Unauthorized):
        identity.access_key_secret(ak)


def test_access_key_secret_refuses_what_is_no_key_id_without_a_read(aws):
    """Any string a signature's Access= names reaches the lookup; DynamoDB would refuse an
    empty or oversized key with an error, not a miss."""
    for unknown in ("", "x" * 3000, "aknosuchkey000000000", "é" * 20, "AKNOSUCHKEY000000000\n"):
        with count_calls() as calls, pytest.raises(Unauthorized):
            identity.access_key_secret(unknown)
        assert calls["dynamodb"] == 0, unknown
    with pytest.raises(Unauthorized):
        identity.access_key_secret("AKNOSUCHKEY000000000")  # a key id's shape: looked up


def test_roles_map_to_face_permissions_and_inherit_from_parent(aws):
    auth.register_permissions(
        "demo",
        {"viewer": {"read"}, "member": {"read", "write"}, "admin": {"read", "write", "delete"}},
    )
    user, _ = identity.upsert_user(name="A", email="a@x.io")
    identity.upsert_namespace("demo", "team1", kind="team")
    identity.upsert_namespace("demo", "proj1", kind="project", parent="team1")
    identity.set_membership("demo", "team1", user.uuid, "member")
    principal = auth.Principal(user)
    principal.require("demo", "proj1", "write")  # inherited from the team
    with pytest.raises(Forbidden):
        principal.require("demo", "proj1", "delete")
    with pytest.raises(Forbidden):
        principal.require("demo", "other", "read")
    identity.set_membership("demo", "proj1", user.uuid, "viewer")
    assert not auth.Principal(user).can("demo", "proj1", "write")  # nearest role wins


def test_resolved_roles_of_child_namespaces_match_role_in(aws):
    """One batched read gives every project the role `role_in` walks to, read by read."""
    user, _ = identity.upsert_user(name="B", email="b@x.io")
    identity.upsert_namespace("demo", "team2", kind="team")
    for project in ("projA", "projB", "projC"):
        identity.upsert_namespace("demo", project, kind="project", parent="team2")
    identity.set_membership("demo", "team2", user.uuid, "member")
    identity.set_membership("demo", "projB", user.uuid, "viewer")
    principal = auth.Principal(user)
    principal.resolve_roles("demo", "team2", ["projA", "projB", "projC"])
    for project in ("projA", "projB", "projC"):
        assert principal.role("demo", project) == identity.role_in(user.uuid, "demo", project)
    assert identity.own_roles(user.uuid, "demo", ["team2", "projB", "projC"]) == {
        "team2": "member",
        "projB": "viewer",
    }
    outsider, _ = identity.upsert_user(name="C", email="c@x.io")
    principal = auth.Principal(outsider)
    principal.resolve_roles("demo", "team2", ["projA"])
    assert principal.role("demo", "projA") is None


def test_authenticate_accepts_each_faces_native_headers(aws):
    user, _ = identity.upsert_user(name="A", email="a@x.io")
    token, _ = identity.issue_token(user.uuid)
    for headers in (
        {"Authorization": f"Bearer {token}"},
        {"Authorization": f"Token {token}"},
        {"Ones-Auth-Token": token, "Ones-User-Id": user.uuid},
        {"X-Auth-Token": token},
    ):
        assert auth.authenticate(headers).uuid == user.uuid
    with pytest.raises(Unauthorized):
        auth.authenticate({"Ones-Auth-Token": token, "Ones-User-Id": "someone0"})
    with pytest.raises(Unauthorized):
        auth.authenticate({})


def test_secret_key_comes_from_ssm_when_not_configured(aws, monkeypatch):
    from chalicelib.core import config

    monkeypatch.delenv("TASKHUB_SECRET_KEY")
    config.reload()
    crypto.reset()
    try:
        crypto.ensure_secret_parameter()
        sealed = crypto.encrypt("sk-value")
        crypto.reset()
        assert crypto.decrypt(sealed) == "sk-value"
    finally:
        monkeypatch.undo()
        config.reload()
        crypto.reset()
