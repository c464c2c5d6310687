"""The embedded store: moto on loopback behind the ledger, with its journal in a data directory.

`Store(data_dir=None)` keeps everything in memory (still one request at a time); with a data
directory every acknowledged change is on disk before its answer is sent, and a new `Store`
on the same directory starts with what the last one held.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from .journal import Journal
from .ledger import Ledger

log = logging.getLogger("taskhub.store")


class Store:
    def __init__(
        self,
        data_dir: Path | None,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        sync: bool = True,
        compact_bytes: int = 64 << 20,
    ):
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.host, self.port = host, port
        journal = None
        if self.data_dir is not None:
            journal = Journal(self.data_dir / "store", sync=sync, compact_bytes=compact_bytes)
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.ledger = Ledger(DomainDispatcherApplication(create_backend_app), journal)
        self._server = None
        self._thread: threading.Thread | None = None
        self.replayed = 0
        self.replay_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Store:
        from moto.moto_server.werkzeug_app import MotoRequestHandler
        from werkzeug.serving import make_server

        class QuietHandler(MotoRequestHandler):
            def log_request(self, *args: object, **kwargs: object) -> None:
                """One line per AWS call would drown the server's own log."""

        if self.ledger.journal is not None:
            started = time.monotonic()
            self.replayed = self.ledger.replay()
            self.replay_seconds = time.monotonic() - started
        self._server = make_server(
            self.host, self.port, self.ledger, threaded=True, request_handler=QuietHandler
        )
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="taskhub-store", daemon=True
        )
        self._thread.start()
        return self

    def truncate(self) -> None:
        self.ledger.truncate()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self.ledger.lock:
            if self.ledger.journal is not None:
                self.ledger.journal.close()
