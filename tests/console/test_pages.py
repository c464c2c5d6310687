"""The console's routes over the Chalice test app: login and refusals, strict headers, and
each page showing what the faces' own reads answer (and only what the caller may read)."""

from __future__ import annotations

import re

from tests.jobs.conftest import MEMBER, OUTSIDER, PROJECT, VIEWER, drain
from tests.scans.conftest import MEMBER as TCA_MEMBER
from tests.scans.conftest import ORG, TEAM
from tests.scans.conftest import drain as drain_scans
from tests.scans.test_scan_flow import seed
from tests.workitems.conftest import DANA_TOKEN, P1, SUB_TYPE, VERA
from tests.workitems.conftest import TEAM as ONES_TEAM
from tests.workitems.conftest import TOKENS as ONES_TOKENS

MEMBER_TOKEN = MEMBER["Authorization"][7:]


def strip_of(html: str) -> list[str]:
    return re.findall(r'<rect class="batch" data-batch="\d+" data-status="(\w+)"', html)


def test_login_sets_only_the_token_cookie_and_a_bad_token_sets_nothing(browser, jobx):
    form = browser.get("/console/login")
    assert form.status == 200 and 'name="token"' in form.text
    bad = browser.post("/console/login", {"token": "not-a-token-000000000"})
    assert bad.status == 401 and "not valid" in bad.text
    assert "set-cookie" not in bad.headers and browser.cookie is None
    assert browser.post("/console/login", {"token": ""}).status == 400
    many = {f"f{i}": "x" for i in range(20)}
    assert browser.post("/console/login", {"token": MEMBER_TOKEN, **many}).status == 400
    as_json = browser.post("/console/login", headers={"Content-Type": "application/json"})
    assert as_json.status == 400 and "set-cookie" not in as_json.headers

    good = browser.login(MEMBER_TOKEN)
    assert good.headers["location"] == "/console"
    cookie = good.headers["set-cookie"]
    assert cookie.startswith(f"taskhub_token={MEMBER_TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    home = browser.get("/console")
    assert home.status == 200 and f'href="/console/jobx/{PROJECT}"' in home.text

    out = browser.post("/console/logout")
    assert out.status == 303 and out.headers["location"] == "/console/login"
    assert "Max-Age=0" in out.headers["set-cookie"] and browser.cookie is None
    assert browser.get("/console").status == 303


def test_login_comes_back_to_a_console_page_only(browser, jobx):
    target = f"/console/jobx/{PROJECT}?cursor=abc"
    refused = browser.get(target)
    assert refused.status == 303
    assert (
        refused.headers["location"] == "/console/login?next=%2Fconsole%2Fjobx%2Fp1%3Fcursor%3Dabc"
    )
    answer = browser.post("/console/login", {"token": MEMBER_TOKEN, "next": target})
    assert answer.headers["location"] == target
    for cross in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        answer = browser.post("/console/login", {"token": MEMBER_TOKEN}, cross)
        assert answer.status == 403 and "set-cookie" not in answer.headers
    docs = browser.post("/console/login", {"token": MEMBER_TOKEN, "next": "/docs/jobx"})
    assert docs.headers["location"] == "/docs/jobx"  # the served API docs share the cookie
    for elsewhere in ("https://evil.example/", "//evil.example/console", "/admin/v1/workspace"):
        answer = browser.post("/console/login", {"token": MEMBER_TOKEN, "next": elsewhere})
        assert answer.headers["location"] == "/console", elsewhere


def test_pages_redirect_fragments_answer_401_and_headers_are_strict(browser, jobx):
    page = browser.get(f"/console/jobx/{PROJECT}")
    assert page.status == 303 and page.headers["location"].startswith("/console/login?next=")
    live = browser.get(f"/console/jobx/{PROJECT}/abcdefabcdef/live")
    assert live.status == 401 and '"error"' in live.text
    bogus = browser.get("/console", {"Cookie": "taskhub_token=bogus-token-0000000"})
    assert bogus.status == 303
    browser.login(MEMBER_TOKEN)
    for path in ("/console", "/console/login", f"/console/jobx/{PROJECT}"):
        answer = browser.get(path)
        csp = answer.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp, path
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "no-store"
        assert "<script>" not in answer.text and " style=" not in answer.text
    script = browser.get("/console/console.js")
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")


def test_a_task_page_shows_its_batches_nodes_and_redacted_output(browser, jobx):
    jobx.group(node="n01;n02,n03")
    steps = [{"name": "say", "plugin_type": "cmd", "script": "echo hi $node password=hunter2"}]
    jobx.job(steps=steps)
    uuid = jobx.run()
    browser.login(VIEWER["Authorization"][7:])  # a viewer reads; the page writes nothing
    before = browser.get(f"/console/jobx/{PROJECT}/{uuid}")
    assert before.status == 200 and 'id="live"' in before.text and 'data-running="1"' in before.text
    assert strip_of(before.text) in (["running", "init"], ["init", "init"])
    drain()
    page = browser.get(f"/console/jobx/{PROJECT}/{uuid}")
    assert strip_of(page.text) == ["success", "success"]
    assert 'data-running="0"' in page.text and '<b id="batch-shown">2</b> of 2' in page.text
    assert "hi n02" in page.text and "hunter2" not in page.text and "password=***" in page.text
    first = browser.get(f"/console/jobx/{PROJECT}/{uuid}/live?batch=1")
    assert first.headers["x-taskhub-running"] == "0" and "hi n01" in first.text
    output = browser.get(f"/console/jobx/{PROJECT}/{uuid}/output?batch=2&node=n03&step=0")
    assert output.status == 200 and "hi n03 password=***" in output.text
    listed = browser.get(f"/console/jobx/{PROJECT}")
    assert f'href="/console/jobx/{PROJECT}/{uuid}"' in listed.text
    assert browser.get(f"/console/jobx/{PROJECT}/{uuid}/live?batch=3").status == 400
    assert browser.get(f"/console/jobx/{PROJECT}/{uuid}?batch=%C2%B2").status == 400
    assert browser.get(f"/console/jobx/{PROJECT}/abcdefabcdef").status == 404
    assert browser.get(f"/console/jobx/{PROJECT}?cursor=%%%").status == 400


def test_a_caller_sees_only_namespaces_they_may_read(browser, jobx, apply_workspace):
    apply_workspace({"namespaces": [{"face": "jobx", "id": "other", "members": {}}]})
    browser.login(OUTSIDER["Authorization"][7:])
    home = browser.get("/console")
    assert home.status == 200 and "/console/jobx/" not in home.text
    refused = browser.get(f"/console/jobx/{PROJECT}")
    assert refused.status == 403 and "permission denied" in refused.text
    browser.login(MEMBER_TOKEN)
    assert "/console/jobx/other" not in browser.get("/console").text
    assert browser.get("/console/jobx/other").status == 403


def test_a_scan_page_charts_lines_by_language_severities_and_the_trend(browser, tca, git_repo):
    seed(git_repo)
    repo_id = tca.repo()
    project_id = tca.project(repo_id, tca.template())
    jobs = []
    for _ in range(2):
        jobs.append(tca.scan(repo_id, project_id, incr_scan=False)["job"]["id"])
        drain_scans()
    browser.login(TCA_MEMBER["Authorization"].split(" ", 1)[1])
    home = browser.get("/console")
    assert f'href="/console/tca/{ORG}/{TEAM}"' in home.text  # an org's member sees its teams
    base = f"/console/tca/{ORG}/{TEAM}"
    assert f'href="{base}/{repo_id}"' in browser.get(base).text
    assert f'href="{base}/{repo_id}/{project_id}"' in browser.get(f"{base}/{repo_id}").text
    scans = browser.get(f"{base}/{repo_id}/{project_id}")
    assert scans.status == 200
    points = re.findall(r'<circle class="point" data-x="#(\d+)" data-value="(\d+)"', scans.text)
    assert [int(x) for x, _ in points] == jobs and points[0][1] == points[1][1] != "0"
    page = browser.get(f"{base}/{repo_id}/{project_id}/{jobs[-1]}")
    assert page.status == 200
    languages = dict(
        re.findall(r'data-kind="languages" data-key="([^"]+)" data-value="(\d+)"', page.text)
    )
    assert {"Python", "Shell"} <= set(languages) and all(int(v) > 0 for v in languages.values())
    severities = re.findall(r'data-kind="severity" data-key="(\d)" data-value="(\d+)"', page.text)
    assert sum(int(v) for _, v in severities) == int(points[-1][1])
    assert browser.get(f"{base}/{repo_id}/{project_id}/999").status == 404
    assert browser.get(f"/console/tca/{ORG}/nosuchteam").status == 404


def test_an_ones_tree_nests_sub_tasks_under_their_parent(browser, ones):
    parent = ones.new("parent01")
    ones.add(
        {
            "uuid": "DU6krHBNsubgood1",
            "assign": "DU6krHBN",
            "summary": "child one",
            "project_uuid": parent["project_uuid"],
            "issue_type_uuid": "",
            "sub_issue_type_uuid": SUB_TYPE,
            "parent_uuid": parent["uuid"],
        }
    )
    browser.login(DANA_TOKEN)
    page = browser.get(f"/console/ones/{ONES_TEAM}")
    assert page.status == 200
    nested = re.search(
        rf'data-uuid="{parent["uuid"]}" data-parent="">.*?<ul class="tree">'
        r'<li class="task" data-uuid="DU6krHBNsubgood1"',
        page.text,
    )
    assert nested, page.text
    assert "child one" in page.text
    browser.login(ONES_TOKENS[VERA])  # a viewer of project one only
    seen = browser.get(f"/console/ones/{ONES_TEAM}")
    assert seen.status == 200
    assert (parent["project_uuid"] == P1) == ("child one" in seen.text)
