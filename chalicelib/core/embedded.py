"""The embedded default: a moto server on loopback, every declared resource, and the pump.

Started by app.py only when the stage says `TASKHUB_EMBEDDED=true` (the `local` stage), so
`chalice local --stage local` needs no AWS account.
"""

from __future__ import annotations

import logging
import os
import socket
from typing import Any

from . import crypto, resources
from .config import settings
from .pump import QueuePump

log = logging.getLogger("taskhub.embedded")

_started: dict[str, Any] = {}


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def start(app: Any) -> None:
    """Start moto, create resources, bootstrap the local admin and run the queue pump."""
    if _started:
        return
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", settings().region)
    port = settings().embedded_port
    if _port_open(port):
        raise RuntimeError(
            f"port {port} is taken; is another taskhub running? set TASKHUB_EMBEDDED_PORT"
        )
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    _started["server"] = server
    resources.rebind()
    resources.create_all()
    crypto.ensure_secret_parameter()
    from ..admin.service import bootstrap_local_admin

    bootstrap_local_admin()
    pump = QueuePump(app)
    pump.start()
    _started["pump"] = pump
    log.info("embedded AWS on 127.0.0.1:%d, stage %s", port, settings().stage)
