"""The `webhooks` workspace section (validated before anything is written, idempotent, the
secret write-only and rotated by applying a new one) and who may see and redeliver
deliveries."""

from __future__ import annotations

import pytest

from chalicelib.core import crypto
from chalicelib.webhooks import allowlist
from tests.jobs.conftest import MEMBER, PROJECT, workspace
from tests.webhooks.conftest import SECRET, allow

NS_ADMIN = {"Authorization": "Bearer hooks-ns-admin-token-0123456789"}


def base() -> dict:
    document = workspace()
    document.pop("jobx_nodes")
    document["users"].append(
        {"uuid": "NsAdmin1", "name": "A", "email": "a@x.io", "token": NS_ADMIN["Authorization"][7:]}
    )
    document["namespaces"].append({"face": "jobx", "id": "p2", "members": {}})
    document["namespaces"][0]["members"]["NsAdmin1"] = "admin"
    return document


def test_apply_is_idempotent_and_a_new_secret_rotates(apply_workspace, receiver):
    url = receiver.url("/hooks/*")
    first = apply_workspace({**base(), "webhooks": [allow("jobx", PROJECT, url)]})
    assert first["webhooks"] == {"created": 1, "updated": 0, "unchanged": 0}
    again = apply_workspace({"webhooks": [allow("jobx", PROJECT, url)]})
    assert again["webhooks"] == {"created": 0, "updated": 0, "unchanged": 1}
    kept = apply_workspace({"webhooks": [allow("jobx", PROJECT, url, secret=None)]})
    assert kept["webhooks"]["unchanged"] == 1
    assert allowlist.secret_of(allowlist.get("jobx", PROJECT)) == SECRET
    rotated = apply_workspace({"webhooks": [allow("jobx", PROJECT, url, secret="n" * 32)]})
    assert rotated["webhooks"]["updated"] == 1
    row = allowlist.get("jobx", PROJECT)
    assert SECRET not in row.secret and crypto.decrypt(row.secret) == "n" * 32


@pytest.mark.parametrize(
    ("item", "says"),
    [
        (allow("nope", PROJECT, "https://ci.example.com/h"), "unknown face"),
        (allow("jobx", "missing", "https://ci.example.com/h"), "unknown namespace"),
        (allow("jobx", PROJECT, "http://ci.example.com/h"), "https"),
        (allow("jobx", PROJECT, "http://169.254.169.254/latest/"), "metadata"),
        (allow("jobx", PROJECT, "https://ci.example.com*"), "path"),
        (allow("jobx", PROJECT, "https://u:p@ci.example.com/h"), "credentials"),
        (allow("jobx", PROJECT, "http://127.0.0.1:9/h"), "loopback"),
        (allow("jobx", PROJECT, "https://ci.example.com/h", secret="short"), "secret"),
    ],
)
def test_a_bad_item_refuses_the_document_and_writes_nothing(api, admin, item, says):
    document = {**base(), "webhooks": [item]}
    status, body = api.call("PUT", "/admin/v1/workspace", document, admin)
    assert status == 400, body
    assert says in body["error"]["message"], body
    assert allowlist.get(item["face"], item["namespace"]) is None
    status, _ = api.call("GET", "/admin/v1/workspace", headers=admin)
    assert status == 200


def test_the_same_namespace_twice_is_refused(api, admin):
    items = [allow("jobx", PROJECT, "https://a.example.com/h")] * 2
    status, body = api.call("PUT", "/admin/v1/workspace", {**base(), "webhooks": items}, admin)
    assert status == 400 and "twice" in body["error"]["message"]


def test_private_addresses_only_when_named(api, admin, apply_workspace):
    apply_workspace(
        {**base(), "webhooks": [allow("jobx", PROJECT, "http://10.0.0.5:8080/hooks/*")]}
    )
    assert allowlist.check_callbacks("jobx", PROJECT, ["http://10.0.0.5:8080/hooks/x"]) == [
        "http://10.0.0.5:8080/hooks/x"
    ]
    with pytest.raises(allowlist.Refused):
        allowlist.check_callbacks("jobx", PROJECT, ["http://10.0.0.6:8080/hooks/x"])


def test_deliveries_are_for_admins_and_namespace_admins(api, admin, apply_workspace):
    apply_workspace(base())
    path = "/admin/v1/webhooks/deliveries?face=jobx&namespace="
    status, body = api.call("GET", path + PROJECT, headers=MEMBER)
    assert status == 403 and body["error"]["code"] == "PermissionDenied"
    status, body = api.call("GET", path + PROJECT, headers=NS_ADMIN)
    assert status == 200 and body == {"deliveries": [], "cursor": None}
    status, body = api.call("GET", path + "p2", headers=NS_ADMIN)
    assert status == 403
    status, body = api.call("GET", path + PROJECT, headers=admin)
    assert status == 200
    status, body = api.call(
        "GET", "/admin/v1/webhooks/deliveries?face=ones&namespace=x", headers=admin
    )
    assert status == 400 and body["error"]["code"] == "InvalidParameter"
    status, body = api.call("GET", path + PROJECT + "&cursor=bogus", headers=admin)
    assert status == 400
    missing = "/admin/v1/webhooks/deliveries/dlv_" + "a" * 24
    for method, route in (("GET", missing), ("POST", missing + "/redeliver")):
        status, body = api.call(method, route, {}, NS_ADMIN)
        assert status == 404, body
        status, body = api.call(method, route, {}, {})
        assert status == 401, body
