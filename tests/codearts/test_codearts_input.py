"""Bad input on the CodeArts face: the CC error body with the documented status and code,
never a 500, nothing written; credentials and rights per project; secrets never answered
or logged."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.codearts.models import CheckTaskModel, ProjectTasksModel
from chalicelib.core.identity import service as identity
from chalicelib.scans.models import (
    ClaimModel,
    CounterModel,
    JobModel,
    ProjectModel,
    RepoModel,
    SchemeModel,
)
from tests.core.huawei_sdk import sign

from .conftest import MEMBER, OTHER, OUTSIDER, PADMIN, PROJECT, VIEWER, drain

WRITTEN = (CheckTaskModel, ProjectTasksModel, RepoModel, SchemeModel, ProjectModel, ClaimModel)


def nothing_written() -> None:
    for model in (*WRITTEN, CounterModel, JobModel):
        assert model.count() == 0, model.__name__


def refused(codearts, method, path, body=None, headers=None, raw=None, status=400) -> dict:
    got, data = codearts.call(method, path, body, headers, raw=raw)
    assert got == status, (method, path, got, data)
    assert set(data) == {"error_code", "error_msg"} and data["error_code"].startswith("CC."), data
    return data


@pytest.fixture
def task_id(codearts):
    return codearts.create()


# ---- the seed's list -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=x", "offset=abc", "offset=-1", "offset=1000000", "offset=1.5"],
)
def test_list_paging_out_of_range_is_400(codearts, query):
    data = refused(codearts, "GET", f"/{PROJECT}/tasks?{query}")
    assert data["error_code"] == "CC.00050000"
    assert query.split("=")[0] in data["error_msg"]


def test_list_pages_by_page_index_and_counts_every_task(codearts):
    made = [codearts.create() for _ in range(3)]
    first = codearts.ok("GET", f"/{PROJECT}/tasks?limit=2")
    assert first["total"] == 3 and [t["task_id"] for t in first["tasks"]] == made[::-1][:2]
    second = codearts.ok("GET", f"/{PROJECT}/tasks?limit=2&offset=1")
    assert [t["task_id"] for t in second["tasks"]] == [made[0]]
    past = codearts.ok("GET", f"/{PROJECT}/tasks?limit=2&offset=2")
    assert past == {"tasks": [], "total": 3}
    row = first["tasks"][0]
    assert set(row) == {
        "task_id",
        "task_name",
        "creator_id",
        "git_url",
        "git_branch",
        "created_at",
        "last_check_time",
    }
    assert row["creator_id"] == "Member01" and row["last_check_time"] is None
    assert datetime.strptime(row["created_at"], "%Y-%m-%d %H:%M:%S")
    assert row["task_name"].startswith("demo_")


def test_unknown_project_is_404_and_an_outsider_403(codearts):
    data = refused(codearts, "GET", "/ffffffffffffffffffffffffffffffff/tasks", status=404)
    assert data["error_code"] == "CC.00050013"
    data = refused(codearts, "GET", f"/{PROJECT}/tasks", headers=OUTSIDER, status=403)
    assert data["error_code"] == "CC.00050010"


# ---- tasks ---------------------------------------------------------------------------------

TASK_ROUTES = [
    ("GET", "/tasks/{}/progress"),
    ("GET", "/tasks/{}/defects-summary"),
    ("GET", "/tasks/{}/defects-detail"),
    ("GET", "/tasks/{}/defects-statistic"),
    ("POST", "/tasks/{}/run"),
    ("POST", "/tasks/{}/stop"),
    ("PUT", "/tasks/{}/defect-status"),
    ("DELETE", "/tasks/{}"),
    ("GET", f"/{PROJECT}/tasks/{{}}/metrics-summary"),
    ("GET", f"/{PROJECT}/tasks/{{}}/checkrecord"),
]


@pytest.mark.parametrize(("method", "route"), TASK_ROUTES)
@pytest.mark.parametrize("missing", ["0" * 32, "not-a-task", "A" * 32])
def test_an_unknown_task_is_404(codearts, method, route, missing):
    body = {"defect_id": "1", "defect_status": "2"} if method == "PUT" else None
    data = refused(codearts, method, route.format(missing), body, PADMIN, status=404)
    assert data["error_code"] == "CC.10010204", data


@pytest.mark.parametrize("route", ["metrics-summary", "checkrecord"])
def test_a_task_of_another_project_is_404(codearts, task_id, route):
    # the project admin may view OTHER too: the task is still not OTHER's
    data = refused(codearts, "GET", f"/{OTHER}/tasks/{task_id}/{route}", headers=PADMIN, status=404)
    assert data["error_code"] == "CC.10010204"
    # an outsider (a member of OTHER only) learns no more through OTHER's path
    data = refused(
        codearts, "GET", f"/{OTHER}/tasks/{task_id}/{route}", headers=OUTSIDER, status=404
    )
    assert data["error_code"] == "CC.10010204"


@pytest.mark.parametrize(("method", "route"), TASK_ROUTES)
def test_a_task_route_needs_rights_in_the_tasks_project(codearts, task_id, method, route):
    body = {"defect_id": "1", "defect_status": "2"} if method == "PUT" else None
    path = route.format(task_id)
    if path.startswith(f"/{PROJECT}"):  # the path's project is checked first
        path = path.replace(PROJECT, OTHER)
        data = refused(codearts, method, path, body, OUTSIDER, status=404)
        assert data["error_code"] == "CC.10010204"
    else:
        data = refused(codearts, method, path, body, OUTSIDER, status=403)
        assert data["error_code"] == "CC.00050010"


def test_viewers_read_and_may_not_write(codearts, task_id):
    assert codearts.ok("GET", f"/tasks/{task_id}/progress", headers=VIEWER)["task_status"] is None
    for method, path, body in (
        ("POST", f"/tasks/{task_id}/run", {}),
        ("POST", f"/tasks/{task_id}/stop", None),
        ("PUT", f"/tasks/{task_id}/defect-status", {"defect_id": "1", "defect_status": "1"}),
        ("DELETE", f"/tasks/{task_id}", None),
        ("POST", f"/{PROJECT}/task", {"git_url": codearts.git.url("demo.git"), "git_branch": "x"}),
    ):
        data = refused(codearts, method, path, body, VIEWER, status=403)
        assert data["error_code"] == "CC.00050010"
    assert JobModel.count() == 0 and CheckTaskModel.count() == 1


def test_x_project_id_naming_a_project_needs_rights_there(codearts, task_id):
    data = refused(
        codearts,
        "GET",
        f"/tasks/{task_id}/progress",
        headers={**MEMBER, "X-Project-Id": OTHER},
        status=403,
    )
    assert data["error_code"] == "CC.00050010"
    iam = {**MEMBER, "X-Project-Id": "iamproject000000000000000000000a"}  # names no project
    assert codearts.ok("GET", f"/tasks/{task_id}/progress", headers=iam)["task_status"] is None


# ---- creating ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/group/repo.git",
        "http://169.254.169.254/latest/meta-data.git",
        "http://10.0.0.8/group/repo.git",
        "ftp://example.com/repo.git",
        "file:///etc",
        "not a url",
        "http://user:pw@127.0.0.1/repo.git",
    ],
)
def test_a_git_url_outside_the_allow_list_is_400_and_nothing_is_written(codearts, url):
    body = {"git_url": url, "git_branch": "master", "access_token": "tok-secret-1"}
    data = refused(codearts, "POST", f"/{PROJECT}/task", body)
    assert data["error_code"] == "CC.00050000"
    assert "tok-secret-1" not in json.dumps(data) and "pw@" not in json.dumps(data)
    nothing_written()


def test_loopback_is_refused_unless_allowed(codearts, monkeypatch):
    monkeypatch.setenv("TASKHUB_SCAN_ALLOW_LOOPBACK", "0")
    body = {"git_url": codearts.git.url("demo.git"), "git_branch": "master"}
    refused(codearts, "POST", f"/{PROJECT}/task", body)
    nothing_written()


def test_a_branch_the_repository_lacks_or_an_unreachable_one_writes_nothing(codearts):
    body = {"git_url": codearts.git.url("demo.git"), "git_branch": "nope"}
    data = refused(codearts, "POST", f"/{PROJECT}/task", body)
    assert data["error_code"] == "CC.00050000"
    body = {"git_url": codearts.git.url("missing.git"), "git_branch": "master"}
    refused(codearts, "POST", f"/{PROJECT}/task", body)
    nothing_written()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"git_branch": "master"},
        {"git_url": "", "git_branch": "master"},
        {"git_url": 5, "git_branch": "master"},
        {"git_url": "x", "git_branch": "master", "language": "python"},
        {"git_url": "x", "git_branch": "master", "language": ["py thon"]},
        {"git_url": "x", "git_branch": "master", "task_type": "nightly"},
        {"git_url": "x", "git_branch": "master", "enable_fossbot": "yes"},
        {"git_url": "x", "git_branch": "master", "username": "u"},
        {"git_url": "x" * 513, "git_branch": "master"},
    ],
)
def test_a_bad_create_body_is_400_and_nothing_is_written(codearts, body):
    data = refused(codearts, "POST", f"/{PROJECT}/task", body)
    assert data["error_code"] == "CC.00050000"
    nothing_written()


@pytest.mark.parametrize("raw", ["{not json", "[1]", '"x"', "\u00ff"])
def test_a_body_that_is_not_an_object_is_400(codearts, raw):
    refused(codearts, "POST", f"/{PROJECT}/task", raw=raw)
    nothing_written()


def test_the_repository_is_shared_by_tasks_and_its_token_never_answered(codearts, task_id, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "ghp-a-very-secret-token-0123"
    body = {"git_url": codearts.git.url("demo.git"), "git_branch": "master"}
    other = codearts.ok(
        "POST", f"/{PROJECT}/task", {**body, "username": "ci", "access_token": secret}
    )["task_id"]
    assert RepoModel.count() == 1 and ProjectModel.count() == 2 and SchemeModel.count() == 2
    repo = next(iter(RepoModel.scan()))
    assert repo.scm_username == "ci" and secret not in (repo.scm_secret or "")
    answers = [
        codearts.ok("GET", f"/{PROJECT}/tasks"),
        codearts.ok("GET", f"/tasks/{other}/defects-summary"),
        codearts.ok("GET", f"/{PROJECT}/tasks/{other}/metrics-summary"),
        codearts.ok("GET", f"/tasks/{other}/progress"),
    ]
    assert secret not in json.dumps(answers, ensure_ascii=False)
    assert secret not in caplog.text


# ---- running -------------------------------------------------------------------------------


def test_a_run_while_one_is_open_is_409_running(codearts, task_id):
    codearts.run(task_id)
    data = refused(codearts, "POST", f"/tasks/{task_id}/run", {}, status=409)
    assert data["error_code"] == "CC.00050015"
    assert JobModel.count() == 1


def test_a_run_of_another_repository_or_branch_is_400(codearts, task_id):
    for body in (
        {"git_branch": "develop"},
        {"git_url": "https://evil.example.com/x.git"},
        {"git_url": codearts.git.url("other.git")},
        {"git_branch": 7},
    ):
        data = refused(codearts, "POST", f"/tasks/{task_id}/run", body)
        assert data["error_code"] == "CC.00050000"
    assert JobModel.count() == 0
    same = {"git_url": codearts.git.url("demo.git"), "git_branch": "master"}
    assert codearts.ok("POST", f"/tasks/{task_id}/run", same)["exec_id"]


def test_stop_with_nothing_running_is_fine(codearts, task_id):
    assert codearts.ok("POST", f"/tasks/{task_id}/stop") == {}


# ---- defects -------------------------------------------------------------------------------


@pytest.fixture
def scanned(codearts, task_id):
    codearts.run(task_id)
    drain()
    assert codearts.progress(task_id)["task_status"] == 2
    return task_id


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=201",
        "offset=x",
        "status_ids=3",
        "status_ids=a",
        "severity=4",
        "severity=-1",
        "severity=1;2",
    ],
)
def test_defect_filters_out_of_range_are_400(codearts, scanned, query):
    data = refused(codearts, "GET", f"/tasks/{scanned}/defects-detail?{query}")
    assert data["error_code"] == "CC.00050000"


def test_defect_pages_filter_by_level_and_skip_items(codearts, scanned):
    every = codearts.ok("GET", f"/tasks/{scanned}/defects-detail?limit=200")
    assert every["total"] == len(every["defects"]) >= 3
    levels = {d["defect_level"] for d in every["defects"]}
    for level in levels:
        some = codearts.ok("GET", f"/tasks/{scanned}/defects-detail?severity={level}&limit=200")
        assert some["total"] == sum(d["defect_level"] == level for d in every["defects"])
    skipped = codearts.ok("GET", f"/tasks/{scanned}/defects-detail?offset=1&limit=1")
    assert skipped["total"] == every["total"]
    assert skipped["defects"][0]["defect_id"] == every["defects"][1]["defect_id"]
    one = every["defects"][0]
    assert isinstance(one["line_number"], str) and isinstance(one["defect_level"], str)
    assert one["fragment"] == [] and one["events"][0]["main"] is True


@pytest.mark.parametrize(
    "body",
    [
        {"defect_id": "1"},
        {"defect_id": "1", "defect_status": "5"},
        {"defect_id": "1", "defect_status": True},
        {"defect_id": "abc", "defect_status": "2"},
        {"defect_id": ",", "defect_status": "2"},
        {"defect_id": ",".join(str(n) for n in range(1, 102)), "defect_status": "2"},
    ],
)
def test_a_bad_defect_status_body_is_400_and_changes_nothing(codearts, scanned, body):
    before = codearts.ok("GET", f"/tasks/{scanned}/defects-statistic")
    data = refused(codearts, "PUT", f"/tasks/{scanned}/defect-status", body)
    assert data["error_code"] == "CC.00050000"
    assert codearts.ok("GET", f"/tasks/{scanned}/defects-statistic") == before


def test_a_defect_the_task_lacks_is_404_and_changes_nothing(codearts, scanned):
    every = codearts.ok("GET", f"/tasks/{scanned}/defects-detail?limit=200")
    known = every["defects"][0]["defect_id"]
    body = {"defect_id": f"{known},999999", "defect_status": 2}
    data = refused(codearts, "PUT", f"/tasks/{scanned}/defect-status", body, status=404)
    assert data["error_code"] == "CC.00050000"
    stats = codearts.ok("GET", f"/tasks/{scanned}/defects-statistic")
    assert stats["status"]["dismissed"] == 0


def test_triage_is_kept_by_later_runs(codearts, scanned):
    every = codearts.ok("GET", f"/tasks/{scanned}/defects-detail?limit=200")["defects"]
    ignored, solved = every[0]["defect_id"], every[1]["defect_id"]
    put = f"/tasks/{scanned}/defect-status"
    codearts.ok("PUT", put, {"defect_id": ignored, "defect_status": "2"})
    codearts.ok("PUT", put, {"defect_id": solved, "defect_status": "1"})
    stats = codearts.ok("GET", f"/tasks/{scanned}/defects-statistic")
    assert stats["status"] == {
        "unresolved": len(every) - 2,
        "resolved": 1,
        "dismissed": 1,
    }
    # the code did not change: a full run finds both again; the ignored one stays ignored,
    # the one marked resolved is pending again
    codearts.run(scanned)
    drain()
    assert codearts.progress(scanned)["task_status"] == 2
    stats = codearts.ok("GET", f"/tasks/{scanned}/defects-statistic")
    assert stats["status"] == {"unresolved": len(every) - 1, "resolved": 0, "dismissed": 1}
    records = codearts.ok("GET", f"/{PROJECT}/tasks/{scanned}/checkrecord")
    assert records["total"] == 2


def test_checkrecord_times_and_paging(codearts, scanned):
    path = f"/{PROJECT}/tasks/{scanned}/checkrecord"
    for query in ("start_time=yesterday", "end_time=2026-13-01", "limit=1001", "offset=q"):
        data = refused(codearts, "GET", f"{path}?{query}")
        assert data["error_code"] == "CC.00050000"
    assert codearts.ok("GET", f"{path}?start_time=2000-01-01 00:00:00")["total"] == 1
    assert codearts.ok("GET", f"{path}?start_time=2999-01-01T00:00:00Z")["total"] == 0
    assert codearts.ok("GET", f"{path}?end_time=946684800000")["total"] == 0


# ---- credentials ---------------------------------------------------------------------------


def test_missing_and_bad_credentials_are_401(codearts):
    for headers in ({}, {"X-Auth-Token": "not-a-token-00000000"}, {"Authorization": "Basic x"}):
        got, data = codearts.api.call("GET", f"/v2/{PROJECT}/tasks", headers=headers)
        assert got == 401 and data["error_code"] == "CC.00050007", data


def test_a_stale_or_changed_signature_is_401(client, codearts):
    ak, sk = identity.create_access_key("Member01")
    path = f"/v2/{PROJECT}/tasks"

    def send(request):
        target = request.path + (
            "?" + "&".join(f"{k}={v}" for k, vs in request.query.items() for v in vs)
            if request.query
            else ""
        )
        headers = {**request.headers, "host": "codearts-check.example.test:8443"}
        answer = client.http.request(request.method, target, headers=headers, body=request.body)
        return answer.status_code, json.loads(answer.body)

    fresh = sign(ak, sk, "GET", path, query=[("limit", 10)], date=datetime.now(UTC))
    assert send(fresh)[0] == 200
    stale = sign(ak, sk, "GET", path, date=datetime.now(UTC) - timedelta(minutes=16))
    assert send(stale) == (
        401,
        {"error_code": "CC.00000003", "error_msg": send(stale)[1]["error_msg"]},
    )
    assert "认证信息过期" in send(stale)[1]["error_msg"]
    tampered = sign(ak, sk, "GET", path, query=[("limit", 10)], date=datetime.now(UTC))
    tampered.query = {"limit": ["11"]}
    status, data = send(tampered)
    assert (status, data["error_code"]) == (401, "CC.00050007")
    assert sk not in data["error_msg"]
