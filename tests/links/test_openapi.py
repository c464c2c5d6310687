"""docs/openapi/dtask.yaml lists every status the DTask routes answer: each route is called
with an oversized body, bad input, an unknown task and transactions that keep losing, and
every status seen must be documented for that route."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from chalicelib.core import face
from chalicelib.links import service

from .conftest import losing_transactions

SPEC = yaml.safe_load(
    (Path(__file__).resolve().parents[2] / "docs" / "openapi" / "dtask.yaml").read_text()
)
METHODS = ("get", "put", "post", "delete")
GUID = "d9bb255f3c6d4deca4c7a127bb90b9be"
PAIR = {"target_a": "bugzilla", "a_id": "1", "target_b": "gerrit", "b_id": "2"}
QUERY = {"target": "bugzilla", "id": "1"}


def operations():
    for path, ops in SPEC["paths"].items():
        for method in METHODS:
            if method in ops:
                yield path, method, set(ops[method]["responses"])


def fill(path: str, **values: str) -> str:
    """The path under the face's prefix (the `dtask` caller adds it), parameters filled."""
    return re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path.removeprefix("/dtask"))


def body_for(path: str, method: str, *, bad: bool = False):
    if path != "/dtask/links":
        return None
    body = QUERY if method == "get" else PAIR
    return {**body, "target": "jira", "target_a": "jira"} if bad else body


def test_every_status_a_route_answers_is_documented(dtask, monkeypatch):
    task_id = dtask.new_task()
    service.link(task_id, "bugzilla", "1")  # so unlinking it has something to lose
    service.link_items(**PAIR)
    undocumented = []
    for path, method, documented in operations():
        # on PUT an id not linked yet, so linking it has something to lose too
        good = {"task_id": task_id, "target": "bugzilla", "todo_guid": GUID}
        good["target_id"] = "2" if method == "put" else "1"
        bad = {**good, "task_id": "not-an-id", "target": "jira", "todo_guid": "x"}
        call = method.upper()
        seen = {"bad input": dtask(call, fill(path, **bad), body=body_for(path, method, bad=True))}
        if "{task_id}" in path:
            unknown = fill(path, **{**good, "task_id": "0" * 24})
            seen["unknown task"] = dtask(call, unknown, body=body_for(path, method))
        with monkeypatch.context() as patch:
            patch.setattr(face, "MAX_BODY", 16)
            seen["oversized body"] = dtask(call, fill(path, **good), body={"x": "y" * 20})
        with monkeypatch.context() as patch:
            losing_transactions(patch, 10**6)
            patch.setattr(service, "RETRY_BUDGET_S", 0.02)
            seen["lost races"] = dtask(call, fill(path, **good), body=body_for(path, method))
        for case, (status, body) in seen.items():
            assert status < 500, (method, path, case, body)
            if str(status) not in documented:
                undocumented.append((method, path, case, status))
        assert seen["oversized body"][0] == 400, (method, path)
        takes_input = "{" in path or body_for(path, method) is not None
        assert seen["bad input"][0] == 400 or not takes_input, (method, path)
    assert not undocumented, "\n".join(map(str, undocumented))


def test_link_info_documents_every_status_it_reports():
    description = SPEC["paths"]["/dtask/task/{task_id}/link_info"]["get"]["description"]
    for line in ("status open", "status completed", "status deleted", "failed get"):
        assert line in description.replace("|", " status "), line
