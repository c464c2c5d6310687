"""DTask tasks, tower todo and links through the face: shapes, set semantics, the reverse
index, bad input and permissions."""

from __future__ import annotations

import re
import threading
import time
from urllib.parse import quote

from chalicelib.core.metering import count_calls
from chalicelib.links import service
from chalicelib.links.models import LinkIndexModel, TaskModel

from .conftest import CHANGE_ID, OUTSIDER, VIEWER, losing_transactions

GUID = "d9bb255f3c6d4deca4c7a127bb90b9be"


def index_of(target: str, target_id: str) -> list[str]:
    return [i.task_id for i in LinkIndexModel.query(f"{target}#{target_id}")]


def test_create_answers_an_object_id_with_and_without_slash(dtask):
    before = int(time.time())
    assert re.fullmatch(r"[0-9a-f]{24}", dtask("POST", "/task")[1]["result"])
    status, body = dtask("POST", "/task/")
    assert status == 200 and body["error"] is False
    task_id = body["result"]
    assert re.fullmatch(r"[0-9a-f]{24}", task_id)
    assert before <= int(task_id[:8], 16) <= int(time.time())  # ObjectId: creation seconds
    status, body = dtask("GET", f"/task/{task_id}")
    assert status == 200
    task = body["result"]
    # as the original's stored document: no `tower_todo` until one is set
    assert task == {"_id": task_id, "createAt": task["createAt"], "link": {}}
    assert int(task_id[:8], 16) == task["createAt"] // 1000  # milliseconds, same instant


def test_create_at_and_the_id_tell_the_same_second(dtask, monkeypatch):
    """The id's creation second and `createAt` come from one clock reading, even when the
    clock ticks over a second between two readings."""
    from chalicelib.core import ids

    readings = iter([1_700_000_000_999_000_000, 1_700_000_001_001_000_000])

    class Clock:
        @staticmethod
        def time_ns():
            return next(readings)

        @staticmethod
        def time():
            return next(readings) / 1e9

    monkeypatch.setattr(ids, "time", Clock)
    task_id = service.create_task()
    monkeypatch.undo()
    created = dtask("GET", f"/task/{task_id}")[1]["result"]["createAt"]
    assert created == 1_700_000_000_999
    assert int(task_id[:8], 16) == created // 1000


def test_tower_todo_get_set_delete_with_and_without_slash(dtask):
    task_id = dtask.new_task()
    assert dtask("GET", f"/task/{task_id}/tower/todo/") == (200, {"error": False, "result": None})
    assert dtask("PUT", f"/task/{task_id}/tower/todo/{GUID.upper()}") == (
        200,
        {"error": False, "result": True},
    )
    assert dtask("GET", f"/task/{task_id}/tower/todo/") == (200, {"error": False, "result": GUID})
    assert dtask("GET", f"/task/{task_id}/tower/todo")[1]["result"] == GUID
    task = dtask("GET", f"/task/{task_id}")[1]["result"]
    assert list(task) == ["_id", "createAt", "tower_todo", "link"]  # the seed's order
    assert task["tower_todo"] == GUID
    assert dtask("DELETE", f"/task/{task_id}/tower/todo/") == (
        200,
        {"error": False, "result": True},
    )
    assert dtask("GET", f"/task/{task_id}/tower/todo")[1]["result"] is None
    assert "tower_todo" not in dtask("GET", f"/task/{task_id}")[1]["result"]
    dtask("PUT", f"/task/{task_id}/tower/todo/{GUID}")
    assert dtask("DELETE", f"/task/{task_id}/tower/todo")[1]["result"] is True
    assert dtask("DELETE", f"/task/{task_id}/tower/todo")[1]["result"] is True  # idempotent
    assert TaskModel.get(task_id).tower_todo is None


