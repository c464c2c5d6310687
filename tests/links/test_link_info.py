"""`link_info` against a real HTTP server on loopback that answers like Bugzilla, Gerrit
and Tower, including their error bodies, a slow answer and a dropped connection."""

from __future__ import annotations

from chalicelib.core import aws
from chalicelib.links import connectors, service

from .conftest import CHANGE_ID

GUID_DONE = "d9bb255f3c6d4deca4c7a127bb90b9be"
GUID_OPEN = "0" * 32
GUID_UNKNOWN = "f" * 32


def linked(*items: tuple[str, str]) -> str:
    task_id = service.create_task()
    for target, value in items:
        service.link(task_id, target, value)
    return task_id


def test_every_line_from_every_tracker(dtask, trackers):
    task_id = linked(
        ("bugzilla", "123"),
        ("bugzilla", "124"),
        ("bugzilla", "777"),  # in `faults`
        ("bugzilla", "778"),  # silently absent from `bugs`
        ("gerrit", "4567"),
        ("gerrit", CHANGE_ID),
        ("gerrit", f"my%2Fproject~master~{CHANGE_ID}"),
        ("gerrit", "999"),  # 404 with a text body
        ("gerrit", "9001"),  # slower than the timeout
        ("gerrit", "9002"),  # connection dropped
        ("gerrit", "9003"),  # HTML error page
        ("tower", GUID_DONE),
        ("tower", GUID_OPEN),
        ("tower", GUID_UNKNOWN),
    )
    status, body = dtask("GET", f"/task/{task_id}/link_info")
    assert status == 200 and body["error"] is False
    assert body["result"] == [
        "bugzilla 123 status CONFIRMED",
        "bugzilla 124 status RESOLVED FIXED",
        "failed get bugzilla 777",
        "failed get bugzilla 778",
        "failed get gerrit 999",
        "gerrit 4567 status MERGED",
        "failed get gerrit 9001",
        "failed get gerrit 9002",
        "failed get gerrit 9003",
        f"gerrit {CHANGE_ID} status ABANDONED",
        f"gerrit my/project~master~{CHANGE_ID} status MERGED",
        f"tower {GUID_OPEN} status open",
        f"tower {GUID_DONE} status completed",
        f"failed get tower {GUID_UNKNOWN}",
    ]
    bugzilla = trackers.seen("/bugzilla/")
    assert len(bugzilla) == 1  # one batched call for all bugs of the tracker
    _, _, headers, query = bugzilla[0]
    assert query["id"] == ["123,124,777,778"]
    assert query["include_fields"] == ["id,status,resolution,is_open"]
    assert headers["x-bugzilla-api-key"] == "bz-key-123"
    # the triplet's project is URL-encoded as Gerrit wants; credentials use the /a/ prefix
    assert "/gerrit/a/changes/my/project~master~" not in [r[1] for r in trackers.requests]
    assert all(r[1].startswith("/gerrit/a/changes/") for r in trackers.seen("/gerrit/"))


def test_a_refused_bugzilla_batch_is_asked_bug_by_bug(dtask, trackers):
    task_id = linked(("bugzilla", "123"), ("bugzilla", "404"), ("bugzilla", "666"))
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        "bugzilla 123 status CONFIRMED",
        "failed get bugzilla 404",  # error 101: does not exist
        "failed get bugzilla 666",  # error 102: access denied
    ]
    assert trackers.bugzilla_ids() == ["123", "123,404,666", "404", "666"]


def test_one_slow_bug_fails_only_itself(dtask, trackers):
    """Bugzilla holds back every request naming bug 999: the batch of 1 and 999 is still
    out when half the timeout has passed, so each bug is asked alone as well; bug 1
    answers, 999 fails, and link_info still answers within the one timeout."""
    task_id = linked(("bugzilla", "1"), ("bugzilla", "999"))
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        "bugzilla 1 status ASSIGNED",
        "failed get bugzilla 999",
    ]
    assert trackers.bugzilla_ids() == ["1", "1,999", "999"]


