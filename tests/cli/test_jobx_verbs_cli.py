"""The everyday `taskhub jobx` verbs against a real `chalice local`: JSON for scripts,
list, show, logs (each node's output, and the text log with it), and errors as one line."""

from __future__ import annotations

import json

from .conftest import HEADERS, P, free_port, uuid


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


def test_approve_refuse_and_rollback_verbs(taskhub, jobx):
    task = uuid()
    waiting = taskhub("jobx", "run", P, "gated", "--group", "one", "--uuid", task, "--follow")
    assert waiting.code == 1 and f"`taskhub jobx approve {P} {task}`" in waiting.err
    assert taskhub("jobx", "approve", P, task, "--refuse").code == 0
    refused = taskhub("jobx", "follow", P, task, "--json").json()
    assert refused["exit"] == 1 and refused["task"]["status"] == "refuse"
    again = taskhub("jobx", "approve", P, task)
    assert again.code == 3 and "is not waiting for this" in again.err

    deploy = uuid()
    ran = taskhub(
        "jobx",
        "run",
        P,
        "hello",
        "--group",
        "one",
        "--uuid",
        deploy,
        "--var",
        "_rollbackVersion_=1",
        "-f",
    )
    assert ran.code == 0, ran
    back = taskhub("jobx", "rollback", P, deploy, "--follow", "--json")
    assert back.code == 0, back
    body = back.json()
    assert body["task"]["uuid"] == deploy[:-1] + deploy[-1].upper()
    assert body["task"]["type"] == "rollback" and body["task"]["variables"]["version"] == "1"


def test_names_that_look_like_markup_are_printed_as_they_are(taskhub, jobx):
    step = {"name": "[/][red]odd", "plugin_type": "cmd", "script": "echo '[bold]x[/]'"}
    status, body = jobx.call("POST", f"/jobx/job/{P}", {"name": "odd[/]", "steps": [step]}, HEADERS)
    assert status == 200, body
    task = uuid()
    ran = taskhub(
        "jobx", "run", P, "odd[/]", "--group", "one", "--uuid", task, "-f", "--node", "web1"
    )
    assert ran.code == 0, ran
    assert "-- web1 - step 1 [/][red]odd --\n[bold]x[/]\n" in ran.out
    shown = taskhub("jobx", "show", P, task)
    assert shown.code == 0 and "job odd[/] group one" in shown.out
    logs = taskhub("jobx", "logs", P, task)
    assert "step 1 [/][red]odd web1" in logs.out and "[bold]x[/]" in logs.out
    assert "odd[/]" in taskhub("jobx", "list", P, "--limit", "1").out
