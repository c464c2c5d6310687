"""The SSM executor: one SendCommand per 50 instances, one ListCommandInvocations per command
per poll, a deadline per step, and a stop that cancels whatever was sent.

moto has no ListCommandInvocations or CancelCommand, so the SSM client is botocore's
Stubber: each test states exactly which calls the executor makes and what AWS answers."""

import json
import subprocess
import time

import pytest
from botocore.stub import Stubber

from chalicelib.core import aws as aws_clients
from chalicelib.core.policies import TAG_KEY
from chalicelib.jobs import engine, executors, runs
from chalicelib.jobs.steps import StepCommand, ssm_script

from .conftest import PROJECT, drain, receive, tagged, workspace

I0, I1 = "i-0123456789abcdef0", "i-0123456789abcdef1"
C1 = "0b5a2f7e-1c3d-4e5f-8a9b-0c1d2e3f4a5b"  # a command id as SSM makes them
C2 = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b"
SSM_NODES = [
    {"project": PROJECT, "name": "web1", "executor": "ssm", "instance_id": I0},
    {"project": PROJECT, "name": "web2", "executor": "ssm", "instance_id": I1},
]


@pytest.fixture
def ssm(monkeypatch):
    """The SSM client the executor uses, stubbed; `sent` keeps every SendCommand's params."""
    client = aws_clients.client("ssm")
    sent = []
    client.meta.events.register(
        "provide-client-params.ssm.SendCommand", lambda params, **_: sent.append(params)
    )
    with Stubber(client) as stub:
        stub.sent = sent
        yield stub
    client.meta.events.unregister("provide-client-params.ssm.SendCommand")


def setup(jobx, apply_workspace, ec2, nodes="web1,web2", script="echo $version"):
    tagged(ec2, SSM_NODES)
    apply_workspace(workspace(extra_nodes=SSM_NODES))
    jobx.group(name="web", node=nodes)
    jobx.job(steps=[{"name": "deploy", "plugin_type": "cmd", "script": script, "timeout": 60}])
    return jobx.run(group="web", variable={"version": "1.2'; rm -rf /"})


def invocation(instance, status, output="", code=0):
    plugin = {"Name": "aws:runShellScript", "Output": output, "ResponseCode": code}
    return {"InstanceId": instance, "Status": status, "CommandPlugins": [plugin]}


def expect_send(stub, command_id=C1):
    stub.add_response("send_command", {"Command": {"CommandId": command_id}}, None)


def expect_poll(stub, command_id, *invocations):
    stub.add_response(
        "list_command_invocations",
        {"CommandInvocations": list(invocations)},
        {"CommandId": command_id, "Details": True},
    )


def step():
    got = receive(1)
    assert got, "no engine message"
    return engine.handle(json.loads(got[0]["Body"]))


def test_ssm_nodes_are_sent_one_command_and_polled_to_success(jobx, apply_workspace, ssm, ec2):
    uuid = setup(jobx, apply_workspace, ec2)
    expect_send(ssm)
    expect_poll(ssm, C1, invocation(I0, "Success", "ok\n"), invocation(I1, "InProgress"))
    assert step() == "moved"  # sends, polls once: web2 still runs
    expect_poll(ssm, C1, invocation(I1, "Success", "ok too\n"))
    assert step() == "moved"  # the delayed poll: one call for the whole command
    ssm.assert_no_pending_responses()
    assert drain() == []
    assert jobx.task(uuid)["status"] == "success"
    (params,) = ssm.sent
    assert sorted(params["InstanceIds"]) == [I0, I1]
    assert params["DocumentName"] == "AWS-RunShellScript"
    assert "rm -rf" not in params["Parameters"]["commands"][0]  # values travel as base64
    results = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]
    assert {r["node"]: (r["status"], r["tail"]) for r in results} == {
        "web1": ("success", "ok\n"),
        "web2": ("success", "ok too\n"),
    }