def test_one_slow_tracker_fails_only_its_own_lines(dtask, trackers):
    task_id = linked(
        ("bugzilla", "125"),
        ("bugzilla", trackers.slow_bug),
        ("gerrit", "4568"),
        ("gerrit", "9001"),  # slow
        ("tower", GUID_OPEN),
    )
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        "bugzilla 125 status NEW",  # asked alone once the batch with the slow bug was late
        f"failed get bugzilla {trackers.slow_bug}",
        "gerrit 4568 status NEW",
        "failed get gerrit 9001",
        f"tower {GUID_OPEN} status open",
    ]


def test_a_single_slow_bug_is_not_asked_twice(dtask, trackers):
    task_id = linked(("bugzilla", "999"))
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == ["failed get bugzilla 999"]
    assert trackers.bugzilla_ids() == ["999"]


def test_a_batch_bugzilla_answers_in_time_is_not_asked_again(dtask, trackers):
    """A batch that answers within its share of the timeout settles every id, even those
    it lists in `faults` or leaves out: no call per bug."""
    task_id = linked(("bugzilla", "1"), ("bugzilla", "123"), ("bugzilla", "777"))
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        "bugzilla 1 status ASSIGNED",
        "bugzilla 123 status CONFIRMED",
        "failed get bugzilla 777",
    ]
    assert trackers.bugzilla_ids() == ["1,123,777"]


def test_a_deleted_tower_todo_is_reported_deleted(dtask, trackers):
    """Tower keeps a deleted todo, open or completed, and marks it `is_active: false`."""
    deleted_open, deleted_done = sorted(trackers.deleted_todos)
    task_id = linked(("tower", deleted_open), ("tower", deleted_done), ("tower", GUID_OPEN))
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        f"tower {GUID_OPEN} status open",
        f"tower {deleted_open} status deleted",
        f"tower {deleted_done} status deleted",
    ]


def test_wrong_credentials_and_unconfigured_trackers_fail_softly(dtask, trackers, settings_env):
    task_id = linked(("bugzilla", "123"), ("gerrit", "4567"), ("tower", GUID_DONE))
    settings_env(
        TASKHUB_BUGZILLA_API_KEY="wrong",
        TASKHUB_GERRIT_PASSWORD="wrong",
        TASKHUB_TOWER_TOKEN="wrong",
    )
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        "failed get bugzilla 123",
        "failed get gerrit 4567",
        f"failed get tower {GUID_DONE}",
    ]
    seen = len(trackers.requests)
    settings_env(TASKHUB_BUGZILLA_URL=None, TASKHUB_GERRIT_URL=None, TASKHUB_TOWER_TOKEN=None)
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        "failed get bugzilla 123",
        "failed get gerrit 4567",
        f"failed get tower {GUID_DONE}",
    ]
    assert len(trackers.requests) == seen  # nothing to ask without a URL or a token


def test_anonymous_gerrit_uses_the_plain_path(dtask, trackers, settings_env):
    settings_env(TASKHUB_GERRIT_USER=None, TASKHUB_GERRIT_PASSWORD=None)
    task_id = linked(("gerrit", "4568"))
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == ["gerrit 4568 status NEW"]
    assert [r[1] for r in trackers.seen("/gerrit/")] == ["/gerrit/changes/4568"]


def test_cache_keeps_answers_for_the_ttl_and_never_failures(dtask, trackers, settings_env):
    settings_env(TASKHUB_LINKS_CACHE_TTL="60")
    task_id = linked(("bugzilla", "123"), ("gerrit", "999"))
    expected = ["bugzilla 123 status CONFIRMED", "failed get gerrit 999"]
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == expected
    trackers.bugs["123"]["status"] = "VERIFIED"
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == expected
    assert len(trackers.seen("/bugzilla/")) == 1  # served from the cache
    assert len(trackers.seen("/gerrit/")) == 2  # a failure is asked again
    connectors.clear_cache()
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"][0] == (
        "bugzilla 123 status VERIFIED"
    )
    settings_env(TASKHUB_LINKS_CACHE_TTL="0")
    trackers.bugs["123"]["status"] = "CLOSED"
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"][0] == (
        "bugzilla 123 status CLOSED"
    )


