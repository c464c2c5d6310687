"""Requests signed by Huawei's own SDK (huaweicloudsdkcore), as the server receives them.

Two ways in: `sign` runs the SDK's `Signer` on an `SdkRequest` built here (any path, query or
body), and `sent_by_client` runs a real `CodeArtsCheckClient` call and catches the request it
would send. Both hand back what Chalice gives a handler: the path as on the wire, the query as
`parse_qs` reads it (every value of a repeated key), header names lower-cased, raw body bytes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

# The SDK writes ~/.huaweicloud/application_id (its User-Agent's app id) when its credentials
# module is first imported: give it a throwaway home for that.
_home, _tmp_home = os.environ.get("HOME"), tempfile.mkdtemp(prefix="sdk-home-")
os.environ["HOME"] = _tmp_home
try:
    from huaweicloudsdkcodeartscheck.v2 import CodeArtsCheckClient
    from huaweicloudsdkcodeartscheck.v2 import model as codearts_model
    from huaweicloudsdkcore.auth.credentials import BasicCredentials
    from huaweicloudsdkcore.sdk_request import SdkRequest
    from huaweicloudsdkcore.signer.signer import Signer
finally:
    if _home is None:
        os.environ.pop("HOME", None)
    else:
        os.environ["HOME"] = _home
    shutil.rmtree(_tmp_home, ignore_errors=True)

ENDPOINT_HOST = "codearts-check.example.test:8443"
IAM_PROJECT = "iamproject000000000000000000000a"
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"

# import the SDK from here only, or its first import writes to the real home
__all__ = [
    "BasicCredentials",
    "CodeArtsCheckClient",
    "Received",
    "SdkRequest",
    "Signer",
    "codearts_model",
]


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def parts(self) -> dict[str, Any]:
        """The keyword arguments of `sdk_signing.verify_request` this request gives."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
        }


def received(request: SdkRequest) -> Received:
    """A signed SdkRequest as Chalice's local server hands it on (`chalice/local.py`)."""
    url = urlsplit(request.uri)  # the SDK's uri: resource path + its canonical query
    body = request.body or b""
    return Received(
        method=request.method,
        path=url.path,
        query=parse_qs(url.query, keep_blank_values=True),
        headers={name.lower(): value for name, value in request.header_params.items()},
        body=body.encode() if isinstance(body, str) else body,
    )


def sign(
    ak: str,
    sk: str,
    method: str,
    path: str,
    *,
    query: list[tuple[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    date: datetime | None = None,
    signer: type[Signer] = Signer,
) -> Received:
    """Sign with the SDK's Signer. `path` is the resource path as the client builds it (path
    parameters already quoted); `date` is reused by the SDK as X-Sdk-Date, as it does for a
    caller that set one."""
    header_params = {"Content-Type": "application/json", **(headers or {})}
    if date is not None:
        header_params["X-Sdk-Date"] = date.strftime(SDK_DATE_FORMAT)
    request = SdkRequest(
        method=method,
        schema="https",
        host=ENDPOINT_HOST,
        resource_path=path,
        query_params=list(query or []),
        header_params=header_params,
        body=body,
    )
    signer(BasicCredentials(ak, sk)).sign(request)
    return received(request)


class _Sent(Exception):
    def __init__(self, request: SdkRequest):
        super().__init__("request caught before sending")
        self.request = request


def sent_by_client(ak: str, sk: str, call: Callable[[Any], Any]) -> Received:
    """The request a real CodeArtsCheckClient signs for `call(client)`, caught where the SDK
    would hand it to `requests` (nothing goes on the network)."""
    client = (
        CodeArtsCheckClient.new_builder()
        .with_credentials(BasicCredentials(ak, sk, IAM_PROJECT))
        .with_endpoints([f"https://{ENDPOINT_HOST}"])
        .build()
    )

    def catch(request: SdkRequest):
        raise _Sent(request)

    client._do_http_request_sync = catch
    try:
        call(client)
    except _Sent as sent:
        return received(sent.request)
    raise AssertionError("the SDK sent nothing")
