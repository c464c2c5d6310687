"""SDK-HMAC-SHA256 verification against requests Huawei's own SDK signed: what the SDK sends
verifies, and every change to a signed part, wrong key, stale date or unsigned host is refused
with its own reason, without the secret or the expected signature leaking."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

import pytest
from chalice.app import MultiDict

from chalicelib.core import crypto, sdk_signing
from chalicelib.core.errors import Unauthorized
from chalicelib.core.identity import service as identity
from chalicelib.core.sdk_signing import Refusal, SignatureRefused, verify_request

from .huawei_sdk import IAM_PROJECT, Received, Signer, sent_by_client, sign
from .huawei_sdk import codearts_model as m

AK, SK = "HPUAKEXAMPLE00000000", "sk-example-0123456789abcdefghijABCDEFGHIJ"
OTHER_AK, OTHER_SK = "HPUAKOTHER0000000000", "sk-other-0123456789abcdefghijABCDEFGHIJ"
SIGNED_AT = datetime(2026, 12, 1, 6, 29, 17, tzinfo=UTC)
DEV_PROJECT = "devcloudproj00000000000000000001"
TASK = "0123456789abcdef0123456789abcdef"
SDK_HEADERS = ("content-type", "host", "user-agent", "x-project-id", "x-sdk-date")


class Keys:
    """secret_for over a dict, remembering what it was asked."""

    def __init__(self, secrets: dict[str, str] | None = None):
        self.secrets = {AK: SK, OTHER_AK: OTHER_SK} if secrets is None else secrets
        self.asked: list[str] = []

    def __call__(self, ak: str) -> str | None:
        self.asked.append(ak)
        return self.secrets.get(ak)


def verify(request: Received, now: datetime = SIGNED_AT, keys=None, **kwargs):
    return verify_request(**request.parts(), now=now, secret_for=keys or Keys(), **kwargs)


def refusal(request: Received, now: datetime = SIGNED_AT, keys=None, **kwargs) -> Refusal:
    with pytest.raises(SignatureRefused) as caught:
        verify(request, now, keys, **kwargs)
    return caught.value.reason


def changed(request: Received, **changes) -> Received:
    """A copy with some parts replaced; `headers`/`query` entries given are merged in."""
    headers = {**request.headers, **changes.pop("headers", {})}
    query = {**request.query, **changes.pop("query", {})}
    return dataclasses.replace(request, headers=headers, query=query, **changes)


def signed_post() -> Received:
    return sign(
        AK,
        SK,
        "POST",
        f"/v2/{DEV_PROJECT}/tasks/{TASK}/config-ignorepath",
        query=[("limit", 10), ("offset", 0)],
        headers={"X-Project-Id": IAM_PROJECT},
        body=b'{"path": "src/vendor", "type": "add"}',
        date=SIGNED_AT,
    )


# ---- what the SDK sends verifies -------------------------------------------------------------

# captured on loopback from the SDK by ../shared/reference/codearts.md B.6 (test key pair)
REF_AK, REF_SK = "TESTAK0000000000EXAMPLE", "TESTSECRETKEY0123456789abcdefghijklmnopq"
REF_UA = (
    "huaweicloud-usdk-python/3.0; os/Linux##1_SMP_PREEMPT_DYNAMIC_@0#x86_64 python/3.11.7 "
    "impl/CPython; app/a99d43a1-8cf3-426b-89f8-1e440d0843cb"
)
REF_SIGNED = "content-type;host;user-agent;x-project-id;x-sdk-date"
REF_CAPTURES = {
    "B.6.1 list tasks": (
        "GET",
        "/v2/devcloudproj00000000000000000001/tasks",
        {"limit": ["10"], "offset": ["0"]},
        "20261201T062917Z",
        "2ca5666f1b68ad4f59dea88bb45db758ca4590d034d44ec7bd40efe2736a4e10",
        b"",
    ),
    "B.6.2 create task": (
        "POST",
        "/v2/devcloudproj00000000000000000001/task",
        {},
        "20261201T062919Z",
        "b2e3f9967427bd3e425255b5df936bf461cdbccd3595cd0dff80832c55b93f31",
        b'{"git_url": "https://codehub.example.com/g/r.git", "git_branch": "master", '
        b'"language": ["python", "java"], "task_type": "full", "username": "u1", '
        b'"access_token": "tok"}',
    ),
    "B.6.5 defects, commas": (
        "GET",
        "/v2/tasks/0123456789abcdef0123456789abcdef/defects-detail",
        {"limit": ["20"], "offset": ["0"], "severity": ["0,1"], "status_ids": ["0,1"]},
        "20261201T062920Z",
        "a12faeb5e0b0262b565061096151c73cf0c531db193dabaf8e709f6a0c4c1df8",
        b"",
    ),
}


@pytest.mark.parametrize("name", REF_CAPTURES)
def test_requests_captured_from_the_sdk_on_the_wire_verify(name):
    method, path, query, date, signature, body = REF_CAPTURES[name]
    headers = {
        "User-Agent": REF_UA,
        "Accept-Encoding": "gzip, deflate",
        "Accept": "*/*",
        "Connection": "keep-alive",
        "Content-Type": "application/json",
        "X-Project-Id": "iamproject000000000000000000000a",
        "X-Sdk-Date": date,
        "Host": "127.0.0.1:8765",
        "Authorization": f"SDK-HMAC-SHA256 Access={REF_AK}, SignedHeaders={REF_SIGNED}, "
        f"Signature={signature}",
    }
    if body:
        headers["Content-Length"] = str(len(body))
    signed_at = datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    keys = Keys({REF_AK: REF_SK})
    request = Received(method, path, query, headers, body)
    result = verify(request, now=signed_at + timedelta(seconds=3), keys=keys)
    assert result.access_key == REF_AK and result.signed_at == signed_at
    assert result.signed_headers == tuple(REF_SIGNED.split(";"))
    assert keys.asked == [REF_AK]
    # one byte off anywhere signed, and the same capture is refused
    assert refusal(changed(request, method="PUT"), signed_at, keys) is Refusal.SIGNATURE_MISMATCH


CLIENT_CALLS = {
    "list tasks": lambda c: c.show_task_list_by_project_id(
        m.ShowTaskListByProjectIdRequest(project_id=DEV_PROJECT, offset=0, limit=10)
    ),
    "defects, comma values": lambda c: c.show_task_defects(
        m.ShowTaskDefectsRequest(task_id=TASK, offset=0, limit=20, status_ids="0,1", severity="0")
    ),
    "create task, JSON body": lambda c: c.create_task(
        m.CreateTaskRequest(
            project_id=DEV_PROJECT,
            body=m.CreateTaskRequestV2(
                git_url="https://codehub.example.com/g/r.git",
                git_branch="功能/分支",
                language=["python", "java"],
                task_type="full",
            ),
        )
    ),
    "run task, empty model": lambda c: c.run_task(
        m.RunTaskRequest(task_id=TASK, body=m.RunRequestV2())
    ),
    "run task, no body": lambda c: c.run_task(m.RunTaskRequest(task_id=TASK)),
    "PUT defect status": lambda c: c.update_defect_status(
        m.UpdateDefectStatusRequest(
            task_id=TASK, body=m.UpdateDefectRequestBody(defect_id="d-1", defect_status="2")
        )
    ),
    "DELETE task": lambda c: c.delete_task(m.DeleteTaskRequest(task_id=TASK)),
    "task id needing encoding": lambda c: c.show_progress_detail(
        m.ShowProgressDetailRequest(task_id="a b/ü%~+")
    ),
}


@pytest.mark.parametrize("name", CLIENT_CALLS)
def test_what_the_codearts_check_client_sends_verifies(name):
    request = sent_by_client(AK, SK, CLIENT_CALLS[name])
    keys = Keys()
    result = verify(request, now=datetime.now(UTC), keys=keys)
    assert result.access_key == AK and keys.asked == [AK]
    assert result.signed_headers == SDK_HEADERS  # what every CodeArts Check call signs
    assert refusal(changed(request, body=request.body + b" "), datetime.now(UTC)) is (
        Refusal.SIGNATURE_MISMATCH
    )


def test_the_client_sends_what_the_verifier_expects_of_it():
    """The shapes the cases above rely on, so they test what they say."""
    odd = sent_by_client(AK, SK, CLIENT_CALLS["task id needing encoding"])
    assert odd.path == "/v2/tasks/a%20b%2F%C3%BC%25~%2B/progress"
    defects = sent_by_client(AK, SK, CLIENT_CALLS["defects, comma values"])
    assert defects.query["status_ids"] == ["0,1"] and defects.body == b""
    created = sent_by_client(AK, SK, CLIENT_CALLS["create task, JSON body"])
    assert created.body.startswith(b'{"git_url": "https://') and b"\\u529f" in created.body
    assert sent_by_client(AK, SK, CLIENT_CALLS["run task, empty model"]).body == b"{}"


SIGNER_CASES = {
    "GET, query needing encoding, repeated keys": dict(
        method="GET",
        path=f"/v2/{DEV_PROJECT}/rulesets",
        query=[
            ("q", "a b+c/d?e=f&g#h"),
            ("tag", "b"),
            ("tag", "a"),
            ("tag", "a b"),
            ("name", "ü€"),
            ("empty", ""),
            ("tilde", "~x*'()"),
            ("flag", True),
            ("a key", "1"),
        ],
    ),
    "GET, repeated integers (the SDK sorts 9 before 10)": dict(
        method="GET", path="/v2/rules", query=[("n", 10), ("n", 9), ("n", 100)]
    ),
    "POST, JSON body": dict(
        method="POST",
        path=f"/v2/{DEV_PROJECT}/task",
        body='{"git_url": "https://x.example/r.git", "language": ["python"]}',
    ),
    "PUT, JSON list body": dict(
        method="PUT", path=f"/v2/tasks/{TASK}/ruleset", body=b'[{"language": "python"}]'
    ),
    "POST, empty body": dict(method="POST", path=f"/v2/tasks/{TASK}/stop", body=b""),
    "DELETE, no body": dict(method="DELETE", path=f"/v2/{DEV_PROJECT}/ruleset/r1"),
    "path with special characters": dict(
        method="GET", path="/v2/tasks/" + quote("a b/ü%~+;=@", safe="") + "/defects-summary"
    ),
    "root path": dict(method="GET", path="/"),
    "path ending in a slash": dict(method="GET", path="/v2/rules/"),
}


@pytest.mark.parametrize("name", SIGNER_CASES)
def test_requests_the_sdk_signer_signs_verify(name):
    case = SIGNER_CASES[name]
    request = sign(AK, SK, case["method"], case["path"], **_extra(case), date=SIGNED_AT)
    result = verify(request)
    assert result.access_key == AK
    assert {"host", "x-sdk-date"} <= set(result.signed_headers)
    assert refusal(changed(request, method="PATCH")) is Refusal.SIGNATURE_MISMATCH


def _extra(case: dict) -> dict:
    return {k: v for k, v in case.items() if k in ("query", "body")}


def test_query_values_arrive_as_the_sdk_encoded_them():
    case = SIGNER_CASES["GET, query needing encoding, repeated keys"]
    request = sign(AK, SK, "GET", case["path"], query=case["query"], date=SIGNED_AT)
    assert request.query["tag"] == ["a", "a b", "b"]  # the SDK sends them sorted
    assert request.query["flag"] == ["true"] and request.query["empty"] == [""]
    assert request.query["q"] == ["a b+c/d?e=f&g#h"]  # "+" went as %2B, " " as %20
    numbers = sign(AK, SK, "GET", "/v2/rules", query=[("n", 10), ("n", 9)], date=SIGNED_AT)
    assert numbers.query["n"] == ["9", "10"]  # typed order: a string sort would differ
    assert sdk_signing.canonical_queries(numbers.query) == ["n=10&n=9", "n=9&n=10"]


def test_query_in_any_shape_a_framework_gives():
    case = SIGNER_CASES["GET, query needing encoding, repeated keys"]
    request = sign(AK, SK, "GET", case["path"], query=case["query"], date=SIGNED_AT)
    pairs = [(k, v) for k, values in request.query.items() for v in values]
    for query in (MultiDict(dict(request.query)), pairs, list(reversed(pairs))):
        assert verify(dataclasses.replace(request, query=query))
    single = sign(AK, SK, "GET", "/v2/rules", query=[("limit", 5)], date=SIGNED_AT)
    assert verify(dataclasses.replace(single, query={"limit": "5"}))
    # FaceRequest.query keeps the last value of a repeated key: not enough to verify
    last_only = {k: v[-1] for k, v in request.query.items()}
    assert refusal(dataclasses.replace(request, query=last_only)) is Refusal.SIGNATURE_MISMATCH


def test_headers_under_any_case_and_a_decoded_path_verify():
    path = "/v2/tasks/" + quote("a b/ü%~", safe="") + "/run"
    request = sign(AK, SK, "POST", path, body=b"{}", date=SIGNED_AT)
    assert verify(
        dataclasses.replace(request, headers={k.title(): v for k, v in request.headers.items()})
    )
    assert verify(dataclasses.replace(request, path=unquote(path)))


def test_the_sdk_signs_some_different_paths_alike():
    """Pinned because it is surprising: the canonical URI decodes before splitting and adds
    a trailing slash, so these pairs share a signature (routing must not tell them apart
    in a way that matters)."""
    plain = sign(AK, SK, "GET", "/v2/rules", date=SIGNED_AT)
    assert verify(dataclasses.replace(plain, path="/v2/rules/"))
    slashed = sign(AK, SK, "GET", "/v2/tasks/a%2Fb/progress", date=SIGNED_AT)
    assert verify(dataclasses.replace(slashed, path="/v2/tasks/a/b/progress"))


def test_signed_header_values_are_trimmed_not_collapsed():
    request = signed_post()
    project = request.headers["x-project-id"]
    assert verify(changed(request, headers={"x-project-id": f"  {project}\t"}))
    spaced = f"{project[:4]}  {project[4:]}"
    assert refusal(changed(request, headers={"x-project-id": spaced})) is Refusal.SIGNATURE_MISMATCH


def test_text_no_client_could_have_signed_is_a_mismatch_not_a_crash():
    request = signed_post()
    for odd in (
        changed(request, query={"limit": ["\ud800"]}),
        changed(request, path=request.path + "\udcff"),
        changed(request, headers={"x-project-id": "\ud800"}),
    ):
        assert refusal(odd) is Refusal.SIGNATURE_MISMATCH


def test_headers_outside_signed_headers_may_change():
    request = signed_post()
    assert verify(changed(request, headers={"accept": "text/html", "x-forwarded-for": "1.2.3.4"}))


# ---- tampering and wrong keys ----------------------------------------------------------------


def _swap_body_keep_declared_hash(request: Received) -> Received:
    """The trap in the SDK's rule: it signs X-Sdk-Content-Sha256's value, not the body."""
    original = hashlib.sha256(request.body).hexdigest()
    return changed(
        request, body=b'{"path": "/", "type": "add"}', headers={"x-sdk-content-sha256": original}
    )


def _other_signature(request: Received) -> Received:
    auth = request.headers["authorization"]
    last = "0" if auth[-1] != "0" else "1"
    return changed(request, headers={"authorization": auth[:-1] + last})


TAMPERS = {
    "body byte": lambda r: changed(r, body=r.body.replace(b"vendor", b"vendoR")),
    "body dropped": lambda r: changed(r, body=b""),
    "body swapped, original hash declared": _swap_body_keep_declared_hash,
    "query value": lambda r: changed(r, query={"limit": ["100"]}),
    "query key added": lambda r: changed(r, query={"admin": ["true"]}),
    "query key removed": lambda r: dataclasses.replace(r, query={"limit": r.query["limit"]}),
    "path segment": lambda r: changed(r, path=r.path.replace(TASK, TASK[:-1] + "0")),
    "path case": lambda r: changed(r, path=r.path.upper()),
    "path added segment": lambda r: changed(r, path=r.path + "/x"),
    "method": lambda r: changed(r, method="PUT"),
    "signed header value": lambda r: changed(r, headers={"x-project-id": "other-project"}),
    "host": lambda r: changed(r, headers={"host": "evil.example:8443"}),
    "content type": lambda r: changed(r, headers={"content-type": "text/plain"}),
    "date, within the window": lambda r: changed(r, headers={"x-sdk-date": "20261201T062918Z"}),
    "signature": _other_signature,
    "access key of another user": lambda r: changed(
        r, headers={"authorization": r.headers["authorization"].replace(AK, OTHER_AK)}
    ),
}


@pytest.mark.parametrize("name", TAMPERS)
def test_a_changed_signed_part_is_refused(name):
    request = signed_post()
    assert verify(request)  # the untouched request passes
    assert refusal(TAMPERS[name](request)) is Refusal.SIGNATURE_MISMATCH


def test_wrong_secret_is_a_mismatch():
    request = sign(AK, "not-the-secret", "GET", "/v2/rules", date=SIGNED_AT)
    assert refusal(request) is Refusal.SIGNATURE_MISMATCH


def test_unknown_access_key():
    keys = Keys()
    request = sign("HPUAKNOSUCHKEY000000", SK, "GET", "/v2/rules", date=SIGNED_AT)
    assert refusal(request, keys=keys) is Refusal.UNKNOWN_ACCESS_KEY
    assert keys.asked == ["HPUAKNOSUCHKEY000000"]
    assert refusal(signed_post(), keys=Keys({AK: ""})) is Refusal.UNKNOWN_ACCESS_KEY  # never a key


@pytest.mark.parametrize(
    "offset, reason",
    [
        (timedelta(minutes=16), Refusal.DATE_OUT_OF_RANGE),  # stale: signed 16 minutes ago
        (-timedelta(minutes=16), Refusal.DATE_OUT_OF_RANGE),  # signed 16 minutes from now
        (timedelta(minutes=15, seconds=1), Refusal.DATE_OUT_OF_RANGE),
        (timedelta(minutes=15), None),  # the gateway's 15 minutes, either side, still pass
        (-timedelta(minutes=15), None),
    ],
)
def test_dates_more_than_15_minutes_off_are_refused_before_any_lookup(offset, reason):
    keys = Keys()
    request = signed_post()
    if reason is None:
        assert verify(request, now=SIGNED_AT + offset, keys=keys).signed_at == SIGNED_AT
        assert keys.asked == [AK]
    else:
        assert refusal(request, now=SIGNED_AT + offset, keys=keys) is reason
        assert keys.asked == []  # no store read, no decryption for a stale request


@pytest.mark.parametrize(
    "date, reason",
    [
        (None, Refusal.MISSING_DATE),
        ("", Refusal.MISSING_DATE),
        ("2026-12-01T06:29:17Z", Refusal.MALFORMED_DATE),
        ("20261201T062917", Refusal.MALFORMED_DATE),
        ("2026121T62917Z", Refusal.MALFORMED_DATE),  # strptime alone would take it
        ("20261301T062917Z", Refusal.MALFORMED_DATE),
        ("Tue, 01 Dec 2026 06:29:17 GMT", Refusal.MALFORMED_DATE),
    ],
)
def test_missing_or_malformed_sdk_date(date, reason):
    request = signed_post()
    headers = {k: v for k, v in request.headers.items() if k != "x-sdk-date"}
    if date is not None:
        headers["x-sdk-date"] = date
    assert refusal(dataclasses.replace(request, headers=headers)) is reason


class _HostlessSigner(Signer):
    """The SDK's signer, leaving Host out of SignedHeaders: otherwise a valid signature."""

    @classmethod
    def _process_signed_headers(cls, request):
        return [h for h in super()._process_signed_headers(request) if h != "host"]