def test_bad_tower_guid_and_unknown_task(dtask):
    task_id = dtask.new_task()
    status, body = dtask("PUT", f"/task/{task_id}/tower/todo/not-a-guid")
    assert status == 400 and body["error"] is True and "32 hex" in body["result"]
    assert TaskModel.get(task_id).tower_todo is None
    missing = "0" * 24
    for method, path in [
        ("GET", f"/task/{missing}"),
        ("DELETE", f"/task/{missing}"),
        ("GET", f"/task/{missing}/tower/todo/"),
        ("PUT", f"/task/{missing}/tower/todo/{GUID}"),
        ("DELETE", f"/task/{missing}/tower/todo/"),
        ("PUT", f"/task/{missing}/link/bugzilla/1"),
        ("DELETE", f"/task/{missing}/link/bugzilla/1"),
        ("GET", f"/task/{missing}/link"),
        ("GET", f"/task/{missing}/link/bugzilla"),
        ("GET", f"/task/{missing}/link_info"),
    ]:
        status, body = dtask(method, path)
        assert (status, body) == (404, {"error": True, "result": f"task {missing} not found"}), (
            method,
            path,
        )
    assert index_of("bugzilla", "1") == []
    assert not TaskModel.count(missing)  # no stub task was created by the refused writes
    status, body = dtask("GET", "/task/not-an-id")
    assert status == 400 and "24 hex" in body["result"]


def test_link_set_semantics_reads_and_reverse_lookup(dtask):
    first, second = dtask.new_task(), dtask.new_task()
    ok = {"error": False, "result": True}
    assert dtask("PUT", f"/task/{first}/link/bugzilla/124") == (200, ok)
    assert dtask("PUT", f"/task/{first}/link/bugzilla/123") == (200, ok)
    assert dtask("PUT", f"/task/{first}/link/bugzilla/0123") == (200, ok)  # same bug, no-op
    assert dtask("PUT", f"/task/{first}/link/gerrit/4567") == (200, ok)
    assert dtask("PUT", f"/task/{second}/link/bugzilla/123") == (200, ok)
    assert dtask("GET", f"/task/{first}/link") == (
        200,
        {"error": False, "result": {"bugzilla": ["123", "124"], "gerrit": ["4567"]}},
    )
    assert dtask("GET", f"/task/{first}/link/bugzilla") == (
        200,
        {"error": False, "result": ["123", "124"]},
    )
    assert dtask("GET", f"/task/{first}/link/tower") == (200, {"error": False, "result": []})
    assert dtask("GET", f"/task/{first}")[1]["result"]["link"] == {
        "bugzilla": ["123", "124"],
        "gerrit": ["4567"],
    }
    assert dtask("GET", "/task/link/bugzilla/123") == (
        200,
        {"error": False, "result": sorted([first, second])},
    )
    assert dtask("GET", "/task/link/bugzilla/999") == (200, {"error": False, "result": []})
    assert TaskModel.get(first).link_count == 3

    assert dtask("DELETE", f"/task/{first}/link/bugzilla/123") == (200, ok)
    assert dtask("DELETE", f"/task/{first}/link/bugzilla/123") == (200, ok)  # no-op
    assert dtask("GET", f"/task/{first}/link")[1]["result"] == {
        "bugzilla": ["124"],
        "gerrit": ["4567"],
    }
    assert dtask("GET", "/task/link/bugzilla/123")[1]["result"] == [second]
    assert TaskModel.get(first).link_count == 2


def test_gerrit_and_tower_id_forms(dtask):
    task_id = dtask.new_task()
    triplet = f"my/project~master~{CHANGE_ID}"
    for value in ("4567", CHANGE_ID, quote(triplet, safe="~"), "my%2Fproject~4568"):
        status, body = dtask("PUT", f"/task/{task_id}/link/gerrit/{value}")
        assert status == 200, (value, body)
    dtask("PUT", f"/task/{task_id}/link/tower/{GUID.upper()}")
    links = dtask("GET", f"/task/{task_id}/link")[1]["result"]
    assert links == {
        "gerrit": ["4567", CHANGE_ID, "my/project~4568", triplet],
        "tower": [GUID],
    }
    encoded = quote(triplet, safe="~")
    assert dtask("GET", f"/task/link/gerrit/{encoded}")[1]["result"] == [task_id]


