"""Delivering: one queue message is one attempt of one delivery.

The worker claims the delivery (a lease, by conditional write), POSTs the signed event and
records the attempt (status code, error, time: never the secret or the body). A failed
attempt makes the message fail, so it comes back after a short, growing delay
(`resources.retry_later` changes its visibility: 5 s, 10 s, 20 s...); after `max_attempts()`
attempts in a round, or at once when the URL is no longer allowed, the delivery is `dead`
and its message goes to the queue's DLQ. A delivered or dead delivery, or a message of an
older round, changes nothing: a redelivered message never sends an event twice.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from pynamodb.exceptions import UpdateError

from ..core import aws, deadlines, ids, resources
from ..core.conditions import applied
from . import allowlist, signing, transport
from .events import GRACE_S, QUEUE, SHARDS, message
from .models import DeliveryModel

log = logging.getLogger("taskhub.webhooks")

LEASE_S = 30  # longer than one attempt can take (connect 3 s + 5 s)
KEEP_ATTEMPTS = 20  # the latest attempts a delivery keeps


def max_attempts() -> int:
    return max(1, int(os.environ.get("TASKHUB_WEBHOOK_ATTEMPTS") or 6))


class TryAgain(Exception):
    """The attempt failed (or another worker holds the delivery): the message comes back."""


def load(delivery_id: str) -> DeliveryModel | None:
    try:
        return DeliveryModel.get(delivery_id, consistent_read=True)
    except DeliveryModel.DoesNotExist:
        return None


def handle(body: dict[str, Any], receive_count: int = 1) -> str:
    """What became of the message: delivered | pending (raises TryAgain) | dead | stale."""
    delivery = load(str(body.get("delivery", "")))
    if delivery is None:
        return "dropped: unknown delivery"
    if body.get("round") != delivery.round or delivery.state != "pending":
        return "stale"
    token = claim(delivery)
    if token is None:
        raise TryAgain(f"delivery {delivery.delivery_id} is held by another worker")
    number = int(delivery.tries) + 1
    sent, permanent = attempt(delivery, number)
    if sent.ok:
        state = "delivered"
    elif permanent or number - int(delivery.base) >= max_attempts():
        state = "dead"
    else:
        state = "pending"
    entry = {"n": number, "at": ids.now_ms(), "status": sent.status, "error": sent.error}
    entry["ms"] = sent.ms
    if state == "pending":
        entry["retry_in_s"] = resources.backoff_s(receive_count)
    record(delivery, token, number, state, entry)
    log.info(
        "webhook %s attempt %s: %s (%s)", delivery.delivery_id, number, state, sent.error or "ok"
    )
    if state == "pending":
        raise TryAgain(f"delivery {delivery.delivery_id} attempt {number} failed")
    if state == "dead":
        to_dlq(body)
    return state


def claim(delivery: DeliveryModel) -> str | None:
    token, now = ids.random_alnum(16), ids.now_ms()
    done = applied(
        lambda: delivery.update(
            actions=[
                DeliveryModel.lease_token.set(token),
                DeliveryModel.lease_until.set(now + LEASE_S * 1000),
            ],
            condition=(DeliveryModel.state == "pending")
            & (DeliveryModel.round == delivery.round)
            & (DeliveryModel.tries == delivery.tries)
            & (DeliveryModel.lease_until < now),
        )
    )
    return token if done else None


def attempt(delivery: DeliveryModel, number: int) -> tuple[transport.Sent, bool]:
    """(what the POST got, whether failing again is pointless)."""
    row = allowlist.get(delivery.face, delivery.namespace)
    entry = allowlist.entry_for(row, delivery.url)
    if entry is None:
        return transport.Sent(None, "the URL is no longer on the allow-list", 0), True
    secret = allowlist.secret_of(row)
    if not secret:
        return transport.Sent(None, "the namespace has no signing secret", 0), True
    timestamp = ids.now_s()
    event = delivery.event
    payload = {
        **event,
        "delivery_id": delivery.delivery_id,
        "attempt": number,
        "timestamp": timestamp,
    }
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = signing.headers(
        secret,
        raw,
        event=event["event"],
        event_id=delivery.event_id,
        delivery_id=delivery.delivery_id,
        timestamp=timestamp,
    )
    sent = transport.post(
        delivery.url, raw, headers, named=entry.named, allow_loopback=allowlist.allow_loopback()
    )
    return sent, False


def record(delivery: DeliveryModel, token: str, number: int, state: str, entry: dict) -> None:
    attempts = [*(delivery.attempts or []), entry][-KEEP_ATTEMPTS:]
    if state == "pending":  # the message comes back after its delay: the reaper waits for it
        due = ids.now_ms() + (entry.get("retry_in_s", 0) + GRACE_S) * 1000
        watch = [DeliveryModel.deadline.set(due)]
    else:
        watch = [DeliveryModel.watch.remove(), DeliveryModel.deadline.remove()]
    try:
        delivery.update(
            actions=[
                DeliveryModel.tries.set(number),
                DeliveryModel.state.set(state),
                DeliveryModel.attempts.set(attempts),
                DeliveryModel.lease_token.remove(),
                DeliveryModel.lease_until.set(0),
                *watch,
            ],
            condition=DeliveryModel.lease_token == token,
        )
    except UpdateError:  # the lease ran out and another worker took over: it records its own
        log.warning(
            "webhook %s: attempt %s not recorded (lease lost)", delivery.delivery_id, number
        )


def reap(budget_s: float = 50.0, page: int = 100) -> int:
    """Send again the message of each pending delivery past its deadline (its send failed
    after the end committed, or the message was lost); duplicates are harmless. Returns how
    many were sent."""
    now, sent = ids.now_ms(), 0
    for item in deadlines.due(
        DeliveryModel.by_deadline, DeliveryModel.deadline, "h", SHARDS, now, budget_s, page
    ):
        delivery = load(item.delivery_id)
        if delivery is None or delivery.state != "pending" or (delivery.deadline or now) > now:
            continue
        if delivery.lease_until > now:  # an attempt is under way
            continue
        moved = applied(
            lambda d=delivery: d.update(
                actions=[DeliveryModel.deadline.set(now + GRACE_S * 1000)],
                condition=(DeliveryModel.deadline == d.deadline)
                & (DeliveryModel.state == "pending"),
            )
        )
        if moved:
            resources.send(QUEUE.name, message(delivery))
            sent += 1
    return sent


def to_dlq(body: dict[str, Any]) -> None:
    sqs = aws.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=QUEUE.dlq_name)["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body, separators=(",", ":")))
    except Exception:  # the record says dead all the same
        log.exception("could not put webhook %s in the dead-letter queue", body.get("delivery"))
