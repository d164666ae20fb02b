"""Shipments: records, lookups, dispatch (tracking numbers) and splitting an order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import phonenumbers

from config.sql import load_queries
from logistics import events
from logistics.carriers import CARRIERS, carrier, normalise_tracking_number
from logistics.errors import LogisticsError
from logistics.tracking import S, ShipmentStatus, TrackingEvent
from logistics.tracking_ingest import record

Q = load_queries("logistics", "shipments.sql")
FIRST_POLL_AFTER = timedelta(minutes=30)


class ShipmentNotFound(LogisticsError):
    """No such shipment."""


class ShipmentConflict(LogisticsError):
    """The shipment is not in a state that allows this."""


class BadLines(LogisticsError):
    """Those lines are not on this shipment."""


@dataclass(frozen=True, kw_only=True)
class Shipment:
    id: int
    order_id: int
    seq: int
    customer_id: int
    kind: str
    status: ShipmentStatus
    carrier: str | None
    tracking_number: str | None
    cod: bool
    lines: list[dict[str, int]]
    delivery: dict[str, Any]
    phone_e164: str | None
    dispatched_at: datetime | None
    delivered_at: datetime | None
    last_event_at: datetime | None
    created_at: datetime
    customer_name: str | None = None

    @classmethod
    def from_row(cls, row: asyncpg.Record) -> Shipment:
        keys = row.keys()
        return cls(
            id=row["id"], order_id=row["order_id"], seq=row["seq"],
            customer_id=row["customer_id"], kind=row["kind"],
            status=ShipmentStatus(row["status"]), carrier=row["carrier"],
            tracking_number=row["tracking_number"], cod=row["cod"], lines=row["lines"],
            delivery=row["delivery"], phone_e164=row["phone_e164"],
            dispatched_at=row["dispatched_at"], delivered_at=row["delivered_at"],
            last_event_at=row["last_event_at"], created_at=row["created_at"],
            customer_name=row["customer_name"] if "customer_name" in keys else None,
        )  # fmt: skip

    @property
    def carrier_name(self) -> str | None:
        return CARRIERS[self.carrier].name if self.carrier in CARRIERS else self.carrier

    def as_json(self) -> dict[str, Any]:
        def iso(at: datetime | None) -> str | None:
            return at.isoformat() if at else None

        return {
            "id": self.id, "order_id": self.order_id, "seq": self.seq,
            "customer_id": self.customer_id, "customer_name": self.customer_name,
            "kind": self.kind, "status": self.status.value, "carrier": self.carrier,
            "carrier_name": self.carrier_name, "tracking_number": self.tracking_number,
            "cod": self.cod, "lines": self.lines, "delivery": self.delivery,
            "phone": self.phone_e164, "dispatched_at": iso(self.dispatched_at),
            "delivered_at": iso(self.delivered_at), "last_event_at": iso(self.last_event_at),
            "created_at": iso(self.created_at),
        }  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Checkpoint:
    id: int
    provider: str
    status: ShipmentStatus
    raw_status: str | None
    occurred_at: datetime
    location: str
    message: str
    received_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "provider": self.provider, "status": self.status.value,
            "raw_status": self.raw_status, "occurred_at": self.occurred_at.isoformat(),
            "location": self.location, "message": self.message,
            "received_at": self.received_at.isoformat(),
        }  # fmt: skip


def phone_e164(raw: Any) -> str | None:
    """A delivery phone as E.164 (Korean numbers may be written locally), or None."""
    if not raw or not isinstance(raw, str):
        return None
    try:
        parsed = phonenumbers.parse(raw, "KR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


async def get_shipment(conn: asyncpg.Connection, *, shipment_id: int) -> Shipment:
    row = await conn.fetchrow(Q["shipment_by_id"], shipment_id)
    if row is None:
        raise ShipmentNotFound(f"shipment {shipment_id} does not exist")
    return Shipment.from_row(row)


async def checkpoints(conn: asyncpg.Connection, *, shipment_id: int) -> list[Checkpoint]:
    rows = await conn.fetch(Q["checkpoints_of"], shipment_id)
    return [
        Checkpoint(
            id=r["id"], provider=r["provider"], status=ShipmentStatus(r["status"]),
            raw_status=r["raw_status"], occurred_at=r["occurred_at"], location=r["location"],
            message=r["message"], received_at=r["received_at"],
        )
        for r in rows
    ]


async def list_shipments(
    conn: asyncpg.Connection, *, status: str | None = None, carrier_code: str | None = None,
    q: str | None = None, before_id: int | None = None, limit: int = 50,
) -> tuple[list[Shipment], int | None]:
    """A page, newest first, and the cursor (an id) of the next page, if any."""
    search = q.strip().replace("-", "") if q and q.strip() else None
    name = None
    if q and q.strip():
        escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        name = escaped + "%"
    rows = await conn.fetch(
        Q["list_shipments"], status, carrier_code, search, phone_e164(q) if q else None,
        before_id, limit + 1, name,
    )  # fmt: skip
    items = [Shipment.from_row(r) for r in rows[:limit]]
    next_cursor = items[-1].id if len(rows) > limit and items else None
    return items, next_cursor


async def shipments_of_customer(
    conn: asyncpg.Connection, *, customer_id: int, limit: int = 100
) -> list[Shipment]:
    """A customer's shipments, newest first."""
    return [Shipment.from_row(r) for r in await conn.fetch(Q["shipments_of_customer"],
                                                           customer_id, limit)]  # fmt: skip