class _DatelessSigner(Signer):
    @classmethod
    def _process_signed_headers(cls, request):
        return [h for h in super()._process_signed_headers(request) if h != "x-sdk-date"]


@pytest.mark.parametrize("signer", [_HostlessSigner, _DatelessSigner])
def test_host_and_date_must_be_signed(signer):
    keys = Keys()
    request = sign(AK, SK, "GET", "/v2/rules", date=SIGNED_AT, signer=signer)
    assert "host" in request.headers and "x-sdk-date" in request.headers
    assert refusal(request, keys=keys) is Refusal.HEADER_NOT_SIGNED
    assert keys.asked == []


def test_a_signed_header_missing_from_the_request():
    request = signed_post()
    headers = {k: v for k, v in request.headers.items() if k != "x-project-id"}
    assert refusal(dataclasses.replace(request, headers=headers)) is Refusal.SIGNED_HEADER_MISSING


def _with_authorization(value: str | None) -> Received:
    request = signed_post()
    headers = {k: v for k, v in request.headers.items() if k != "authorization"}
    if value is not None:
        headers["authorization"] = value
    return dataclasses.replace(request, headers=headers)


GOOD_SIG = "a" * 64
MALFORMED = [
    f"Bearer {'t' * 40}",
    "SDK-HMAC-SHA256",
    "SDK-HMAC-SHA256 ",
    f"sdk-hmac-sha256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature={GOOD_SIG}",
    f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date",
    f"SDK-HMAC-SHA256 Access={AK}, Access={AK}, SignedHeaders=host;x-sdk-date, Signature={GOOD_SIG}",
    f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature={GOOD_SIG}, Extra=1",
    f"SDK-HMAC-SHA256 Access=, SignedHeaders=host;x-sdk-date, Signature={GOOD_SIG}",
    f"SDK-HMAC-SHA256 Access={'A' * 129}, SignedHeaders=host;x-sdk-date, Signature={GOOD_SIG}",
    f"SDK-HMAC-SHA256 Access=A K, SignedHeaders=host;x-sdk-date, Signature={GOOD_SIG}",
    f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=Host;X-Sdk-Date, Signature={GOOD_SIG}",
    f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;;x-sdk-date, Signature={GOOD_SIG}",
    f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;host;x-sdk-date, Signature={GOOD_SIG}",
    f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature={'A' * 64}",
    f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature={'a' * 63}",
    f"SDK-HMAC-SHA256 Access={AK}, SignedHeaders=host;x-sdk-date, Signature={'é' * 64}",
    f"SDK-HMAC-SHA256 Access={AK} SignedHeaders=host;x-sdk-date Signature={GOOD_SIG}",
]


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_authorization(value):
    keys = Keys()
    assert refusal(_with_authorization(value), keys=keys) is Refusal.MALFORMED_AUTHORIZATION
    assert keys.asked == []


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_authorization(value):
    assert refusal(_with_authorization(value)) is Refusal.MISSING_AUTHORIZATION


