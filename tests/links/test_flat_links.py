"""The successor's flat links (`/dtask/links`): any two items linked directly, both ways."""

from __future__ import annotations

from urllib.parse import urlencode

from chalicelib.links import service
from chalicelib.links.models import ItemLinkModel

from .conftest import MEMBER, VIEWER, bearer, losing_transactions

GUID = "d9bb255f3c6d4deca4c7a127bb90b9be"


def form(api, method, path, fields, token=MEMBER, query=None):
    headers = {**bearer(token), "Content-Type": "application/x-www-form-urlencoded"}
    url = "/dtask" + path + (f"?{urlencode(query)}" if query else "")
    return api.call(method, url, raw=urlencode(fields) if fields else "", headers=headers)


def test_link_both_ways_with_form_fields_query_or_json(dtask, api):
    ok = (200, {"error": False, "result": True})
    pair = {"target_a": "bugzilla", "a_id": "10", "target_b": "gerrit", "b_id": "12"}
    assert form(api, "PUT", "/links/", pair) == ok
    assert form(api, "PUT", "/links", pair) == ok  # again: a no-op
    assert dtask("PUT", "/links", body={**pair, "b_id": 13, "target_b": "gerrit"}) == ok
    tower = {"target_a": "tower_todo", "a_id": GUID, "target_b": "bugzilla", "b_id": "010"}
    assert form(api, "PUT", "/links", tower) == ok
    # the original's clients send GET parameters as a form body; a query string works too
    assert form(api, "GET", "/links", {"target": "bugzilla", "id": "10"}) == (
        200,
        {"error": False, "result": {"gerrit": ["12", "13"], "tower_todo": [GUID]}},
    )
    assert form(api, "GET", "/links/", None, query={"target": "gerrit", "id": "12"}) == (
        200,
        {"error": False, "result": {"bugzilla": ["10"]}},
    )
    assert form(api, "GET", "/links", {"target": "tower", "id": GUID.upper()})[1]["result"] == {
        "bugzilla": ["10"]
    }
    assert form(api, "DELETE", "/links", pair) == ok
    assert form(api, "DELETE", "/links", pair) == ok
    assert form(api, "GET", "/links", {"target": "gerrit", "id": "12"})[1]["result"] == {}
    assert form(api, "GET", "/links", {"target": "bugzilla", "id": "10"})[1]["result"] == {
        "gerrit": ["13"],
        "tower_todo": [GUID],
    }


def test_bad_flat_links_write_nothing(dtask, api):
    good = {"target_a": "bugzilla", "a_id": "10", "target_b": "gerrit", "b_id": "12"}
    cases = [
        ({**good, "target_b": "jira"}, "unknown target 'jira'; known targets: bugzilla, gerrit"),
        ({**good, "a_id": "ten"}, "invalid bugzilla id 'ten'"),
        ({**good, "target_b": "bugzilla", "b_id": "10"}, "cannot be linked to itself"),
        ({k: v for k, v in good.items() if k != "b_id"}, "b_id: Field required"),
        ({**good, "a_id": "1" * 700}, "a_id: String should have at most 600 characters"),
    ]
    for fields, message in cases:
        for method in ("PUT", "DELETE"):
            status, body = form(api, method, "/links", fields)
            assert status == 400 and body["error"] is True and message in body["result"], body
    status, body = form(api, "GET", "/links", {"target": "bugzilla"})
    assert status == 400 and "id: Field required" in body["result"]
    status, body = dtask("PUT", "/links", body=[1, 2])
    assert status == 400 and "parameters must be" in body["result"]
    assert list(ItemLinkModel.query("bugzilla#10")) == []
    assert form(api, "PUT", "/links", good, token=VIEWER) == (
        403,
        {"error": True, "result": "permission denied: write"},
    )
    assert form(api, "GET", "/links", {"target": "bugzilla", "id": "10"}, token=VIEWER)[0] == 200


