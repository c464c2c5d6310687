"""Console fixtures: a browser-like client of the Chalice test app (the login cookie, HTML
answers with their headers), and the JOBX, scan and ONES fixtures of those faces' tests."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.jobs.conftest import fast_engine, jobx, workdir  # noqa: F401
from tests.scans.conftest import git_repo, git_root, git_server, tca  # noqa: F401
from tests.workitems.conftest import ones  # noqa: F401


class Answer:
    def __init__(self, response):
        self.status = response.status_code
        self.headers = {k.lower(): v for k, v in response.headers.items()}
        self.text = response.body.decode() if isinstance(response.body, bytes) else response.body


class Browser:
    """What a browser sends: the cookie the login set, forms as form-urlencoded."""

    def __init__(self, client):
        self.client = client
        self.cookie: str | None = None

    def get(self, path: str, headers: dict | None = None) -> Answer:
        sent = {**({"Cookie": self.cookie} if self.cookie else {}), **(headers or {})}
        return Answer(self.client.http.get(path, headers=sent))

    def post(self, path: str, fields: dict | None = None, headers: dict | None = None) -> Answer:
        sent = {
            "Content-Type": "application/x-www-form-urlencoded",
            **({"Cookie": self.cookie} if self.cookie else {}),
            **(headers or {}),
        }
        answer = Answer(self.client.http.post(path, headers=sent, body=urlencode(fields or {})))
        set_cookie = answer.headers.get("set-cookie")
        if set_cookie:
            pair = set_cookie.split(";", 1)[0]
            self.cookie = None if pair.endswith("=") else pair
        return answer

    def login(self, token: str) -> Answer:
        answer = self.post("/console/login", {"token": token})
        assert answer.status == 303, answer.text
        return answer


@pytest.fixture
def browser(client):
    return Browser(client)
