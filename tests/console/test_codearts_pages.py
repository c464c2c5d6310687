"""The scan pages for a CodeArts project: its check task is a project of the scan engine,
its runs are the scans, shown as a TCA team's are."""

from __future__ import annotations

import re

from tests.codearts import conftest as fixtures
from tests.codearts.conftest import MEMBER as CODEARTS_MEMBER
from tests.codearts.conftest import OUTSIDER, PROJECT, VIEWER
from tests.scans.conftest import drain

# this module's repository and git server are the CodeArts tests' (one demo.git, its sources)
codearts, git_repo, git_server = fixtures.codearts, fixtures.git_repo, fixtures.git_server


def test_a_codearts_task_run_is_browsed_from_its_project(browser, codearts):
    task_id = codearts.create()
    codearts.run(task_id)
    drain()
    browser.login(OUTSIDER["X-Auth-Token"])
    assert browser.get(f"/console/codearts/{PROJECT}").status == 403
    browser.login(VIEWER["X-Auth-Token"])
    assert f'href="/console/codearts/{PROJECT}"' in browser.get("/console").text
    repos = browser.get(f"/console/codearts/{PROJECT}")
    (repo,) = re.findall(rf'href="/console/codearts/{PROJECT}/(\d+)"', repos.text)
    projects = browser.get(f"/console/codearts/{PROJECT}/{repo}")
    (project,) = re.findall(rf'href="/console/codearts/{PROJECT}/{repo}/(\d+)"', projects.text)
    scans = browser.get(f"/console/codearts/{PROJECT}/{repo}/{project}")
    (job,) = re.findall(rf'href="/console/codearts/{PROJECT}/{repo}/{project}/(\d+)"', scans.text)
    page = browser.get(f"/console/codearts/{PROJECT}/{repo}/{project}/{job}")
    assert page.status == 200
    assert re.search(r'data-kind="languages" data-key="Python" data-value="[1-9]', page.text)
    assert "open issues" in page.text
    browser.login(CODEARTS_MEMBER["X-Auth-Token"])
    assert browser.get(f"/console/codearts/{PROJECT}/{repo}/999").status == 404
