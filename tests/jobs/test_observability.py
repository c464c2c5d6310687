"""A JOBX task run through the app's own Lambda handlers: its EMF counts batches run and
nodes failed, and every engine line names the task and the seq of the message handled."""

from __future__ import annotations

import pytest

from tests.jobs import conftest
from tests.observed import deliver, emf, log_lines, metric_values

from .conftest import PROJECT, drain


@pytest.fixture
def via_app(monkeypatch):
    """drain() hands each message to `jobx_queue` / `jobx_local` of app.py, middleware and all."""
    functions = {"jobx": "jobx_queue", "jobx-local": "jobx_local"}

    def through_app(messages, queue="jobx"):
        return deliver(functions[queue], queue, messages)

    monkeypatch.setattr(conftest, "deliver", through_app)


def test_a_run_counts_batches_and_failed_nodes_and_logs_task_and_seq(
    jobx, via_app, capsys, metrics_on
):
    jobx.group(node="n01,n02;n03")
    jobx.job(steps=[{"name": "x", "plugin_type": "cmd", "script": '[ "$node" != n01 ]'}])
    uuid = jobx.run()
    with log_lines() as lines:
        drain()
    assert jobx.task(uuid)["phase"] == "wait_confirm"  # batch 0 failed on n01
    jobx.ok("PUT", f"/subtask/{PROJECT}/{uuid}-0/confirm")
    drain()
    assert jobx.task(uuid)["status"] == "fail"
    docs = emf(capsys.readouterr().out)
    assert sum(metric_values(docs, "BatchesRun")) == 2
    assert sum(metric_values(docs, "NodesFailed")) == 1
    moved = [x for x in lines.json() if x["logger"] == "taskhub.jobx" and x.get("task") == uuid]
    assert moved, lines.text
    for line in moved:
        assert line["message"].startswith(f"jobx {uuid} seq {line['seq']}: ")
        assert line["function_name"] == "jobx_queue" and line["queue"] == "taskhub-test-jobx"
        assert line["message_id"] and line["batch"] == 0
    runner_lines = [x for x in lines.json() if x.get("function_name") == "jobx_local"]
    assert all(x.get("task") == uuid for x in runner_lines)
