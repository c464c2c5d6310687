"""HTML for the console: escaping, the page frame, and the headers every answer carries.

Pages are built from small functions that escape every value they are given (`esc`), so
nothing a user stored reaches the page as markup. The stylesheet is inline and allowed by
its hash in the Content-Security-Policy; the only script is the face's own file.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from chalice import Response

PREFIX = "/console"

CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--soft:#f6f8fa;--accent:#0969da}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;gap:16px;align-items:center;padding:10px 24px;background:#24292f;color:#fff}
header a{color:#fff;text-decoration:none;font-weight:600}
header .who{margin-left:auto;color:#d0d7de;display:flex;gap:12px;align-items:center}
header form{margin:0}
header button{background:none;border:1px solid #57606a;color:#fff;border-radius:6px;padding:2px 10px;cursor:pointer}
main{padding:16px 24px;max-width:1240px}
h1{font-size:20px;margin:4px 0 12px}
h2{font-size:16px;margin:20px 0 8px}
nav.crumbs{color:var(--muted);margin-bottom:4px}
nav.crumbs a{color:var(--accent);text-decoration:none}
a{color:var(--accent)}
table{border-collapse:collapse;width:100%;margin:4px 0 12px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:8px;margin:4px 0;max-height:260px;overflow:auto;white-space:pre-wrap;word-break:break-all;font-size:12px}
.muted{color:var(--muted)}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;border:1px solid var(--line);background:var(--soft)}
.s-success{background:#dafbe1;border-color:#4ac26b}.s-fail{background:#ffebe9;border-color:#ff8182}
.s-running{background:#ddf4ff;border-color:#54aeff}.s-init,.s-cancel{background:#f6f8fa}
.s-waiting,.s-decision{background:#fff8c5;border-color:#d4a72c}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:8px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:20px}
.charts{display:flex;gap:24px;flex-wrap:wrap}
.chart{border:1px solid var(--line);border-radius:8px;padding:8px 12px}
.error{border:1px solid #ff8182;background:#ffebe9;border-radius:6px;padding:8px 12px;margin:8px 0}
form.login{max-width:380px;margin:60px auto;border:1px solid var(--line);border-radius:8px;padding:20px}
form.login input{width:100%;padding:6px 8px;margin:6px 0 12px;border:1px solid var(--line);border-radius:6px;font:inherit}
form.login button{padding:6px 16px;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff;font-weight:600;cursor:pointer}
ul.tree{list-style:none;padding-left:18px;margin:2px 0}
ul.tree.top{padding-left:0}
ul.tree li{margin:3px 0}
.pager{margin:8px 0}
""".strip()

_CSS_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode() + "'"
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        f"style-src {_CSS_HASH}",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def esc(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def url(*parts: Any, **query: Any) -> str:
    """A console URL: each part percent-encoded as one path segment, then the query."""
    path = PREFIX + "".join("/" + quote(str(p), safe="") for p in parts)
    kept = {k: v for k, v in query.items() if v not in (None, "")}
    return path + ("?" + urlencode(kept) if kept else "")


def link(href: str, text: Any) -> str:
    return f'<a href="{esc(href)}">{esc(text)}</a>'


def badge(status: Any) -> str:
    return f'<span class="badge s-{esc(status)}">{esc(status)}</span>'


def table(head: Iterable[str], rows: Iterable[Iterable[str]], numeric: Iterable[int] = ()) -> str:
    """A table of cells that are already HTML (escape values with `esc` first)."""
    right = set(numeric)
    cls = lambda i: ' class="num"' if i in right else ""  # noqa: E731
    th = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def crumbs(*trail: tuple[str, str] | str) -> str:
    parts = [link(t[0], t[1]) if isinstance(t, tuple) else esc(t) for t in trail]
    return '<nav class="crumbs">' + " / ".join(parts) + "</nav>"


def document(title: str, body: str, *, who: str | None = None, script: bool = False) -> str:
    bar = ""
    if who is not None:
        bar = (
            f'<span class="who">{esc(who)}'
            f'<form method="post" action="{url("logout")}"><button type="submit">Log out</button>'
            "</form></span>"
        )
    js = f'<script src="{url("console.js")}" defer></script>' if script else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{esc(title)} · taskhub</title><link rel="icon" href="data:,">'
        f"<style>{CSS}</style>{js}</head><body>"
        f'<header><a href="{url()}">taskhub console</a>{bar}</header>'
        f"<main>{body}</main></body></html>"
    )


def response(text: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=text,
        status_code=status,
        headers={"Content-Type": "text/html; charset=utf-8", **HEADERS, **(headers or {})},
    )


def redirect(location: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body="",
        status_code=303,
        headers={"Location": location, **HEADERS, **(headers or {})},
    )
