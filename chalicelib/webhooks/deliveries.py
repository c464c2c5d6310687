"""Listing and redelivering deliveries, for an admin or an admin of the namespace.

A namespace's deliveries are one Query of the `by_namespace` index, newest first, a page at
a time. Redelivering starts a new round of attempts of the same delivery (same event and
delivery ids, the attempt number going on), whatever state it ended in.
"""

from __future__ import annotations

from typing import Any

from ..core import cursors, ids, resources
from ..core.auth import Principal
from ..core.conditions import applied
from ..core.errors import BadRequest, Forbidden, NotFound
from . import FACES
from .events import GRACE_S, QUEUE, message, watch_key
from .models import DeliveryModel, ns_key

STATES = ("pending", "delivered", "dead")
DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def require(principal: Principal, face: str, namespace: str) -> None:
    if face not in FACES:
        raise BadRequest(f"face must be one of {', '.join(FACES)}", field="face")
    if not namespace or len(namespace) > 64:
        raise BadRequest("namespace must be 1 to 64 characters", field="namespace")
    if not (principal.user.is_admin or principal.role(face, namespace) == "admin"):
        raise Forbidden("admin of the namespace only")


def view(delivery: DeliveryModel) -> dict[str, Any]:
    return {
        "delivery_id": delivery.delivery_id,
        "event_id": delivery.event_id,
        "face": delivery.face,
        "namespace": delivery.namespace,
        "url": delivery.url,
        "state": delivery.state,
        "round": int(delivery.round),
        "tries": int(delivery.tries),
        "created": int(delivery.created),
        "event": delivery.event,
        "attempts": list(delivery.attempts or []),
    }


def listing(
    principal: Principal,
    face: str,
    namespace: str,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> dict[str, Any]:
    require(principal, face, namespace)
    key = ns_key(face, namespace)
    start = cursors.start_key(cursor, key, "ns_key", "listed", "delivery_id")
    results = DeliveryModel.by_namespace.query(
        key, scan_index_forward=False, limit=limit, last_evaluated_key=start
    )
    found, last = cursors.page_of(results)
    return {"deliveries": [view(d) for d in found], "cursor": cursors.encode(last)}


def get(principal: Principal, delivery_id: str) -> DeliveryModel:
    """The delivery, if the caller may see it (an unknown one and one of another namespace
    alike are not found, for a caller who is not an admin)."""
    try:
        delivery = DeliveryModel.get(delivery_id, consistent_read=True)
    except DeliveryModel.DoesNotExist:
        delivery = None
    if delivery is None:
        raise NotFound(f"delivery {delivery_id} not found")
    try:
        require(principal, delivery.face, delivery.namespace)
    except Forbidden as exc:
        raise NotFound(f"delivery {delivery_id} not found") from exc
    return delivery


def redeliver(principal: Principal, delivery_id: str) -> dict[str, Any]:
    delivery = get(principal, delivery_id)
    round_ = int(delivery.round) + 1
    moved = applied(
        lambda: delivery.update(
            actions=[
                DeliveryModel.state.set("pending"),
                DeliveryModel.round.set(round_),
                DeliveryModel.base.set(delivery.tries),
                DeliveryModel.lease_token.remove(),
                DeliveryModel.lease_until.set(0),
                DeliveryModel.watch.set(watch_key(delivery.delivery_id)),
                DeliveryModel.deadline.set(ids.now_ms() + GRACE_S * 1000),
            ],
            condition=DeliveryModel.round == delivery.round,
        )
    )
    if not moved:  # another redelivery came first: that one's round is sent
        delivery.refresh(consistent_read=True)
        return view(delivery)
    resources.send(QUEUE.name, message(delivery))
    return view(delivery)
