"""Bad input on the TCA face: TCA's error body with the right code, never a 500, and
nothing written. Bodies come as JSON, form-urlencoded or empty, as TCA's client sends."""

from __future__ import annotations

import json
import socket

import pytest

from chalicelib.scans.models import JobModel, ProjectModel, RepoModel
from tests.scans.conftest import ANALYSIS, MAIN, MEMBER, OUTSIDER, VIEWER, drain
from tests.scans.gitserver import GitRepo, GitServer
from tests.scans.test_scan_flow import seed

FORM = {**MEMBER, "Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def repo_id(tca, git_repo):
    seed(git_repo)
    return tca.repo()


def nothing_saved(*models) -> None:
    for model in models:
        assert model.count() == 0, model.__name__


def refused(tca, method, path, body=None, headers=None, raw=None, server=MAIN):
    status, data = tca.call(method, path, body, headers, raw=raw, server=server)
    assert 400 <= status < 500, (status, data)
    assert {"status_code", "code", "msg"} <= set(data) and data["status_code"] == status, data
    assert "data" not in data
    return data


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://169.254.169.254/latest/meta-data.git", 113),
        ("http://10.0.0.8/group/repo.git", 113),
        ("ftp://example.com/repo.git", 115),
        ("not a url", 115),
        ("http://user:pw@127.0.0.1/repo.git", 115),
    ],
)
def test_a_refused_repository_url_is_an_scm_code_and_nothing_is_written(tca, url, code):
    body = refused(tca, "POST", "/repos/", {"scm_url": url, "scm_type": "git"})
    assert body["status_code"] == 400 and body["code"] == code, body
    assert "pw" not in json.dumps(body)
    nothing_saved(RepoModel)


def test_svn_and_missing_fields_are_refused(tca):
    body = refused(tca, "POST", "/repos/", {"scm_url": "http://x.io/r", "scm_type": "svn"})
    assert body["code"] == 115
    body = refused(tca, "POST", "/repos/", {"scm_type": "git"})
    assert body["code"] == 1000 and body["invalid_fields"][0]["field"] == "scm_url"
    assert body["msg"] == "scm_url 该字段是必填项。"
    nothing_saved(RepoModel)


def test_loopback_is_refused_outside_the_local_stage_unless_allowed(tca, git_server, monkeypatch):
    monkeypatch.setenv("TASKHUB_SCAN_ALLOW_LOOPBACK", "0")
    body = {"scm_url": git_server.url("demo.git"), "scm_type": "git"}
    data = refused(tca, "POST", "/repos/", body)
    assert data["code"] == 113, data
    nothing_saved(RepoModel)


def test_project_branch_and_reachability_are_checked_live(tca, repo_id, git_root):
    template = tca.template()
    path = f"/repos/{repo_id}/projects/"
    body = refused(tca, "POST", path, {"branch": "nope", "global_scheme_id": template})
    assert body["msg"] == "branch 代码库分支不存在", body
    body = refused(tca, "POST", path, {"branch": "master"})
    assert body["msg"] == "cd_error 未指定扫描方案模板或扫描方案"
    body = refused(tca, "POST", path, {"branch": "master", "global_scheme_id": 999})
    assert body["invalid_fields"][0]["field"] == "global_scheme_id"
    body = refused(tca, "POST", path, {"branch": "a..b", "global_scheme_id": template})
    assert body["code"] == 115, body
    nothing_saved(ProjectModel)
    # a repository whose server is gone: 110; one the server does not have: 112
    dead = {"scm_url": f"http://127.0.0.1:{free_port()}/gone.git", "scm_type": "git"}
    gone = tca.ok("POST", "/repos/", dead, status=201)["id"]
    body = refused(
        tca, "POST", f"/repos/{gone}/projects/", {"branch": "master", "global_scheme_id": template}
    )
    assert body["code"] == 110, body
    missing = tca.repo("missing.git")
    body = refused(
        tca,
        "POST",
        f"/repos/{missing}/projects/",
        {"branch": "master", "global_scheme_id": template},
    )
    assert body["code"] == 112, body
    nothing_saved(ProjectModel)


