"""Completion webhooks through `chalice local`: a JOBX task's end reaches a loopback
receiver, signed, through the local pump's webhooks queue; a receiver that fails at first
gets the event on a later attempt."""

from tests.webhooks.conftest import SECRET, Receiver

from .conftest import ADMIN_TOKEN, wait_for

TOKEN = {"Authorization": "Bearer e2e-hooks-token-0123456789abcdef"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PROJECT = "e2ehooks"


def test_a_task_end_is_delivered_signed_through_the_pump(server):
    with Receiver(fail=1) as receiver:
        document = {
            "users": [
                {
                    "uuid": "E2Ehook1",
                    "name": "Ops",
                    "email": "hooks@example.com",
                    "token": TOKEN["Authorization"][7:],
                }
            ],
            "namespaces": [{"face": "jobx", "id": PROJECT, "members": {"E2Ehook1": "member"}}],
            "jobx_nodes": [{"project": PROJECT, "name": "web1", "address": "10.2.0.1"}],
            "webhooks": [
                {
                    "face": "jobx",
                    "namespace": PROJECT,
                    "urls": [receiver.url("/e2e/*")],
                    "secret": SECRET,
                }
            ],
        }
        status, body = server.call("PUT", "/admin/v1/workspace", document, ADMIN)
        assert status == 200, body
        group = {"name": "one", "group_type": "list", "node": "web1"}
        assert server.call("POST", f"/jobx/group/{PROJECT}", group, TOKEN)[0] == 200
        job = {"name": "hi", "steps": [{"name": "say", "plugin_type": "cmd", "script": "echo hi"}]}
        assert server.call("POST", f"/jobx/job/{PROJECT}", job, TOKEN)[0] == 200
        run = {"jobname": "hi", "group": "one", "callback": receiver.url("/e2e/done")}
        status, body = server.call("POST", f"/jobx/task/{PROJECT}/job/byname", run, TOKEN)
        assert status == 200, body
        uuid = body["uuid"]
        # the first POST gets a 500; the pump brings the message back after its delay (5 s)
        assert wait_for(lambda: receiver.received, seconds=90), (
            receiver.requests,
            receiver.refused,
        )
        (got,) = receiver.received
        assert got["body"]["id"] == uuid and got["body"]["status"] == "success"
        assert got["body"]["attempt"] == 2 and receiver.refused == []
        listed = server.call(
            "GET", f"/admin/v1/webhooks/deliveries?face=jobx&namespace={PROJECT}", None, ADMIN
        )[1]
        (row,) = listed["deliveries"]
        assert wait_for(
            lambda: (
                server.call(
                    "GET", f"/admin/v1/webhooks/deliveries/{row['delivery_id']}", None, ADMIN
                )[1]["state"]
                == "delivered"
            )
        )
