"""Each namespace's webhook allow-list, a workspace section, and the checks of callback URLs.

A task or scan may only name a URL its namespace's allow-list has (exactly, or under an
entry ending in `*`), so outbound URLs never come freely from a request. The list is checked
when a task or scan is submitted and again when each delivery connects. The signing secret is
write-only: stored encrypted (core/crypto), never exported, shown or logged; applying a new
one rotates it, and an item without one keeps the stored secret.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote, urlsplit

from pydantic import Field

from ..core import crypto, cursors, ids, outbound, workspace
from ..core.config import settings
from ..core.errors import BadRequest
from ..core.face import namespace_faces
from ..core.identity import service as identity
from ..core.workspace import Page, Plan, Strict, section, tally
from . import FACES
from .models import ALLOWLIST, AllowListModel, ns_key

MAX_CALLBACKS = 5  # URLs one task or scan may name
MAX_ENTRIES = 50

Url = Annotated[str, Field(min_length=1, max_length=2048)]


class WebhookItem(Strict):
    face: str = Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")
    namespace: str = Field(min_length=1, max_length=64)
    urls: list[Url] = Field(default_factory=list, max_length=MAX_ENTRIES)
    secret: str | None = Field(default=None, min_length=16, max_length=256)


class Refused(BadRequest):
    """A callback URL (or an allow-list entry) that is not allowed."""


def allow_loopback() -> bool:
    """Loopback receivers only where the stage allows them: local, or tests that say so."""
    value = (os.environ.get("TASKHUB_WEBHOOK_ALLOW_LOOPBACK") or "").strip().lower()
    if not value:
        return settings().stage == "local"
    return value in {"1", "true", "yes", "on"}


# ---- URLs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A URL in canonical form (scheme and host lower-cased, default port dropped)."""

    text: str
    scheme: str
    host: str
    port: int

    @property
    def address(self) -> outbound.IPAddress | None:
        return outbound.ip(self.host)


def parse_url(raw: str, *, entry: bool = False, field: str = "callbacks") -> tuple[Target, bool]:
    """(the URL, whether it is a prefix); an entry may end with `*` (a prefix), a callback
    may not. Refused: other schemes, credentials, fragments, dot segments, plain http to a
    public host, loopback where the stage does not allow it."""
    text = (raw or "").strip()
    prefix = entry and text.endswith("*")
    if prefix:
        text = text[:-1]
    if any(c in text for c in " \\*\x00\r\n\t"):
        raise Refused(f"{raw!r} is not a valid URL", field=field)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"{raw!r} is not a valid URL", field=field) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise Refused(f"{raw!r} must be an http(s) URL with a host", field=field)
    if "@" in parts.netloc or parts.fragment or text.endswith("#"):
        raise Refused(f"{raw!r} must not carry credentials or a fragment", field=field)
    if any(s in (".", "..") for s in unquote(parts.path).split("/")):
        raise Refused(f"{raw!r} must not have . or .. path segments", field=field)
    host = parts.hostname.lower().rstrip(".")
    default = 443 if scheme == "https" else 80
    port = port or default
    address = outbound.ip(host)
    if address is not None and address in outbound.METADATA:
        raise Refused(f"{raw!r} names a cloud metadata address", field=field)
    if outbound.is_loopback_host(host) and not allow_loopback():
        raise Refused(f"{raw!r} is a loopback address, not allowed in this stage", field=field)
    if scheme == "http" and not (
        outbound.is_loopback_host(host) or (address is not None and not address.is_global)
    ):
        raise Refused(f"{raw!r}: use https:// (http only to a private address)", field=field)
    shown = f"[{host}]" if ":" in host else host
    netloc = shown if port == default else f"{shown}:{port}"
    path = parts.path or ("" if prefix else "/")
    query = f"?{parts.query}" if parts.query else ""
    canonical = f"{scheme}://{netloc}{path}{query}"
    if prefix and not path.startswith("/"):
        raise Refused(f"{raw!r}: a prefix entry must end in a path, as in /hooks/*", field=field)
    return Target(canonical, scheme, host, port), prefix


@dataclass(frozen=True)
class Entry:
    url: Target
    prefix: bool

    def allows(self, url: Target) -> bool:
        if self.prefix:
            return url.text.startswith(self.url.text)
        return url.text == self.url.text

    @property
    def named(self) -> tuple[outbound.IPAddress, ...]:
        """The address the entry names literally: it may be private or link-local."""
        address = self.url.address
        return (address,) if address is not None else ()


def canonical_entry(text: str) -> str:
    target, prefix = parse_url(text, entry=True, field="urls")
    return target.text + ("*" if prefix else "")