def test_ssm_results_map_failures(jobx, apply_workspace, ssm, ec2):
    uuid = setup(jobx, apply_workspace, ec2)
    expect_send(ssm)
    expect_poll(
        ssm,
        C1,
        invocation(I0, "Success", "ok\n"),
        invocation(I1, "Failed", "boom\n", code=2),
    )
    assert step() == "moved"
    results = {r["node"]: r for r in jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]}
    assert (results["web2"]["status"], results["web2"]["exit_code"], results["web2"]["tail"]) == (
        "fail",
        2,
        "boom\n",
    )
    assert results["web2"]["error"] == "ssm Failed, exit code 2"
    assert jobx.task(uuid)["phase"] == "wait_confirm"


def test_a_step_past_its_deadline_fails_with_timeout(jobx, apply_workspace, ssm, ec2, monkeypatch):
    """No invocation yet (InvocationDoesNotExist is no answer either): the node is pending
    until its deadline, then cancelled and failed with `timeout`."""
    uuid = setup(jobx, apply_workspace, ec2, nodes="web1")
    expect_send(ssm)
    expect_poll(ssm, C1)  # the agent has not picked it up
    assert step() == "moved"
    later = time.time() + 600
    monkeypatch.setattr(engine, "clock", lambda: later)
    expect_poll(ssm, C1, invocation(I0, "InProgress"))
    ssm.add_response("cancel_command", {}, {"CommandId": C1, "InstanceIds": [I0]})
    assert step() == "moved"
    ssm.assert_no_pending_responses()
    (row,) = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]
    assert (row["status"], row["error"]) == ("fail", "timeout after 60s")


def test_stop_cancels_running_ssm_commands(jobx, apply_workspace, ssm, ec2):
    uuid = setup(jobx, apply_workspace, ec2)
    expect_send(ssm)
    expect_poll(ssm, C1, invocation(I0, "InProgress"), invocation(I1, "InProgress"))
    assert step() == "moved"
    ssm.add_response("cancel_command", {}, {"CommandId": C1, "InstanceIds": [I0, I1]})
    task = jobx.ok("DELETE", f"/task/{PROJECT}/{uuid}")["data"]
    ssm.assert_no_pending_responses()
    assert task["status"] == "fail"
    rows = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]
    assert {r["error"] for r in rows} == {"killed: task stopped"}
    assert step() == "stale"


def test_a_command_sent_while_the_stop_arrives_is_cancelled_too(
    jobx, apply_workspace, ssm, ec2, monkeypatch
):
    uuid = setup(jobx, apply_workspace, ec2)
    real_send = executors.SsmExecutor._send

    def send_as_the_stop_lands(self, run, nodes):
        command_id = real_send(self, run, nodes)
        runs.stop_task(PROJECT, "Other001", uuid)  # committed before the id is recorded
        return command_id

    monkeypatch.setattr(executors.SsmExecutor, "_send", send_as_the_stop_lands)
    expect_send(ssm)
    ssm.add_response("cancel_command", {}, {"CommandId": C1, "InstanceIds": [I0, I1]})
    assert step() == "lost"  # the stop moved the task first
    ssm.assert_no_pending_responses()
    assert jobx.task(uuid)["reason"] == "stopped by Other001"