BAD_LINKS = [
    ("jira", "1", "unknown target 'jira'; known targets: bugzilla, gerrit, tower"),
    ("bugzilla", "0", "invalid bugzilla id '0': expected a positive bug number"),
    ("bugzilla", "12a", "invalid bugzilla id '12a'"),
    ("bugzilla", "12345678901", "invalid bugzilla id"),
    ("gerrit", "Iabc", "invalid gerrit id 'Iabc'"),
    ("gerrit", "proj~master~I123", "invalid gerrit id"),
    ("tower", "d9bb255f", "invalid tower id 'd9bb255f'"),
]


def test_bad_target_or_id_is_refused_and_nothing_written(dtask):
    task_id = dtask.new_task()
    for target, target_id, message in BAD_LINKS:
        for method in ("PUT", "DELETE"):
            status, body = dtask(method, f"/task/{task_id}/link/{target}/{target_id}")
            assert status == 400 and body["error"] is True and message in body["result"], body
        for method in ("GET", "DELETE"):
            status, body = dtask(method, f"/task/link/{target}/{target_id}")
            assert status == 400 and message in body["result"], body
    status, body = dtask("GET", f"/task/{task_id}/link/jira")
    assert status == 400 and BAD_LINKS[0][2] in body["result"]
    assert TaskModel.get(task_id).link_count == 0
    assert TaskModel.get(task_id).links.attribute_values == {}


def test_targets_are_configured(dtask, settings_env):
    settings_env(TASKHUB_DTASK_TARGETS="bugzilla,jira")
    task_id = dtask.new_task()
    assert dtask("PUT", f"/task/{task_id}/link/jira/PROJ-12")[0] == 200
    status, body = dtask("PUT", f"/task/{task_id}/link/gerrit/1")
    assert status == 400 and "known targets: bugzilla, jira" in body["result"]
    status, body = dtask("PUT", f"/task/{task_id}/link/jira/has space")
    assert status == 400


def test_a_task_has_at_most_max_links(dtask, settings_env):
    settings_env(TASKHUB_DTASK_MAX_LINKS="2")
    task_id = dtask.new_task()
    assert dtask("PUT", f"/task/{task_id}/link/bugzilla/1")[0] == 200
    assert dtask("PUT", f"/task/{task_id}/link/bugzilla/2")[0] == 200
    assert dtask("PUT", f"/task/{task_id}/link/bugzilla/2")[0] == 200  # already there: fine
    status, body = dtask("PUT", f"/task/{task_id}/link/bugzilla/3")
    assert status == 400 and "already has 2 links" in body["result"]
    assert index_of("bugzilla", "3") == []


def test_delete_task_removes_its_index_entries(dtask):
    task_id, other = dtask.new_task(), dtask.new_task()
    for path in ("bugzilla/1", "bugzilla/2", "gerrit/4567", f"tower/{GUID}"):
        dtask("PUT", f"/task/{task_id}/link/{path}")
    dtask("PUT", f"/task/{other}/link/bugzilla/1")
    assert dtask("DELETE", f"/task/{task_id}") == (200, {"error": False, "result": True})
    assert dtask("GET", f"/task/{task_id}")[0] == 404
    assert dtask("GET", "/task/link/bugzilla/1")[1]["result"] == [other]
    for target, value in (("bugzilla", "2"), ("gerrit", "4567"), ("tower", GUID)):
        assert index_of(target, value) == []
    assert dtask("DELETE", f"/task/{task_id}")[0] == 404


def test_delete_racing_a_link_leaves_no_orphan_index_entry(dtask, monkeypatch):
    """A link landing between the delete's read and its transaction makes the delete retry
    at the new version, so the late link's index entry goes too."""
    task_id = dtask.new_task()
    service.link(task_id, "bugzilla", "1")
    real_load = service._load
    raced = []

    def load_then_race(tid):
        model = real_load(tid)
        if not raced:
            raced.append(True)
            service.link(tid, "bugzilla", "2")
        return model

    monkeypatch.setattr(service, "_load", load_then_race)
    service.delete_task(task_id)
    assert raced and index_of("bugzilla", "1") == [] and index_of("bugzilla", "2") == []


