"""Every status path of a JOBX task, through the API and the SQS handler."""

import json
import threading
import time

import pytest

from chalicelib.core import resources
from chalicelib.jobs import engine, results, runner
from chalicelib.jobs.steps import command_for, undefined_variables

from .conftest import PROJECT, deliver, drain, receive, run_orders

COUNT = 'echo run >> "$DIR/$node"'


def runs(workdir, node):
    path = workdir / node
    return len(path.read_text().splitlines()) if path.exists() else 0


def test_success_runs_every_batch_with_variables_as_environment(jobx, workdir):
    jobx.group(node="n01,n02;n03")
    marker = workdir / "injected"
    jobx.job(
        steps=[
            {"name": "show", "plugin_type": "cmd", "script": 'echo "$node $ip $greeting $ver"'},
            {"name": "count", "plugin_type": "cmd", "script": COUNT},
        ],
        variable={"greeting": "hello", "ver": "1", "DIR": ""},
    )
    uuid = jobx.run(variable={"ver": f"$(touch {marker}); `touch {marker}`", "DIR": str(workdir)})
    assert jobx.task(uuid)["status"] == "init"
    drain()
    task = jobx.task(uuid)
    assert task["status"] == "success" and task["progress"] == [2, 2], task
    subs = jobx.subtasks(uuid)
    assert [(s["status"], s["nodelist"]) for s in subs] == [
        ("success", "n01,n02"),
        ("success", "n03"),
    ]
    assert not marker.exists()  # values are data, never shell text
    assert [runs(workdir, n) for n in ("n01", "n02", "n03")] == [1, 1, 1]
    results = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]
    shown = {r["node"]: r["tail"] for r in results if r["step"] == 0}
    assert shown["n02"] == f"n02 n01,n02 hello $(touch {marker}); `touch {marker}`\n"
    assert all(r["exit_code"] == 0 and r["status"] == "success" for r in results)
    # output with offsets for tailing
    out = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node/n01?step=0&offset=4&limit=5")["data"]
    assert out["output"] == "n01,n" and out["next_offset"] == 9 and not out["complete"]
    rest = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node/n01?step=0&offset=9")["data"]
    assert rest["complete"] and rest["next_offset"] == out["size"]


def test_failed_batch_waits_for_confirm_then_goes_on_and_ends_fail(jobx):
    jobx.group(node="n01,n02;n03")
    jobx.job(steps=[{"name": "x", "plugin_type": "cmd", "script": '[ "$node" != n01 ]'}])
    uuid = jobx.run()
    drain()
    task = jobx.task(uuid)
    assert (task["status"], task["phase"]) == ("running", "wait_confirm")
    subs = jobx.subtasks(uuid)
    assert (subs[0]["status"], subs[0]["confirm"], subs[0]["failed_nodes"]) == (
        "fail",
        "WaitConfirm",
        ["n01"],
    )
    assert subs[1]["status"] == "init"
    status, body = jobx.call("PUT", f"/subtask/{PROJECT}/{uuid}-1/confirm")
    assert status == 409 and body["stat"] is False
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-0/confirm")
    logged = jobx.ok("GET", f"/log/{PROJECT}?page_size=1")["data"][0]
    assert (logged["action"], logged["target"], logged["user"]) == (
        "confirm subtask",
        f"{uuid}-0",
        "Member01",
    )
    drain()
    task = jobx.task(uuid)
    assert task["status"] == "fail" and "confirmed past" in task["summary"]
    assert task["reason"] is None  # JOBX: it ran to its end
    subs = jobx.subtasks(uuid)
    assert [(s["status"], s["confirm"]) for s in subs] == [("fail", "task stop"), ("success", "")]
    assert jobx.call("PUT", f"/subtask/{PROJECT}/{uuid}-0/confirm")[0] == 409


def test_viewer_cannot_confirm_or_stop(jobx):
    from .conftest import VIEWER

    jobx.group(node="n01")
    jobx.job(steps=[{"name": "x", "plugin_type": "cmd", "script": "false"}])
    uuid = jobx.run()
    drain()
    assert jobx.call("PUT", f"/subtask/{PROJECT}/{uuid}-0/confirm", headers=VIEWER)[0] == 403
    assert jobx.call("DELETE", f"/task/{PROJECT}/{uuid}", headers=VIEWER)[0] == 403