def test_secrets_can_come_from_ssm(dtask, trackers, settings_env):
    aws.client("ssm").put_parameter(
        Name="/taskhub/test/dtask/tower-token", Value=trackers.tower_token, Type="SecureString"
    )
    settings_env(TASKHUB_TOWER_TOKEN="ssm:/taskhub/test/dtask/tower-token")
    task_id = linked(("tower", GUID_DONE))
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        f"tower {GUID_DONE} status completed"
    ]
    # a parameter that cannot be read fails the tracker's items, and nothing else
    settings_env(TASKHUB_TOWER_TOKEN="ssm:/taskhub/test/dtask/missing")
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        f"failed get tower {GUID_DONE}"
    ]
    assert dtask("GET", f"/task/{task_id}/link")[1]["result"] == {"tower": [GUID_DONE]}


def test_no_links_ask_nobody(dtask, trackers):
    task_id = linked()
    assert dtask("GET", f"/task/{task_id}/link_info") == (200, {"error": False, "result": []})
    assert trackers.requests == []


def test_a_secret_that_could_not_be_read_is_asked_again(dtask, trackers, settings_env):
    """A failed SSM read (missing parameter, throttling) is not remembered for the life of
    the process: once the parameter can be read, the tracker answers."""
    settings_env(TASKHUB_TOWER_TOKEN="ssm:/taskhub/test/dtask/late-token")
    task_id = linked(("tower", GUID_DONE))
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        f"failed get tower {GUID_DONE}"
    ]
    aws.client("ssm").put_parameter(
        Name="/taskhub/test/dtask/late-token", Value=trackers.tower_token, Type="SecureString"
    )
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        f"tower {GUID_DONE} status completed"
    ]


def test_the_cache_holds_a_bounded_number_of_answers(dtask, trackers, settings_env, monkeypatch):
    settings_env(TASKHUB_LINKS_CACHE_TTL="60")
    monkeypatch.setattr(connectors, "MAX_CACHED", 2)
    task_id = linked(("bugzilla", "123"), ("bugzilla", "124"), ("bugzilla", "125"))
    assert len(dtask("GET", f"/task/{task_id}/link_info")[1]["result"]) == 3
    assert len(connectors._cache) == 2
    assert dtask("GET", f"/task/{task_id}/link_info")[1]["result"] == [
        "bugzilla 123 status CONFIRMED",
        "bugzilla 124 status RESOLVED FIXED",
        "bugzilla 125 status NEW",
    ]


def test_a_dropped_or_slow_bugzilla_and_tower_fail_only_their_lines(dtask, trackers):
    dropped = linked(("bugzilla", "123"), ("bugzilla", trackers.dropping_bug), ("gerrit", "4567"))
    assert dtask("GET", f"/task/{dropped}/link_info")[1]["result"] == [
        "bugzilla 123 status CONFIRMED",  # asked alone once the batch's connection dropped
        f"failed get bugzilla {trackers.dropping_bug}",
        "gerrit 4567 status MERGED",
    ]
    assert trackers.bugzilla_ids() == ["123", f"123,{trackers.dropping_bug}", "888888"]
    towers = linked(
        ("tower", trackers.slow_todo), ("tower", trackers.dropping_todo), ("tower", GUID_OPEN)
    )
    assert dtask("GET", f"/task/{towers}/link_info")[1]["result"] == [
        f"tower {GUID_OPEN} status open",
        f"failed get tower {trackers.slow_todo}",
        f"failed get tower {trackers.dropping_todo}",
    ]


def test_the_timeout_keeps_link_info_within_api_gateways_limit(settings_env):
    """Every tracker call of a link_info ends at one deadline, at most 12 s after it began:
    well within API Gateway's 29 s, with the task read and the caller checked."""
    assert settings_env(TASKHUB_LINKS_TIMEOUT="100").timeout == 12
    assert settings_env(TASKHUB_LINKS_TIMEOUT="0.001").timeout == 0.05
    assert settings_env(TASKHUB_LINKS_TIMEOUT="soon").timeout == 5
