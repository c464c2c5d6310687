"""The ONES workspace and a logged-in ONES client of a real local server, for the e2e tests
and the bench scripts that drive one."""

from __future__ import annotations

from tests.workitems.conftest import DANA, P1, PREFIX, TEAM, WORKSPACE

from .local import LocalServer

ONES = f"{PREFIX}/team/{TEAM}"


def ones_login(server: LocalServer) -> dict[str, str]:
    """Load the seed's workspace and log Dana in; her ONES headers."""
    server.admin(WORKSPACE)
    status, body = server.call(
        "POST", f"{PREFIX}/auth/login", {"email": "dana@example.com", "password": "pa55word"}
    )
    assert status == 200, body
    return {"Ones-User-Id": DANA, "Ones-Auth-Token": body["user"]["token"]}


def new_task(uuid: str, summary: str = "") -> dict:
    """An add2 item of Dana's in project One."""
    return {
        "uuid": uuid,
        "assign": DANA,
        "summary": summary or uuid,
        "project_uuid": P1,
        "issue_type_uuid": "FF78d8EL",
    }
