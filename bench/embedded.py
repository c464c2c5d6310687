"""The embedded store for one bench run, in the bench's own process.

Imported first by a bench (before anything reads the configuration): it names the stage,
gives botocore placeholder credentials, starts the store on loopback, points every client at
it and loads every face and domain, so their tables and queues are declared.
"""

from __future__ import annotations

import os

from chalicelib.core.store import Store


def start(env: dict[str, str] | None = None, unset: tuple[str, ...] = ()) -> Store:
    os.environ["TASKHUB_STAGE"] = "bench"
    os.environ.update(env or {})
    for name in ("TASKHUB_EMBEDDED", *unset):
        os.environ.pop(name, None)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    from chalicelib.core import config

    store = Store(None).start()
    os.environ["TASKHUB_ENDPOINT_URL"] = store.url
    config.reload()
    from chalicelib.faces import load_faces

    load_faces()
    return store