@pytest.mark.parametrize("scheme", sorted(sdk_signing.OTHER_ALGORITHMS))
def test_the_sdks_other_algorithms_are_refused_as_such(scheme):
    value = signed_post().headers["authorization"].replace("SDK-HMAC-SHA256", scheme)
    assert refusal(_with_authorization(value)) is Refusal.UNSUPPORTED_ALGORITHM
    assert sdk_signing.is_sdk_authorization(value)


def test_is_sdk_authorization():
    assert sdk_signing.is_sdk_authorization(signed_post().headers["authorization"])
    for value in (None, "", "Bearer abc", "Token abc", "SDK-HMAC-SHA256x Access=a"):
        assert not sdk_signing.is_sdk_authorization(value)


# ---- UNSIGNED-PAYLOAD ------------------------------------------------------------------------


def _octet_stream() -> Received:
    return sign(
        AK,
        SK,
        "POST",
        "/v2/upload",
        headers={"Content-Type": "application/octet-stream"},
        body=b"\x00binary",
        date=SIGNED_AT,
    )


def test_the_sdk_leaves_non_json_bodies_unsigned_and_that_is_refused_by_default():
    request = _octet_stream()
    assert request.headers["x-sdk-content-sha256"] == "UNSIGNED-PAYLOAD"
    assert "x-sdk-content-sha256" in request.headers["authorization"]
    assert refusal(request) is Refusal.UNSIGNED_PAYLOAD
    assert verify(request, allow_unsigned_payload=True).access_key == AK
    # why it is off: with it on, any body passes
    assert verify(changed(request, body=b"anything else"), allow_unsigned_payload=True)