async def dispatch(
    conn: asyncpg.Connection, *, shipment_id: int, carrier_code: str, tracking_number: str,
    actor: str, now: datetime | None = None, first_poll_after: timedelta = FIRST_POLL_AFTER,
) -> Shipment:
    """Hand a shipment to a carrier under a tracking number. Idempotent for the same
    number; a typo may be corrected until the carrier has scanned the parcel."""
    now = now or datetime.now(UTC)
    found = carrier(carrier_code)
    number = normalise_tracking_number(found.code, tracking_number)
    row = await conn.fetchrow(Q["lock_shipment"], shipment_id)
    if row is None:
        raise ShipmentNotFound(f"shipment {shipment_id} does not exist")
    if row["status"] == S.CANCELLED:
        raise ShipmentConflict(f"shipment {shipment_id} was cancelled with its order")
    if row["tracking_number"] is not None:
        if (row["carrier"], row["tracking_number"]) == (found.code, number):
            return await get_shipment(conn, shipment_id=shipment_id)
        if row["status_tier"] > 0:
            raise ShipmentConflict(
                f"shipment {shipment_id} is already moving under {row['carrier']} "
                f"{row['tracking_number']}"
            )
    next_poll = None if found.push else now + first_poll_after
    try:
        async with conn.transaction():
            await conn.execute(Q["set_tracking"], shipment_id, found.code, number, now, next_poll)
    except asyncpg.UniqueViolationError:
        raise ShipmentConflict(
            f"{found.name} tracking number {number} is already on another shipment"
        ) from None
    event = TrackingEvent(
        tracking_number=number, carrier=found.code, status=S.INFO_RECEIVED, occurred_at=now,
        location="warehouse", message=f"handed to {found.name}", event_id=f"dispatch:{number}",
    )  # fmt: skip
    await record(conn, provider="dispatch", items=[(shipment_id, event)], actor=actor)
    await events.orders_shipped(conn, order_ids=[row["order_id"]], actor=actor)
    return await get_shipment(conn, shipment_id=shipment_id)


async def dispatch_order(
    conn: asyncpg.Connection, *, order_id: int, carrier_code: str, tracking_number: str,
    actor: str,
) -> Shipment:
    """Dispatch by order: the first shipment still waiting for a tracking number; once
    all have one, a further number is an extra box (a new shipment of the order)."""
    code = carrier(carrier_code).code
    number = normalise_tracking_number(code, tracking_number)
    known = await conn.fetchval(Q["order_parcel"], order_id, code, number)
    if known is not None:  # the same row uploaded again
        return await get_shipment(conn, shipment_id=known)
    shipment_id = await conn.fetchval(Q["first_undispatched"], order_id)
    if shipment_id is None:
        first = await conn.fetchrow(Q["first_shipment"], order_id)
        if first is None:
            raise ShipmentNotFound(f"order {order_id} has no shipment yet (is it paid?)")
        seq = await conn.fetchval(Q["next_seq"], order_id)
        shipment_id = await conn.fetchval(
            Q["insert_shipment"], order_id, seq, first["customer_id"], [], first["delivery"],
            first["phone_e164"], first["cod"], first["kind"],
        )  # fmt: skip
    return await dispatch(
        conn, shipment_id=shipment_id, carrier_code=code, tracking_number=number, actor=actor
    )


async def split(
    conn: asyncpg.Connection, *, shipment_id: int, lines: list[dict[str, int]]
) -> Shipment:
    """Move `lines` ({sku_id, qty}) of an undispatched shipment into a new one."""
    row = await conn.fetchrow(Q["lock_shipment"], shipment_id)
    if row is None:
        raise ShipmentNotFound(f"shipment {shipment_id} does not exist")
    if row["tracking_number"] is not None or row["status"] != S.PENDING:
        raise ShipmentConflict(f"shipment {shipment_id} has left; only a pending one splits")
    remaining = {int(line["sku_id"]): int(line["qty"]) for line in row["lines"]}
    for line in lines:
        sku, qty = int(line["sku_id"]), int(line["qty"])
        if qty <= 0 or remaining.get(sku, 0) < qty:
            raise BadLines(f"shipment {shipment_id} has fewer than {qty} of sku {sku}")
        remaining[sku] -= qty
    kept = [{"sku_id": s, "qty": q} for s, q in remaining.items() if q > 0]
    if not kept:
        raise BadLines("a split must leave something in the original shipment")
    await conn.execute(Q["set_lines"], shipment_id, kept)
    seq = await conn.fetchval(Q["next_seq"], row["order_id"])
    new_id = await conn.fetchval(
        Q["insert_shipment"], row["order_id"], seq, row["customer_id"], lines,
        row["delivery"], row["phone_e164"], row["cod"], row["kind"],
    )  # fmt: skip
    return await get_shipment(conn, shipment_id=new_id)
