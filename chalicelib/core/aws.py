"""Lazily created, cached boto3 clients that honour the endpoint override.

Nothing is created at import, so a Lambda cold start pays only for what it uses.
"""

from __future__ import annotations

import threading
from typing import Any

from .config import settings

_lock = threading.Lock()
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    with _lock:
        found = _clients.get(service)
        if found is None:
            import boto3

            cfg = settings()
            found = boto3.session.Session().client(
                service, region_name=cfg.region, endpoint_url=cfg.endpoint_url
            )
            _clients[service] = found
        return found


def reset() -> None:
    """Forget cached clients (tests switch between moto contexts and endpoints)."""
    with _lock:
        _clients.clear()