def test_unsigned_payload_must_itself_be_signed_when_allowed():
    request = changed(signed_post(), headers={"x-sdk-content-sha256": "UNSIGNED-PAYLOAD"})
    assert refusal(request, allow_unsigned_payload=True) is Refusal.HEADER_NOT_SIGNED
    assert refusal(request) is Refusal.UNSIGNED_PAYLOAD


def test_a_declared_hash_that_is_the_bodys_is_fine_and_ignored_for_empty_bodies():
    request = signed_post()
    declared = hashlib.sha256(request.body).hexdigest()
    assert verify(changed(request, headers={"x-sdk-content-sha256": declared}))
    empty = sign(AK, SK, "POST", f"/v2/tasks/{TASK}/stop", body=b"", date=SIGNED_AT)
    assert verify(changed(empty, headers={"x-sdk-content-sha256": "f" * 64}))


# ---- nothing secret leaves -------------------------------------------------------------------


def test_refusals_and_results_carry_neither_secret_nor_expected_signature(caplog):
    good = signed_post()
    expected = good.headers["authorization"].rsplit("Signature=", 1)[1]
    bad = changed(
        good, headers={"authorization": good.headers["authorization"].replace(expected, GOOD_SIG)}
    )
    with caplog.at_level("DEBUG"):
        with pytest.raises(SignatureRefused) as caught:
            verify(bad)
        result = verify(good)
    exc = caught.value
    assert exc.reason is Refusal.SIGNATURE_MISMATCH
    shown = " ".join([str(exc), repr(exc), repr(exc.args), repr(result), caplog.text])
    assert SK not in shown and expected not in shown
    assert exc.__cause__ is None and exc.__context__ is None


