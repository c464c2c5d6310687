"""Huawei's own CodeArtsCheckClient against the Chalice app in this process.

The SDK runs unchanged (it signs, sends through its `requests` session, raises on errors and
reads the answers with its own models); only the session's transport differs: a `requests`
adapter hands each prepared request to Chalice's test gateway, as `chalice local` would
get it over the socket (the raw path and query, the headers, the body bytes).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from tests.core.huawei_sdk import BasicCredentials, CodeArtsCheckClient, codearts_model

ENDPOINT = "http://codearts.test:8000"

__all__ = ["ENDPOINT", "ChaliceAdapter", "codearts_model", "sdk_client"]


class ChaliceAdapter(BaseAdapter):
    """requests -> chalice.test.Client: a transport, the server is the app itself."""

    def __init__(self, client: Any):
        super().__init__()
        self.client = client
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        url = urlsplit(request.url)
        target = url.path + (f"?{url.query}" if url.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        answer = self.client.http.request(
            request.method, target, headers=dict(request.headers), body=body
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers = CaseInsensitiveDict(answer.headers)
        response._content = answer.body if isinstance(answer.body, bytes) else answer.body.encode()
        response.url = request.url
        response.request = request
        response.reason = "OK" if answer.status_code < 400 else "Error"
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def sdk_client(test_client: Any, ak: str, sk: str, project_id: str | None = None):
    """A CodeArtsCheckClient with these credentials, its requests served by the app. With
    `project_id` the SDK sends it as X-Project-Id and fills unset path project ids with it."""
    client = (
        CodeArtsCheckClient.new_builder()
        .with_credentials(BasicCredentials(ak, sk, project_id))
        .with_endpoints([ENDPOINT])
        .build()
    )
    adapter = ChaliceAdapter(test_client)
    client._http_client._session.mount("http://", adapter)
    client.adapter = adapter
    return client
