"""`taskhub jobx` against a real `chalice local`: runs followed to success, failure and a
stop, gates answered by flag, refused without a terminal, and at the prompt under a pty,
Ctrl-C asking whether to stop, node output live and in `logs`, and clean errors."""

from __future__ import annotations

import itertools
import json
import re

import pexpect
import pytest

from .conftest import free_port, wait_for

TOKEN = "cli-jobx-token-0123456789abcdef"
P = "cliproj"
WORKSPACE = {
    "users": [{"uuid": "CLIjobx1", "name": "Ops", "email": "ops-cli@example.com", "token": TOKEN}],
    "namespaces": [{"face": "jobx", "id": P, "members": {"CLIjobx1": "member"}}],
    "jobx_nodes": [{"project": P, "name": f"web{i}"} for i in range(1, 6)],
}
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
GROUPS = {
    "web": "web1;web2,web3;web4,web5",
    "pair": "web1;web2",
    "one": "web1",
}
JOBS = {
    "hello": [{"name": "say", "plugin_type": "cmd", "script": 'echo "hi $node"; echo "bye $node"'}],
    "flaky": [
        {"name": "check", "plugin_type": "cmd", "script": 'echo "on $node"; [ "$node" != web2 ]'}
    ],
    "slow": [
        {"name": "wait", "plugin_type": "cmd", "script": "echo started; sleep 60", "timeout": 120}
    ],
    "gated": [
        {"name": "gate", "plugin_type": "approval"},
        {"name": "ship", "plugin_type": "cmd", "script": "echo shipped $node"},
    ],
}
_numbers = itertools.count()


def uuid() -> str:
    """A task uuid of the test's own, so it can be watched from outside the CLI."""
    return f"cli{next(_numbers):08d}a"


@pytest.fixture(scope="module")
def jobx(server):
    server.admin(WORKSPACE)
    for name, node in GROUPS.items():
        group = {"name": name, "group_type": "list", "node": node}
        assert server.call("POST", f"/jobx/group/{P}", group, HEADERS)[0] == 200
    for name, steps in JOBS.items():
        job = {"name": name, "steps": steps}
        assert server.call("POST", f"/jobx/job/{P}", job, HEADERS)[0] == 200
    return server


@pytest.fixture
def taskhub(cli, jobx):
    cli.env.update(TASKHUB_URL=jobx.base, TASKHUB_TOKEN=TOKEN)
    return cli


def task_of(server, task_uuid):
    return server.call("GET", f"/jobx/task/{P}/{task_uuid}", None, HEADERS)[1]["data"]


def test_run_follows_to_success_with_a_bar_per_batch_and_the_node_output(taskhub):
    done = taskhub("jobx", "run", P, "hello", "--group", "web", "--follow", "--node", "web2")
    assert done.code == 0, done
    assert re.search(r"batch 1/3 .*1/1", done.out) and re.search(r"batch 3/3 .*2/2", done.out)
    assert "-- web2 - step 1 say --\nhi web2\nbye web2\n" in done.out
    assert "hi web1" not in done.out  # only the chosen node's output
    assert re.search(r"task \w{12} success", done.out)


def test_run_to_failure_confirmed_by_flag_exits_1(taskhub, jobx):
    done = taskhub("jobx", "run", P, "flaky", "--group", "pair", "--follow", "--yes")
    assert done.code == 1, done
    assert "batch 2/2 failed on web2: confirm and go on" in done.out
    assert re.search(r"task \w{12} fail", done.out)


def test_a_gate_without_a_terminal_or_flag_fails_and_confirm_goes_on(taskhub, jobx):
    task = uuid()
    done = taskhub("jobx", "run", P, "flaky", "--group", "pair", "--uuid", task, "--follow")
    assert done.code == 1
    assert f"waits: batch 2/2 failed on web2; answer it with `taskhub jobx confirm {P} {task}`" in (
        done.err
    )
    assert task_of(jobx, task)["phase"] == "wait_confirm"  # left as it was
    assert taskhub("jobx", "confirm", P, task).code == 0
    followed = taskhub("jobx", "follow", P, task, "--json")
    assert followed.code == 1
    body = followed.json()
    assert body["exit"] == 1 and body["task"]["status"] == "fail"
    assert [s["confirm"] for s in body["subtasks"]] == ["", "task stop"]


def test_an_approval_by_flag(taskhub):
    done = taskhub("jobx", "run", P, "gated", "--group", "one", "--follow", "--approve")
    assert done.code == 0, done
    assert "step 'gate' of batch 1/1 asks for approval: approve (flag)" in done.out


def test_an_approval_answered_at_the_prompt_under_a_pty(taskhub, jobx):
    task = uuid()
    child = taskhub.spawn("jobx", "run", P, "gated", "--group", "one", "--uuid", task, "-f")
    child.expect("asks for approval")
    child.expect(r"Your answer \(a, r, s\)")
    child.sendline("a")
    child.expect(r"task \w{12} .*success")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert task_of(jobx, task)["status"] == "success"


