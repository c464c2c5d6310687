"""One botocore data loader shared by every PynamoDB connection.

PynamoDB gives each model's connection its own botocore session, and each new session parses
the service's JSON models again (tens of milliseconds per table, every time connections are
reset). Sessions stay per connection and per thread as PynamoDB wants; only the read-only,
cached loader is shared.
"""

from __future__ import annotations

import threading

import botocore.loaders
import botocore.session
from pynamodb.connection import base

_lock = threading.Lock()
_loader: botocore.loaders.Loader | None = None


def _session() -> botocore.session.Session:
    global _loader
    session = botocore.session.get_session()
    with _lock:
        if _loader is None:
            _loader = session.get_component("data_loader")
        else:
            session.register_component("data_loader", _loader)
    return session


def install() -> None:
    base.get_session = _session
