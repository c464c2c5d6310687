"""The per-team `number` from the team's counting network (workitems/numbers.py): dense,
distinct and never reused under concurrent add2, with no item that every create writes;
numbers a create could not use go to the next create; numbers and map items from before the
network keep working."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from bench.ones_data import bulk_tasks
from chalicelib.core.auth import Principal
from chalicelib.core.counters import shard_keys
from chalicelib.core.errors import Stale
from chalicelib.core.identity import service as identity
from chalicelib.workitems import changes, creating, numbers
from chalicelib.workitems.api import code_of
from chalicelib.workitems.models import TaskNumberModel, TeamCounterModel

from .conftest import DANA, P2, TASK_TYPE, TEAM, TODO


def new_task(uuid: str) -> dict:
    return {
        "uuid": uuid,
        "assign": DANA,
        "summary": uuid,
        "project_uuid": P2,
        "issue_type_uuid": TASK_TYPE,
    }


def add(*uuids: str) -> tuple[list[dict], list]:
    return creating.add_tasks(
        Principal(identity.get_user(DANA)), TEAM, [new_task(u) for u in uuids]
    )


def at_once(calls: list) -> list:
    """Run the calls in threads released together by a barrier (bounded waits)."""
    start = threading.Barrier(len(calls))

    def run(call):
        start.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def node_counts() -> dict[str, int]:
    seq = numbers.sequence(TEAM)
    names = [name for at in seq.layers for name, _, _ in at.values()]
    names += [f"o{j}" for j in range(seq.width)]
    counts = {}
    for name in dict.fromkeys(names):
        item = seq.item(name)
        item.refresh(consistent_read=True)
        counts[name] = int(item.value)
    return counts


def spares() -> list[str]:
    return [
        c.name
        for c in TeamCounterModel.query(TEAM, TeamCounterModel.name.startswith(numbers.SPARE))
    ]


def test_concurrent_add2_in_one_team_get_dense_distinct_numbers_without_one_hot_item(ones):
    calls = [lambda i=i: add(*(f"{DANA}k{i:02d}{j:05d}" for j in range(4))) for i in range(12)]
    results = at_once(calls)
    assert all(bad == [] for _created, bad in results), results
    created = [t for got, _bad in results for t in got]
    assert sorted(t["number"] for t in created) == list(range(1, 49))
    for task in created[::7]:  # the number map finds each task by its number
        status, body = ones.call("GET", f"/team/{TEAM}/task/{task['number']}/info")
        assert status == 200 and body["uuid"] == task["uuid"]
    counts = node_counts()
    assert {counts[f"o{j}"] for j in range(4)} == {12}  # each output: a quarter of the creates
    assert max(counts.values()) < 48  # no node of the network was written by every create
    assert ones.project_counts() == (48, 0, 0)
    shards = [
        key
        for key in shard_keys(TEAM, changes.STATS_SHARDS)
        if TeamCounterModel.count(key, TeamCounterModel.name == f"project#{P2}")
    ]
    assert len(shards) > 1  # the project's stats row is split, and the sum is exact


def test_one_create_after_another_counts_up(ones):
    assert [ones.new(f"seq{i:05d}")["number"] for i in range(6)] == [1, 2, 3, 4, 5, 6]


def test_a_number_a_create_could_not_use_goes_to_the_next_create(ones, monkeypatch):
    assert ones.new("first000")["number"] == 1

    def refused(self):
        raise Stale("too many concurrent changes")

    with monkeypatch.context() as patch:
        patch.setattr(changes.Change, "commit", refused)
        created, bad = add(f"{DANA}refused0")
        assert created == [] and len(bad) == 1
    assert spares() == [f"{numbers.SPARE}{2:015d}"]
    assert ones.new("second00")["number"] == 2  # the spare, claimed in its transaction
    assert spares() == []
    assert ones.new("third000")["number"] == 3


def test_racing_creates_of_one_uuid_leave_no_gap(ones):
    outcomes = at_once([lambda: add(f"{DANA}samesame")] * 6)
    assert sum(len(created) for created, _ in outcomes) == 1
    assert sorted(code_of(b.error) for _, bad in outcomes for b in bad) == [608] * 5
    later = [ones.new(f"later{i:03d}")["number"] for i in range(6)]
    winner = ones.info(f"{DANA}samesame")["number"]
    assert sorted([winner, *later]) == list(range(1, 8))  # the losers' numbers went to these
    assert spares() == []


def test_a_spare_held_by_a_task_is_dropped(ones):
    assert ones.new("holder00")["number"] == 1
    numbers.spare_item(TEAM, 1).save()  # a stale spare: number 1 is taken
    assert ones.new("next0000")["number"] == 2
    assert spares() == []


def test_numbers_from_before_the_network(ones):
    """A team numbered by the old counter: its map items are under the team's key and its
    counter holds the last number; the network goes on from there."""
    bulk_tasks(
        3, 1, team=TEAM, user=DANA, project=P2, sprint=None, issue_type=TASK_TYPE, status=TODO
    )
    for number in (1, 2, 3):  # move the map items where the old code wrote them
        item = TaskNumberModel.get(numbers.map_key(TEAM, number), number)
        if item.team_uuid != TEAM:
            item.delete()
            TaskNumberModel(team_uuid=TEAM, number=number, task_uuid=item.task_uuid).save()
    TeamCounterModel(TEAM, numbers.COUNTER).update(actions=[TeamCounterModel.value.set(5)])
    assert ones.info(3)["uuid"] == f"{DANA}{3:08d}"
    assert ones.new("after000")["number"] == 6
    status, _ = ones.call("POST", f"/team/{TEAM}/task/{DANA}{2:08d}/delete")
    assert status == 200
    status, _ = ones.call("GET", f"/team/{TEAM}/task/2/info")
    assert status == 404
    assert not list(TaskNumberModel.query(TEAM, TaskNumberModel.number == 2))
