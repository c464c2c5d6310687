"""How an event is signed: HMAC-SHA256 over the raw body with the namespace's secret, as
GitHub (`X-Hub-Signature-256: sha256=<hex>`) and Plane sign theirs. The timestamp is in the
body as well as in `X-Taskhub-Timestamp`, so the signature covers it and a receiver can
refuse old replays."""

from __future__ import annotations

import hashlib
import hmac

from .. import __version__

SIGNATURE = "X-Hub-Signature-256"
TIMESTAMP = "X-Taskhub-Timestamp"
EVENT = "X-Taskhub-Event"
EVENT_ID = "X-Taskhub-Event-Id"
DELIVERY = "X-Taskhub-Delivery"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def headers(
    secret: str, body: bytes, *, event: str, event_id: str, delivery_id: str, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": f"taskhub-webhooks/{__version__}",
        EVENT: event,
        EVENT_ID: event_id,
        DELIVERY: delivery_id,
        TIMESTAMP: str(timestamp),
        SIGNATURE: signature(secret, body),
    }
