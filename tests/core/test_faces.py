"""What every face does before and after its handler: the body limit before any parsing,
credentials that must all agree, and a 500 that never shows its message."""

from __future__ import annotations

import pytest

from chalicelib.core.errors import TaskhubError
from chalicelib.core.face import MAX_BODY
from chalicelib.core.identity import service as identity
from chalicelib.jobs import catalog as jobs_catalog

# one body route of each face, the public ONES login among them
BODY_ROUTES = [
    ("POST", "/project/api/project/auth/login", ("code", "errcode", "type")),
    ("POST", "/project/api/project/team/3pDzCwAe/tasks/add2", ("code", "errcode", "type")),
    ("PUT", "/dtask/links", ("error", "result")),
    ("POST", "/jobx/group/p1", ("stat", "info")),
    ("PUT", "/admin/v1/workspace", ("error",)),
]


@pytest.mark.parametrize(("method", "path", "keys"), BODY_ROUTES)
def test_a_body_over_the_limit_is_refused_before_it_is_read(api, admin, method, path, keys):
    oversized = '{"email": "' + "a" * MAX_BODY + '" // and a comment\n}'
    status, body = api.call(method, path, headers=admin, raw=oversized)
    assert status == 400 and set(keys) <= set(body), body
    assert "too large" in str(body)


@pytest.mark.parametrize(("method", "path", "keys"), BODY_ROUTES)
def test_a_body_nested_too_deep_is_a_400_in_the_envelope(api, admin, method, path, keys):
    for raw in ("[" * 10000, '{"a":' * 10000, '{"a": // note\n' * 10000):
        status, body = api.call(method, path, headers=admin, raw=raw)
        assert status == 400 and set(keys) <= set(body), (raw[:20], body)


def test_the_ones_comment_fallback_still_reads_the_seeds_examples(api, admin):
    raw = '{"email": "a@b.io", // the account\n "password": "x//y"}'
    status, body = api.call("POST", "/project/api/project/auth/login", raw=raw)
    assert status == 401 and body["code"] == 401  # parsed: wrong password, not 801


@pytest.fixture
def two_users(aws):
    identity.upsert_user(uuid="UserOne1", name="one", email="one@x.io")
    identity.upsert_user(uuid="UserTwo2", name="two", email="two@x.io")
    identity.issue_token("UserOne1", token="token-of-user-one-0001")
    identity.issue_token("UserTwo2", token="token-of-user-two-0002")


STATS = "/project/api/project/team/3pDzCwAe/task_stats"


@pytest.mark.parametrize(
    "headers",
    [
        {"Ones-Auth-Token": "token-of-user-one-0001"},  # ONES needs both of its headers
        {"Ones-User-Id": "UserOne1"},
        {"Ones-User-Id": "UserTwo2", "Ones-Auth-Token": "token-of-user-one-0001"},
        {
            "Authorization": "Bearer token-of-user-one-0001",
            "X-Auth-Token": "token-of-user-two-0002",
        },
        {
            "Authorization": "Bearer token-of-user-one-0001",
            "Ones-User-Id": "UserOne1",
            "Ones-Auth-Token": "not-a-token-at-all-000",
        },
    ],
)
def test_credentials_that_disagree_or_are_incomplete_are_refused(api, two_users, headers):
    status, body = api.call("GET", STATS, headers=headers)
    assert status == 401 and body["code"] == 401, (headers, body)


def test_agreeing_credentials_are_one_user(api, two_users):
    headers = {
        "Authorization": "Bearer token-of-user-one-0001",
        "Ones-User-Id": "UserOne1",
        "Ones-Auth-Token": "token-of-user-one-0001",
    }
    status, body = api.call("GET", STATS, headers=headers)
    assert status in (403, 404), body  # authenticated: refused on rights, not identity


def test_a_500_shows_no_message(api, admin, monkeypatch):
    def broken(*args, **kwargs):
        raise TaskhubError("connection to 10.0.0.7 refused for user root")

    monkeypatch.setattr(jobs_catalog, "list_groups", broken)
    status, body = api.call("GET", "/jobx/group/p1", headers=admin)
    assert status == 500 and body == {"stat": False, "info": "internal error"}