def test_now_must_be_timezone_aware():
    with pytest.raises(ValueError):
        verify(signed_post(), now=SIGNED_AT.replace(tzinfo=None))


# ---- with the identity store: the secret is decrypted only for the check ---------------------


def test_keys_issued_by_identity_verify_and_stop_when_revoked(aws, monkeypatch):
    user, _ = identity.upsert_user(name="Sig", email="sig@example.com")
    ak, sk = identity.create_access_key(user.uuid)
    decrypted: list[str] = []
    real_decrypt = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda t: decrypted.append(t) or real_decrypt(t))
    owners = []

    def secret_for(key_id: str) -> str | None:
        try:
            owner, secret = identity.access_key_secret(key_id)
        except Unauthorized:
            return None
        owners.append(owner.uuid)
        return secret

    request = sent_by_client(ak, sk, CLIENT_CALLS["list tasks"])
    now = datetime.now(UTC)
    assert verify_request(**request.parts(), now=now, secret_for=secret_for).access_key == ak
    assert owners == [user.uuid] and len(decrypted) == 1
    with pytest.raises(SignatureRefused) as stale:
        verify_request(**request.parts(), now=now + timedelta(hours=1), secret_for=secret_for)
    assert stale.value.reason is Refusal.DATE_OUT_OF_RANGE and len(decrypted) == 1
    identity.revoke_access_key(ak)
    with pytest.raises(SignatureRefused) as revoked:
        verify_request(**request.parts(), now=now, secret_for=secret_for)
    assert revoked.value.reason is Refusal.UNKNOWN_ACCESS_KEY
