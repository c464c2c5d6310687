"""The webhooks' routes, on the admin surface (`/admin/v1/webhooks/...`): a namespace's
deliveries, one delivery, and redelivering it. An admin, or an admin of the namespace."""

from __future__ import annotations

import re
from typing import Any

from ..core import lazy
from ..core.errors import NotFound
from ..core.face import Face, FaceRequest

deliveries = lazy.module(".deliveries", __package__)
# the domain's other modules: their tables, queue and workspace section load with the others
lazy.module(".allowlist", __package__)
lazy.module(".delivering", __package__)

DELIVERY_ID = r"dlv_[A-Za-z0-9]{24}"


def register(face: Face) -> None:
    @face.route("/webhooks/deliveries", methods=("GET",))
    def list_deliveries(request: FaceRequest) -> dict[str, Any]:
        """A namespace's deliveries, newest first; `cursor` goes on."""
        limit = request.integer("limit", deliveries.DEFAULT_LIMIT, 1, deliveries.MAX_LIMIT)
        return deliveries.listing(
            request.principal,
            request.query.get("face", ""),
            request.query.get("namespace", ""),
            limit,
            request.query.get("cursor"),
        )

    @face.route("/webhooks/deliveries/{delivery_id}", methods=("GET",))
    def get_delivery(request: FaceRequest, delivery_id: str) -> dict[str, Any]:
        """One delivery and its attempts."""
        return deliveries.view(deliveries.get(request.principal, _checked(delivery_id)))

    @face.route("/webhooks/deliveries/{delivery_id}/redeliver", methods=("POST",))
    def redeliver(request: FaceRequest, delivery_id: str) -> dict[str, Any]:
        """A new round of attempts of the same event (same event and delivery ids)."""
        return deliveries.redeliver(request.principal, _checked(delivery_id))


def _checked(delivery_id: str) -> str:
    if not re.fullmatch(DELIVERY_ID, delivery_id or ""):
        raise NotFound(f"delivery {delivery_id} not found")
    return delivery_id
