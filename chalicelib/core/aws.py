"""Lazily created, cached boto3 clients that honour the endpoint override.

Nothing is created at import, so a Lambda cold start pays only for what it uses. When the
embedded store runs in this very process, requests for its URL are handed to it directly
(`route`), not sent over loopback TCP to a server thread of the same process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import botocore.loaders
import botocore.session

from .config import settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_loader = botocore.loaders.create_loader()
_route: tuple[str, Callable[[Any], Any]] | None = None


def route(url: str | None, send: Callable[[Any], Any] | None = None) -> None:
    """Hand requests whose URL starts with `url` to `send(prepared_request) -> AWSResponse`
    (None: send everything over the network again)."""
    global _route
    _route = (url.rstrip("/") + "/", send) if url and send else None


def _before_send(request: Any, **_: Any) -> Any:
    target = _route
    if target is not None and request.url.startswith(target[0]):
        return target[1](request)
    return None


def botocore_session() -> botocore.session.Session:
    """A new botocore session that shares one data loader with all others.

    Loading and parsing a service's JSON model costs ~0.2 s; every PynamoDB model opens its
    own session, so without sharing, each table paid it again on every cold start.
    """
    session = botocore.session.get_session()
    session.register_component("data_loader", _loader)
    session.register("before-send", _before_send)
    return session


def client(service: str) -> Any:
    with _lock:
        found = _clients.get(service)
        if found is None:
            import boto3

            cfg = settings()
            found = boto3.session.Session(botocore_session=botocore_session()).client(
                service, region_name=cfg.region, endpoint_url=cfg.endpoint_for(service)
            )
            _clients[service] = found
        return found


def reset() -> None:
    """Forget cached clients (tests switch between moto contexts and endpoints)."""
    with _lock:
        _clients.clear()
