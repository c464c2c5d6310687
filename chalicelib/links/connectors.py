"""Live state of linked items, asked of the trackers' own REST APIs (seed 000 `link_info`).

- Bugzilla: `GET {url}/rest/bug?id=1,2&include_fields=id,status,resolution,is_open`, all ids
  in one call (header `X-BUGZILLA-API-KEY`). When Bugzilla refuses the batch (error 101
  invalid id, 102 access denied), the batch fails (dropped connection, no JSON), or it is
  still out after HEDGE of the timeout, each id is also asked alone, racing the batch: one
  bad or slow id then fails only itself.
- Gerrit: `GET {url}/a/changes/{id}` with HTTP basic credentials when configured, else
  `GET {url}/changes/{id}`; the `)]}'` line that guards against XSSI is stripped.
- Tower: `GET {url}/api/v1/todos/{guid}` with an OAuth2 bearer token; JSON:API body whose
  `data.attributes` give the state: `deleted` when `is_active` is false (Tower keeps deleted
  todos), else `completed` or `open` from `is_completed`, lower-case like the open and
  completed the face has always reported.

Every request runs concurrently and is cut off at one deadline, the configured timeout after
the call began; an item that could not be fetched, for whatever reason, becomes
`failed get <target> <id>`. Successful
lines are cached in process for a short, configurable TTL (0 disables the cache).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Awaitable, Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

import httpx

from .config import LinksConfig, links_config, secret

log = logging.getLogger("taskhub.links")

Item = tuple[str, str]
Lines = dict[Item, str]
XSSI_PREFIX = ")]}'"
BUGZILLA_FIELDS = "id,status,resolution,is_open"
BUGZILLA_REFUSALS = {101, 102}
# Share of the timeout the batched Bugzilla call has to itself: a healthy Bugzilla answers a
# batch well within it, and the calls per bug still get the other half.
HEDGE = 0.5

MAX_CACHED = 10_000
_cache: dict[Item, tuple[float, str]] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def _cached(item: Item) -> str | None:
    with _cache_lock:
        hit = _cache.get(item)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        _cache.pop(item, None)
        return None


def _remember(lines: Lines, ttl: float) -> None:
    """Keep answers for `ttl` seconds, at most MAX_CACHED of them: when full, expired
    answers go first, then the oldest."""
    if ttl <= 0:
        return
    now = time.monotonic()
    with _cache_lock:
        for item, line in lines.items():
            _cache.pop(item, None)  # re-inserted last: the dict's order is the age order
            _cache[item] = (now + ttl, line)
        if len(_cache) > MAX_CACHED:
            for item in [i for i, (expires, _) in _cache.items() if expires <= now]:
                del _cache[item]
        while len(_cache) > MAX_CACHED:
            del _cache[next(iter(_cache))]


def failed(item: Item) -> str:
    return f"failed get {item[0]} {item[1]}"


def describe(items: list[Item]) -> list[str]:
    """One line per item, in the order given."""
    cfg = links_config()
    lines: Lines = {}
    pending: list[Item] = []
    for item in items:
        hit = _cached(item) if cfg.cache_ttl > 0 else None
        if hit is None:
            pending.append(item)
        else:
            lines[item] = hit
    if pending:
        cfg = replace(
            cfg,
            bugzilla_api_key=secret(cfg.bugzilla_api_key),
            gerrit_password=secret(cfg.gerrit_password),
            tower_token=secret(cfg.tower_token),
        )
        fetched = asyncio.run(_fetch_all(pending, cfg))
        _remember(fetched, cfg.cache_ttl)
        lines.update(fetched)
    return [lines.get(item) or failed(item) for item in items]


async def _bounded(job: Awaitable[Lines], deadline: float, what: str) -> Lines:
    try:
        return await asyncio.wait_for(job, deadline - asyncio.get_running_loop().time())
    except Exception as exc:  # a tracker's trouble is reported as failed lines, not raised
        log.warning("link_info: %s: %s", what, type(exc).__name__)
        return {}


async def _fetch_all(items: list[Item], cfg: LinksConfig) -> Lines:
    deadline = asyncio.get_running_loop().time() + cfg.timeout
    async with httpx.AsyncClient(timeout=cfg.timeout, follow_redirects=False) as client:
        jobs = []
        bugs = [value for target, value in items if target == "bugzilla"]
        if bugs and cfg.bugzilla_url:
            jobs.append(_bugzilla(client, cfg, bugs, deadline))
        for target, value in items:
            if target == "gerrit" and cfg.gerrit_url:
                jobs.append(_bounded(_gerrit(client, cfg, value), deadline, f"gerrit {value}"))
            elif target == "tower" and cfg.tower_url and cfg.tower_token:
                jobs.append(_bounded(_tower(client, cfg, value), deadline, f"tower {value}"))
        lines: Lines = {}
        for found in await asyncio.gather(*jobs):
            lines.update(found)
        return lines


# ---- Bugzilla -----------------------------------------------------------------------------

Outcome = tuple[bool, Lines]  # (settled: Bugzilla answered for these ids as a whole, lines)


async def _bugzilla(
    client: httpx.AsyncClient, cfg: LinksConfig, bugs: list[str], deadline: float
) -> Lines:
    """All bugs in one call; unless it settles them within HEDGE of the timeout, each bug
    is asked alone too, and whichever answers first counts. Nothing outlives `deadline`."""
    loop = asyncio.get_running_loop()
    batch = asyncio.ensure_future(_bugzilla_call(client, cfg, bugs))
    calls = {batch}
    lines: Lines = {}
    try:
        await asyncio.wait(calls, timeout=cfg.timeout * HEDGE)
        if batch.done():
            settled, lines = _outcome(batch)
            if settled:
                return lines
            calls.clear()
        if len(bugs) > 1:  # one bug alone would only be asked the same question twice
            calls.update(asyncio.ensure_future(_bugzilla_call(client, cfg, [b])) for b in bugs)
        while calls and (left := deadline - loop.time()) > 0:
            done, calls = await asyncio.wait(
                calls, timeout=left, return_when=asyncio.FIRST_COMPLETED
            )
            for call in done:
                settled, found = _outcome(call)
                lines.update(found)
                if settled and call is batch:
                    return lines
        if calls:
            log.warning("link_info: bugzilla: %d calls still out at the deadline", len(calls))
        return lines
    finally:
        await _cancel(calls)


def _outcome(call: asyncio.Future) -> Outcome:
    """A finished call's outcome; a call that raised settled nothing."""
    exc = call.exception()
    if exc is None:
        return call.result()
    log.warning("link_info: bugzilla: %s", type(exc).__name__)
    return False, {}


