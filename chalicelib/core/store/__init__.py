"""The embedded store: moto on loopback behind the ledger, with its journal in a data directory.

`Store(data_dir=None)` keeps everything in memory (still one request at a time); with a data
directory every acknowledged change is on disk before its answer is sent, and a new `Store`
on the same directory starts with what the last one held. Other processes (the admin CLI)
reach it over HTTP; this process's own clients hand their requests to the ledger directly,
which costs a third of a loopback round trip.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import aws
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
        aws.route(self.url, self.send)
        return self

    def send(self, request: Any) -> Any:
        """A botocore request, answered by the ledger without the network."""
        from botocore.awsrequest import AWSResponse
        from werkzeug.test import EnvironBuilder

        parts = urlsplit(request.url)
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        headers = {
            k: v.decode("latin-1") if isinstance(v, bytes) else v
            for k, v in request.headers.items()
        }
        environ = EnvironBuilder(
            path=parts.path,
            method=request.method,
            query_string=parts.query,
            headers=headers,
            data=body,
        ).get_environ()
        answer: dict[str, Any] = {}

        def start_response(status: str, response_headers: list, exc_info: Any = None) -> None:
            answer["status"], answer["headers"] = status, response_headers

        data = b"".join(self.ledger(environ, start_response))
        return AWSResponse(
            request.url, int(answer["status"].split()[0]), dict(answer["headers"]), _Raw(data)
        )

    def truncate(self) -> None:
        self.ledger.truncate()

    def stop(self) -> None:
        aws.route(None)
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self.ledger.lock:
            if self.ledger.journal is not None:
                self.ledger.journal.close()


class _Raw:
    """The raw body botocore reads an answer from."""

    def __init__(self, data: bytes):
        self._data = io.BytesIO(data)

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        return self._data.read(*args)

    def stream(self, amt: int = 65536, **kwargs: Any) -> Any:
        while chunk := self._data.read(amt):
            yield chunk
