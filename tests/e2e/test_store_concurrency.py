"""Concurrent clients and connections through a real `chalice local`: nothing lost, no
reset, distinct dense numbers."""

from __future__ import annotations

import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from .ones import ONES, new_task, ones_login


def run_all(calls):
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_concurrent_clients_lose_nothing_and_get_distinct_dense_numbers(fresh_server):
    server = fresh_server.start()
    headers = ones_login(server)
    uuid = "DU6krHBNshared01"
    status, body = server.call("POST", f"{ONES}/tasks/add2", {"tasks": [new_task(uuid)]}, headers)
    assert status == 200 and body["bad_tasks"] == [], body

    def update(i: int):
        change = {"tasks": [{"uuid": uuid, "summary": f"writer {i}"}]}
        return lambda: server.call("POST", f"{ONES}/tasks/update3", change, headers)

    answers = run_all([update(i) for i in range(20)])
    assert answers == [(200, {"bad_tasks": []})] * 20
    status, body = server.call("GET", f"{ONES}/task/{uuid}/activities?limit=100", None, headers)
    assert status == 200 and len(body["activities"]) == 21, body  # create + every update
    assert body["activities"][-1]["action"] == "update"

    def create(i: int):
        tasks = [new_task(f"DU6krHBN{i:02d}{j:06d}") for j in range(5)]
        return lambda: server.call("POST", f"{ONES}/tasks/add2", {"tasks": tasks}, headers)

    answers = run_all([create(i) for i in range(20)])
    refused = [(s, b) for s, b in answers if s != 200 or b["bad_tasks"]]
    assert not refused, refused
    numbers = sorted(t["number"] for _, body in answers for t in body["tasks"])
    assert numbers == list(range(2, 102))
    for _, body in answers:  # every acknowledged task is there, with its number
        for task in body["tasks"]:
            status, info = server.call("GET", f"{ONES}/task/{task['number']}/info", None, headers)
            assert status == 200 and info["uuid"] == task["uuid"]


def test_fifty_concurrent_connections_are_all_served(server):
    start = threading.Barrier(50)

    def health(_):
        start.wait(timeout=60)
        with urllib.request.urlopen(server.base + "/health", timeout=60) as response:
            return response.status

    with ThreadPoolExecutor(max_workers=50) as pool:
        assert list(pool.map(health, range(50))) == [200] * 50
