"""Lazily created, cached boto3 clients that honour the endpoint override.

Nothing is created at import, so a Lambda cold start pays only for what it uses.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.loaders
import botocore.session

from .config import settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}
_loader = botocore.loaders.create_loader()


def botocore_session() -> botocore.session.Session:
    """A new botocore session that shares one data loader with all others.

    Loading and parsing a service's JSON model costs ~0.2 s; every PynamoDB model opens its
    own session, so without sharing, each table paid it again on every cold start.
    """
    session = botocore.session.get_session()
    session.register_component("data_loader", _loader)
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
