"""Shipments that need a person: no news for days, failed attempts, carrier exceptions."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from config.sql import load_queries
from logistics.errors import LogisticsError

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


class Action(enum.StrEnum):
    """What staff can do about a shipment in trouble."""

    REDELIVERY_DATE = "redelivery_date"  # a new delivery date agreed with the customer
    ADDRESS_FIXED = "address_fixed"
    CUSTOMER_CALLED = "customer_called"


class ActionRefused(LogisticsError):
    """That action cannot be recorded."""


@dataclass(frozen=True, kw_only=True)
class ShipmentAction:
    id: int
    shipment_id: int
    action: Action
    redeliver_on: date | None
    note: str
    actor: str
    at: datetime

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> ShipmentAction:
        return cls(id=r["id"], shipment_id=r["shipment_id"], action=Action(r["action"]),
                   redeliver_on=r["redeliver_on"], note=r["note"], actor=r["actor"],
                   at=r["at"])  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "shipment_id": self.shipment_id, "action": self.action.value,
            "redeliver_on": self.redeliver_on.isoformat() if self.redeliver_on else None,
            "note": self.note, "actor": self.actor, "at": self.at.isoformat(),
        }  # fmt: skip


async def record_action(
    conn: asyncpg.Connection, *, shipment_id: int, action: Action, actor: str, note: str = "",
    redeliver_on: date | None = None, today: date | None = None,
) -> ShipmentAction:
    """Record what staff did about a shipment; a new delivery date must be given, and not
    in the past. Raises ActionRefused, or LookupError for an unknown shipment."""
    if action is Action.REDELIVERY_DATE:
        if redeliver_on is None:
            raise ActionRefused("a new delivery date needs the date")
        if today is not None and redeliver_on < today:
            raise ActionRefused(f"the new delivery date {redeliver_on} is in the past")
    else:
        redeliver_on = None
    row = await conn.fetchrow(Q["insert_action"], shipment_id, action.value, redeliver_on,
                              note, actor)  # fmt: skip
    if row is None:
        raise LookupError(f"shipment {shipment_id} does not exist")
    return ShipmentAction.from_row(row)


async def shipment_actions(conn: asyncpg.Connection, *, shipment_id: int) -> list[ShipmentAction]:
    return [ShipmentAction.from_row(r) for r in await conn.fetch(Q["actions_of"], shipment_id)]


async def last_actions(
    conn: asyncpg.Connection, *, shipment_ids: list[int]
) -> dict[int, ShipmentAction]:
    rows = await conn.fetch(Q["last_actions"], shipment_ids)
    return {r["shipment_id"]: ShipmentAction.from_row(r) for r in rows}
