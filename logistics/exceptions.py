"""Shipments that need a person: no news for days, failed attempts, carrier exceptions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from config.sql import load_queries

Q = load_queries("logistics", "exceptions.sql")
STALE_AFTER = timedelta(days=3)


@dataclass(frozen=True, kw_only=True)
class ShipmentException:
    shipment_id: int
    order_id: int
    reason: str  # exception | attempt_fail | returned_to_sender | stale | not_dispatched
    status: str
    carrier: str | None
    tracking_number: str | None
    phone: str | None  # the number to call: the delivery phone, else the customer's
    recipient: str | None
    customer_name: str | None
    last_message: str | None
    since: datetime  # last news (or dispatch, or creation)

    def as_json(self) -> dict[str, Any]:
        return {
            "shipment_id": self.shipment_id, "order_id": self.order_id, "reason": self.reason,
            "status": self.status, "carrier": self.carrier,
            "tracking_number": self.tracking_number, "phone": self.phone,
            "recipient": self.recipient, "customer_name": self.customer_name,
            "last_message": self.last_message, "since": self.since.isoformat(),
        }  # fmt: skip


async def list_exceptions(
    conn: asyncpg.Connection, *, stale_after: timedelta = STALE_AFTER, limit: int = 100,
    now: datetime | None = None,
) -> list[ShipmentException]:
    rows = await conn.fetch(
        Q["shipment_exceptions"], now or datetime.now(UTC), stale_after, limit
    )
    return [
        ShipmentException(
            shipment_id=r["id"], order_id=r["order_id"], reason=r["reason"], status=r["status"],
            carrier=r["carrier"], tracking_number=r["tracking_number"], phone=r["phone"],
            recipient=r["recipient"], customer_name=r["customer_name"],
            last_message=r["last_message"], since=r["since"],
        )
        for r in rows
    ]
