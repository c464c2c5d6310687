"""core.auth with AK/SK: a request Huawei's SDK signed with a key from the identity store
authenticates as the key's owner, for any face; an unknown key and a wrong secret get one
and the same refusal; a stale date, a changed body or path are refused; a signature does
not cover a token of another user."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.core import auth
from chalicelib.core.errors import Unauthorized
from chalicelib.core.identity import service as identity
from chalicelib.core.sdk_signing import Refusal

from .huawei_sdk import Received, codearts_model, sent_by_client

PROJECT = "devcloudproj00000000000000000001"


def list_tasks(client):
    return client.show_task_list_by_project_id(
        codearts_model.ShowTaskListByProjectIdRequest(project_id=PROJECT, offset=0, limit=10)
    )


def create_task(client):
    body = codearts_model.CreateTaskRequestV2(git_url="https://git.example.com/a.git")
    return client.create_task(codearts_model.CreateTaskRequest(project_id=PROJECT, body=body))


def as_received(request: Received) -> auth.Received:
    return auth.Received(request.method, request.path, request.query, request.body)


def check(request: Received, now: datetime | None = None) -> auth.Principal:
    return auth.authenticate(request.headers, as_received(request), now or datetime.now(UTC))


@pytest.fixture
def keyed(aws):
    user, _ = identity.upsert_user(name="Signer", email="signer@example.com")
    ak, sk = identity.create_access_key(user.uuid)
    return user, ak, sk


def test_a_signed_request_authenticates_as_the_keys_owner(keyed):
    user, ak, sk = keyed
    for call in (list_tasks, create_task):
        assert check(sent_by_client(ak, sk, call)).uuid == user.uuid


def test_unknown_key_and_wrong_secret_are_one_answer(keyed, caplog):
    _, ak, sk = keyed
    caplog.set_level(logging.INFO, logger="taskhub.auth")
    refusals = []
    for key, secret in ((ak, sk + "x"), ("AKUNKNOWN00000000000", sk)):
        with pytest.raises(auth.SignatureRejected) as caught:
            check(sent_by_client(key, secret, list_tasks))
        refusals.append((caught.value.reason, caught.value.message, caught.value.status))
    assert refusals[0] == refusals[1] == (Refusal.SIGNATURE_MISMATCH, "invalid signature", 401)
    assert sk not in caplog.text
    assert "UNKNOWN_ACCESS_KEY" in caplog.text and "SIGNATURE_MISMATCH" in caplog.text


def test_a_revoked_key_no_longer_signs(keyed):
    _, ak, sk = keyed
    request = sent_by_client(ak, sk, list_tasks)
    identity.revoke_access_key(ak)
    with pytest.raises(auth.SignatureRejected) as caught:
        check(request)
    assert caught.value.reason is Refusal.SIGNATURE_MISMATCH


def test_changed_parts_and_stale_dates_are_refused(keyed):
    _, ak, sk = keyed
    posted = sent_by_client(ak, sk, create_task)
    changes = {
        "body": dataclasses.replace(posted, body=posted.body.replace(b"a.git", b"b.git")),
        "path": dataclasses.replace(posted, path=posted.path.replace("0001", "0002")),
        "host": dataclasses.replace(posted, headers={**posted.headers, "host": "evil.test"}),
    }
    for name, request in changes.items():
        with pytest.raises(auth.SignatureRejected) as caught:
            check(request)
        assert caught.value.reason is Refusal.SIGNATURE_MISMATCH, name
    later = datetime.now(UTC) + timedelta(minutes=16)
    with pytest.raises(auth.SignatureRejected) as stale:
        check(posted, now=later)
    assert stale.value.reason is Refusal.DATE_OUT_OF_RANGE and stale.value.status == 401


def test_a_signature_needs_the_request_and_covers_no_other_users_token(keyed):
    user, ak, sk = keyed
    request = sent_by_client(ak, sk, list_tasks)
    with pytest.raises(Unauthorized):
        auth.authenticate(request.headers)  # no method, path or body to check it against
    other, _ = identity.upsert_user(name="Other", email="other@example.com")
    theirs, _ = identity.issue_token(other.uuid)
    mine, _ = identity.issue_token(user.uuid)
    with pytest.raises(Unauthorized):
        auth.authenticate({**request.headers, "x-auth-token": theirs}, as_received(request))
    with pytest.raises(Unauthorized):
        auth.authenticate({**request.headers, "x-auth-token": "no-such-token-000000"})
    both = {**request.headers, "x-auth-token": mine}
    assert auth.authenticate(both, as_received(request)).uuid == user.uuid


def test_other_sdk_algorithms_are_refused_as_unsupported(keyed):
    _, ak, sk = keyed
    request = sent_by_client(ak, sk, list_tasks)
    value = request.headers["authorization"].replace("SDK-HMAC-SHA256", "SDK-HMAC-SM3", 1)
    headers = {**request.headers, "authorization": value}
    with pytest.raises(auth.SignatureRejected) as caught:
        auth.authenticate(headers, as_received(request))
    assert caught.value.reason is Refusal.UNSUPPORTED_ALGORITHM
