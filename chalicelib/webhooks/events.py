"""Announcing an end: the delivery records of one event, written in the transaction that
ends the task or scan, and their queue messages sent once it committed.

The event id is derived from what ended and which end it was (a JOBX task's seq, a scan
job's id), and each delivery id from (event id, URL); the records are written only if
absent, in the same transaction as the end. So an end is announced exactly once: a
redelivered engine message finds the end already written and writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from ..core import ids, resources
from .models import DeliveryModel, ns_key

log = logging.getLogger("taskhub.webhooks")

QUEUE = resources.queue("webhooks", visibility_timeout=120, max_receive_count=10)
SHARDS = 8  # reaper index partitions
GRACE_S = 300  # a sent message comes well within this; past it the reaper sends it again


def watch_key(delivery: str) -> str:
    return f"h{int(hashlib.sha256(delivery.encode()).hexdigest(), 16) % SHARDS:02d}"


def event_id(face: str, namespace: str, kind: str, target: str, end: str) -> str:
    return "evt_" + ids.derived_alnum(24, face, namespace, kind, target, end)


def delivery_id(event: str, url: str) -> str:
    return "dlv_" + ids.derived_alnum(24, event, url)


def message(delivery: DeliveryModel) -> dict[str, Any]:
    return {"delivery": delivery.delivery_id, "round": int(delivery.round)}


@dataclass
class Ending:
    """The deliveries of one end, to add to the ending transaction and then send."""

    deliveries: list[DeliveryModel] = field(default_factory=list)

    def add_to(self, tx: Any) -> None:
        for delivery in self.deliveries:
            tx.save(delivery, condition=DeliveryModel.delivery_id.does_not_exist())

    def send(self) -> None:
        """After the commit. If sending fails the records stay `pending`; listing shows
        them and a redelivery sends them."""
        try:
            resources.send_batch(QUEUE.name, [message(d) for d in self.deliveries])
        except Exception:
            log.exception("sending %d webhook deliveries failed", len(self.deliveries))


def ending(
    *,
    face: str,
    namespace: str,
    kind: str,
    target: str,
    end: str,
    status: str,
    result: str,
    started: int | None,
    ended: int,
    link: str,
    urls: list[str] | None,
    extra: dict[str, Any] | None = None,
) -> Ending | None:
    """The deliveries announcing that `kind` `target` of `face` namespace `namespace` ended
    with `status`; None when it named no callback URLs."""
    if not urls:
        return None
    event = event_id(face, namespace, kind, target, end)
    body = {
        "event": f"{kind}.ended",
        "event_id": event,
        "face": face,
        "namespace": namespace,
        "kind": kind,
        "id": target,
        "status": status,
        "result": result[:1000],
        "started": started or None,
        "ended": ended,
        "link": link,
        **(extra or {}),
    }
    deliveries = []
    for url in urls:
        dlv = delivery_id(event, url)
        deliveries.append(
            DeliveryModel(
                dlv,
                event_id=event,
                ns_key=ns_key(face, namespace),
                listed=f"{ended:013d}#{dlv}",
                face=face,
                namespace=namespace,
                url=url,
                event=body,
                state="pending",
                round=0,
                tries=0,
                attempts=[],
                created=ended,
                watch=watch_key(dlv),
                deadline=ids.now_ms() + GRACE_S * 1000,
            )
        )
    return Ending(deliveries)
