"""Huawei's own CodeArtsCheckClient against a real `chalice local`, over plain http on
loopback, signing with an AK/SK pair the admin CLI issued: create a task on a repository
served over smart HTTP, run it and poll progress until it succeeds, read the summary,
defects and statistics, stop a second run, list the project's tasks, and a wrong secret
raising the SDK's own exception. Then the REST docs' way: the list with X-Auth-Token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from typing import Any

import pytest

from tests.core.huawei_sdk import BasicCredentials, CodeArtsCheckClient, codearts_model
from tests.scans.gitserver import GitRepo, GitServer

from .conftest import ROOT, wait_for

m = codearts_model
PROJECT = "e2e0c0de0a7c5e2e0c0de0a7c5e2e0c0"
USER, TOKEN = "E2Ecode1", "e2e-codearts-token-0123456789ab"
WORKSPACE = {
    "users": [{"uuid": USER, "name": "ci", "email": "ci-codearts@example.com", "token": TOKEN}],
    "namespaces": [{"face": "codearts", "id": PROJECT, "name": "e2e", "members": {USER: "member"}}],
}


class GatedGitServer(GitServer):
    """A git server whose answers wait while the gate is shut: a run's fetch hangs there,
    so a test can stop the run while it is surely running."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = 0

    def _app(self, environ: dict[str, Any], start_response: Any):
        if not self.gate.is_set():
            self.waiting += 1
            self.gate.wait(timeout=180)
        return super()._app(environ, start_response)


@pytest.fixture
def served(tmp_path):
    repo = GitRepo.init(tmp_path / "repos" / "demo.git")
    repo.commit(
        {
            "src/app.py": "import os\n\n\ndef check(x):\n    if x:\n        return x == None\n",
            "tools/run.sh": "#!/bin/sh\necho $1\n",
        }
    )
    with GatedGitServer(tmp_path / "repos") as server:
        yield server
        server.gate.set()
    repo.close()


def access_key(server) -> tuple[str, str]:
    """`python -m chalicelib.admin create-access-key`, against the running server's store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TASKHUB_", "AWS_"))}
    env["TASKHUB_DATA_DIR"] = str(server.data_dir)
    done = subprocess.run(
        [sys.executable, "-m", "chalicelib.admin", "--stage", "local", "create-access-key", USER],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    issued = json.loads(done.stdout)
    return issued["access_key_id"], issued["secret_access_key"]


def sdk(server, ak: str, sk: str):
    return (
        CodeArtsCheckClient.new_builder()
        .with_credentials(BasicCredentials(ak, sk, PROJECT))
        .with_endpoints([server.base])
        .build()
    )


def test_the_sdk_against_chalice_local(server, served):
    from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException

    server.admin(WORKSPACE)
    ak, sk = access_key(server)
    client = sdk(server, ak, sk)

    body = m.CreateTaskRequestV2(
        git_url=served.url("demo.git"), git_branch="master", language=["python", "shell"]
    )
    task_id = client.create_task(m.CreateTaskRequest(project_id=PROJECT, body=body)).task_id
    assert task_id and len(task_id) == 32
    exec_id = client.run_task(m.RunTaskRequest(task_id=task_id, body=m.RunRequestV2())).exec_id
    assert exec_id

    def finished():
        answer = client.show_progress_detail(m.ShowProgressDetailRequest(task_id=task_id))
        return answer if answer.task_status not in (None, 0) else None

    done = wait_for(finished, seconds=240, every=0.5)
    assert done and done.task_status == 2 and done.progress.ratio == "100%", done

    summary = client.show_task_detail(m.ShowTaskDetailRequest(task_id=task_id))
    assert summary.code_line > 0 and summary.issue_count >= 2, summary
    found = client.show_task_defects(m.ShowTaskDefectsRequest(task_id=task_id, limit=100))
    assert found.total == summary.issue_count == len(found.defects)
    assert {d.file_path for d in found.defects} == {"src/app.py", "tools/run.sh"}
    stats = client.show_task_defects_statistic(m.ShowTaskDefectsStatisticRequest(task_id=task_id))
    assert stats.status.unresolved == found.total and stats.status.dismissed == 0

    # a second run, stopped while its fetch hangs at the git server
    served.gate.clear()
    client.run_task(m.RunTaskRequest(task_id=task_id, body=m.RunRequestV2()))
    assert wait_for(lambda: served.waiting > 0, seconds=120), "the second run never fetched"
    running = client.show_progress_detail(m.ShowProgressDetailRequest(task_id=task_id))
    assert running.task_status == 0, running
    client.stop_task_by_id(m.StopTaskByIdRequest(task_id=task_id))
    stopped = client.show_progress_detail(m.ShowProgressDetailRequest(task_id=task_id))
    assert stopped.task_status == 3, stopped
    served.gate.set()

    listed = client.show_task_list_by_project_id(
        m.ShowTaskListByProjectIdRequest(project_id=PROJECT, offset=0, limit=10)
    )
    assert listed.total == 1 and listed.tasks[0].task_id == task_id
    assert listed.tasks[0].last_check_time and listed.tasks[0].git_branch == "master"

    wrong = sdk(server, ak, sk[:-1] + ("x" if sk[-1] != "x" else "y"))
    with pytest.raises(ClientRequestException) as caught:
        wrong.show_task_list_by_project_id(m.ShowTaskListByProjectIdRequest(project_id=PROJECT))
    assert caught.value.status_code == 401 and caught.value.error_code.startswith("CC.")
    assert caught.value.request_id

    # the REST docs' caller: X-Auth-Token
    status, page = server.call(
        "GET", f"/v2/{PROJECT}/tasks?limit=10", headers={"X-Auth-Token": TOKEN}
    )
    assert status == 200 and page["total"] == 1 and page["tasks"][0]["task_id"] == task_id
    status, error = server.call(
        "GET", f"/v2/{PROJECT}/tasks?limit=0", headers={"X-Auth-Token": TOKEN}
    )
    assert status == 400 and error["error_code"] == "CC.00050000"
