"""Real JOBX answers meet the 2xx schemas docs/openapi/jobx.yaml documents, route by route,
and the document's request examples are bodies the face accepts: a small project is set up
from the examples, jobs run over a group (a failed batch retried and confirmed, a pause, an
approval, a stop, a rollback decision, the third-party interface), and every operation of
the document is called once and its answer validated."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from openapi_schema_validator import OAS30ReadValidator

from ..test_openapi_docs import deref, operations, validator
from .conftest import MEMBER, PROJECT, drain

DOCUMENT = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "docs" / "openapi" / "jobx.yaml").read_text()
)
BY_ID = {op["operationId"]: (path, method, op) for path, method, op in operations(DOCUMENT)}
# every operation of the seed and of the node inventory; one added later is checked where it is
# built (and test_openapi_docs keeps its answer from being a bare `data: {}`)
COVERED = frozenset(
    (
        "listNodes",
        "saveNode",
        "deleteNode",
        "listGroups",
        "createGroup",
        "getGroup",
        "updateGroup",
        "deleteGroup",
        "listGroupNodes",
        "listJobs",
        "createJob",
        "getJob",
        "updateJob",
        "deleteJob",
        "listOperationLog",
        "getLog",
        "listTasks",
        "countTasks",
        "getTask",
        "stopTask",
        "stopTaskByPut",
        "submitTask",
        "decideRollback",
        "lastTasks",
        "tasksByDate",
        "tasksByHour",
        "tasksByRuntime",
        "listSubtasks",
        "confirmSubtask",
        "nextSubtask",
        "retrySubtask",
        "approveSubtask",
        "listNodeResults",
        "getNodeOutput",
        "listGroupNames",
        "dryRun",
        "invoke",
        "query",
        "stop",
    )
)


class Documented:
    """Calls operations by their operationId and validates each answer against its schema."""

    def __init__(self, jobx):
        self.jobx = jobx
        self.called: set[str] = set()

    def example(self, operation_id: str) -> dict:
        _, _, op = BY_ID[operation_id]
        return op["requestBody"]["content"]["application/json"]["example"]

    def __call__(self, operation_id: str, body=None, headers=None, query="", **params: str):
        path, method, op = BY_ID[operation_id]
        concrete = path.format(projectid=PROJECT, **params).removeprefix("/jobx") + query
        status, answer = self.jobx.call(method.upper(), concrete, body, headers or MEMBER)
        assert status == 200, (operation_id, status, answer)
        content = deref(DOCUMENT, op["responses"]["200"])["content"]
        (media, documented), *_ = content.items()
        if media == "application/json":
            validator(DOCUMENT, documented["schema"], OAS30ReadValidator).validate(answer)
        else:
            answer = answer.decode() if isinstance(answer, bytes) else answer
            assert isinstance(answer, str) and answer, (operation_id, answer)
        self.called.add(operation_id)
        return answer


@pytest.fixture
def documented(jobx):
    return Documented(jobx)


def test_every_jobx_answer_meets_its_documented_schema(documented, jobx, admin):
    call = documented
    # the inventory, a group and a job, from the document's own examples
    node = call("saveNode", call.example("saveNode"))["data"]
    assert node["name"] == "n06"
    assert [n["name"] for n in call("listNodes")["data"]][-1] == "n06"
    group_id = call("createGroup", call.example("createGroup"))["id"]
    assert call("getGroup", id=group_id)["data"]["node"] == "n01;n02,n03;n04,n05"
    assert call("listGroupNodes", id=group_id)["data"] == [["n01"], ["n02", "n03"], ["n04", "n05"]]
    call("updateGroup", call.example("updateGroup"), id=group_id)
    example_job = call("createJob", call.example("createJob"))["uuid"]
    assert call("getJob", id=example_job)["data"]["steps"][1]["kind"] == "approval"
    call("updateJob", call.example("updateJob"), id=example_job)
    assert call("dryRun", call.example("dryRun"))["msg"] == "ok"  # checked, not started

    # jobs that run quickly here, over two batches
    jobx.group(name="g1", node="n01;n02")
    jobx.job(name="j1", steps=[{"name": "x", "script": '[ "$node" != n01 ]'}])
    jobx.job(name="paused", steps=[{"name": "p", "script": "echo held", "pause": True}])
    jobx.job(name="gate", steps=[{"name": "a", "plugin_type": "approval"}])
    run = {**call.example("submitTask"), "jobname": "j1", "group": "g1"}
    del run["max_fail"]  # n01 fails: the batch waits for confirm rather than end the task
    first = call("submitTask", run)["uuid"]
    drain()
    batches = call("listSubtasks", uuid=first)["data"]
    assert batches[0]["confirm"] == "WaitConfirm"
    batch = batches[0]["uuid"]
    assert call("listNodeResults", uuid=batch)["data"][0]["status"] == "fail"
    call("getNodeOutput", uuid=batch, node="n01", query="?step=0")
    call("retrySubtask", call.example("retrySubtask"), uuid=batch)
    drain()
    call("confirmSubtask", uuid=batch)
    drain()
    assert call("getTask", uuid=first)["data"]["status"] == "fail"
    assert call("getNodeOutput", uuid=batches[1]["uuid"], node="n02", query="?step=0")["data"][
        "complete"
    ]
    call("decideRollback", uuid=first, control="norollback")
    placeholder = first[:-1] + first[-1].upper()
    assert call("getTask", uuid=placeholder)["data"]["slave"] == "_null_"  # JOBX's decision row
    assert call("getTask", uuid="nosuchtask1a")["data"] is None

    paused = jobx.run(jobname="paused", group="g1")
    drain()
    call("nextSubtask", uuid=jobx.subtasks(paused)[0]["uuid"])
    drain()
    call("stopTask", uuid=paused)
    gate = jobx.run(jobname="gate", group="g1")
    drain()
    call("approveSubtask", call.example("approveSubtask"), uuid=jobx.subtasks(gate)[0]["uuid"])
    drain()
    stopped = jobx.run(jobname="paused", group="g1")
    drain()
    assert call("stopTaskByPut", uuid=stopped)["data"]["status"] == "fail"

    # the third-party interface: the example names the example job, run here as j1 over g1
    third = call.example("invoke")
    third = {**third, "params": {**third["params"], "jobname": "j1", "group": "g1"}}
    assert call("invoke", third)["data"] == 1
    assert call("query", call.example("query"))["type"] == "deploy"
    assert call("stop", call.example("stop"))["msg"] == "ok"
    assert call("listGroupNames", call.example("listGroupNames"))["data"]

    # what was recorded
    assert len(call("listTasks")["data"]) >= 5
    assert call("countTasks")["data"]["fail"] >= 1
    assert call("lastTasks", query="?count=5")["data"]
    assert len(call("tasksByDate")["data"]) == 30
    assert len(call("tasksByHour")["data"]) == 24
    assert set(call("tasksByRuntime")["data"]) == {"0-1", "1-3", "3-5", "5-10", "10-30", "30+"}
    assert call("listOperationLog")["data"]
    assert call("listJobs")["data"]
    assert call("listGroups")["data"]
    call("getLog", slave="taskhub", uuid=first)

    # deletes need the project's admin
    call("deleteNode", headers=admin, id="n06")
    call("deleteJob", headers=admin, id=example_job)
    call("deleteGroup", headers=admin, id=group_id)

    assert call.called == COVERED, COVERED - call.called