def test_changes_that_lose_many_races_in_a_row_still_land(dtask, monkeypatch):
    """More lost races than the five tries there used to be: the retry budget is time."""
    task_id = dtask.new_task()
    service.link(task_id, "bugzilla", "1")
    ok = (200, {"error": False, "result": True})
    for method, path in [
        ("PUT", f"/task/{task_id}/link/bugzilla/2"),
        ("DELETE", f"/task/{task_id}/link/bugzilla/1"),
        ("DELETE", f"/task/{task_id}"),
    ]:
        lost = losing_transactions(monkeypatch, 8)
        assert dtask(method, path) == ok, (method, path)
        assert len(lost) == 8
        monkeypatch.undo()
    assert dtask("GET", f"/task/{task_id}")[0] == 404
    assert index_of("bugzilla", "1") == index_of("bugzilla", "2") == []


def test_a_change_that_keeps_losing_is_a_409_and_writes_nothing(dtask, monkeypatch):
    task_id = dtask.new_task()
    service.link(task_id, "bugzilla", "1")
    losing_transactions(monkeypatch, 10**6)
    monkeypatch.setattr(service, "RETRY_BUDGET_S", 0.05)
    changing = f"task {task_id} is changing too fast"
    for method, path, message in [
        ("PUT", f"/task/{task_id}/link/bugzilla/2", f"{changing}; try again"),
        ("DELETE", f"/task/{task_id}/link/bugzilla/1", f"{changing}; try again"),
        ("DELETE", "/task/link/bugzilla/1", f"{changing}; try again"),
        ("DELETE", f"/task/{task_id}", f"{changing} to delete; try again"),
    ]:
        assert dtask(method, path) == (409, {"error": True, "result": message}), (method, path)
    monkeypatch.undo()
    assert service.links_of(task_id) == {"bugzilla": ["1"]}
    assert index_of("bugzilla", "1") == [task_id] and index_of("bugzilla", "2") == []


def test_concurrent_links_to_one_task_are_all_kept(dtask):
    task_id = dtask.new_task()
    errors = []

    def link(n):
        try:
            service.link(task_id, "bugzilla", str(n))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=link, args=(n,)) for n in range(1, 21)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert service.links_of(task_id) == {"bugzilla": [str(n) for n in range(1, 21)]}
    assert TaskModel.get(task_id).link_count == 20
    assert all(index_of("bugzilla", str(n)) == [task_id] for n in range(1, 21))


def test_unlink_from_all_tasks_pages_through_any_number(dtask):
    """150 tasks: more than one index page and more than one transaction."""
    linked = [service.create_task() for _ in range(150)]
    keep = service.create_task()
    for task_id in linked:
        service.link(task_id, "bugzilla", "42")
    for task_id in (linked[0], linked[-1], keep):
        service.link(task_id, "gerrit", "7")
    with count_calls() as calls:
        status, body = dtask("GET", "/task/link/bugzilla/42")
    assert status == 200 and body["result"] == sorted(linked)
    assert calls["dynamodb.Scan"] == 0
    with count_calls() as calls:
        assert dtask("DELETE", "/task/link/bugzilla/42") == (200, {"error": False, "result": True})
    assert calls["dynamodb.Scan"] == 0
    assert calls["dynamodb.TransactWriteItems"] == 3  # 50 tasks per transaction
    assert calls["dynamodb.Query"] <= 4
    assert dtask("GET", "/task/link/bugzilla/42")[1]["result"] == []
    assert service.links_of(linked[0]) == service.links_of(linked[-1]) == {"gerrit": ["7"]}
    assert all(service.links_of(t) == {} for t in linked[1:-1])
    assert TaskModel.get(linked[0]).link_count == 1
    assert dtask("GET", "/task/link/gerrit/7")[1]["result"] == sorted([linked[0], linked[-1], keep])


