"""The original's wire shapes (open-c3 JOBX), which its web UI and CI flowlines read: field
names, JSON types, ordering and uuid conventions. taskhub's extras ride along as more fields."""

import re
import threading

from chalicelib.jobs import catalog

from .conftest import PROJECT

TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
ALNUM12 = re.compile(r"^[A-Za-z0-9]{12}$")


def _create_group(jobx, name, **fields):
    body = {"name": name, "group_type": "list", "node": "n01", **fields}
    return jobx.ok("POST", f"/group/{PROJECT}", body)


def test_group_ids_are_digit_strings_newest_first_with_a_group_uuid(jobx):
    first = _create_group(jobx, "a", node="n01;n02")
    second = _create_group(jobx, "b", group_type="percent", percent="1:50%", node="")
    assert (first["data"], second["data"]) == (True, True)  # create answers data: true
    assert (first["id"], second["id"]) == ("1", "2")  # the id is an extra, digits
    listed = jobx.ok("GET", f"/group/{PROJECT}")["data"]
    assert [g["id"] for g in listed] == ["2", "1"]  # order by id desc
    original = {"id", "name", "note", "group_type", "group_uuid", "edit_time"}
    assert all(original <= set(g) for g in listed)
    assert all(ALNUM12.match(g["group_uuid"]) and TIME.match(g["edit_time"]) for g in listed)
    detail = jobx.ok("GET", f"/group/{PROJECT}/1")["data"]
    assert {k: detail[k] for k in ("id", "projectid", "group_type", "name", "note", "node")} == {
        "id": "1",
        "projectid": PROJECT,
        "group_type": "list",
        "name": "a",
        "note": "",
        "node": "n01;n02",
    }
    assert "percent" not in detail
    percent = jobx.ok("GET", f"/group/{PROJECT}/2")["data"]
    assert percent["percent"] == "1:50%" and "node" not in percent
    edited = jobx.ok(
        "POST", f"/group/{PROJECT}/1", {"name": "a", "group_type": "list", "node": "n03"}
    )
    assert edited["data"] is True
    after = jobx.ok("GET", f"/group/{PROJECT}/1")["data"]
    assert after["node"] == "n03" and after["group_uuid"] != detail["group_uuid"]
    assert jobx.ok("GET", f"/group/{PROJECT}/0001")["data"]["id"] == "1"


def test_group_routes_take_digits_only_and_answer_the_originals_errors(jobx, admin):
    _create_group(jobx, "a")
    for method, path in (
        ("GET", "/abc"),
        ("GET", "/abc/node"),
        ("POST", "/1a"),
        ("DELETE", "/x"),
    ):
        body = {"name": "a", "group_type": "list", "node": "n01"}
        status, data = jobx.call(method, f"/group/{PROJECT}{path}", body, headers=admin)
        assert (status, data) == (400, {"stat": False, "info": "check format fail id"}), path
    for method, path in (("GET", "/7"), ("POST", "/7"), ("DELETE", "/7"), ("GET", "9" * 40)):
        body = {"name": "z", "group_type": "list", "node": "n01"}
        status, data = jobx.call(method, f"/group/{PROJECT}/{path.lstrip('/')}", body, admin)
        assert (status, data) == (404, {"stat": False, "info": "mismatch id"}), path
    status, data = jobx.call("GET", f"/group/{PROJECT}/7/node")
    assert (status, data) == (404, {"stat": False, "info": "group id mismatch: 7"})


def test_group_ids_come_from_one_atomic_counter(jobx):
    """Writers racing for ids never share one: each id is one ADD on the project's counter."""
    taken, errors = [], []

    def take():
        try:
            for _ in range(10):
                taken.append(catalog.next_ids(PROJECT, group=1)["group"])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    workers = [threading.Thread(target=take) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == [] and sorted(taken) == list(range(1, 41))
    assert catalog.next_ids(PROJECT, task=1, subtask=5) == {"task": 1, "subtask": 5}
    assert _create_group(jobx, "after")["id"] == "41"
