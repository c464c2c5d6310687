"""The embedded default: the store on loopback, every declared resource, and the pump.

Started by app.py only when the stage says `TASKHUB_EMBEDDED=true` (the `local` stage), so
`chalice local --stage local` needs no AWS account. The data directory (`TASKHUB_DATA_DIR`,
default `.taskhub` in the project) holds the store's journal, a lock that one server holds
for its lifetime, and `server.json`, which tells the admin CLI where that server listens.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from . import crypto, environ, lazy, resources
from .config import DATA_SYNC, settings
from .pump import QueuePump

log = logging.getLogger("taskhub.embedded")

SERVER_FILE = "server.json"
LOCK_FILE = "server.lock"
BACKLOG = 128  # chalice's dev server listens with 5, and resets clients past ~20
_started: dict[str, Any] = {}


class StartError(Exception):
    """Why the local server cannot start, in one line for the person who ran it."""


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def http_port(argv: list[str] | None = None) -> int | None:
    """The port `chalice local` was asked to serve on (it binds it after importing app.py)."""
    argv = sys.argv if argv is None else argv
    if "local" not in argv[1:]:
        return None
    for i, arg in enumerate(argv):
        if arg == "--port" and i + 1 < len(argv) and argv[i + 1].isdigit():
            return int(argv[i + 1])
        if arg.startswith("--port=") and arg[7:].isdigit():
            return int(arg[7:])
    return 8000


def read_server_file(data_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((data_dir / SERVER_FILE).read_text())
    except (OSError, ValueError):
        return None


def hold_lock(data_dir: Path) -> int | None:
    """The data directory's lock, held until this process ends; None if another holds it."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def check_start(cfg: Any, port: int | None) -> int:
    """Everything that would make the start fail half-way, found before anything starts."""
    from .identity.service import MIN_TOKEN_LENGTH

    if cfg.data_sync not in DATA_SYNC:
        raise StartError(f"TASKHUB_DATA_SYNC must be one of {', '.join(DATA_SYNC)}")
    if cfg.admin_token is not None and len(cfg.admin_token) < MIN_TOKEN_LENGTH:
        raise StartError(
            f"TASKHUB_ADMIN_TOKEN must be at least {MIN_TOKEN_LENGTH} characters "
            f"(it has {len(cfg.admin_token)})"
        )
    lock = hold_lock(cfg.data_dir)
    if lock is None:
        other = read_server_file(cfg.data_dir) or {}
        raise StartError(
            f"another taskhub (pid {other.get('pid', '?')}, {other.get('http', '?')}) uses the "
            f"data directory {cfg.data_dir}; stop it, or set TASKHUB_DATA_DIR, PORT and "
            "TASKHUB_EMBEDDED_PORT to run a second one"
        )
    busy = [
        f"port {number} is in use; set {name} to another port"
        for number, name in ((port, "PORT"), (cfg.embedded_port, "TASKHUB_EMBEDDED_PORT"))
        if number is not None and _port_open(number)
    ]
    if busy:
        os.close(lock)
        raise StartError("; ".join(busy))
    return lock


def start(app: Any) -> None:
    """Start the store, create resources, bootstrap the local admin and run the pump."""
    if _started:
        return
    cfg = settings()
    port = http_port()
    try:
        _started["lock"] = check_start(cfg, port)
    except StartError as exc:
        sys.stderr.write(f"taskhub: {exc}\n")
        sys.stderr.flush()
        os._exit(2)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", cfg.region)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise
    from .store import Store

    store_dir = None if cfg.data_sync == "off" else cfg.data_dir
    store = Store(store_dir, port=cfg.embedded_port, sync=cfg.data_sync == "fsync").start()
    _started["store"] = store
    lazy.load_all()  # every domain's tables and queues, not only those app.py imported
    resources.rebind()
    resources.create_all()
    crypto.ensure_secret_parameter()
    from ..admin.service import bootstrap_local_admin

    bootstrap_local_admin()
    _write_server_file(cfg.data_dir, port, store)
    _widen_backlog()
    pump = QueuePump(app)
    pump.start()
    _started["pump"] = pump
    with contextlib.suppress(ValueError):  # not the main thread: leave signals alone
        signal.signal(signal.SIGTERM, _on_sigterm)
    scrubbed = environ.scrub()  # nothing a step runs can read them back
    kept = f"{store.replayed} records in {store.replay_seconds:.2f}s" if store_dir else "memory"
    log.info(
        "embedded AWS on %s, stage %s, data %s (%s, sync %s); %d secret(s) out of the environment",
        store.url,
        cfg.stage,
        cfg.data_dir,
        kept,
        cfg.data_sync,
        len(scrubbed),
    )


def _write_server_file(data_dir: Path, port: int | None, store: Any) -> None:
    info = {
        "pid": os.getpid(),
        "http": f"http://127.0.0.1:{port}" if port else None,
        "store": store.url,
        "stage": settings().stage,
        "started": int(time.time()),
    }
    tmp = data_dir / f"{SERVER_FILE}.tmp"
    tmp.write_text(json.dumps(info))
    os.replace(tmp, data_dir / SERVER_FILE)


def _widen_backlog() -> None:
    from chalice import local

    local.ThreadedHTTPServer.request_queue_size = BACKLOG


def stop() -> None:
    """Graceful stop: no request is mid-way, the journal is closed, the server file removed."""
    pump = _started.pop("pump", None)
    if pump is not None:
        pump.stop(timeout=0)
    store = _started.pop("store", None)
    if store is not None:
        store.stop()
    (settings().data_dir / SERVER_FILE).unlink(missing_ok=True)


def _on_sigterm(signum: int, frame: Any) -> None:
    log.info("taskhub: stopping (SIGTERM)")
    stop()
    os._exit(0)