def test_the_successors_named_form(dtask, api):
    """The successor's later form: two parameters named after their targets
    (`bugzilla=1&gerrit=2`); on GET the wanted side's value is `-` and the answer is a list."""
    ok = (200, {"error": False, "result": True})
    assert form(api, "PUT", "/links/", {"bugzilla": "1", "gerrit": "2"}) == ok
    assert form(api, "PUT", "/links", {"bugzilla": "01", "gerrit": "2"}) == ok  # a no-op
    assert form(api, "PUT", "/links", {"tower_todo": GUID, "bugzilla": "1"}) == ok
    assert dtask("PUT", "/links", body={"gerrit": 3, "bugzilla": 1}) == ok
    assert form(api, "GET", "/links", {"bugzilla": "1", "gerrit": "-"}) == (
        200,
        {"error": False, "result": ["2", "3"]},
    )
    assert form(api, "GET", "/links", None, query={"gerrit": "2", "bugzilla": "-"}) == (
        200,
        {"error": False, "result": ["1"]},
    )
    assert form(api, "GET", "/links", {"bugzilla": "1", "tower_todo": "-"})[1]["result"] == [GUID]
    assert form(api, "GET", "/links", {"tower_todo": GUID, "gerrit": "-"})[1]["result"] == []
    # the same links, seen through the older parameters
    assert form(api, "GET", "/links", {"target": "bugzilla", "id": "1"})[1]["result"] == {
        "gerrit": ["2", "3"],
        "tower_todo": [GUID],
    }
    assert form(api, "DELETE", "/links", {"bugzilla": "1", "gerrit": "2"}) == ok
    assert form(api, "GET", "/links", {"bugzilla": "1", "gerrit": "-"})[1]["result"] == ["3"]

    bad = [
        ("PUT", {"bugzilla": "1"}, "two items"),
        ("PUT", {"bugzilla": "1", "gerrit": "2", "tower_todo": GUID}, "two items"),
        ("PUT", {"jira": "1", "gerrit": "2"}, "two items"),
        ("PUT", {"bugzilla": "x", "gerrit": "2"}, "invalid bugzilla id 'x'"),
        ("DELETE", {"bugzilla": "1", "gerrit": "-"}, "invalid gerrit id '-'"),
        ("GET", {"bugzilla": "1", "gerrit": "2"}, "one of the two must be '-'"),
        ("GET", {"bugzilla": "-", "gerrit": "-"}, "one of the two must be '-'"),
        ("GET", {"bugzilla": "1"}, "two items"),
    ]
    for method, fields, message in bad:
        status, body = form(api, method, "/links", fields)
        assert status == 400 and message in body["result"], (method, fields, body)
    status, body = dtask("PUT", "/links", body={"bugzilla": [1], "gerrit": "2"})
    assert status == 400 and "bugzilla: expected an id" in body["result"], body
    assert [i.other_key for i in ItemLinkModel.query("gerrit#2")] == []


def test_flat_links_retry_lost_races_then_answer_409(dtask, monkeypatch):
    """Two puts in one TransactWrite can still lose to a concurrent transaction on the same
    items: tried again like the task links, never a 500."""
    pair = {"target_a": "bugzilla", "a_id": "10", "target_b": "gerrit", "b_id": "12"}
    ok = (200, {"error": False, "result": True})
    for method in ("PUT", "DELETE"):
        lost = losing_transactions(monkeypatch, 8)
        assert dtask(method, "/links", body=pair) == ok, method
        assert len(lost) == 8
        monkeypatch.undo()
    assert dtask("PUT", "/links", body=pair) == ok
    losing_transactions(monkeypatch, 10**6)
    monkeypatch.setattr(service, "RETRY_BUDGET_S", 0.05)
    for method in ("PUT", "DELETE"):
        assert dtask(method, "/links", body=pair) == (
            409,
            {"error": True, "result": "bugzilla 10 and gerrit 12 are changing too fast; try again"},
        ), method
    monkeypatch.undo()
    assert dtask("GET", "/links", body={"target": "bugzilla", "id": "10"})[1]["result"] == {
        "gerrit": ["12"]
    }
