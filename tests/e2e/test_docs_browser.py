"""/docs in a real browser: Debian's Chromium, headless, driven by Playwright, against a real
`chalice local`. Swagger UI renders every operation of a document with no JavaScript error,
no CSP violation and no request leaving the server."""

from __future__ import annotations

import shutil

import pytest
import yaml
from playwright import sync_api as playwright

from ..console import browser as chromium
from .conftest import ROOT

TOKEN = "docs-browser-token-0123456789"
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        launched = chromium.launch(p)  # fails, not skips, without Debian's chromium
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def reader(server):
    server.admin({"users": [{"uuid": "DocsRd01", "name": "r", "email": "r@t.io", "token": TOKEN}]})
    return TOKEN


def document(name: str) -> dict:
    return yaml.safe_load((ROOT / "docs" / "openapi" / f"{name}.yaml").read_text())


def operations(name: str) -> list[tuple[str, str]]:
    paths = document(name)["paths"]
    return [(m, p) for p, ops in paths.items() for m in ops if m in METHODS]


class Watched:
    """A page whose every request, console error and uncaught exception is kept."""

    def __init__(self, context):
        self.page = context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)


@pytest.mark.parametrize("credential", ["cookie", "bearer"])
def test_swagger_ui_renders_the_jobx_document_from_this_server_alone(
    server, reader, browser, credential
):
    if credential == "cookie":
        context = browser.new_context()
        context.add_cookies([{"name": "taskhub_token", "value": reader, "url": server.base}])
    else:
        context = browser.new_context(extra_http_headers={"Authorization": f"Bearer {reader}"})
    try:
        watched = Watched(context)
        watched.page.goto(server.base + "/docs/jobx")
        expected = operations("jobx")
        blocks = watched.page.locator(".opblock-summary")
        blocks.nth(len(expected) - 1).wait_for(timeout=60_000)
        assert blocks.count() == len(expected)
        shown = {
            (m.lower(), p.replace("\u200b", ""))
            for m, p in zip(
                watched.page.locator(".opblock-summary-method").all_inner_texts(),
                watched.page.locator(".opblock-summary-path").all_inner_texts(),
                strict=True,
            )
        }
        assert shown == set(expected)
        # grouped by the document's tags, each operation under its operationId
        tags = [t["name"] for t in document("jobx")["tags"]]
        assert (
            watched.page.locator(".opblock-tag").all_inner_texts()
            and [
                t.split("\n")[0].strip()
                for t in watched.page.locator(".opblock-tag").all_inner_texts()
            ]
            == tags
        )
        ids = {
            op["operationId"]
            for ops in document("jobx")["paths"].values()
            for m, op in ops.items()
            if m in METHODS
        }
        assert set(watched.page.locator(".opblock-summary-operation-id").all_inner_texts()) == ids
        assert watched.page.locator(".info .title").inner_text().startswith("taskhub JOBX face")
        watched.page.locator(".opblock-summary").first.click()  # a schema renders too
        watched.page.locator(".opblock-body").first.wait_for(timeout=30_000)
        assert watched.errors == [], (watched.errors, watched.requests)
        assert watched.requests and all(
            u.startswith(server.base + "/docs") for u in watched.requests
        ), watched.requests
        assert server.base.startswith("http://127.0.0.1:")
    finally:
        context.close()


def test_the_index_and_a_page_without_credentials(server, reader, browser):
    context = browser.new_context()
    try:
        watched = Watched(context)
        watched.page.goto(server.base + "/docs/jobx")
        assert watched.page.url == server.base + "/console/login?next=%2Fdocs%2Fjobx"
        context.add_cookies([{"name": "taskhub_token", "value": reader, "url": server.base}])
        watched.page.goto(server.base + "/docs")
        links = watched.page.locator("main a")
        names = sorted(p.stem for p in (ROOT / "docs" / "openapi").glob("*.yaml"))
        assert links.count() == len(names)
        links.filter(has_text="JOBX").click()
        watched.page.locator(".opblock-summary").first.wait_for(timeout=60_000)
        assert watched.page.url == server.base + "/docs/jobx"
    finally:
        context.close()


def test_chromium_is_debians(browser):
    assert shutil.which("chromium") == str(chromium.CHROMIUM)
    assert browser.version


@pytest.mark.parametrize("name", sorted(p.stem for p in (ROOT / "docs" / "openapi").glob("*.yaml")))
def test_every_document_renders_without_an_error(server, reader, browser, name):
    context = browser.new_context()
    context.add_cookies([{"name": "taskhub_token", "value": reader, "url": server.base}])
    try:
        watched = Watched(context)
        watched.page.goto(f"{server.base}/docs/{name}")
        blocks = watched.page.locator(".opblock-summary")
        blocks.nth(len(operations(name)) - 1).wait_for(timeout=60_000)
        assert blocks.count() == len(operations(name))
        assert watched.errors == [], watched.errors
        assert all(u.startswith(server.base + "/docs") for u in watched.requests), watched.requests
    finally:
        context.close()
