"""Huawei Cloud's AK/SK request signatures (`SDK-HMAC-SHA256`), verified as the SDK signs them.

Huawei's official SDKs never send a token: they sign each request with an access key (AK) and
its secret (SK). This module rebuilds the canonical request from what the server received and
checks the signature. It knows no HTTP framework and no storage: a face passes the request's
parts and `secret_for(ak)`, which returns the secret decrypted for this one check, or None.

What huaweicloudsdkcore 3.1.219 signs (`signer/signer.py::Signer`, `client.py`), read from its
source and checked against it by the tests:

* `Authorization: SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<h1;h2>, Signature=<hex>`.
* `X-Sdk-Date: YYYYMMDDTHHMMSSZ` (UTC); the string to sign carries it again.
* Signed headers: every header in the SDK's dict whose name has no `_`, lower-cased and
  sorted; for CodeArts Check `content-type;host;user-agent;x-project-id;x-sdk-date`. It
  always includes `host` and `x-sdk-date`; values are `str.strip()`-ed, nothing more.
* Canonical URI: the path decoded, split on `/`, each segment `quote(safe="~")`-ed, and a `/`
  appended unless it ends with one.
* Canonical query: `(key, typed value)` pairs sorted, each side `quote(safe="~")`-ed, `True`
  as `true`. The SDK sends exactly that string, so the wire order is its order.
* Payload: hex SHA-256 of the body; an empty body always hashes as empty. For a non-empty
  body the SDK signs `X-Sdk-Content-Sha256`'s value instead when present, and sets it to
  `UNSIGNED-PAYLOAD` for bodies that are neither JSON nor BSON (see `_payload_hash`).
* Signature: hex HMAC-SHA256 keyed with the SK itself (no key derivation) over
  `SDK-HMAC-SHA256\\n<date>\\n<hex sha256(canonical request)>`.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, unquote

ALGORITHM = "SDK-HMAC-SHA256"
# the SDK's other schemes: refused as such, so a face can say what it does not support
OTHER_ALGORITHMS = frozenset(
    {"SDK-HMAC-SM3", "SDK-ECDSA-P256-SHA256", "SDK-SM2-SM3", "V11-HMAC-SHA256"}
)
MAX_SKEW = timedelta(minutes=15)  # Huawei's gateway refuses an X-Sdk-Date further off than this
REQUIRED_SIGNED = ("host", "x-sdk-date")  # the SDK always signs both
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_DATE_HEADER = "x-sdk-date"
_CONTENT_HASH_HEADER = "x-sdk-content-sha256"
_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_EMPTY_HASH = hashlib.sha256(b"").hexdigest()
_DATE_RE = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_ACCESS_KEY_RE = re.compile(r"[A-Za-z0-9._~-]{1,128}")  # never a lookup a store would refuse
_HEADER_NAME_RE = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")  # HTTP token characters, lower case
_SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")  # also keeps compare_digest on ASCII


class Refusal(enum.Enum):
    """Why a signed request was refused; a face maps each to its own error code."""

    MISSING_AUTHORIZATION = "no Authorization header"
    MALFORMED_AUTHORIZATION = "Authorization is not an SDK-HMAC-SHA256 signature"
    UNSUPPORTED_ALGORITHM = "signing algorithm not supported"
    MISSING_DATE = "no X-Sdk-Date header"
    MALFORMED_DATE = "X-Sdk-Date is not YYYYMMDDTHHMMSSZ"
    DATE_OUT_OF_RANGE = "X-Sdk-Date is more than 15 minutes off"
    HEADER_NOT_SIGNED = "a header that must be signed is not among SignedHeaders"
    SIGNED_HEADER_MISSING = "a header named in SignedHeaders is not in the request"
    UNSIGNED_PAYLOAD = "the body is not signed (UNSIGNED-PAYLOAD)"
    UNKNOWN_ACCESS_KEY = "unknown access key"
    SIGNATURE_MISMATCH = "signature does not match"


class SignatureRefused(Exception):
    """A refusal carrying only its reason: never the secret, never the expected signature."""

    def __init__(self, reason: Refusal):
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class SignedRequest:
    """A verified request: who signed it, what they signed and when."""

    access_key: str
    signed_headers: tuple[str, ...]
    signed_at: datetime


@dataclass(frozen=True)
class Authorization:
    access_key: str
    signed_headers: tuple[str, ...]
    signature: str


Query = Mapping[str, str | Iterable[str]] | Iterable[tuple[str, str]] | None


def is_sdk_authorization(value: str | None) -> bool:
    """Whether an Authorization header uses one of the SDK's signing schemes (rather than,
    say, a Bearer token), so a face knows which check to run."""
    scheme = (value or "").strip().partition(" ")[0]
    return scheme == ALGORITHM or scheme in OTHER_ALGORITHMS


def parse_authorization(value: str | None) -> Authorization:
    """The three fields of the SDK's Authorization header, or SignatureRefused. Strict where
    the SDK is exact (scheme, lower-case names, hex signature), lenient on spaces."""
    if value is None or not value.strip():
        raise SignatureRefused(Refusal.MISSING_AUTHORIZATION)
    scheme, _, rest = value.strip().partition(" ")
    if scheme != ALGORITHM:
        if scheme in OTHER_ALGORITHMS:
            raise SignatureRefused(Refusal.UNSUPPORTED_ALGORITHM)
        raise SignatureRefused(Refusal.MALFORMED_AUTHORIZATION)
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, field = part.strip().partition("=")
        if not sep or name in fields:
            raise SignatureRefused(Refusal.MALFORMED_AUTHORIZATION)
        fields[name] = field
    if fields.keys() != {"Access", "SignedHeaders", "Signature"}:
        raise SignatureRefused(Refusal.MALFORMED_AUTHORIZATION)
    signed = tuple(fields["SignedHeaders"].split(";"))
    if (
        not _ACCESS_KEY_RE.fullmatch(fields["Access"])
        or not _SIGNATURE_RE.fullmatch(fields["Signature"])
        or not all(_HEADER_NAME_RE.fullmatch(name) for name in signed)
        or len(set(signed)) != len(signed)
    ):
        raise SignatureRefused(Refusal.MALFORMED_AUTHORIZATION)
    return Authorization(fields["Access"], signed, fields["Signature"])


def canonical_uri(path: str) -> str:
    """The SDK's canonical URI. Decoding first makes a raw and a decoded path alike (unless
    the decoded one still holds a `%XX`), and makes `%2F` a separator: the SDK signs
    `/a%2Fb` and `/a/b`, and `/a` and `/a/`, alike."""
    segments = unquote(path or "/").split("/")
    uri = "/".join(quote(segment, safe="~") for segment in segments)
    return uri if uri.endswith("/") else uri + "/"


def _grouped(query: Query) -> dict[str, list[str]]:
    """Values per key, in the order received: Chalice's MultiDict (`getlist`), a dict of
    lists (parse_qs), a dict of single values, or (key, value) pairs."""
    if not query:
        return {}
    grouped: dict[str, list[str]] = {}
    if isinstance(query, Mapping):
        getlist = getattr(query, "getlist", None)
        for key in query:
            values = getlist(key) if getlist is not None else query[key]
            grouped[key] = [values] if isinstance(values, str) else list(values)
    else:
        for key, value in query:
            grouped.setdefault(key, []).append(value)
    return grouped


def canonical_queries(query: Query) -> list[str]:
    """The canonical query strings this query may have been signed as: values sorted as
    strings (the SDK's order for strings), and, when it differs, the order received. The SDK
    sorts typed values (`9` before `10`) and sends them in that order, which a server that
    only sees strings can only learn from the wire."""
    grouped = _grouped(query)
    keys = sorted(grouped)

    def render(order: Callable[[list[str]], list[str]]) -> str:
        return "&".join(
            f"{quote(key, safe='~')}={quote(value, safe='~')}"
            for key in keys
            for value in order(grouped[key])
        )

    as_sorted, as_received = render(sorted), render(list)
    return [as_sorted] if as_sorted == as_received else [as_sorted, as_received]


def _signed_at(headers: Mapping[str, str], now: datetime) -> datetime:
    value = headers.get(_DATE_HEADER)
    if value is None or not value.strip():
        raise SignatureRefused(Refusal.MISSING_DATE)
    value = value.strip()
    if not _DATE_RE.fullmatch(value):  # strptime alone would take "2026121T1234Z"
        raise SignatureRefused(Refusal.MALFORMED_DATE)
    try:
        signed_at = datetime.strptime(value, _DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError as exc:
        raise SignatureRefused(Refusal.MALFORMED_DATE) from exc
    if abs(now - signed_at) > MAX_SKEW:
        raise SignatureRefused(Refusal.DATE_OUT_OF_RANGE)
    return signed_at


def _unsigned_payload(
    headers: Mapping[str, str], signed: tuple[str, ...], body: bytes, allow_unsigned: bool
) -> bool:
    """Whether the body is declared unsigned where the SDK would honour it (non-empty body).
    It leaves the body open to anyone, so it is refused unless the caller allows it, and then
    only when the declaration is itself signed."""
    declared = headers.get(_CONTENT_HASH_HEADER)
    if not body or declared is None or declared.strip() != UNSIGNED_PAYLOAD:
        return False
    if not allow_unsigned:
        raise SignatureRefused(Refusal.UNSIGNED_PAYLOAD)
    if _CONTENT_HASH_HEADER not in signed:
        raise SignatureRefused(Refusal.HEADER_NOT_SIGNED)
    return True


def _payload_hash(body: bytes, unsigned: bool) -> str:
    """The canonical request's last line. Where the SDK would sign a hash declared in
    X-Sdk-Content-Sha256, the body's own is used: equal for an honest client, and a swapped
    body with the original's hash declared does not pass."""
    if not body:
        return _EMPTY_HASH
    return UNSIGNED_PAYLOAD if unsigned else hashlib.sha256(body).hexdigest()


def _canonical_requests(
    method: str,
    path: str,
    query: Query,
    headers: Mapping[str, str],
    signed: tuple[str, ...],
    body: bytes,
    unsigned: bool,
) -> list[bytes]:
    """The canonical request, once per query order it may have been signed in."""
    try:
        head = [method.upper(), canonical_uri(path)]
        tail = [
            "".join(f"{name}:{headers[name].strip()}\n" for name in signed),
            ";".join(signed),
            _payload_hash(body, unsigned),
        ]
        return ["\n".join([*head, q, *tail]).encode() for q in canonical_queries(query)]
    except UnicodeEncodeError:  # lone surrogates: nothing the SDK could have signed
        return []


def verify_request(
    *,
    method: str,
    path: str,
    query: Query,
    headers: Mapping[str, str],
    body: bytes | None,
    now: datetime,
    secret_for: Callable[[str], str | bytes | None],
    allow_unsigned_payload: bool = False,
) -> SignedRequest:
    """Check a request the SDK signed with SDK-HMAC-SHA256; return who signed it, or raise
    SignatureRefused with the reason.

    Pass the path as received on the wire (percent-encoded), the query with every value of a
    repeated key, headers under any case and the raw body bytes. The cheap checks come
    first, so `secret_for` is asked (once) only about a well-formed, fresh request; the
    secret it returns is used for the HMAC and dropped. UNKNOWN_ACCESS_KEY and
    SIGNATURE_MISMATCH are told apart for the face's logs; a client should get one answer
    for both, or the refusal tells which keys exist.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    lowered = {name.lower(): value for name, value in headers.items()}
    auth = parse_authorization(lowered.get("authorization"))
    signed_at = _signed_at(lowered, now)
    if any(name not in auth.signed_headers for name in REQUIRED_SIGNED):
        raise SignatureRefused(Refusal.HEADER_NOT_SIGNED)
    if any(name not in lowered for name in auth.signed_headers):
        raise SignatureRefused(Refusal.SIGNED_HEADER_MISSING)
    body = body or b""
    unsigned = _unsigned_payload(lowered, auth.signed_headers, body, allow_unsigned_payload)

    candidates = _canonical_requests(
        method, path, query, lowered, auth.signed_headers, body, unsigned
    )
    secret = secret_for(auth.access_key)
    if not secret:
        raise SignatureRefused(Refusal.UNKNOWN_ACCESS_KEY)
    key = secret.encode() if isinstance(secret, str) else secret
    date = lowered[_DATE_HEADER].strip()
    given = auth.signature.encode()
    for canonical in candidates:
        string_to_sign = f"{ALGORITHM}\n{date}\n{hashlib.sha256(canonical).hexdigest()}"
        expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected.encode(), given):
            return SignedRequest(auth.access_key, auth.signed_headers, signed_at)
    raise SignatureRefused(Refusal.SIGNATURE_MISMATCH)