def test_a_private_repository_needs_its_credentials_which_never_come_back(tca, git_root, caplog):
    GitRepo.init(git_root / "private.git").commit({"a.py": "x = 1\n"})
    with GitServer(git_root, auth=("ci", "s3cret-pass-word")) as private:
        url = private.url("private.git")
        without = tca.ok("POST", "/repos/", {"scm_url": url, "scm_type": "git"}, status=201)
        template = tca.template()
        body = refused(
            tca,
            "POST",
            f"/repos/{without['id']}/projects/",
            {"branch": "master", "global_scheme_id": template},
        )
        assert body["code"] == 111, body
        auth = {
            "auth_type": "password",
            "scm_account": {"scm_username": "ci", "scm_password": "s3cret-pass-word"},
        }
        body = {"scm_url": url.replace("private", "private") + "?", "scm_type": "git"}
        created = tca.call("POST", "/repos/", {"scm_url": url, "scm_type": "git", "scm_auth": auth})
        texts = [json.dumps(created[1])]
        if created[0] == 400:  # the same URL is registered already in this team
            other = GitRepo.init(git_root / "private2.git")
            other.commit({"a.py": "x = 1\n"})
            created = tca.call(
                "POST",
                "/repos/",
                {"scm_url": private.url("private2.git"), "scm_type": "git", "scm_auth": auth},
            )
        assert created[0] == 201, created
        repo = created[1]["data"]["id"]
        project = tca.project(repo, template)
        tca.scan(repo, project, incr_scan=False)
        drain()
        texts += [
            json.dumps(tca.ok("GET", f"/repos/{repo}/")),
            json.dumps(tca.ok("GET", "/repos/")),
            json.dumps(tca.ok("GET", f"/repos/{repo}/projects/{project}/")),
            json.dumps(tca.ok("GET", f"/repos/{repo}/projects/{project}/jobs/")),
            caplog.text,
        ]
        stored = RepoModel.get("tca:org1/team1", repo)
        assert stored.scm_secret and "s3cret" not in str(stored.scm_secret)
    for text in texts:
        assert "s3cret-pass-word" not in text


def test_scheme_without_tools_refuses_the_scan_with_312(tca, repo_id):
    template = tca.template(lint_enabled=False, metric={"cloc_scan_enabled": False})
    project = tca.project(repo_id, template)
    body = refused(tca, "POST", f"/repos/{repo_id}/projects/{project}/scans/create/", {})
    assert body["code"] == 312 and body["msg"] == "扫描方案未开启代码检查和代码度量", body
    nothing_saved(JobModel)


def test_incr_scan_follows_drf_for_each_content_type(tca, repo_id):
    project = tca.project(repo_id, tca.template())
    path = f"{MAIN}/repos/{repo_id}/projects/{project}/scans/create/"
    jobs = []
    for raw, headers in (
        ("", MEMBER),  # what ScriptsAPI sends: incremental
        ("{}", MEMBER),
        ("force_create=true", FORM),  # a form without incr_scan: full
        ("incr_scan=true&force_create=true", FORM),
        ('{"incr_scan": false, "force_create": true}', MEMBER),
    ):
        status, body = tca.api.call("POST", path, headers=headers, raw=raw)
        if status == 400 and body["code"] == 300:  # the first job is open: force from here on
            continue
        assert status == 200, (raw, body)
        jobs.append(body["data"]["job"]["id"])
    seen = [JobModel.get(project, j).incr_scan for j in jobs]
    assert seen == [True, False, True, False], seen
    status, body = tca.api.call("POST", path, headers=MEMBER, raw='{"incr_scan": "maybe"}')
    assert status == 400 and body["msg"] == "incr_scan Must be a valid boolean.", body


