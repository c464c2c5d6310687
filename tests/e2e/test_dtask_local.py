"""The DTask face on a real `chalice local` server: the seed's trailing-slash paths answer
with and without the slash, links and the reverse index work end to end."""

from .conftest import ADMIN_TOKEN

TOKEN = "e2e-dtask-token-abcdefghijklmnop"
WORKSPACE = {
    "users": [{"uuid": "E2Edtask", "name": "D", "email": "dtask@example.com", "token": TOKEN}],
    "namespaces": [{"face": "dtask", "id": "default", "members": {"E2Edtask": "member"}}],
}
GUID = "d9bb255f3c6d4deca4c7a127bb90b9be"


def test_dtask_paths_with_and_without_trailing_slash(server):
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    assert server.call("PUT", "/admin/v1/workspace", WORKSPACE, admin)[0] == 200
    user = {"Authorization": f"Bearer {TOKEN}"}

    def call(method, path):
        return server.call(method, "/dtask" + path, None, user)

    status, body = call("POST", "/task/")
    assert status == 200 and body["error"] is False and len(body["result"]) == 24
    task_id = body["result"]
    status, body = call("POST", "/task")
    assert status == 200 and body["result"] != task_id

    ok = {"error": False, "result": True}
    assert call("GET", f"/task/{task_id}/tower/todo/") == (200, {"error": False, "result": None})
    assert call("PUT", f"/task/{task_id}/tower/todo/{GUID}") == (200, ok)
    assert call("GET", f"/task/{task_id}/tower/todo/") == (200, {"error": False, "result": GUID})
    assert call("GET", f"/task/{task_id}/tower/todo") == (200, {"error": False, "result": GUID})
    assert call("DELETE", f"/task/{task_id}/tower/todo/") == (200, ok)
    assert call("PUT", f"/task/{task_id}/tower/todo/{GUID}") == (200, ok)
    assert call("DELETE", f"/task/{task_id}/tower/todo") == (200, ok)
    assert call("GET", f"/task/{task_id}/tower/todo/")[1]["result"] is None

    assert call("PUT", f"/task/{task_id}/link/bugzilla/2") == (200, ok)
    assert call("PUT", f"/task/{task_id}/link/bugzilla/2") == (200, ok)
    assert call("GET", f"/task/{task_id}")[1]["result"]["link"] == {"bugzilla": ["2"]}
    assert call("GET", "/task/link/bugzilla/2") == (200, {"error": False, "result": [task_id]})
    # no tracker is configured for this server: every item is reported, none is fatal
    assert call("GET", f"/task/{task_id}/link_info") == (
        200,
        {"error": False, "result": ["failed get bugzilla 2"]},
    )
    assert call("DELETE", "/task/link/bugzilla/2") == (200, ok)
    assert call("GET", f"/task/{task_id}/link/bugzilla") == (200, {"error": False, "result": []})
    assert call("DELETE", f"/task/{task_id}/") == (200, ok)
    status, body = call("GET", f"/task/{task_id}")
    assert status == 404 and body == {"error": True, "result": f"task {task_id} not found"}
    status, body = server.call("POST", "/dtask/task/")
    assert status == 401 and body["error"] is True

    # the successor's flat links; GET takes its parameters from the body, as its clients send
    pair = {"bugzilla": "1", "gerrit": "2"}
    assert server.call("PUT", "/dtask/links/", pair, user) == (200, ok)
    wanted = {"bugzilla": "1", "gerrit": "-"}
    assert server.call("GET", "/dtask/links", wanted, user) == (
        200,
        {"error": False, "result": ["2"]},
    )
    assert server.call("DELETE", "/dtask/links", pair, user) == (200, ok)
    assert server.call("GET", "/dtask/links/", wanted, user) == (
        200,
        {"error": False, "result": []},
    )
