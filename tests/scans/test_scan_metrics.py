"""Scans closed, counted per result class in the EMF of the invocation that closed them: the
scan worker's close (0xx) through app.py's `scan_queue` handler, a cancel (3xx) by a
request; the worker's lines name the job and the op of the message handled."""

from __future__ import annotations

from chalicelib.core import aws as aws_clients
from chalicelib.core import resources
from tests.observed import deliver, emf, log_lines, metric_values
from tests.scans.conftest import MEMBER
from tests.scans.test_scan_flow import PY_BAD, PY_OK


def drain_via_app(rounds: int = 200) -> None:
    sqs = aws_clients.client("sqs")
    url = resources.queue_url("scans")
    for _ in range(rounds):
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return
        deliver("scan_queue", "scans", got)
    raise AssertionError("the scan queue did not drain")


def test_a_closed_scan_and_a_cancelled_one_count_per_result_class(
    tca, git_repo, capsys, metrics_on
):
    git_repo.commit({"app/ok.py": PY_OK, "app/bad.py": PY_BAD})
    repo_id = tca.repo()
    project_id = tca.project(repo_id, tca.template())
    job_id = tca.scan(repo_id, project_id)["job"]["id"]
    capsys.readouterr()
    with log_lines() as lines:
        drain_via_app()
    assert tca.detail(repo_id, project_id, job_id)["result_code"] == 0
    docs = emf(capsys.readouterr().out)
    assert metric_values(docs, "ScansClosed", result="0xx") == [1.0]
    handled = [x for x in lines.json() if x["logger"] == "taskhub.scans" and "op" in x]
    assert handled and all(x["job"] == job_id for x in handled), lines.text
    assert {x["function_name"] for x in handled} == {"scan_queue"}
    assert {x["op"] for x in handled} >= {"start", "close"}

    second = tca.scan(repo_id, project_id)["job"]["id"]
    path = f"/v3/orgs/org1/teams/team1/repos/{repo_id}/projects/{project_id}/jobs/{second}/cancel/"
    status, _ = tca.api.call("POST", "/server/main/api" + path, {"remarks": "no"}, MEMBER)
    assert status == 200
    docs = emf(capsys.readouterr().out)
    assert metric_values(docs, "ScansClosed", result="3xx") == [1.0]
