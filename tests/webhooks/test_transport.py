"""The delivery connection is checked when it is made: the host's addresses, resolved then,
must be allowed, whatever the allow-list said at submit time."""

from __future__ import annotations

import json

import pytest

from chalicelib.core import outbound
from chalicelib.webhooks import transport
from chalicelib.webhooks.models import DeliveryModel
from tests.jobs.conftest import PROJECT, Jobx, drain, workspace
from tests.webhooks.conftest import allow

BODY = json.dumps({"event": "task.ended"}).encode()


def test_loopback_only_where_allowed(receiver):
    url = receiver.url("/t").replace("127.0.0.1", "localhost")
    refused = transport.post(url, BODY, {}, allow_loopback=False)
    assert refused.status is None and "loopback" in refused.error
    assert receiver.requests == 0
    sent = transport.post(url, BODY, {}, allow_loopback=True)
    assert sent.status == 401  # it arrived (unsigned, so the receiver refused it)
    assert receiver.requests == 1


@pytest.mark.parametrize(
    ("address", "named", "refused"),
    [
        ("169.254.169.254", True, "metadata"),
        ("169.254.10.1", False, "link-local"),
        ("169.254.10.1", True, None),
        ("10.0.0.5", False, "private"),
        ("10.0.0.5", True, None),
        ("8.8.8.8", False, None),
        ("0.0.0.0", False, "reserved"),
    ],
)
def test_the_address_policy(address, named, refused):
    ip = outbound.ip(address)
    why = outbound.refusal(ip, named=(ip,) if named else ())
    assert (why is None) if refused is None else (refused in why)


@pytest.mark.usefixtures("fast_engine")
def test_a_url_taken_off_the_list_ends_dead_at_once(api, apply_workspace, receiver, hooks):
    apply_workspace({**workspace(), "webhooks": [allow("jobx", PROJECT, receiver.url("/a/*"))]})
    jobx = Jobx(api)
    jobx.group()
    jobx.job()
    jobx.run(callback=receiver.url("/a/x"))
    apply_workspace({"webhooks": [allow("jobx", PROJECT, receiver.url("/b/*"))]})
    drain()
    hooks.drain()
    assert receiver.requests == 0
    (dead,) = hooks.dead_letters()
    row = DeliveryModel.get(dead["delivery"])
    assert (
        row.state == "dead"
        and row.attempts[-1]["error"] == "the URL is no longer on the allow-list"
    )