def test_unlink_from_all_settles_a_page_a_concurrent_change_spoiled(dtask, monkeypatch):
    tasks = [service.create_task() for _ in range(3)]
    for task_id in tasks:
        service.link(task_id, "bugzilla", "5")
    real = service._index_pages

    def pages_then_race(key, page):
        for found in real(key, page):
            service.unlink(tasks[1], "bugzilla", "5")  # gone before the page's transaction
            yield found

    monkeypatch.setattr(service, "_index_pages", pages_then_race)
    assert service.unlink_everywhere("bugzilla", "5") == 2
    assert index_of("bugzilla", "5") == []
    assert all(service.links_of(t) == {} for t in tasks)


def test_permissions_in_the_dtask_namespace(dtask):
    task_id = dtask.new_task()
    dtask("PUT", f"/task/{task_id}/link/bugzilla/1")
    assert dtask("GET", f"/task/{task_id}", VIEWER)[0] == 200
    assert dtask("GET", "/task/link/bugzilla/1", VIEWER)[1]["result"] == [task_id]
    for method, path in [
        ("POST", "/task/"),
        ("DELETE", f"/task/{task_id}"),
        ("PUT", f"/task/{task_id}/link/bugzilla/2"),
        ("DELETE", "/task/link/bugzilla/1"),
        ("PUT", f"/task/{task_id}/tower/todo/{GUID}"),
    ]:
        assert dtask(method, path, VIEWER) == (
            403,
            {"error": True, "result": "permission denied: write"},
        ), (method, path)
    assert dtask("GET", f"/task/{task_id}", OUTSIDER) == (
        403,
        {"error": True, "result": "permission denied: read"},
    )
    assert dtask("GET", f"/task/{task_id}", "no-such-token-000000000") == (
        401,
        {"error": True, "result": "unknown token"},
    )
    assert service.links_of(task_id) == {"bugzilla": ["1"]}


def test_unlink_from_all_clears_index_items_without_a_link(dtask):
    """Entries no link backs (never written so; e.g. restored from a backup) are removed,
    and only real links are counted."""
    real, unlinked = service.create_task(), service.create_task()
    service.link(real, "bugzilla", "9")
    gone = "0" * 24
    LinkIndexModel("bugzilla#9", gone).save()
    LinkIndexModel("bugzilla#9", unlinked).save()
    assert service.unlink_everywhere("bugzilla", "9") == 1
    assert index_of("bugzilla", "9") == []
    assert service.links_of(real) == {}
    assert dtask("GET", f"/task/{real.upper()}")[1]["result"]["_id"] == real  # any case


def test_unexpected_failure_is_a_500_in_the_envelope(dtask, monkeypatch):
    def broken(task_id):
        raise RuntimeError("table is on fire")

    monkeypatch.setattr(service, "get_task", broken)
    assert dtask("GET", f"/task/{'a' * 24}") == (500, {"error": True, "result": "internal error"})


def test_ids_too_large_for_a_dynamodb_key_are_refused(dtask):
    """A gerrit id within the character limits but over DynamoDB's key bytes (2048 for the
    index's hash key, 1024 for the flat links' range key) is a 400, not a 500."""
    task_id = dtask.new_task()
    wide = quote("😀" * 255 + "~1", safe="~")  # 1022 bytes of UTF-8
    for method, path in [
        ("PUT", f"/task/{task_id}/link/gerrit/{wide}"),
        ("DELETE", f"/task/{task_id}/link/gerrit/{wide}"),
        ("GET", f"/task/link/gerrit/{wide}"),
        ("DELETE", f"/task/link/gerrit/{wide}"),
    ]:
        status, body = dtask(method, path)
        assert status == 400 and "at most 1000 bytes" in body["result"], (method, body)
    pair = {"target_a": "bugzilla", "a_id": "1", "target_b": "gerrit", "b_id": "😀" * 255 + "~1"}
    status, body = dtask("PUT", "/links", body=pair)
    assert status == 400 and "at most 1000 bytes" in body["result"], body
    assert service.links_of(task_id) == {}
