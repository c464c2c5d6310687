"""The README's run command path: `chalice local --stage local` with embedded AWS."""

import json
import subprocess
import sys

from .conftest import ADMIN_TOKEN, ROOT

WORKSPACE = {
    "users": [
        {
            "uuid": "E2Euser1",
            "name": "E2E",
            "email": "e2e@example.com",
            "password": "pa55word",
            "token": "e2e-user-token-abcdefghijklmnop",
        }
    ],
    "namespaces": [
        {"face": "ones", "id": "E2Eteam1", "kind": "team", "members": {"E2Euser1": "member"}}
    ],
}


def test_health_and_workspace_with_local_admin(server):
    status, body = server.call("GET", "/health")
    assert status == 200 and body["stage"] == "local"
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    status, body = server.call("PUT", "/admin/v1/workspace", WORKSPACE, admin)
    assert status == 200, body
    assert body["applied"]["users"]["created"] == 1
    status, body = server.call("PUT", "/admin/v1/workspace", WORKSPACE, admin)
    assert body["applied"]["users"] == {"created": 0, "updated": 0, "unchanged": 1}
    # an authenticated non-admin reaches the route and is refused on permission, not identity
    user = {"Authorization": "Bearer e2e-user-token-abcdefghijklmnop"}
    status, body = server.call("PUT", "/admin/v1/workspace", {}, user)
    assert status == 403
    status, _ = server.call("PUT", "/admin/v1/workspace", {}, {"Authorization": "Bearer x" * 20})
    assert status == 401


def test_admin_cli_reaches_the_embedded_backend(server):
    def cli(*args):
        done = subprocess.run(
            [sys.executable, "-m", "chalicelib.admin", "--stage", "local", *args],
            cwd=ROOT,
            env=server.env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    created = cli("create-user", "--name", "Cli", "--email", "cli@example.com", "--admin")
    token = cli("create-token", created["uuid"])["token"]
    status, _ = server.call(
        "PUT", "/admin/v1/workspace", {"users": []}, {"Authorization": f"Bearer {token}"}
    )
    assert status == 200
    cli("revoke-token", token)
    status, _ = server.call(
        "PUT", "/admin/v1/workspace", {"users": []}, {"Authorization": f"Bearer {token}"}
    )
    assert status == 401