def test_stop_mid_batch_kills_commands_cancels_the_rest_in_one_call(jobx):
    jobx.group(node="n01,n02;n03")
    jobx.job(steps=[{"name": "long", "plugin_type": "cmd", "script": "sleep 30", "timeout": 60}])
    uuid = jobx.run()
    worker = threading.Thread(target=drain)
    worker.start()
    for _ in range(400):  # both nodes of the first batch have started
        rows = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]
        if [r["status"] for r in rows] == ["running", "running"]:
            break
        time.sleep(0.05)
    stopped = jobx.ok("DELETE", f"/task/{PROJECT}/{uuid}")["data"]
    assert stopped["status"] == "fail" and stopped["reason"] == "stopped by Member01"
    worker.join(timeout=20)
    assert not worker.is_alive()
    subs = jobx.subtasks(uuid)
    assert [s["status"] for s in subs] == ["fail", "cancel"]
    results = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]
    assert {r["error"] for r in results} == {"killed: task stopped"}
    assert jobx.task(uuid)["status"] == "fail"
    assert receive() == []  # nothing left to run


def test_stop_releases_a_waiting_confirm(jobx):
    jobx.group(node="n01;n02")
    jobx.job(steps=[{"name": "x", "plugin_type": "cmd", "script": "false"}])
    uuid = jobx.run()
    drain()
    jobx.ok("PUT", f"/task/{PROJECT}/{uuid}")
    subs = jobx.subtasks(uuid)
    assert [(s["status"], s["confirm"]) for s in subs] == [("fail", "task stop"), ("cancel", None)]
    assert jobx.call("PUT", f"/subtask/{PROJECT}/{uuid}-0/confirm")[0] == 409


ROLLBACK_JOB = [
    {
        "name": "deploy",
        "plugin_type": "cmd",
        "action": "deploy",
        "script": 'echo "deploy $version"; [ "$node" != n03 ]',
    },
    {
        "name": "undo",
        "plugin_type": "cmd",
        "action": "rollback",
        "script": 'echo "rollback $version"',
    },
]


def _deploy_that_fails_in_batch_two(jobx):
    jobx.group(node="n01;n02,n03;n04")
    jobx.job(steps=ROLLBACK_JOB)
    uuid = jobx.run(variable={"version": "v2", "_rollbackVersion_": "v1"})
    drain()
    assert jobx.task(uuid)["phase"] == "wait_confirm"
    jobx.ok("DELETE", f"/task/{PROJECT}/{uuid}")
    task = jobx.task(uuid)
    assert (task["status"], task["type"], task["rollback"]) == ("fail", "deploy", "wait")
    return uuid


def test_rollback_runs_rollback_steps_over_the_batches_that_ran(jobx):
    uuid = _deploy_that_fails_in_batch_two(jobx)
    child = jobx.ok("PUT", f"/task/{PROJECT}/{uuid}/rollback")["uuid"]
    drain()
    task = jobx.task(child)
    assert (task["status"], task["type"], task["parent"]) == ("success", "rollback", uuid)
    assert [s["nodelist"] for s in jobx.subtasks(child)] == ["n01", "n02,n03"]
    results = jobx.ok("GET", f"/subtask/{PROJECT}/{child}-1/node")["data"]
    assert {r["tail"] for r in results} == {"rollback v1\n"}
    assert {r["step_name"] for r in results} == {"undo"}
    parent = jobx.task(uuid)
    assert (parent["rollback"], parent["rollback_task"]) == ("rollback", child)
    assert jobx.call("PUT", f"/task/{PROJECT}/{uuid}/rollback")[0] == 409


def test_norollback_records_the_decision(jobx):
    uuid = _deploy_that_fails_in_batch_two(jobx)
    jobx.ok("PUT", f"/task/{PROJECT}/{uuid}/norollback")
    assert jobx.task(uuid)["rollback"] == "norollback"
    status, body = jobx.call("PUT", f"/task/{PROJECT}/{uuid}/rollback")
    assert status == 409 and "already" in body["info"]
    assert jobx.call("PUT", f"/task/{PROJECT}/{uuid}/maybe")[0] == 400


