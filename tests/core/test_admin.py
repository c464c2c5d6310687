"""Admin surface: workspace upsert over HTTP and CLI, idempotence, auth, bad input."""

import json

from chalicelib.admin.__main__ import main as cli
from chalicelib.core.identity import service as identity
from chalicelib.core.identity.models import MembershipModel, UserModel

DOC = {
    "users": [
        {
            "uuid": "DU6krHBN",
            "name": "Dana",
            "email": "dana@example.com",
            "password": "pa55word",
            "token": "CUVZQSUJwRLfcVGSQoHEzI14LumPflYxJasP8MZHOLLgcjV5Rlnxy3YOjRN4z75w",
        },
        {"uuid": "PRZy8efJ", "name": "Pei", "email": "pei@example.com"},
    ],
    "namespaces": [
        {
            "face": "ones",
            "id": "3pDzCwAe",
            "kind": "team",
            "name": "Team",
            "members": {"DU6krHBN": "admin", "PRZy8efJ": "viewer"},
        }
    ],
}


def test_health_is_public(api):
    status, body = api.call("GET", "/health")
    assert status == 200 and body["stage"] == "test" and body["version"]


def test_workspace_apply_is_idempotent(api, admin):
    status, body = api.call("PUT", "/admin/v1/workspace", DOC, admin)
    assert status == 200
    assert body["applied"]["users"] == {"created": 2, "updated": 0, "unchanged": 0}
    before = UserModel.get("DU6krHBN").password_hash
    status, body = api.call("PUT", "/admin/v1/workspace", DOC, admin)
    assert status == 200
    assert body["applied"]["users"] == {"created": 0, "updated": 0, "unchanged": 2}
    assert body["applied"]["namespaces"] == {"created": 0, "updated": 0, "unchanged": 1}
    assert UserModel.get("DU6krHBN").password_hash == before
    assert identity.role_in("PRZy8efJ", "ones", "3pDzCwAe") == "viewer"
    token = DOC["users"][0]["token"]
    assert identity.user_for_token(token).uuid == "DU6krHBN"


def test_workspace_needs_admin(api, admin):
    api.call("PUT", "/admin/v1/workspace", DOC, admin)
    token = DOC["users"][0]["token"]
    status, body = api.call("PUT", "/admin/v1/workspace", {}, {"Authorization": f"Bearer {token}"})
    assert status == 403 and body["error"]["code"] == "PermissionDenied"
    status, body = api.call("PUT", "/admin/v1/workspace", {})
    assert status == 401 and body["error"]["code"] == "Unauthorized"
    status, _ = api.call("PUT", "/admin/v1/workspace", {}, {"Authorization": "Bearer nope" * 3})
    assert status == 401


def test_bad_input_gets_clear_error_and_writes_nothing(api, admin):
    cases = [
        ("{not json", "not valid JSON"),
        (json.dumps([1, 2]), "must be a JSON object"),
        (json.dumps({"users": "x"}), "users"),
        (json.dumps({"users": [{"name": "x", "email": "e@x.io", "admin": "maybe"}]}), "admin"),
        (json.dumps({"users": [{"name": "x" * 200, "email": "e@x.io"}]}), "at most 128"),
        (json.dumps({"teams_typo": []}), "unknown section"),
        (
            json.dumps(
                {
                    "users": [{"uuid": "AAAAAAAA", "name": "a", "email": "a@x.io"}],
                    "namespaces": [{"face": "ones", "id": "t", "members": {"BBBBBBBB": "admin"}}],
                }
            ),
            "unknown user BBBBBBBB",
        ),
    ]
    for raw, expected in cases:
        status, body = api.call("PUT", "/admin/v1/workspace", headers=admin, raw=raw)
        assert status == 400, raw
        assert expected in body["error"]["message"], body
    assert identity.get_user("AAAAAAAA") is None
    assert list(MembershipModel.query("ones:t")) == []


def test_cli_apply_and_tokens(aws, tmp_path, capsys):
    path = tmp_path / "ws.json"
    path.write_text(json.dumps(DOC))
    assert cli(["--stage", "test", "apply", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["users"]["created"] == 2
    assert cli(["--stage", "test", "create-token", "PRZy8efJ"]) == 0
    issued = json.loads(capsys.readouterr().out)
    assert identity.user_for_token(issued["token"]).uuid == "PRZy8efJ"
    assert cli(["--stage", "test", "revoke-token", issued["token_id"]]) == 0
    capsys.readouterr()
    assert cli(["--stage", "test", "revoke-token", "no-such-token"]) == 2
    assert cli(["--stage", "test", "create-user", "--name", "Z", "--email", "z@x.io"]) == 0
    assert identity.find_user_by_email("z@x.io") is not None


def test_cli_init_secret_key_is_idempotent(aws, capsys):
    assert cli(["--stage", "test", "init-secret-key"]) == 0
    assert json.loads(capsys.readouterr().out)["parameter"] == "/taskhub/test/secret-key"
    assert cli(["--stage", "test", "init-secret-key"]) == 0


def test_a_namespace_of_an_unknown_face_is_refused_with_the_known_ones(api, admin):
    document = {"namespaces": [{"face": "jobz", "id": "p1"}, {"face": "jobx", "id": "p2"}]}
    status, body = api.call("PUT", "/admin/v1/workspace", document, admin)
    assert status == 400, body
    message = body["error"]["message"]
    assert "unknown face jobz" in message and "dtask, jobx, ones" in message, message
    assert "admin" not in message.partition("known: ")[2]  # the admin surface has no namespaces
    assert identity.get_namespace("jobx", "p2") is None
