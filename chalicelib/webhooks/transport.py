"""POSTing one signed event: httpx, short timeouts, no redirects, no proxies from the
environment, and a connection pinned to an address checked by core/outbound.

The host is resolved here and every address it has must be allowed (public, or the exact
address the allow-list entry names, or loopback where the stage allows it); the request then
goes to that address with the URL's Host and TLS name, so a DNS answer that changes between
the check and the connection cannot send the event anywhere else.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..core import outbound

TIMEOUT = httpx.Timeout(5.0, connect=3.0)

_client: httpx.Client | None = None
_lock = threading.Lock()


@dataclass
class Sent:
    status: int | None  # the receiver's HTTP status; None when no answer came
    error: str  # why it failed ("" on a 2xx)
    ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Refused(Exception):
    """The receiver's address is not allowed."""


def client() -> httpx.Client:
    global _client
    with _lock:
        if _client is None:
            _client = httpx.Client(timeout=TIMEOUT, follow_redirects=False, trust_env=False)
        return _client


def pinned(url: str, named: tuple[outbound.IPAddress, ...], allow_loopback: bool) -> list[str]:
    """`url` with its host replaced by each address it resolves to, all of them allowed."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"could not resolve {host}") from exc
    addresses = [outbound.ip(str(info[4][0]).split("%", 1)[0]) for info in infos]
    for address in addresses:
        why = (
            "an unparseable address"
            if address is None
            else outbound.refusal(address, allow_loopback=allow_loopback, named=named)
        )
        if why is not None:
            raise Refused(f"{host} resolves to {why}, which is not allowed")
    targets = []
    for address in dict.fromkeys(addresses):
        shown = f"[{address}]" if address.version == 6 else str(address)
        targets.append(urlunsplit((parts.scheme, f"{shown}:{port}", parts.path, parts.query, "")))
    return targets


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    named: tuple[outbound.IPAddress, ...] = (),
    allow_loopback: bool = False,
) -> Sent:
    """One attempt; never raises for what the receiver or the network did."""
    started = time.monotonic()
    parts = urlsplit(url)
    try:
        targets = pinned(url, named, allow_loopback)
    except Refused as exc:
        return Sent(None, str(exc), 0)
    extensions = {}
    if parts.scheme == "https" and outbound.ip(parts.hostname or "") is None:
        extensions["sni_hostname"] = parts.hostname
    headers = {**headers, "Host": parts.netloc}
    status = None
    for n, target in enumerate(targets):
        try:
            with client().stream(
                "POST", target, content=body, headers=headers, extensions=extensions
            ) as response:  # the body is never read: a receiver cannot make us hold much
                status = response.status_code
            break
        except httpx.ConnectError:
            if n == len(targets) - 1:  # the next address, if the host has another
                return Sent(None, "ConnectError: connection failed", _ms(started))
        except httpx.TimeoutException:
            return Sent(None, "timed out", _ms(started))
        except httpx.HTTPError as exc:
            return Sent(None, f"{type(exc).__name__}: connection failed", _ms(started))
    error = "" if 200 <= status < 300 else f"HTTP {status}"
    return Sent(status, error, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
