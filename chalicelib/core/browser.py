"""The browser's credential: the console's login form keeps the caller's API token in one cookie.

Only the HTML surfaces (the console and the served API docs) read it, and they only answer
GETs, so another site cannot spend it on a write; the JSON faces never look at cookies. The
cookie is HttpOnly and SameSite=Strict, and holds nothing but the token the user typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from http.cookies import CookieError, SimpleCookie

from .auth import Principal, authenticate
from .errors import Unauthorized

COOKIE = "taskhub_token"
MAX_AGE = 12 * 3600


def token(headers: Mapping[str, str]) -> str | None:
    """The token the login form stored, or None."""
    raw = next((v for k, v in headers.items() if k.lower() == "cookie"), None)
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value.strip() or None if morsel else None


def principal(headers: Mapping[str, str]) -> Principal:
    """Who the browser is: the cookie's token, else the request's own credentials."""
    stored = token(headers)
    if stored:
        return authenticate({"Authorization": f"Bearer {stored}"})
    if any(k.lower() == "authorization" for k in headers):
        return authenticate(headers)
    raise Unauthorized("not logged in")


def login_cookie(value: str, *, secure: bool) -> str:
    """The Set-Cookie value that keeps `value` for the console and the docs."""
    flags = "; Secure" if secure else ""
    return f"{COOKIE}={value}; Path=/; Max-Age={MAX_AGE}; HttpOnly; SameSite=Strict{flags}"


def logout_cookie() -> str:
    return f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"


def request_principal(request: object) -> Principal:
    """`Face(credentials=...)` for the HTML faces: the cookie, else the usual headers."""
    return principal(getattr(request, "headers", None) or {})
