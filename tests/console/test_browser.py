"""The console in a real browser (Debian's Chromium, headless, through Playwright) against a
real `chalice local`: log in, watch a running job's batches advance without a reload, read a
finished scan's charts and an ONES tree; no page logs a JavaScript error."""

from __future__ import annotations

import pytest

from tests.e2e.local import LocalServer

from . import browser as chromium
from . import demo as demo_data


@pytest.fixture(scope="module")
def demo():
    server = LocalServer().start()
    try:
        yield demo_data.load(server)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chrome():
    if not chromium.CHROMIUM.exists():
        pytest.fail(chromium.MISSING)  # a failure, not a skip: CI must have the browser
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(chrome, demo):
    """A fresh browser context; every console message of level error and every uncaught
    page error fails the test."""
    context = chrome.new_context(viewport={"width": 1280, "height": 800})
    opened = context.new_page()
    errors: list[str] = []
    opened.errors = errors  # a test may take out one it caused on purpose
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    opened.set_default_timeout(30_000)
    yield opened
    context.close()
    assert errors == [], errors


def log_in(page, demo, token=demo_data.TOKEN, then: str = "/console"):
    page.goto(demo.url(then))
    assert "/console/login" in page.url  # not logged in: the login form, coming back here
    page.fill("#token", token)
    page.click("button[type=submit]")


def test_log_in_and_see_the_namespaces(page, demo):
    log_in(page, demo, token="not-a-token-000000000")
    assert page.locator("[role=alert]").inner_text().startswith("That token is not valid")
    assert page.context.cookies() == []
    # the browser reports the form's 401 itself; nothing else may be logged
    page.errors.remove(
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    )
    page.fill("#token", demo_data.TOKEN)
    page.click("button[type=submit]")
    page.wait_for_url(demo.url("/console"))
    for href in (
        f"/console/jobx/{demo_data.PROJECT}",
        f"/console/tca/{demo_data.ORG}/{demo_data.TEAM}",
        demo.ones_page,
    ):
        assert page.locator(f'a[href="{href}"]').count() == 1, href
    (cookie,) = page.context.cookies()
    assert (
        cookie["name"] == "taskhub_token" and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    )
    page.click("header button")  # log out
    page.wait_for_url("**/console/login")
    assert page.context.cookies() == []


def batch(page, number: int):
    return page.locator(f'svg.strip rect[data-batch="{number}"]')


def wait_status(page, number: int, status: str) -> None:
    """Until batch `number` shows `status` (selectors: the page's CSP allows no eval)."""
    page.locator(f'svg.strip rect[data-batch="{number}"][data-status="{status}"]').wait_for(
        state="attached"
    )


def test_a_running_job_advances_batch_by_batch_without_a_reload(page, demo):
    log_in(page, demo, then=demo.task_page)
    page.wait_for_url(demo.url(demo.task_page))
    page.evaluate("window.notReloaded = true")
    first = batch(page, 1)
    wait_status(page, 1, "running")
    assert batch(page, 2).get_attribute("data-status") == "init"
    assert "deploy" in page.locator("#current-step").inner_text()
    demo.release("web1")
    wait_status(page, 2, "running")
    assert first.get_attribute("data-status") == "success"
    assert page.locator("#batch-shown").inner_text() == "2"
    assert page.locator("#batches-done").inner_text().startswith("1/3")
    demo.release("web2", "web3")
    wait_status(page, 3, "running")
    assert page.evaluate("window.notReloaded") is True  # the script redrew it, no reload
    demo.release("web4", "web5")
    page.locator('#live[data-running="0"]').wait_for(state="attached")
    statuses = [batch(page, n).get_attribute("data-status") for n in (1, 2, 3)]
    assert statuses == ["success"] * 3
    assert page.locator("#task-status").inner_text() == "success"
    assert "ok web5" in page.locator("#live").inner_text()
    page.click("text=full output >> nth=0")
    assert (
        "deployed web4" in page.locator("#output").inner_text()
        or "ok web4" in page.locator("#output").inner_text()
    )


def test_a_finished_scan_shows_its_charts(page, demo):
    log_in(page, demo, then=demo.scan_page)
    page.wait_for_url(demo.url(demo.scan_page))
    bars = page.locator('svg.chart-languages rect.bar[data-kind="languages"]')
    keys = {bars.nth(i).get_attribute("data-key") for i in range(bars.count())}
    assert {"Python", "Shell"} <= keys, keys
    for i in range(bars.count()):
        assert bars.nth(i).bounding_box()["width"] > 0
    severity = page.locator('svg.chart-severity rect[data-kind="severity"]')
    assert severity.count() == 4
    trend = page.locator("svg.chart-trend circle.point")
    assert trend.count() == len(demo.jobs)
    values = [int(trend.nth(i).get_attribute("data-value")) for i in range(trend.count())]
    assert values[0] > values[-1] > 0  # the second scan fixed one file's issues
    page.click(f'a[href="{demo.scans_page}"]')
    page.wait_for_url(demo.url(demo.scans_page))
    assert page.locator("svg.chart-trend circle.point").count() == len(demo.jobs)


def test_an_ones_task_tree(page, demo):
    log_in(page, demo, then=demo.ones_page)
    page.wait_for_url(demo.url(demo.ones_page))
    release = page.locator(f'li.task[data-uuid="{demo_data.DANA}release1"]')
    children = release.locator("ul.tree > li.task")
    assert children.count() == 3
    assert "Run the rolling deploy" in children.nth(1).inner_text() or "Run the rolling deploy" in (
        release.inner_text()
    )
    assert page.locator("ul.tree.top > li.task").count() == 2


def test_the_job_list_and_the_scan_lists(page, demo):
    log_in(page, demo, then=f"/console/jobx/{demo_data.PROJECT}")
    page.wait_for_url(demo.url(f"/console/jobx/{demo_data.PROJECT}"))
    assert page.locator(f'a[href="/console/jobx/{demo_data.PROJECT}/{demo.finished}"]').count() >= 1
    page.goto(demo.url(f"/console/tca/{demo_data.ORG}/{demo_data.TEAM}"))
    page.click("text=shop")
    page.click("text=master")
    page.wait_for_url(demo.url(demo.scans_page))
