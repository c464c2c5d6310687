"""Settings of the DTask face and its trackers, from the environment (never from requests).

Secrets may be given directly or as `ssm:<parameter name>`, read once per process from
SSM Parameter Store (SecureString, decrypted).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from functools import lru_cache

from ..core import aws, environ

log = logging.getLogger("taskhub.links")

DEFAULT_TARGETS = ("bugzilla", "gerrit", "tower")


@dataclass(frozen=True)
class LinksConfig:
    namespace: str
    targets: tuple[str, ...]
    max_links: int
    bugzilla_url: str | None
    bugzilla_api_key: str | None
    gerrit_url: str | None
    gerrit_user: str | None
    gerrit_password: str | None
    tower_url: str | None
    tower_token: str | None
    timeout: float
    cache_ttl: float


def _url(name: str, default: str | None = None) -> str | None:
    value = (os.environ.get(name) or default or "").strip().rstrip("/")
    return value or None


def _secret(name: str) -> str | None:
    return (os.environ.get(name) or "").strip() or None


def secret(reference: str | None) -> str | None:
    """A secret's value: the setting itself, or for `ssm:<name>` the SSM parameter, read
    once per process when a tracker is first asked (so a missing parameter fails only the
    tracker's items, never the other routes). A failed read is not remembered: the next
    call asks again."""
    if not reference or not reference.startswith("ssm:"):
        return reference
    try:
        return _ssm_parameter(reference[4:])
    except Exception as exc:
        log.warning("cannot read secret %s: %s", reference, type(exc).__name__)
        return None


@lru_cache(maxsize=16)
def _ssm_parameter(name: str) -> str | None:
    answer = aws.client("ssm").get_parameter(Name=name, WithDecryption=True)
    return answer["Parameter"]["Value"] or None


def _number(name: str, default: float, low: float, high: float) -> float:
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        value = default
    return min(max(value, low), high)


@environ.read_at_start
@lru_cache(maxsize=1)
def links_config() -> LinksConfig:
    targets = os.environ.get("TASKHUB_DTASK_TARGETS") or ",".join(DEFAULT_TARGETS)
    return LinksConfig(
        namespace=(os.environ.get("TASKHUB_DTASK_NAMESPACE") or "default").strip(),
        targets=tuple(t.strip() for t in targets.split(",") if t.strip()),
        # a task's delete removes it and every index entry in ONE transaction (100 items)
        max_links=int(_number("TASKHUB_DTASK_MAX_LINKS", 99, 1, 99)),
        bugzilla_url=_url("TASKHUB_BUGZILLA_URL"),
        bugzilla_api_key=_secret("TASKHUB_BUGZILLA_API_KEY"),
        gerrit_url=_url("TASKHUB_GERRIT_URL"),
        gerrit_user=(os.environ.get("TASKHUB_GERRIT_USER") or "").strip() or None,
        gerrit_password=_secret("TASKHUB_GERRIT_PASSWORD"),
        tower_url=_url("TASKHUB_TOWER_URL", "https://tower.im"),
        tower_token=_secret("TASKHUB_TOWER_TOKEN"),
        # one deadline for every tracker call of a link_info, well within API Gateway's 29 s
        timeout=_number("TASKHUB_LINKS_TIMEOUT", 5.0, 0.05, 12.0),
        cache_ttl=_number("TASKHUB_LINKS_CACHE_TTL", 30.0, 0.0, 3600.0),
    )


def reload() -> LinksConfig:
    links_config.cache_clear()
    _ssm_parameter.cache_clear()
    return links_config()
