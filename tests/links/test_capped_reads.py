"""The DTask readers of the link index read at most a cap per request; the original's body
is unchanged, and a header names the cursor of the rest."""

import json

from chalicelib.links import service

from .conftest import MEMBER, bearer


def get(client, path, cursor=None):
    url = path + ((("&" if "?" in path else "?") + f"cursor={cursor}") if cursor else "")
    response = client.http.get(url, headers=bearer(MEMBER))
    body = json.loads(response.body)
    assert response.status_code == 200 and body["error"] is False, body
    return body["result"], response.headers.get("X-Taskhub-Cursor")


def test_a_reverse_lookup_reads_a_cap_at_a_time(dtask, client, monkeypatch):
    monkeypatch.setattr(service, "READ_CAP", 2)
    tasks = sorted(dtask.new_task() for _ in range(5))
    for task in tasks:
        service.link(task, "bugzilla", "7")
    seen, cursor, pages = [], None, 0
    while True:
        found, cursor = get(client, "/dtask/task/link/bugzilla/7", cursor)
        assert len(found) <= 2
        seen += found
        pages += 1
        if not cursor:
            break
    assert seen == tasks and pages == 3


def test_flat_links_read_a_cap_at_a_time(dtask, client, monkeypatch):
    monkeypatch.setattr(service, "READ_CAP", 2)
    for n in range(1, 4):
        service.link_items("bugzilla", "9", "gerrit", str(n))
    found, cursor = get(client, "/dtask/links?target=bugzilla&id=9")
    assert found == {"gerrit": ["1", "2"]} and cursor
    rest, cursor = get(client, "/dtask/links?target=bugzilla&id=9", cursor)
    assert rest == {"gerrit": ["3"]} and cursor is None
