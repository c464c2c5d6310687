"""Admin surface: workspace upsert over HTTP and CLI, idempotence, auth, bad input."""

import json

import pytest

from chalicelib.admin.__main__ import main as cli
from chalicelib.core import cursors, workspace
from chalicelib.core.errors import Unauthorized
from chalicelib.core.identity import service as identity
from chalicelib.core.identity.models import AccessKeyModel, MembershipModel, UserModel
from chalicelib.core.metering import count_calls

from ..conftest import make_admin, page_rows

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


# ---- export ----------------------------------------------------------------------------------

BIG_TEAM = {f"Member{i:02d}": ("viewer", "member", "admin")[i % 3] for i in range(7)}
EXPORT_DOC = {
    "users": DOC["users"]
    + [{"uuid": uuid, "name": uuid, "email": f"{uuid.lower()}@x.io"} for uuid in BIG_TEAM],
    "namespaces": [
        *DOC["namespaces"],
        {"face": "jobx", "id": "shop", "kind": "project", "name": "Shop", "members": BIG_TEAM},
        {"face": "dtask", "id": "default", "members": {"PRZy8efJ": "member"}},
        {"face": "ones", "id": "ProjectOne000001", "parent": "3pDzCwAe"},
    ],
}
SECRETS = (DOC["users"][0]["password"], DOC["users"][0]["token"], "password", "token", "hash")


def test_export_is_the_document_put_takes_without_its_secrets(api, admin, export_workspace):
    api.call("PUT", "/admin/v1/workspace", EXPORT_DOC, admin)
    document, pages = export_workspace()
    assert len(pages) == 1
    assert set(document) == {"users", "namespaces"}
    users = {u["uuid"]: u for u in document["users"]}
    assert users["DU6krHBN"] == {
        "uuid": "DU6krHBN",
        "name": "Dana",
        "email": "dana@example.com",
        "admin": False,
    }
    assert users["admin000"]["admin"] is True
    namespaces = {(n["face"], n["id"]): n for n in document["namespaces"]}
    assert namespaces["jobx", "shop"] == {
        "face": "jobx",
        "id": "shop",
        "kind": "project",
        "name": "Shop",
        "members": BIG_TEAM,
    }
    assert namespaces["ones", "ProjectOne000001"]["parent"] == "3pDzCwAe"
    text = json.dumps(document)
    assert not any(secret in text for secret in SECRETS)
    status, body = api.call("PUT", "/admin/v1/workspace", document, admin)
    assert status == 200, body
    assert all(t["created"] == t["updated"] == 0 for t in body["applied"].values()), body


def test_export_pages_are_bounded_and_join_into_the_whole(api, admin, export_workspace):
    api.call("PUT", "/admin/v1/workspace", EXPORT_DOC, admin)
    whole, _ = export_workspace()
    for limit in (1, 2, 3, 5, 8):
        document, pages = export_workspace(limit)
        assert document == whole, limit
        assert all(page_rows(page) <= limit for page in pages), limit
    _, pages = export_workspace(2)  # the 7 members of jobx:shop come over four pages
    assert sum(1 for page in pages for n in page.get("namespaces", []) if n["id"] == "shop") == 4


def test_export_onto_an_empty_store_makes_the_same_data(aws, api, admin, export_workspace):
    api.call("PUT", "/admin/v1/workspace", EXPORT_DOC, admin)
    before, _ = export_workspace(3)
    aws.truncate()
    status, body = api.call("PUT", "/admin/v1/workspace", before, make_admin())
    assert status == 200, body
    assert body["applied"]["namespaces"]["created"] == len(EXPORT_DOC["namespaces"])
    after, _ = export_workspace(3)
    assert after == before
    assert identity.role_in("Member02", "jobx", "shop") == "admin"
    with pytest.raises(Unauthorized):  # tokens are not exported
        identity.user_for_token(DOC["users"][0]["token"])


def test_every_section_of_the_document_can_be_exported():
    assert [name for name, sec in workspace.SECTIONS.items() if sec.export is None] == []


def test_an_export_page_queries_a_bounded_number_of_times(api, admin):
    api.call("PUT", "/admin/v1/workspace", EXPORT_DOC, admin)
    cursor, pages = None, 0
    while True:
        with count_calls() as calls:
            query = f"limit=3&cursor={cursor}" if cursor else "limit=3"
            status, body = api.call("GET", f"/admin/v1/workspace?{query}", headers=admin)
        assert status == 200, body
        assert calls["dynamodb.Scan"] == 0
        # a read per row, a Query per face, one per empty section the page walks past
        assert calls["dynamodb"] <= 2 * 3 + 2 + 2, calls
        pages += 1
        cursor = body["cursor"]
        if cursor is None:
            break
    assert pages > 3