def test_decision_expires_seven_days_after_the_start(jobx, monkeypatch):
    uuid = _deploy_that_fails_in_batch_two(jobx)
    later = time.time() + 7 * 86400 + 60
    monkeypatch.setattr(engine, "clock", lambda: later)
    status, body = jobx.call("PUT", f"/task/{PROJECT}/{uuid}/rollback")
    assert (status, body["info"]) == (409, "flowline has timed out, rollback is not allowed.")
    assert jobx.task(uuid)["rollback"] == "expired"


def test_reaper_expires_an_untaken_decision(jobx, monkeypatch):
    uuid = _deploy_that_fails_in_batch_two(jobx)
    assert engine.reap()["expired"] == 0
    later = time.time() + 7 * 86400 + 60
    monkeypatch.setattr(engine, "clock", lambda: later)
    assert engine.reap()["expired"] == 1
    assert jobx.task(uuid)["rollback"] == "expired"


def test_duplicate_messages_change_nothing(jobx, workdir):
    """Every engine message and every runner order, delivered twice (at once, and again
    after it was handled), runs every node exactly once."""
    jobx.group(node="n01;n02;n03")
    jobx.job(steps=[{"name": "c", "plugin_type": "cmd", "script": COUNT + '; [ "$node" != n02 ]'}])
    uuid = jobx.run(variable={"DIR": str(workdir)})
    seen = []
    for _ in range(30):
        orders = receive(1, "jobx-local")
        if orders:
            order = json.loads(orders[0]["Body"])
            assert runner.run_order(dict(order)).startswith("ran")
            assert runner.run_order(dict(order)) == "ran 0"  # nobody started twice
            deliver(orders, "jobx-local")
            continue
        got = receive(1)
        if not got:
            if jobx.task(uuid)["phase"] == "wait_confirm":
                jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-1/confirm")
                continue
            break
        body = json.loads(got[0]["Body"])
        seen.append(body)
        assert engine.handle(dict(body)) == "moved"
        assert engine.handle(dict(body)) == "stale"
        deliver(got)  # the redelivery of the same SQS message
    assert len(seen) == 6  # a dispatch and a poll per batch
    assert [runs(workdir, n) for n in ("n01", "n02", "n03")] == [1, 1, 1]
    assert jobx.task(uuid)["status"] == "fail"
    for body in seen:
        assert engine.handle(body) == "stale"


def test_a_duplicate_during_the_run_is_busy_not_a_second_run(jobx, workdir, monkeypatch):
    monkeypatch.setattr(engine, "WAIT_S", 30)  # the first worker waits for the outcome
    jobx.group(node="n01")
    jobx.job(steps=[{"name": "c", "plugin_type": "cmd", "script": COUNT + "; sleep 0.5"}])
    uuid = jobx.run(variable={"DIR": str(workdir)})
    body = json.loads(receive(1)[0]["Body"])
    outcome = []
    first = threading.Thread(target=lambda: outcome.append(engine.handle(dict(body))))
    first.start()
    for _ in range(200):
        if engine.load(uuid).lease_token:
            break
        time.sleep(0.01)
    assert engine.handle(dict(body)) == "busy"
    for _ in range(200):  # the runner gets the order while the first worker waits
        if run_orders():
            break
        time.sleep(0.02)
    first.join(timeout=60)
    assert outcome == ["moved"]
    drain()
    assert runs(workdir, "n01") == 1 and jobx.task(uuid)["status"] == "success"


