"""CodeArts Check runs that name callback URLs: the run's end is announced; a URL off the
project's allow-list is refused in CodeArts' envelope with nothing started."""

from __future__ import annotations

import pytest

from tests.codearts.conftest import PROJECT, SOURCES, CodeArts, codearts_workspace
from tests.scans.conftest import drain
from tests.scans.gitserver import GitRepo, GitServer
from tests.webhooks.conftest import allow


@pytest.fixture
def codearts(api, apply_workspace, tmp_path, monkeypatch, receiver):
    monkeypatch.setenv("TASKHUB_SCAN_ALLOW_LOOPBACK", "1")
    repo = GitRepo.init(tmp_path / "repos" / "demo.git")
    repo.commit(SOURCES)
    with GitServer(tmp_path / "repos") as server:
        document = codearts_workspace()
        document["webhooks"] = [allow("codearts", PROJECT, receiver.url("/ca/*"))]
        apply_workspace(document)
        yield CodeArts(api, server)
    repo.close()


def test_a_run_announces_its_end(codearts, receiver, hooks):
    task_id = codearts.create()
    path = f"/tasks/{task_id}/run"
    codearts.ok("POST", path, {"callbacks": [receiver.url("/ca/done")]})
    drain()
    assert hooks.drain() == 1
    (got,) = receiver.received
    body = got["body"]
    assert (body["face"], body["namespace"], body["kind"]) == ("codearts", PROJECT, "scan")
    assert body["status"] == "success" and body["link"] == f"/v2/tasks/{task_id}/progress"


def test_a_run_with_a_url_off_the_list_is_refused(codearts, receiver, hooks):
    task_id = codearts.create()
    status, body = codearts.call(
        "POST", f"/tasks/{task_id}/run", {"callbacks": ["https://example.com/ca/x"]}
    )
    assert status == 400 and body["error_code"].startswith("CC."), body
    assert codearts.progress(task_id)["task_status"] is None  # never run
    assert hooks.receive() == []
