"""The login form: a token checked with the identity service, then kept in the cookie.

A bad token shows the form again with 401 and sets nothing. `next` brings the browser back
to the page that sent it here, and only ever to a console or API docs page of this site.
"""

from __future__ import annotations

import re

from ..core import browser
from ..core.errors import Unauthorized
from ..core.identity import service as identity
from .html import document, esc, redirect, response, url

MAX_TOKEN = 512
_COOKIE_SAFE = re.compile(r"^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]+$")  # RFC 6265
# the HTML surfaces that share the cookie: the console and the served API docs
_NEXT = re.compile(r"^/(?:console|docs)(?:[/?][\x21-\x7e]*)?$")


def safe_next(path: str | None) -> str | None:
    """`path` when it is a console or API docs page of this site, else None."""
    if not path or len(path) > 2000 or not _NEXT.match(path) or "//" in path or "\\" in path:
        return None
    if path.startswith(url("login")) or path.startswith(url("logout")):
        return None
    return path


def _page(next_path: str | None, message: str = "", status: int = 200):
    hidden = f'<input type="hidden" name="next" value="{esc(next_path)}">' if next_path else ""
    error = f'<p class="error" role="alert">{esc(message)}</p>' if message else ""
    body = (
        f'<form class="login" method="post" action="{url("login")}">'
        "<h1>Log in</h1>"
        '<p class="muted">Paste an API token (<code>chalicelib.admin create-token</code> '
        "makes one). The console keeps it in a cookie of this site and nothing else.</p>"
        f'{error}<label for="token">Token</label>'
        '<input id="token" name="token" type="password" autocomplete="off" required autofocus>'
        f'{hidden}<button type="submit">Log in</button></form>'
    )
    return response(document("Log in", body), status)


def form(next_path: str | None):
    return _page(safe_next(next_path))


def submit(fields: dict[str, str], *, secure: bool):
    token = (fields.get("token") or "").strip()
    next_path = safe_next(fields.get("next"))
    if not token:
        return _page(next_path, "Enter a token.", 400)
    if len(token) > MAX_TOKEN:
        return _page(next_path, "That token is not valid: it is unknown or revoked.", 401)
    if not _COOKIE_SAFE.match(token):
        return _page(next_path, "That token has characters a browser cookie cannot hold.", 400)
    try:
        identity.user_for_token(token)
    except Unauthorized:
        return _page(next_path, "That token is not valid: it is unknown or revoked.", 401)
    cookie = browser.login_cookie(token, secure=secure)
    return redirect(next_path or url(), {"Set-Cookie": cookie})