def test_a_killed_runner_leaves_its_node_lost_and_the_rest_to_the_redelivery(
    jobx, workdir, monkeypatch
):
    """The runner dies after two nodes of four: those keep their results, the node it was
    recording is reported lost (never run twice), the redelivered order runs the fourth."""
    jobx.group(node="n01,n02,n03,n04")
    jobx.job(steps=[{"name": "c", "plugin_type": "cmd", "script": COUNT, "timeout": 5}])
    uuid = jobx.run(variable={"DIR": str(workdir)})
    monkeypatch.setattr(runner, "POOL", 1)
    real_done, real_take = runner.Claim.done, runner.Claim.take
    recorded, dead = [], []

    def dying_done(claim, node, outcome):
        if len(recorded) == 2:
            dead.append(True)
            raise SystemExit("runner killed")  # the process dies with this node's outcome
        recorded.append(node)
        return real_done(claim, node, outcome)

    def take(claim, node, upcoming=None):
        return not dead and real_take(claim, node, [])  # a dead process starts nothing more

    deliver(receive(1))  # the engine sends the order
    order = receive(1, "jobx-local")
    monkeypatch.setattr(runner.Claim, "done", dying_done)
    monkeypatch.setattr(runner.Claim, "take", take)
    with pytest.raises(SystemExit):
        deliver(order, "jobx-local")
    monkeypatch.setattr(runner.Claim, "done", real_done)
    monkeypatch.setattr(runner.Claim, "take", real_take)
    assert len(recorded) == 2
    deliver(order, "jobx-local")  # the redelivery: only the node nobody started runs
    later = time.time() + 120  # past the dead runner's deadline
    monkeypatch.setattr(engine, "clock", lambda: later)
    drain()
    rows = {r["node"]: r for r in jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]}
    lost = [n for n, r in rows.items() if r["error"].startswith("lost")]
    assert len(rows) == 4 and len(lost) == 1
    for node in ("n01", "n02", "n03", "n04"):
        assert runs(workdir, node) == 1  # each ran once, the lost one too
    assert jobx.task(uuid)["phase"] == "wait_confirm"  # the lost node failed the batch


