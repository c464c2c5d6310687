"""Shared fixtures: the embedded store, every declared resource, and a Chalice test client.

Tests meet the backend `make run` users meet: the embedded store (moto behind the ledger,
journaled to a data directory), on a loopback port of its own per test process. Each test
starts from empty tables, queues and bucket (the store truncates them, keeping definitions).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlencode

os.environ["TASKHUB_STAGE"] = "test"
os.environ.pop("TASKHUB_EMBEDDED", None)
os.environ.pop("TASKHUB_ENDPOINT_URL", None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_PROFILE", None)
# EMF goes to stdout, which tests read; the metric tests switch it on (tests/observed.py)
os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"
# A fixed encryption key: moto's SSM loads ~1 s of default parameters per context, so only
# the tests of the SSM-held key use it.
os.environ["TASKHUB_SECRET_KEY"] = "dGFza2h1Yi10ZXN0LWtleS0wMDAwMDAwMDAwMDAwMDA="

import pytest
from chalice.test import Client

from chalicelib.core import config, crypto, resources, workspace
from chalicelib.core.identity import service as identity
from chalicelib.core.store import Store
from chalicelib.faces import load_faces

config.reload()
load_faces()  # every face's tables exist in each test, whatever it imports first

ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """One embedded store per test process, durable like the local stage's."""
    started = Store(tmp_path_factory.mktemp("data"), port=0).start()
    os.environ["TASKHUB_ENDPOINT_URL"] = started.url
    config.reload()
    resources.rebind()
    yield started
    started.stop()


@pytest.fixture
def metrics_on(monkeypatch):
    """EMF on stdout in this test, as in Lambda (switched off for the others above)."""
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)


@pytest.fixture
def aws(store):
    store.truncate()
    config.reload()
    resources.rebind()
    crypto.reset()
    resources.ensure_all()
    yield store
    crypto.reset()


@pytest.fixture
def app(aws):
    from app import app as chalice_app

    return chalice_app


@pytest.fixture
def client(app):
    with Client(app) as test_client:
        yield test_client


def make_admin() -> dict[str, str]:
    """An admin user with a known token (again, after a test emptied the store)."""
    identity.upsert_user(uuid="admin000", name="admin", email="admin@t.io", is_admin=True)
    identity.issue_token("admin000", token=ADMIN_TOKEN)
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def admin(aws):
    """An admin user with a known token; returns auth headers."""
    return make_admin()


class Api:
    """Thin JSON helper over the Chalice test client."""

    def __init__(self, client: Client):
        self.client = client

    def call(self, method: str, path: str, body=None, headers=None, raw: str | None = None):
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, headers=hdrs, body=payload)
        try:
            data = json.loads(response.body) if response.body else None
        except ValueError:
            data = response.body
        return response.status_code, data


@pytest.fixture
def api(client):
    return Api(client)


@pytest.fixture
def apply_workspace(api, admin):
    def apply(document: dict) -> dict:
        status, body = api.call("PUT", "/admin/v1/workspace", document, admin)
        assert status == 200, body
        return body["applied"]

    return apply


@pytest.fixture
def export_workspace(api, admin):
    """`export(limit)`: the whole exported document, following the cursor, and its pages."""

    def export(limit: int | None = None) -> tuple[dict, list[dict]]:
        document: dict = {}
        pages: list[dict] = []
        cursor = None
        while True:
            query = urlencode({k: v for k, v in (("limit", limit), ("cursor", cursor)) if v})
            status, body = api.call("GET", f"/admin/v1/workspace?{query}", headers=admin)
            assert status == 200, body
            pages.append(body["workspace"])
            workspace.merge(document, body["workspace"])
            cursor = body["cursor"]
            if cursor is None:
                return document, pages

    return export


def page_rows(page: dict) -> int:
    """What an export page holds, counted as its limit counts: an item once per member, and
    at least once."""
    return sum(max(1, len(item.get("members", {}))) for items in page.values() for item in items)