async def _cancel(calls: Iterable[asyncio.Future]) -> None:
    pending = [call for call in calls if not call.done()]
    for call in pending:
        call.cancel()
    await asyncio.gather(*pending, return_exceptions=True)


async def _bugzilla_call(client: httpx.AsyncClient, cfg: LinksConfig, bugs: list[str]) -> Outcome:
    """Settled unless asking the bugs one by one could do better: Bugzilla refused the
    batch (101, 102) or gave no JSON (a proxy's error page)."""
    headers = {"Accept": "application/json"}
    if cfg.bugzilla_api_key:
        headers["X-BUGZILLA-API-KEY"] = cfg.bugzilla_api_key
    response = await client.get(
        f"{cfg.bugzilla_url}/rest/bug",
        params={"id": ",".join(bugs), "include_fields": BUGZILLA_FIELDS},
        headers=headers,
    )
    body = _json(response.text)
    if not isinstance(body, dict):
        return False, {}
    if body.get("error"):
        code = body.get("code")
        log.warning("bugzilla error %s: %s", code, str(body.get("message", ""))[:200])
        return not (isinstance(code, int) and code in BUGZILLA_REFUSALS), {}
    if response.status_code != 200:
        return False, {}
    wanted = set(bugs)
    lines: Lines = {}
    for bug in body.get("bugs") or []:
        if not isinstance(bug, dict) or not isinstance(bug.get("status"), str):
            continue
        bug_id = str(bug.get("id"))
        if bug_id not in wanted:
            continue
        line = f"bugzilla {bug_id} status {bug['status']}"
        if isinstance(bug.get("resolution"), str) and bug["resolution"]:
            line += f" {bug['resolution']}"
        lines[("bugzilla", bug_id)] = line
    return True, lines  # ids in `faults` or missing from `bugs` stay failed


# ---- Gerrit -------------------------------------------------------------------------------


async def _gerrit(client: httpx.AsyncClient, cfg: LinksConfig, change: str) -> Lines:
    authenticated = bool(cfg.gerrit_user and cfg.gerrit_password)
    path = (
        f"/a/changes/{quote(change, safe='~')}"
        if authenticated
        else f"/changes/{quote(change, safe='~')}"
    )
    response = await client.get(
        cfg.gerrit_url + path,
        headers={"Accept": "application/json"},
        auth=(cfg.gerrit_user, cfg.gerrit_password) if authenticated else None,
    )
    if response.status_code != 200:
        return {}
    text = response.text
    if text.startswith(XSSI_PREFIX):
        text = text.split("\n", 1)[1] if "\n" in text else ""
    body = _json(text)
    if isinstance(body, dict) and isinstance(body.get("status"), str):
        return {("gerrit", change): f"gerrit {change} status {body['status']}"}
    return {}


# ---- Tower --------------------------------------------------------------------------------


async def _tower(client: httpx.AsyncClient, cfg: LinksConfig, guid: str) -> Lines:
    response = await client.get(
        f"{cfg.tower_url}/api/v1/todos/{guid}",
        headers={
            "Accept": "application/vnd.api+json",
            "Authorization": f"Bearer {cfg.tower_token}",
        },
    )
    if response.status_code != 200:
        return {}
    body = _json(response.text)
    data = body.get("data") if isinstance(body, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(attributes, dict):
        return {}
    if attributes.get("is_active") is False:  # Tower keeps deleted todos, marked inactive
        state = "deleted"
    elif isinstance(attributes.get("is_completed"), bool):
        state = "completed" if attributes["is_completed"] else "open"
    else:
        return {}
    return {("tower", guid): f"tower {guid} status {state}"}


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None