def test_a_worker_killed_between_two_commands_sends_nothing_twice(
    jobx, apply_workspace, ssm, ec2, monkeypatch
):
    """52 instances: two commands. The worker dies sending the second; on redelivery the
    nodes of the first are polled and those of the second, whose rows say `queued` but hold
    no command, are reported lost once their grace has passed: never sent again."""
    nodes = [
        {"project": PROJECT, "name": f"vm{i:02d}", "executor": "ssm", "instance_id": f"i-{i:017x}"}
        for i in range(1, 53)
    ]
    tagged(ec2, nodes)
    apply_workspace(workspace(extra_nodes=nodes))
    jobx.group(name="vms", node=",".join(n["name"] for n in nodes))
    jobx.job(steps=[{"name": "x", "script": "true"}])
    uuid = jobx.run(group="vms")
    first = json.loads(receive(1)[0]["Body"])
    real_send = executors.SsmExecutor._send
    calls = []

    def send_then_die(self, run, chunk):
        calls.append(len(chunk))
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_send(self, run, chunk)

    monkeypatch.setattr(executors.SsmExecutor, "_send", send_then_die)
    expect_send(ssm, C2)
    with pytest.raises(SystemExit):
        engine.handle(dict(first))
    assert calls == [50, 2]
    later = time.time() + 3600  # the lease and the second chunk's grace have passed
    monkeypatch.setattr(engine, "clock", lambda: later)
    first_chunk = [f"i-{i:017x}" for i in range(1, 51)]
    expect_poll(ssm, C2, *[invocation(i, "Success") for i in first_chunk])
    assert engine.handle(dict(first)) == "moved"
    ssm.assert_no_pending_responses()
    assert calls == [50, 2] and len(ssm.sent) == 1  # nothing sent again
    rows = {r["node"]: r for r in jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]}
    assert sum(r["status"] == "success" for r in rows.values()) == 50
    assert {r["error"] for r in rows.values() if r["status"] != "success"} == {
        "lost: the worker stopped before the command was sent"
    }
    assert jobx.task(uuid)["phase"] == "wait_confirm"


def test_ssm_is_off_in_the_local_stage_and_on_elsewhere(monkeypatch):
    from chalicelib.core import config

    monkeypatch.setenv("TASKHUB_EMBEDDED", "true")
    config.reload()
    try:
        assert not executors.enabled("ssm") and executors.enabled("local")
    finally:
        monkeypatch.delenv("TASKHUB_EMBEDDED")
        config.reload()
    monkeypatch.delenv("TASKHUB_JOBX_LOCAL")
    assert executors.enabled("ssm") and not executors.enabled("local")


def test_the_ssm_wrapper_exports_values_without_splicing_them(tmp_path):
    marker = tmp_path / "pwned"
    command = StepCommand(
        "bash", 'echo "v=$version n=$node $ip"', {"version": f"$(touch {marker})'\""}
    )
    per_instance = {I0: {"node": "web1"}, I1: {"node": "web2"}}
    text = ssm_script(command, {"ip": "web1,web2"}, per_instance)
    assert "touch" not in text
    for instance, node in ((I1, "web2"), (I0, "web1")):
        env = {"PATH": "/usr/bin:/bin", "AWS_SSM_INSTANCE_ID": instance}
        done = subprocess.run(
            ["bash", "-c", text], capture_output=True, text=True, timeout=10, env=env
        )
        assert done.stdout == f"v=$(touch {marker})'\" n={node} web1,web2\n"
    assert not marker.exists()


def test_the_ssm_wrapper_splices_only_whole_names():
    """Names and instance ids reach the wrapper text only when they are whole names: a
    trailing newline (which `$` would let through) never starts a new shell line."""
    command = StepCommand("bash", "true", {"a\nb": "x", "ok\n": "y", "ok": "z"})
    per_instance = {I0 + "\n": {"node": "n1"}, I1: {"n\n;x": "v"}}
    text = ssm_script(command, {}, per_instance)
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("export")] == [
        "export ok=\"$(printf '%s' 'eg==' | base64 -d)\""
    ]
    assert f"  {I1}) ;;" in lines and I0 not in text


def test_an_instance_without_the_projects_tag_is_not_registered(jobx, admin, api, ec2):
    node = {"project": PROJECT, "name": "rogue", "executor": "ssm", "instance_id": I0}
    tagged(ec2, [node], project="another-project")
    status, body = api.call("PUT", "/admin/v1/workspace", {"jobx_nodes": [node]}, admin)
    assert status == 400 and f"does not carry the tag {TAG_KEY}={PROJECT}" in str(body)
    ec2.add_response("describe_tags", {"Tags": []}, None)
    status, body = jobx.call(
        "POST", f"/node/{PROJECT}", {"name": "rogue", "executor": "ssm", "instance_id": I0}
    )
    assert status == 400 and "does not carry the tag" in body["info"]
    ec2.assert_no_pending_responses()
    assert "rogue" not in {n["name"] for n in jobx.ok("GET", f"/node/{PROJECT}")["data"]}
