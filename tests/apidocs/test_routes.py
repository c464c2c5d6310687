"""/docs: the pages, documents and assets, who may read them, and what a package ships."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from chalicelib.apidocs import bundle, documents
from chalicelib.core import browser
from chalicelib.core.errors import Unavailable
from chalicelib.core.identity import service as identity

ROOT = Path(__file__).resolve().parents[2]
NAMES = sorted(p.stem for p in (ROOT / "docs" / "openapi").glob("*.yaml"))
READER = "docs-reader-token-0123456789"


@pytest.fixture
def reader(aws):
    """A user who is no admin and in no namespace: the docs need only who you are."""
    identity.upsert_user(uuid="Reader01", name="reader", email="reader@t.io")
    identity.issue_token("Reader01", token=READER)
    return READER


def get(client, path: str, **headers: str):
    return client.http.get(path, headers=headers)


def cookie(token: str) -> str:
    return browser.login_cookie(token, secure=False).split(";")[0]


def test_the_index_links_every_document(client, reader):
    response = get(client, "/docs", Cookie=cookie(reader))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.body.decode()
    for name in NAMES:
        title = yaml.safe_load((ROOT / "docs" / "openapi" / f"{name}.yaml").read_text())["info"]
        assert f'href="/docs/{name}"' in page
        assert title["title"].replace("&", "&amp;") in page


@pytest.mark.parametrize("name", NAMES)
def test_each_face_has_its_swagger_ui_page(client, reader, name):
    response = get(client, f"/docs/{name}", Authorization=f"Bearer {reader}")
    assert response.status_code == 200
    page = response.body.decode()
    assert f'data-url="/docs/{name}/openapi.json"' in page
    assert '<script src="/docs/assets/swagger-ui-bundle.js"></script>' in page
    assert "<script>" not in page  # no inline script: the CSP allows none
    # everything it loads comes from this app (the icon is empty, so none is asked for)
    loaded = set(re.findall(r'(?:src|href)="([^"]+)"', page)) - {"data:,"}
    assert loaded and all(u.startswith("/docs") for u in loaded), loaded


@pytest.mark.parametrize("name", NAMES)
def test_the_served_document_is_the_repositorys(client, reader, name):
    response = get(client, f"/docs/{name}/openapi.json", Cookie=cookie(reader))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    served = json.loads(response.body)
    assert served == yaml.safe_load((ROOT / "docs" / "openapi" / f"{name}.yaml").read_text())


def test_the_assets_are_swagger_uis_own_files(client, reader):
    import swagger_ui_bundle

    ui = Path(swagger_ui_bundle.swagger_ui_path)
    for name, kind in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css")):
        response = get(client, f"/docs/assets/{name}", Cookie=cookie(reader))
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith(kind)
        assert response.body == (ui / name).read_bytes()
    init = get(client, "/docs/assets/init.js", Cookie=cookie(reader)).body.decode()
    assert "validatorUrl: null" in init  # Swagger UI's default posts the document elsewhere


def test_every_answer_carries_the_security_headers(client, reader):
    for path in ("/docs", "/docs/jobx", "/docs/jobx/openapi.json", "/docs/assets/init.js"):
        for auth in ({"Cookie": cookie(reader)}, {}):
            headers = get(client, path, **auth).headers
            csp = headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "script-src 'self';" in csp, path
            assert "unsafe" not in csp and "http" not in csp
            assert headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/docs", "/docs/jobx", "/docs/codearts?x=1&y=%2F"])
def test_a_page_without_credentials_sends_the_browser_to_log_in(client, aws, path):
    for headers in ({}, {"Cookie": cookie("not-a-real-token-0000000")}, {"Cookie": "garbage"}):
        response = get(client, path, **headers)
        assert response.status_code == 303, (path, headers)
        location = response.headers["Location"]
        assert location.startswith("/console/login?next=")
        from urllib.parse import parse_qs, urlsplit

        assert parse_qs(urlsplit(location).query)["next"] == [path]
        assert response.body == b""


@pytest.mark.parametrize("path", ["/docs/jobx/openapi.json", "/docs/assets/swagger-ui-bundle.js"])
def test_documents_and_assets_without_credentials_answer_401(client, aws, path):
    for headers in (
        {},
        {"Cookie": cookie("not-a-real-token-0000000")},
        {"Authorization": "Bearer not-a-real-token-0000000"},
    ):
        response = get(client, path, **headers)
        assert response.status_code == 401, (path, headers)
        assert json.loads(response.body)["error"]["code"] == "Unauthorized"
        assert "swagger" not in response.body.decode().lower()


def test_a_revoked_token_no_longer_reads_the_docs(client, reader):
    assert get(client, "/docs/jobx/openapi.json", Cookie=cookie(reader)).status_code == 200
    identity.revoke_token(READER)
    assert get(client, "/docs/jobx/openapi.json", Cookie=cookie(reader)).status_code == 401
    assert get(client, "/docs/jobx", Cookie=cookie(reader)).status_code == 303


@pytest.mark.parametrize(
    "path",
    [
        "/docs/nope",
        "/docs/nope/openapi.json",
        "/docs/assets/swagger-ui-bundle.js.map",
        "/docs/assets/index.html",
        "/docs/assets/..%2Fbundle.py",
        "/docs/..%2F..%2Fapp.py/openapi.json",
    ],
)
def test_unknown_names_are_404_in_the_envelope(client, reader, path):
    response = get(client, path, Cookie=cookie(reader))
    assert response.status_code == 404, path
    assert json.loads(response.body)["error"]["code"] == "NotFound"


def test_a_built_bundle_serves_what_the_sources_give(tmp_path):
    """A package reads chalicelib/apidocs/dist, written by the same code from the same sources."""
    sizes = bundle.build(tmp_path / "dist")
    assert documents.read(tmp_path / "dist") == bundle.contents()
    assert set(sizes) == {f"openapi/{n}.json" for n in NAMES} | {
        "index.json",
        *(f"assets/{n}" for n in bundle.VENDORED + bundle.OURS),
    }
    assert sum(sizes.values()) < 2_000_000  # two of Swagger UI's files, not its 8 MB package


def test_a_package_without_the_bundle_says_so(tmp_path):
    with pytest.raises(Unavailable, match="make package"):
        documents.read(tmp_path)


def test_behind_a_stage_the_links_and_the_login_keep_its_path():
    """API Gateway serves the app under its stage (`/api/docs/jobx`): the login form and the
    way back include it, as the page's links do (from the path the client reached)."""
    from types import SimpleNamespace

    from chalicelib.apidocs import api

    request = SimpleNamespace(
        context={"resourcePath": "/docs/{name}", "path": "/api/docs/jobx"},
        uri_params={"name": "jobx"},
        query_params={"x": "1"},
    )
    assert api._login(request) == "/api/console/login?next=%2Fapi%2Fdocs%2Fjobx%3Fx%3D1"
    index = SimpleNamespace(context={"resourcePath": "/docs", "path": "/api/docs"}, uri_params={})
    index.query_params = None
    assert api._login(index) == "/api/console/login?next=%2Fapi%2Fdocs"
    assert api._stage("/api/docs/jobx", "/docs/jobx") == "/api"
    assert api._stage("/docs/jobx", "/docs/jobx") == ""
