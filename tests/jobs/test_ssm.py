"""The SSM executor: SendCommand per node, polling by delayed re-enqueue, cancel on stop."""

import json
import subprocess
import time

import pytest
from botocore.stub import ANY, Stubber

from chalicelib.core import aws as aws_clients
from chalicelib.jobs import engine
from chalicelib.jobs.executors import StepCommand, ssm_script

from .conftest import PROJECT, drain, receive, workspace

SSM_NODES = [
    {"project": PROJECT, "name": "web1", "executor": "ssm", "instance_id": "i-0123456789abcdef0"},
    {"project": PROJECT, "name": "web2", "executor": "ssm", "instance_id": "i-0123456789abcdef1"},
]


def setup(jobx, apply_workspace, script="echo $version"):
    apply_workspace(workspace(extra_nodes=SSM_NODES))
    jobx.group(name="web", node="web1,web2,n01")
    jobx.job(steps=[{"name": "deploy", "plugin_type": "cmd", "script": script}])
    return jobx.run(group="web", variable={"version": "1.2'; rm -rf /"})


def test_ssm_nodes_are_sent_commands_and_polled_to_success(jobx, apply_workspace):
    uuid = setup(jobx, apply_workspace)
    first = json.loads(receive(1)[0]["Body"])
    assert engine.handle(dict(first)) == "moved"
    assert engine.handle(dict(first)) == "stale"  # a duplicate sends nothing twice
    poll = json.loads(receive(1)[0]["Body"])
    assert (poll["seq"], poll["batch"], poll["step"]) == (1, 0, 0)
    assert engine.handle(dict(poll)) == "moved"
    assert engine.handle(dict(poll)) == "stale"  # a duplicated poll records nothing twice
    assert drain() == []
    task = jobx.task(uuid)
    assert task["status"] == "success", task
    commands = aws_clients.client("ssm").list_commands()["Commands"]
    assert len(commands) == 1  # one command for both instances
    assert sorted(commands[0]["InstanceIds"]) == ["i-0123456789abcdef0", "i-0123456789abcdef1"]
    script = commands[0]["Parameters"]["commands"][0]
    assert "rm -rf" not in script and commands[0]["DocumentName"] == "AWS-RunShellScript"
    results = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]
    assert {r["node"]: r["status"] for r in results} == {
        "n01": "success",
        "web1": "success",
        "web2": "success",
    }


def test_ssm_results_map_failures(jobx, apply_workspace):
    uuid = setup(jobx, apply_workspace)
    first = receive(1)
    engine.handle(json.loads(first[0]["Body"]))  # sends the commands for real (moto)
    client = aws_clients.client("ssm")
    with Stubber(client) as stub:
        stub.add_response(
            "get_command_invocation",
            {"Status": "InProgress", "ResponseCode": -1},
            {"CommandId": ANY, "InstanceId": "i-0123456789abcdef0"},
        )
        stub.add_response(
            "get_command_invocation",
            {"Status": "Failed", "ResponseCode": 2, "StandardOutputContent": "boom\n"},
            {"CommandId": ANY, "InstanceId": "i-0123456789abcdef1"},
        )
        assert engine.handle(json.loads(receive(1)[0]["Body"])) == "moved"
        stub.add_response(
            "get_command_invocation",
            {"Status": "Success", "ResponseCode": 0, "StandardOutputContent": "ok\n"},
            {"CommandId": ANY, "InstanceId": "i-0123456789abcdef0"},
        )
        assert engine.handle(json.loads(receive(1)[0]["Body"])) == "moved"
    results = {r["node"]: r for r in jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]}
    assert (results["web2"]["status"], results["web2"]["exit_code"], results["web2"]["tail"]) == (
        "fail",
        2,
        "boom\n",
    )
    assert results["web1"]["tail"] == "ok\n"
    assert jobx.task(uuid)["phase"] == "wait_confirm"


def test_stop_cancels_running_ssm_commands(jobx, apply_workspace):
    uuid = setup(jobx, apply_workspace)
    engine.handle(json.loads(receive(1)[0]["Body"]))
    client = aws_clients.client("ssm")
    with Stubber(client) as stub:
        both = ["i-0123456789abcdef0", "i-0123456789abcdef1"]
        stub.add_response("cancel_command", {}, {"CommandId": ANY, "InstanceIds": both})
        task = jobx.ok("DELETE", f"/task/{PROJECT}/{uuid}")["data"]
        stub.assert_no_pending_responses()
    assert task["status"] == "fail"
    assert engine.handle(json.loads(receive(1)[0]["Body"])) == "stale"


def test_the_ssm_wrapper_exports_values_without_splicing_them(tmp_path):
    marker = tmp_path / "pwned"
    command = StepCommand(
        "bash", 'echo "v=$version n=$node $ip"', {"version": f"$(touch {marker})'\""}
    )
    per_instance = {
        "i-0123456789abcdef0": {"node": "web1"},
        "i-0123456789abcdef1": {"node": "web2"},
    }
    text = ssm_script(command, {"ip": "web1,web2"}, per_instance)
    assert "touch" not in text
    for instance, node in (("i-0123456789abcdef1", "web2"), ("i-0123456789abcdef0", "web1")):
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
    per_instance = {"i-0123456789abcdef0\n": {"node": "n1"}, "i-0123456789abcdef1": {"n\n;x": "v"}}
    text = ssm_script(command, {}, per_instance)
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("export")] == [
        "export ok=\"$(printf '%s' 'eg==' | base64 -d)\""
    ]
    assert "  i-0123456789abcdef1) ;;" in lines and "i-0123456789abcdef0" not in text


def test_a_worker_killed_between_two_commands_resends_only_the_unrecorded_one(
    jobx, apply_workspace, monkeypatch
):
    nodes = [
        {"project": PROJECT, "name": f"vm{i:02d}", "executor": "ssm", "instance_id": f"i-{i:017x}"}
        for i in range(1, 53)
    ]
    apply_workspace(workspace(extra_nodes=nodes))
    jobx.group(name="vms", node=",".join(n["name"] for n in nodes))
    jobx.job(steps=[{"name": "x", "script": "true"}])
    uuid = jobx.run(group="vms")
    first = json.loads(receive(1)[0]["Body"])
    real_send = engine.ssm_executor.send
    calls = []

    def send_then_die(*args, **kwargs):
        calls.append(len(args[0]))
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(engine.ssm_executor, "send", send_then_die)
    with pytest.raises(SystemExit):
        engine.handle(dict(first))
    assert calls == [50, 2]
    monkeypatch.setattr(engine.ssm_executor, "send", real_send)
    later = time.time() + 3600
    monkeypatch.setattr(engine, "clock", lambda: later)
    assert engine.handle(dict(first)) == "moved"
    drain()
    assert jobx.task(uuid)["status"] == "success"
    commands = aws_clients.client("ssm").list_commands()["Commands"]
    assert sorted(len(c["InstanceIds"]) for c in commands) == [2, 50]  # none sent twice