def test_export_refuses_bad_paging_and_non_admins(api, admin):
    api.call("PUT", "/admin/v1/workspace", DOC, admin)
    status, body = api.call("GET", "/admin/v1/workspace?limit=2", headers=admin)
    good = body["cursor"]
    forged = cursors.encode({"s": "users", "at": {"o": {"status": {"S": "disabled"}}}})
    too_long = {"status": {"S": "active"}, "uuid": {"S": "é" * 600}}  # 1200 bytes
    lone = {"status": {"S": "active"}, "uuid": {"S": "\ud800"}}
    cases = [
        ("limit=0", "limit must be from 1 to 1000"),
        ("limit=1001", "limit must be from 1 to 1000"),
        ("limit=ten", "limit must be an integer"),
        ("cursor=%25%25%25", "cursor is not valid"),
        ("cursor=" + cursors.encode({"s": "no_such_section"}), "cursor is not valid"),
        ("cursor=" + forged, "cursor is not valid"),
        ("cursor=" + cursors.encode({"s": "users", "at": {"o": too_long}}), "cursor is not valid"),
        ("cursor=" + cursors.encode({"s": "users", "at": {"o": lone}}), "cursor is not valid"),
        ("cursor=" + cursors.encode({"s": "namespaces", "at": {"o": {"face": "x"}}}), "cursor"),
        ("cursor=" + cursors.encode({"s": "teams", "at": {"x": 1}}), "cursor is not valid"),
        ("cursor=" + cursors.encode({"s": "teams", "at": [1]}), "cursor is not valid"),
    ]
    for query, message in cases:
        status, body = api.call("GET", f"/admin/v1/workspace?{query}", headers=admin)
        assert status == 400 and message in body["error"]["message"], (query, body)
    status, _ = api.call("GET", f"/admin/v1/workspace?cursor={good}", headers=admin)
    assert status == 200
    dana = {"Authorization": f"Bearer {DOC['users'][0]['token']}"}
    status, body = api.call("GET", "/admin/v1/workspace", headers=dana)
    assert status == 403 and body["error"]["code"] == "PermissionDenied"
    status, body = api.call("GET", "/admin/v1/workspace")
    assert status == 401 and body["error"]["code"] == "Unauthorized"


def test_cli_export_writes_the_whole_document(aws, api, admin, tmp_path, capsys, export_workspace):
    api.call("PUT", "/admin/v1/workspace", EXPORT_DOC, admin)
    out = tmp_path / "backup.json"
    assert cli(["--stage", "test", "export", "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["items"] == {"users": 10, "namespaces": 4}
    whole, _ = export_workspace()
    assert json.loads(out.read_text()) == whole
    assert cli(["--stage", "test", "export"]) == 0
    assert json.loads(capsys.readouterr().out) == whole
    assert cli(["--stage", "test", "apply", str(out)]) == 0
    applied = json.loads(capsys.readouterr().out)
    assert applied["users"] == {"created": 0, "updated": 0, "unchanged": 10}


# ---- access keys -----------------------------------------------------------------------------


def test_cli_revokes_an_access_key_once(aws, capsys):
    identity.upsert_user(uuid="PRZy8efJ", name="Pei", email="pei@example.com")
    assert cli(["--stage", "test", "create-access-key", "PRZy8efJ"]) == 0
    ak = json.loads(capsys.readouterr().out)["access_key_id"]
    assert cli(["--stage", "test", "revoke-access-key", ak]) == 0
    assert json.loads(capsys.readouterr().out) == {"revoked": ak}
    with pytest.raises(Unauthorized):
        identity.access_key_secret(ak)
    revoked_at = AccessKeyModel.get(ak).revoked_at
    assert cli(["--stage", "test", "revoke-access-key", ak]) == 0  # again: nothing changes
    assert AccessKeyModel.get(ak).revoked_at == revoked_at
    capsys.readouterr()
    assert cli(["--stage", "test", "revoke-access-key", "AKNOSUCHKEY000000000"]) == 2
    assert "access key not found" in capsys.readouterr().err


def test_an_admin_revokes_an_access_key_over_http(api, admin):
    api.call("PUT", "/admin/v1/workspace", DOC, admin)
    ak, sk = identity.create_access_key("PRZy8efJ")
    dana = {"Authorization": f"Bearer {DOC['users'][0]['token']}"}
    status, body = api.call("DELETE", f"/admin/v1/access-keys/{ak}", headers=dana)
    assert status == 403 and body["error"]["code"] == "PermissionDenied"
    assert identity.access_key_secret(ak)[1] == sk
    status, body = api.call("DELETE", f"/admin/v1/access-keys/{ak}", headers=admin)
    assert status == 200 and body == {"revoked": ak}
    assert sk not in json.dumps(body)
    with pytest.raises(Unauthorized):
        identity.access_key_secret(ak)
    for unknown in ("AKNOSUCHKEY000000000", "x" * 3000, "%C3%A9"):
        status, body = api.call("DELETE", f"/admin/v1/access-keys/{unknown}", headers=admin)
        assert status == 404 and body["error"]["code"] == "NotFound", (unknown, body)
