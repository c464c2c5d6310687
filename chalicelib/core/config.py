"""Settings read from the environment, which `.chalice/config.json` fills per stage.

Read lazily and cached so tests can switch stages with `reload()`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_EMBEDDED_PORT = 4599
PROJECT_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = PROJECT_DIR / ".taskhub"
DATA_SYNC = ("fsync", "write", "off")


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    stage: str
    region: str
    embedded: bool
    embedded_port: int
    endpoint_url: str | None
    admin_token: str | None
    secret_key: str | None
    data_dir: Path  # the embedded server's: its store, server file and lock
    data_sync: str  # fsync: on disk before each answer; write: handed to the OS; off: memory

    def endpoint_for(self, service: str) -> str | None:
        """`TASKHUB_ENDPOINT_URL_<SERVICE>` wins over `TASKHUB_ENDPOINT_URL`, so one service can
        go elsewhere, e.g. DynamoDB Local for tables that outlive the embedded backend."""
        return os.environ.get(f"TASKHUB_ENDPOINT_URL_{service.upper()}") or self.endpoint_url

    def resource_name(self, name: str) -> str:
        """Every table, queue and bucket is `taskhub-<stage>-<name>`."""
        return f"taskhub-{self.stage}-{name}"

    @property
    def bucket(self) -> str:
        return self.resource_name("blobs")


@lru_cache(maxsize=1)
def settings() -> Settings:
    stage = os.environ.get("TASKHUB_STAGE", "dev")
    embedded = _flag("TASKHUB_EMBEDDED")
    port = int(os.environ.get("TASKHUB_EMBEDDED_PORT", DEFAULT_EMBEDDED_PORT))
    endpoint = os.environ.get("TASKHUB_ENDPOINT_URL") or None
    if embedded and endpoint is None:
        endpoint = f"http://127.0.0.1:{port}"
    return Settings(
        stage=stage,
        region=os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1",
        embedded=embedded,
        embedded_port=port,
        endpoint_url=endpoint,
        # A default admin credential only ever exists in the embedded local stage.
        admin_token=os.environ.get("TASKHUB_ADMIN_TOKEN") if embedded else None,
        secret_key=os.environ.get("TASKHUB_SECRET_KEY") or None,
        data_dir=_data_dir(),
        data_sync=(os.environ.get("TASKHUB_DATA_SYNC") or "fsync").strip().lower(),
    )


def _data_dir() -> Path:
    value = (os.environ.get("TASKHUB_DATA_DIR") or "").strip()
    return Path(value).resolve() if value else DEFAULT_DATA_DIR


def reload() -> Settings:
    settings.cache_clear()
    return settings()