def test_a_message_lost_after_commit_is_resent_by_the_reaper(jobx, monkeypatch):
    jobx.group(node="n01;n02")
    jobx.job(steps=[{"name": "c", "plugin_type": "cmd", "script": "true"}])
    uuid = jobx.run()
    real_send = resources.send
    calls = []

    def losing_send(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise ConnectionError("lost")
        return real_send(*args, **kwargs)

    monkeypatch.setattr(resources, "send", losing_send)
    assert engine.handle(json.loads(receive(1)[0]["Body"])) == "moved"
    assert receive() == [] and jobx.task(uuid)["status"] == "running"
    assert engine.reap()["resent"] == 0  # not stuck yet
    later = time.time() + engine.SEND_GRACE_S + 60
    monkeypatch.setattr(engine, "clock", lambda: later)
    assert engine.reap()["resent"] == 1
    drain()
    assert jobx.task(uuid)["status"] == "success"


def test_step_timeout_kills_the_process_group_and_fails_the_node(jobx, workdir):
    jobx.group(node="n01")
    script = '(sleep 30; echo late > "$DIR/late") & echo started; wait'
    jobx.job(steps=[{"name": "slow", "plugin_type": "cmd", "script": script, "timeout": 1}])
    uuid = jobx.run(variable={"DIR": str(workdir)})
    drain()
    result = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"][0]
    assert result["status"] == "fail" and result["error"] == "timeout after 1s"
    assert result["tail"] == "started\n"
    assert jobx.task(uuid)["phase"] == "wait_confirm"


def test_undefined_variables_fail_the_step_without_running_it(jobx, workdir):
    jobx.group(node="n01")
    script = 'x=1; for f in a; do :; done; echo "$x $f $HOME ${DIR}" > "$DIR/ran"; echo $missing'
    jobx.job(steps=[{"name": "v", "plugin_type": "cmd", "script": script}])
    uuid = jobx.run(variable={"DIR": str(workdir)})
    drain()
    result = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"][0]
    assert result["error"] == "variable undef: missing"
    assert not (workdir / "ran").exists()


def test_continue_mode_with_a_fail_budget(jobx):
    jobx.group(node="n01;n02;n03;n04")
    jobx.job(
        steps=[
            {"name": "x", "plugin_type": "cmd", "script": 'case "$node" in n01|n02) exit 3;; esac'}
        ]
    )
    uuid = jobx.run(batch_mode="continue", max_fail="1")
    drain()
    task = jobx.task(uuid)
    assert task["status"] == "fail" and task["reason"].startswith("max_fail exceeded: 2")
    assert [s["status"] for s in jobx.subtasks(uuid)] == ["fail", "fail", "cancel", "cancel"]
    # with a 50% budget the same failures are tolerated and every batch runs
    uuid = jobx.run(batch_mode="continue", max_fail="50%")
    drain()
    assert [s["status"] for s in jobx.subtasks(uuid)] == ["fail", "fail", "success", "success"]
    assert jobx.task(uuid)["status"] == "fail"


def test_continue_mode_skips_failed_nodes_in_later_steps(jobx, workdir):
    jobx.group(node="n01,n02")
    jobx.job(
        steps=[
            {"name": "a", "plugin_type": "cmd", "script": '[ "$node" != n01 ]'},
            {"name": "b", "plugin_type": "cmd", "script": COUNT},
        ]
    )
    uuid = jobx.run(batch_mode="continue", variable={"DIR": str(workdir)})
    drain()
    assert (runs(workdir, "n01"), runs(workdir, "n02")) == (0, 1)
    assert jobx.task(uuid)["status"] == "fail"


def test_retry_only_the_failed_nodes(jobx, workdir):
    jobx.group(node="n01,n02;n03")
    script = COUNT + '; [ "$node" != n01 ] || [ -e "$DIR/fixed" ]'
    jobx.job(steps=[{"name": "x", "plugin_type": "cmd", "script": script}])
    uuid = jobx.run(variable={"DIR": str(workdir)})
    drain()
    assert jobx.task(uuid)["failed"] == 1
    (workdir / "fixed").write_text("")
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-0/retry", {"only_failed": True})
    drain()
    task = jobx.task(uuid)
    assert (task["status"], task["failed"]) == ("success", 0)
    assert [runs(workdir, n) for n in ("n01", "n02", "n03")] == [2, 1, 1]
    assert jobx.subtasks(uuid)[0]["attempt"] == 2


def test_retry_the_whole_batch(jobx, workdir):
    jobx.group(node="n01,n02")
    jobx.job(steps=[{"name": "x", "plugin_type": "cmd", "script": COUNT + '; [ -e "$DIR/fixed" ]'}])
    uuid = jobx.run(variable={"DIR": str(workdir)})
    drain()
    (workdir / "fixed").write_text("")
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-0/retry", {})
    again = json.loads(receive(1)[0]["Body"])
    assert engine.handle(dict(again)) == "moved"
    assert engine.handle(dict(again)) == "stale"
    drain()
    assert jobx.task(uuid)["status"] == "success"
    assert [runs(workdir, n) for n in ("n01", "n02")] == [2, 2]


def test_pause_and_confirm_every_batch_wait_for_next(jobx):
    jobx.group(node="n01;n02")
    jobx.job(steps=[{"name": "p", "plugin_type": "cmd", "script": "true", "pause": True}])
    uuid = jobx.run(batch_mode="confirm")
    drain()
    assert jobx.task(uuid)["phase"] == "pause"
    assert jobx.call("PUT", f"/subtask/{PROJECT}/{uuid}-0/confirm")[0] == 409
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-0/next")
    resumed = json.loads(receive(1)[0]["Body"])
    assert engine.handle(dict(resumed)) == "moved"
    assert engine.handle(dict(resumed)) == "stale"
    assert drain() == []
    task = jobx.task(uuid)
    assert (task["phase"], task["progress"]) == ("wait_next", [1, 2])
    assert jobx.subtasks(uuid)[1]["status"] == "init"
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-1/next")
    drain()
    assert jobx.task(uuid)["phase"] == "pause"
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-1/next")
    drain()
    assert jobx.task(uuid)["status"] == "success"


def test_approval_gate_agree_refuse_and_timeout(jobx, monkeypatch):
    jobx.group(node="n01;n02")
    jobx.job(
        steps=[
            {
                "name": "ok?",
                "plugin_type": "approval",
                "batches": "firsttime",
                "approvers": ["Member01"],
            },
            {"name": "do", "plugin_type": "cmd", "script": "true"},
        ]
    )
    uuid = jobx.run()
    drain()
    assert jobx.task(uuid)["phase"] == "approval"
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-0/approve", {"opinion": "agree"})
    drain()
    assert jobx.task(uuid)["status"] == "success"  # the gate was only on the first batch
    uuid = jobx.run()
    drain()
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-0/approve", {"opinion": "refuse"})
    task = jobx.task(uuid)
    assert task["status"] == "refuse" and "refused by Member01" in task["reason"]
    uuid = jobx.run()
    drain()
    later = time.time() + 86400 + 60
    monkeypatch.setattr(engine, "clock", lambda: later)
    assert engine.reap()["refused"] == 1
    assert jobx.task(uuid)["reason"] == "approval timed out"


def test_scp_step_writes_the_file(jobx, workdir):
    jobx.group(node="n01")
    dst = workdir / "conf" / "app.ini"
    content = "a='$(x)'\nb=2\n"
    jobx.job(
        steps=[
            {
                "name": "copy",
                "plugin_type": "scp",
                "content": content,
                "dst": str(dst),
                "mode": "0600",
            }
        ]
    )
    uuid = jobx.run()
    drain()
    assert jobx.task(uuid)["status"] == "success"
    assert dst.read_text() == content and oct(dst.stat().st_mode & 0o777) == "0o600"


def test_a_running_nodes_output_can_be_tailed(jobx, workdir, monkeypatch):
    monkeypatch.setattr(runner, "FLUSH_S", 0.05)
    jobx.group(node="n01")
    script = 'echo first; while [ ! -e "$DIR/go" ]; do sleep 0.05; done; echo second'
    jobx.job(steps=[{"name": "tail", "plugin_type": "cmd", "script": script, "timeout": 30}])
    uuid = jobx.run(variable={"DIR": str(workdir)})
    path = f"/subtask/{PROJECT}/{uuid}-0/node/n01?step=0"
    assert jobx.call("GET", path)[0] == 404  # nothing yet
    worker = threading.Thread(target=drain)
    worker.start()
    try:
        for _ in range(400):  # the node runs, and has published its first line
            status, body = jobx.call("GET", path)
            if status == 200 and body["data"]["output"]:
                break
            time.sleep(0.05)
        live = body["data"]
        assert (live["status"], live["output"], live["complete"]) == ("running", "first\n", False)
    finally:
        (workdir / "go").write_text("")
        worker.join(timeout=20)
    rest = jobx.ok("GET", f"{path}&offset={live['next_offset']}")["data"]
    assert (rest["status"], rest["output"], rest["complete"]) == ("success", "second\n", True)


def test_an_empty_default_must_be_given_by_the_task(jobx):
    jobx.group(node="n01")
    jobx.job(
        steps=[{"name": "v", "plugin_type": "cmd", "script": "echo $version"}],
        variable={"version": ""},
    )
    uuid = jobx.run()
    drain()
    assert (
        jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"][0]["error"]
        == "variable undef: version"
    )
    uuid = jobx.run(variable={"version": ""})  # given, even empty: defined
    drain()
    assert jobx.task(uuid)["status"] == "success"


def test_stopping_a_task_before_it_starts(jobx):
    jobx.group(node="n01;n02")
    jobx.job()
    uuid = jobx.run()
    assert jobx.ok("GET", f"/task/{PROJECT}/count")["data"] == {
        "success": 0,
        "running": 0,
        "fail": 0,
        "init": 1,
    }
    jobx.ok("DELETE", f"/task/{PROJECT}/{uuid}")
    assert jobx.ok("GET", f"/task/{PROJECT}/count")["data"] == {
        "success": 0,
        "running": 0,
        "fail": 1,
    }
    assert drain() != [] and [s["status"] for s in jobx.subtasks(uuid)] == ["cancel", "cancel"]
    assert jobx.task(uuid)["progress"] == [0, 2]


def test_confirm_mode_failure_then_confirm_goes_straight_on(jobx):
    jobx.group(node="n01;n02;n03")
    jobx.job(steps=[{"name": "x", "plugin_type": "cmd", "script": '[ "$node" != n02 ]'}])
    uuid = jobx.run(batch_mode="confirm")
    drain()
    assert jobx.task(uuid)["phase"] == "wait_next"
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-1/next")
    drain()
    assert jobx.task(uuid)["phase"] == "wait_confirm"
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-1/confirm")
    drain()
    task = jobx.task(uuid)
    assert (task["status"], task["progress"]) == ("fail", [3, 3])
    assert [s["status"] for s in jobx.subtasks(uuid)] == ["success", "fail", "success"]


@pytest.mark.parametrize(
    "name", ["BASH_ENV", "ENV", "SHELLOPTS", "PS4", "PATH", "LD_PRELOAD", "PYTHONPATH", "AWS_X"]
)
def test_variables_the_shell_turns_into_code_are_refused(jobx, workdir, name):
    """bash expands BASH_ENV (with command substitution) and sources the result: such a
    value would run as code, so these names are refused wherever a variable is given."""
    jobx.group(node="n01")
    jobx.job()
    marker = workdir / "pwned"
    value = f"$(touch {marker})"
    run = {"jobname": "j1", "group": "g1", "variable": {name: value}}
    status, body = jobx.call("POST", f"/task/{PROJECT}/job/byname", run)
    assert status == 400 and body["info"].startswith("check format fail variable"), body
    assert "reserved" in body["info"]
    job = {"name": "j2", "steps": [{"name": "s", "script": "true"}], "variable": {name: value}}
    assert jobx.call("POST", f"/job/{PROJECT}", job)[0] == 400
    third = {"project_id": PROJECT, "uuid": "third0000009", "params": {**run, "variable": {}}}
    third["params"]["variable"] = {name: value}
    assert jobx.call("POST", "/third/interface/invoke", third)[0] == 400
    assert jobx.ok("GET", f"/task/{PROJECT}")["data"] == []
    assert receive() == []
    assert not marker.exists()


def test_a_stored_reserved_variable_never_reaches_the_script(workdir):
    """Whatever a stored task holds, the executor drops reserved names before running."""
    marker = workdir / "pwned"
    step = {"kind": "cmd", "script": 'echo "$ok"', "interpreter": "bash"}
    command = command_for(step, {"BASH_ENV": f"$(touch {marker})", "ok": "fine"})
    assert command.env == {"ok": "fine"}
    got = run_alone(command, {"n01": {"node": "n01"}})
    assert got["n01"].status == "success" and got["n01"].output == b"fine\n"
    assert not marker.exists()


def run_alone(command, nodes, timeout=10):
    """Run an order through the runner without a task; the outcomes it records."""
    got = {}

    def record(task, batch, attempt, step, outcomes, token):
        got.update(outcomes)

    order = {
        "task": "t" * 12,
        "batch": 0,
        "attempt": 1,
        "step": 0,
        "timeout": timeout,
        "command": vars(command),
        "nodes": nodes,
    }
    real = results.finish_many
    results.finish_many = record
    try:
        runner.run_order(order)
    finally:
        results.finish_many = real
    return got


def test_defaults_in_expansions_and_agent_names_are_not_undefined(jobx, workdir):
    jobx.group(node="n01")
    script = 'echo "${missing:-dflt} ${other-x}${AWS_SSM_INSTANCE_ID:+ssm}" > "$DIR/ran"'
    jobx.job(steps=[{"name": "v", "plugin_type": "cmd", "script": script}])
    uuid = jobx.run(variable={"DIR": str(workdir)})
    drain()
    assert jobx.task(uuid)["status"] == "success"
    assert (workdir / "ran").read_text() == "dflt x\n"
    assert undefined_variables("echo ${need:?set it} $AWS_SSM_INSTANCE_ID", []) == ["need"]


CONDITIONS = ("firsttime", "thelasttime", "notfirsttime", "notthelasttime", "always")


def test_step_conditions_action_and_batches(jobx, workdir):
    """Each step writes `<step>` into a file per batch: which steps ran in which batch, for
    a deploy and for its rollback (action deploy | rollback | always)."""
    jobx.group(node="n01;n02;n03")
    steps = [
        {"name": when, "batches": when, "script": f'echo {when} >> "$DIR/$ip"'}
        for when in CONDITIONS
    ]
    steps += [
        {"name": "d", "action": "deploy", "script": 'echo deploy-$version >> "$DIR/$ip"'},
        {"name": "r", "action": "rollback", "script": 'echo rollback-$version >> "$DIR/$ip"'},
        {"name": "a", "action": "always", "script": 'echo always-$version >> "$DIR/$ip"'},
    ]
    jobx.job(steps=steps)
    variable = {"DIR": str(workdir), "version": "v2", "_rollbackVersion_": "v1"}
    uuid = jobx.run(variable=variable)
    drain()
    assert jobx.task(uuid)["status"] == "success"

    def ran(node):
        lines = (workdir / node).read_text().split()
        (workdir / node).unlink()
        return lines

    assert ran("n01") == ["firsttime", "notthelasttime", "always", "deploy-v2", "always-v2"]
    assert ran("n02") == ["notfirsttime", "notthelasttime", "always", "deploy-v2", "always-v2"]
    assert ran("n03") == ["thelasttime", "notfirsttime", "always", "deploy-v2", "always-v2"]
    child = jobx.ok("PUT", f"/task/{PROJECT}/{uuid}/rollback")["uuid"]
    drain()
    assert jobx.task(child)["status"] == "success"
    assert ran("n01") == ["firsttime", "notthelasttime", "always", "rollback-v1", "always-v1"]
    assert ran("n03") == ["thelasttime", "notfirsttime", "always", "rollback-v1", "always-v1"]


def test_a_retry_that_loses_to_a_stop_keeps_the_results(jobx, monkeypatch):
    from chalicelib.jobs import runs

    jobx.group(node="n01,n02")
    jobx.job(steps=[{"name": "x", "plugin_type": "cmd", "script": '[ "$node" != n01 ]'}])
    uuid = jobx.run()
    drain()
    real_commit = engine.commit

    def stop_first(move, **kwargs):  # a stop lands between the retry's read and its write
        runs.stop_task(PROJECT, "Other001", uuid)
        return real_commit(move, **kwargs)

    monkeypatch.setattr(engine, "commit", stop_first)
    status, body = jobx.call("PUT", f"/subtask/{PROJECT}/{uuid}-0/retry", {})
    assert status == 409 and body["stat"] is False
    results = jobx.ok("GET", f"/subtask/{PROJECT}/{uuid}-0/node")["data"]
    assert sorted((r["node"], r["status"]) for r in results) == [
        ("n01", "fail"),
        ("n02", "success"),
    ]
    assert receive() == []
    assert jobx.task(uuid)["reason"] == "stopped by Other001"


def test_a_stop_between_claim_and_batch_start_leaves_no_running_subtask(jobx):
    from chalicelib.jobs import runs

    jobx.group(node="n01;n02")
    jobx.job(steps=[{"name": "x", "script": "true"}])
    uuid = jobx.run()
    body = json.loads(receive(1)[0]["Body"])
    task = engine.load(uuid)
    token = engine.claim(task)
    runs.stop_task(PROJECT, "Member01", uuid)  # before the worker created the subtask
    assert engine.advance(task, token) is False
    assert [s["status"] for s in jobx.subtasks(uuid)] == ["fail", "cancel"]
    assert engine.handle(body) == "stale"
    assert jobx.task(uuid)["status"] == "fail"


def test_a_nul_in_a_variable_is_refused_and_never_crashes_the_worker(jobx):
    jobx.group(node="n01")
    jobx.job(steps=[{"name": "x", "script": 'echo "$x"'}])
    run = {"jobname": "j1", "group": "g1", "variable": {"x": "a\u0000b"}}
    status, body = jobx.call("POST", f"/task/{PROJECT}/job/byname", run)
    assert status == 400 and "NUL" in body["info"]
    # a stored value the environment cannot take fails the node, not the runner
    command = command_for({"kind": "cmd", "script": "true"}, {"x": "a\u0000b"})
    got = run_alone(command, {"n01": {}})
    assert got["n01"].status == "fail" and got["n01"].error.startswith("cannot start")


def test_a_cursor_whose_worker_keeps_dying_ends_the_task(jobx, monkeypatch):
    jobx.group(node="n01;n02")
    jobx.job(steps=[{"name": "x", "script": "true"}])
    uuid = jobx.run()
    body = json.loads(receive(1)[0]["Body"])

    def crash(*args, **kwargs):
        raise RuntimeError("worker dies")

    monkeypatch.setattr(engine, "execute", crash)
    now = time.time()
    for attempt in range(engine.MAX_TRIES):
        monkeypatch.setattr(engine, "clock", lambda t=now + attempt * 1000: t)
        with pytest.raises(RuntimeError):
            engine.handle(dict(body))
    assert jobx.task(uuid)["status"] == "running"  # five crashes: still worth a try
    monkeypatch.setattr(engine, "clock", lambda: now + 10_000)
    assert engine.handle(dict(body)) == "moved"
    task = jobx.task(uuid)
    assert (task["status"], task["reason"]) == (
        "fail",
        "the worker failed 5 times at batch 1 step 1",
    )
    assert [s["status"] for s in jobx.subtasks(uuid)] == ["fail", "cancel"]
    assert engine.handle(dict(body)) == "stale" and receive() == []
    assert jobx.ok("GET", f"/task/{PROJECT}/count")["data"]["fail"] == 1
