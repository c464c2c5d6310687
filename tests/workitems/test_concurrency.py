"""Concurrent writers: no lost update, no double count, dense never-reused numbers.

Threads call the service concurrently against the embedded store, as concurrent requests of
`make run` do; the store applies each AWS request atomically, as DynamoDB does.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from chalicelib.core.auth import Principal
from chalicelib.core.errors import TaskhubError
from chalicelib.core.identity import service as identity
from chalicelib.workitems import creating, transitions, updating
from chalicelib.workitems.api import code_of

from .conftest import DANA, P2, PEI, TASK_TYPE, TEAM


def principal(uuid=DANA):
    return Principal(identity.get_user(uuid))


def run_all(fns):
    with ThreadPoolExecutor(max_workers=len(fns)) as pool:
        return list(pool.map(lambda f: f(), fns))


def new_task(uuid, **extra):
    return {
        "uuid": uuid,
        "assign": DANA,
        "summary": uuid,
        "project_uuid": P2,
        "issue_type_uuid": TASK_TYPE,
        **extra,
    }


def test_concurrent_creates_get_distinct_dense_numbers(ones):
    def batch(i):
        tasks = [new_task(f"DU6krHBNc{i}{j:06d}") for j in range(6)]
        return lambda: creating.add_tasks(principal(), TEAM, tasks)

    results = run_all([batch(i) for i in range(4)])
    assert all(bad == [] for _created, bad in results)
    numbers = sorted(t["number"] for created, _bad in results for t in created)
    assert numbers == list(range(1, 25))
    assert ones.project_counts() == (24, 0, 0)


def test_racing_transits_move_the_count_once(ones):
    task = ones.new("raceTr01")

    def attempt():
        try:
            transitions.transit(principal(), TEAM, task["uuid"], "TrShort1")
            return "ok"
        except TaskhubError as exc:
            return code_of(exc)

    outcomes = run_all([attempt] * 5)
    assert outcomes.count("ok") == 1 and set(outcomes) <= {"ok", 801}
    assert ones.project_counts() == (0, 0, 1)
    _status, body = ones.call("GET", f"/team/{TEAM}/task/{task['uuid']}/activities")
    assert [a["action"] for a in body["activities"]] == ["create", "transit"]


def test_same_stale_stamp_only_one_writer_wins(ones):
    task = ones.new("raceSt01")
    stamp = task["server_update_stamp"]

    def attempt(i):
        item = {"uuid": task["uuid"], "summary": f"writer {i}", "server_update_stamp": stamp}
        return lambda: updating.update_tasks(principal(), TEAM, [item])

    results = run_all([attempt(i) for i in range(5)])
    assert sorted(len(r) for r in results) == [0, 1, 1, 1, 1]
    assert {code_of(b.error) for r in results for b in r} == {820}


def test_concurrent_updates_of_different_fields_all_land(ones):
    task = ones.new("raceUp01")
    updates = [
        {"summary": "new summary"},
        {"field_values": [{"field_uuid": "FtXt0001", "type": 2, "value": "text"}]},
        {"field_values": [{"field_uuid": "FnUm0001", "type": 3, "value": 100000}]},
        {"field_values": [{"field_uuid": "FoPt0001", "type": 1, "value": "OpSmall1"}]},
        {"field_values": [{"field_uuid": "FuSr0001", "type": 13, "value": [PEI]}]},
        {"assign": PEI},
    ]

    def attempt(change):
        item = {"uuid": task["uuid"], **change}
        return lambda: updating.update_tasks(principal(), TEAM, [item])

    assert run_all([attempt(u) for u in updates]) == [[]] * len(updates)
    info = ones.info(task["uuid"])
    values = {f["field_uuid"]: f["value"] for f in info["field_values"]}
    assert info["summary"] == "new summary" and info["assign"] == PEI
    assert values["FtXt0001"] == "text" and values["FnUm0001"] == 100000
    assert values["FoPt0001"] == "OpSmall1" and values["FuSr0001"] == [PEI]
    _status, body = ones.call("GET", f"/team/{TEAM}/task/{task['uuid']}/activities")
    assert len(body["activities"]) == 1 + len(updates)


def test_subtasks_created_while_the_parent_transits(ones):
    parent = ones.new("raceParn")

    def child(i):
        item = new_task(f"DU6krHBNchild{i:03d}", parent_uuid=parent["uuid"])
        return lambda: creating.add_tasks(principal(), TEAM, [item])[1]

    def transit():
        transitions.transit(principal(), TEAM, parent["uuid"], "TrStart1")
        return []

    assert run_all([child(i) for i in range(5)] + [transit]) == [[]] * 6
    info = ones.info(parent["uuid"])
    assert info["subtask_count"] == [5, 0] and info["status_uuid"] == "4HfKoazf"
    assert ones.project_counts() == (5, 1, 0)