def test_a_failed_batch_refused_at_the_prompt_stops_the_task(taskhub, jobx):
    task = uuid()
    child = taskhub.spawn("jobx", "run", P, "flaky", "--group", "pair", "--uuid", task, "-f")
    child.expect("batch 2/2 failed on web2")
    child.expect(r"Your answer \(c, r, f, s\)")
    child.sendline("s")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert task_of(jobx, task)["stopped"] is True


def _running(server, task):
    def started():
        subs = server.call("GET", f"/jobx/subtask/{P}/{task}", None, HEADERS)[1]["data"]
        return subs and subs[0]["status"] == "running"

    assert wait_for(started, seconds=60)


@pytest.mark.parametrize("answer", ["y", "n"])
def test_ctrl_c_under_a_pty_asks_whether_to_stop(taskhub, jobx, answer):
    task = uuid()
    child = taskhub.spawn(
        "jobx", "run", P, "slow", "--group", "one", "--uuid", task, "-f", "--node", "web1"
    )
    child.expect("started")  # the node's live output
    child.sendintr()
    child.expect(f"Stop task {task}")
    child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    if answer == "y":
        assert child.exitstatus == 2
        assert task_of(jobx, task)["stopped"] is True
    else:
        assert child.exitstatus == 130
        assert task_of(jobx, task)["status"] == "running"
        assert taskhub("jobx", "stop", P, task).code == 0


def test_a_stop_from_elsewhere_ends_the_follow_with_2(taskhub, jobx):
    task = uuid()
    follower = taskhub.popen("jobx", "run", P, "slow", "--group", "one", "--uuid", task, "-f")
    try:
        _running(jobx, task)
        stopped = taskhub("jobx", "stop", P, task, "--json")
        assert stopped.code == 0 and stopped.json()["summary"] == "stopped by CLIjobx1"
        out, err = follower.communicate(timeout=60)
    finally:
        follower.kill() if follower.poll() is None else None
    assert follower.returncode == 2, (out, err)
    assert re.search(r"stopped: stopped by CLIjobx1", out)


def test_json_list_show_and_logs(taskhub, jobx):
    task = uuid()
    run = taskhub(
        "jobx",
        "run",
        P,
        "hello",
        "--group",
        "web",
        "--uuid",
        task,
        "-f",
        "--json",
        "--node",
        "web4",
    )
    assert run.code == 0
    body = run.json()
    assert body["task"]["status"] == "success" and body["exit"] == 0
    assert body["output"] == [
        {
            "step": 0,
            "name": "say",
            "output": "hi web4\nbye web4\n",
            "status": "success",
            "exit_code": 0,
        }
    ]
    listed = taskhub("jobx", "list", P, "--json", "--limit", "50").json()
    assert task in [t["uuid"] for t in listed["data"]]
    shown_raw = taskhub("jobx", "show", P, task, "--json")
    shown = shown_raw.json()
    assert [s["nodelist"] for s in shown["subtasks"]] == ["web1", "web2,web3", "web4,web5"]
    logs = taskhub("jobx", "logs", P, task, "--json").json()
    assert [(e["batch"], e["node"], e["output"]) for e in logs] == [
        (1, "web1", "hi web1\nbye web1\n"),
        (2, "web2", "hi web2\nbye web2\n"),
        (2, "web3", "hi web3\nbye web3\n"),
        (3, "web4", "hi web4\nbye web4\n"),
        (3, "web5", "hi web5\nbye web5\n"),
    ]
    one = taskhub("jobx", "logs", P, task, "--node", "web3")
    assert one.code == 0
    assert "== batch 2 step 1 say web3: success exit 0 ==" in one.out and "bye web3" in one.out
    assert "web2" not in one.out
    text = taskhub("jobx", "logs", P, task, "--text")
    assert "  step 1 say (cmd) web5: success exit 0" in text.out and "    bye web5\n" in text.out
    assert "\x1b[" not in shown_raw.out and "[bold]" not in shown_raw.out  # no markup for scripts
    assert json.loads(taskhub("--json", "jobx", "show", P, task).out) == shown


def test_errors_are_one_line_and_an_exit_code(taskhub, jobx):
    refused = taskhub("jobx", "run", P, "nosuchjob", "--group", "web")
    assert refused.code == 3 and refused.out == ""
    assert refused.err.count("\n") == 1 and refused.err.startswith("taskhub: 404: ")
    bad = taskhub("jobx", "list", P, TASKHUB_TOKEN="not-a-token-0123456789")
    assert bad.code == 3 and "Traceback" not in bad.err
    assert bad.err.startswith("taskhub: 401: the token was refused")
    as_json = taskhub("jobx", "list", P, "--json", TASKHUB_TOKEN="not-a-token-0123456789")
    assert as_json.code == 3 and as_json.json()["status"] == 401
    down = taskhub("jobx", "list", P, TASKHUB_URL=f"http://127.0.0.1:{free_port()}")
    assert down.code == 3 and "connection refused" in down.err and "Traceback" not in down.err
    missing = taskhub("jobx", "confirm", P, uuid())
    assert missing.code == 3 and "no task" in missing.err