@pytest.mark.parametrize("raw", ["{not json", "[1]", '"x"', "\xff\xfe"])
def test_bodies_that_are_not_objects_are_400(tca, raw):
    body = refused(tca, "POST", "/repos/", raw=raw)
    assert body["status_code"] == 400 and body["code"] == 1000, body
    nothing_saved(RepoModel)


def test_unknown_names_and_ids_are_tca_404s_or_403s(tca, repo_id):
    assert refused(tca, "GET", "/repos/abc/")["status_code"] == 404
    assert refused(tca, "GET", "/repos/99/")["status_code"] == 404
    status, body = tca.api.call("GET", "/server/main/api/orgs/nope/teams/x/repos/", None, MEMBER)
    assert status == 404 and body["code"] == 1000 and body["msg"] == "未找到。", body
    assert refused(tca, "GET", f"/repos/{repo_id}/projects/77/")["status_code"] == 404
    assert refused(tca, "GET", f"/repos/{repo_id}/projects/x/jobs/")["status_code"] == 404
    # analysis: what main's auth check refuses is 403 there, with the analysis server's code
    body = refused(tca, "GET", f"/repos/{repo_id}/projects/77/overview/", server=ANALYSIS)
    assert body["status_code"] == 403 and body["code"] == 100, body


def test_roles_decide_reads_and_writes(tca, repo_id):
    assert tca.ok("GET", f"/repos/{repo_id}/", headers=VIEWER)["id"] == repo_id
    body = {"scm_url": tca.git.url("other.git"), "scm_type": "git"}
    data = refused(tca, "POST", "/repos/", body, headers=VIEWER)
    assert data["status_code"] == 403 and data["msg"] == "您没有执行该操作的权限。"
    data = refused(tca, "GET", "/repos/", headers=OUTSIDER)
    assert data["status_code"] == 403
    data = refused(tca, "GET", "/repos/", headers={"Authorization": "Token nope"})
    assert data["status_code"] == 401 and data["msg"] == "认证令牌无效。"
    data = refused(tca, "GET", "/repos/", headers={"Authorization": ""})
    assert data["status_code"] == 401 and data["msg"] == "身份认证信息未提供。"
    nothing_saved(ProjectModel)


def test_scheme_configuration_takes_forms_empty_bodies_and_nulls(tca, repo_id):
    project = tca.project(repo_id, tca.template())
    scheme = tca.ok("GET", f"/repos/{repo_id}/projects/{project}/")["scan_scheme"]["id"]
    path = f"{MAIN}/repos/{repo_id}/schemes/{scheme}/metricconf/"
    status, body = tca.api.call("PUT", path, headers=FORM, raw="min_ccn=7")
    assert status == 200, body
    conf = body["data"]
    # a form PUT: the booleans it leaves out are false, as DRF reads a form
    assert conf["min_ccn"] == 7 and conf["cc_scan_enabled"] is False
    assert conf["cloc_scan_enabled"] is False
    status, body = tca.api.call(
        "PATCH",
        path,
        {"min_ccn": None, "cloc_scan_enabled": None, "dup_block_length_max": 500},
        MEMBER,
    )
    assert status == 200 and body["data"]["min_ccn"] == 7, body  # null keeps the value
    assert body["data"]["dup_block_length_max"] == 500
    status, body = tca.api.call("PATCH", path, {"dup_block_length_max": None}, MEMBER)
    assert body["data"]["dup_block_length_max"] is None  # null is its default
    basic = f"{MAIN}/repos/{repo_id}/schemes/{scheme}/basicconf/"
    status, body = tca.api.call("PUT", basic, headers=FORM, raw="name=renamed&status=2")
    assert status == 200 and body["data"]["status"] == 2 and body["data"]["name"] == "renamed"
    status, body = tca.api.call("PUT", basic, headers=FORM, raw="name=x&status=3")
    assert status == 400 and body["invalid_fields"][0]["field"] == "status", body
