"""DynamoDB calls of the task list, progress and defects-detail do not grow with the
project's task count (bench/codearts_calls.py measures 10 against 1,000), whether the SDK
signs the request or the caller sends X-Auth-Token; a deep page reads keys, not rows."""

from __future__ import annotations

from bench.codearts_data import bulk_tasks
from chalicelib.core.metering import count_calls

from .conftest import MEMBER, PROJECT, codearts_model, drain

m = codearts_model


def measure(codearts, sdk, task_id: str) -> dict[str, tuple[int, int]]:
    """request -> (DynamoDB calls signed, DynamoDB calls with a token)."""
    requests = {
        "list": (
            lambda: sdk.show_task_list_by_project_id(
                m.ShowTaskListByProjectIdRequest(project_id=PROJECT, offset=0, limit=10)
            ),
            f"/{PROJECT}/tasks?offset=0&limit=10",
        ),
        "progress": (
            lambda: sdk.show_progress_detail(m.ShowProgressDetailRequest(task_id=task_id)),
            f"/tasks/{task_id}/progress",
        ),
        "defects": (
            lambda: sdk.show_task_defects(m.ShowTaskDefectsRequest(task_id=task_id, limit=20)),
            f"/tasks/{task_id}/defects-detail?limit=20",
        ),
    }
    out = {}
    for name, (signed, path) in requests.items():
        with count_calls() as by_sdk:
            signed()
        with count_calls() as by_token:
            codearts.ok("GET", path, headers=MEMBER)
        out[name] = (by_sdk["dynamodb"], by_token["dynamodb"])
    return out


def test_calls_per_request_do_not_grow_with_the_tasks(codearts, sdk):
    task_id = codearts.create()
    codearts.run(task_id)
    drain()
    bulk_tasks(PROJECT, 9, task_id)
    small = measure(codearts, sdk, task_id)
    bulk_tasks(PROJECT, 290, task_id)
    large = measure(codearts, sdk, task_id)
    assert small == large, (small, large)
    assert all(signed <= 8 for signed, _ in small.values()), small
    assert codearts.ok("GET", f"/{PROJECT}/tasks?limit=1")["total"] == 300


def test_a_deep_page_reads_keys_then_its_rows(codearts):
    task_id = codearts.create()
    bulk_tasks(PROJECT, 299, task_id)
    with count_calls() as calls:
        page = codearts.ok("GET", f"/{PROJECT}/tasks?offset=29&limit=10")
    assert len(page["tasks"]) == 10 and page["total"] == 300
    assert calls["dynamodb.Query"] == 1 and calls["dynamodb.BatchGetItem"] == 1, calls
    assert codearts.ok("GET", f"/{PROJECT}/tasks?offset=30&limit=10")["tasks"] == []
