"""`taskhub jobx run --follow` against a real `chalice local`: runs followed to success,
failure and a stop, gates answered by flag, refused without a terminal, and at the prompt
under a pty, and Ctrl-C asking whether to stop."""

from __future__ import annotations

import re

import pexpect
import pytest

from .conftest import HEADERS, P, task_of, uuid, wait_for


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