def entries(row: AllowListModel) -> list[Entry]:
    found = []
    for text in row.urls or []:
        try:
            found.append(Entry(*parse_url(text, entry=True, field="urls")))
        except Refused:  # e.g. a loopback entry in a stage that no longer allows it
            continue
    return found


# ---- reads -------------------------------------------------------------------------------


def get(face: str, namespace: str) -> AllowListModel | None:
    try:
        return AllowListModel.get(ALLOWLIST, ns_key(face, namespace), consistent_read=True)
    except AllowListModel.DoesNotExist:
        return None


def check_callbacks(face: str, namespace: str, urls: list[str]) -> list[str]:
    """The callback URLs of a submitted task or scan, in canonical form, each on the
    namespace's allow-list; refused (nothing written) otherwise. One GetItem, none when
    there are no callbacks."""
    urls = list(dict.fromkeys(u for u in urls if u is not None))
    if not urls:
        return []
    if len(urls) > MAX_CALLBACKS:
        raise Refused(f"at most {MAX_CALLBACKS} callback URLs", field="callbacks")
    parsed = [parse_url(u)[0] for u in urls]
    row = get(face, namespace)
    if row is None or not row.secret:
        raise Refused(
            f"{face} namespace {namespace} has no webhook allow-list with a signing secret",
            field="callbacks",
        )
    allowed = entries(row)
    for url in parsed:
        if not any(e.allows(url) for e in allowed):
            raise Refused(
                f"{url.text} is not on the webhook allow-list of {face} namespace {namespace}",
                field="callbacks",
            )
    return list(dict.fromkeys(u.text for u in parsed))


def entry_for(row: AllowListModel | None, url: str) -> Entry | None:
    """The entry that allows `url` now (deliveries check again: the list may have changed)."""
    if row is None:
        return None
    try:
        parsed = parse_url(url)[0]
    except Refused:
        return None
    return next((e for e in entries(row) if e.allows(parsed)), None)


def secret_of(row: AllowListModel) -> str | None:
    return crypto.decrypt(row.secret) if row.secret else None


# ---- the workspace section `webhooks` -------------------------------------------------------


def _check(items: list[WebhookItem], plan: Plan) -> None:
    planned = {(ns.face, ns.id) for ns in plan.get("namespaces")}
    faces = [f for f in FACES if f in namespace_faces()]
    seen: set[tuple[str, str]] = set()
    for item in items:
        where = f"webhooks: {item.face}:{item.namespace}"
        if item.face not in faces:
            raise BadRequest(f"{where}: unknown face {item.face}; known: {', '.join(faces)}")
        key = (item.face, item.namespace)
        if key in seen:
            raise BadRequest(f"{where}: listed twice")
        seen.add(key)
        if key not in planned and identity.get_namespace(*key) is None:
            raise BadRequest(f"{where}: unknown namespace")
        for n, url in enumerate(item.urls):
            try:
                parse_url(url, entry=True, field="urls")
            except Refused as exc:
                raise BadRequest(f"{where}: urls.{n}: {exc.message}") from None


def _export(page: Page, at: Any) -> Any:
    """Every allow-list by one paged Query of their partition; never the secret."""

    def rows(start: Any, limit: int) -> Iterator[tuple[Any, Any]]:
        key = cursors.check_key(start, ALLOWLIST, "kind", "ns_key")
        return cursors.keyed(AllowListModel.query(ALLOWLIST, limit=limit, last_evaluated_key=key))

    def emit(row: AllowListModel, _: list[Any]) -> list[dict[str, Any]]:
        return [{"face": row.face, "namespace": row.namespace, "urls": list(row.urls or [])}]

    return workspace.walk(page, at, rows, emit)


@section("webhooks", WebhookItem, order=71, check=_check, export=_export)
def _apply(items: list[WebhookItem], plan: Plan) -> dict[str, int]:
    counts = tally()
    for item in items:
        found = get(item.face, item.namespace)
        urls = list(dict.fromkeys(canonical_entry(u) for u in item.urls))
        same_secret = item.secret is None or (
            found is not None and found.secret and secret_of(found) == item.secret
        )
        if found is not None and list(found.urls or []) == urls and same_secret:
            counts["unchanged"] += 1
            continue
        row = found or AllowListModel(
            ALLOWLIST, ns_key(item.face, item.namespace), face=item.face, namespace=item.namespace
        )
        row.urls = urls
        if item.secret is not None:
            row.secret = crypto.encrypt(item.secret)
        row.updated = ids.now_ms()
        row.save()
        counts["updated" if found is not None else "created"] += 1
    return counts
