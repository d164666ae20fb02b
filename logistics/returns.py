"""Returns and exchanges: request → pickup → received → restocked → refunded / exchanged.

Cancellation windows (COMPLIANCE.md): 14 days from receipt for a telephone sale
(the order came from a call: it has an attempt or an agent), 7 days for
e-commerce, 3 months when the goods differ from the ad or the contract. A day
counts to its end in Asia/Seoul. Before receipt the window has not started.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg

from config.sql import load_queries
from logistics.carriers import carrier, normalise_tracking_number
from logistics.errors import LogisticsError
from logistics.stock import restock_return
from logistics.tracking import KST

Q = load_queries("logistics", "returns.sql")
QS = load_queries("logistics", "shipments.sql")
TELEPHONE_SALE_DAYS = 14
E_COMMERCE_DAYS = 7
NOT_AS_ADVERTISED_MONTHS = 3


class ReturnError(LogisticsError):
    """The return cannot be made or moved."""


class ReturnNotFound(ReturnError):
    """No such return."""


class WindowClosed(ReturnError):
    """The cancellation window has closed."""

    def __init__(self, message: str, *, deadline: datetime) -> None:
        super().__init__(message)
        self.deadline = deadline


class Reason(enum.StrEnum):
    CHANGED_MIND = "changed_mind"
    NOT_AS_ADVERTISED = "not_as_advertised"  # differs from the ad or the contract
    DEFECTIVE = "defective"
    WRONG_ITEM = "wrong_item"


# Goods that differ from what was advertised or contracted get the long window.
LONG_WINDOW_REASONS = frozenset({Reason.NOT_AS_ADVERTISED, Reason.DEFECTIVE, Reason.WRONG_ITEM})


class ReturnStatus(enum.StrEnum):
    REQUESTED = "requested"
    PICKUP_SCHEDULED = "pickup_scheduled"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    RESTOCKED = "restocked"
    REFUNDED = "refunded"
    EXCHANGED = "exchanged"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


R = ReturnStatus
NEXT: dict[ReturnStatus, frozenset[ReturnStatus]] = {
    R.REQUESTED: frozenset({R.PICKUP_SCHEDULED, R.RECEIVED, R.REJECTED, R.CANCELLED}),
    R.PICKUP_SCHEDULED: frozenset({R.IN_TRANSIT, R.RECEIVED, R.CANCELLED}),
    R.IN_TRANSIT: frozenset({R.RECEIVED}),
    R.RECEIVED: frozenset({R.RESTOCKED, R.REJECTED}),
    R.RESTOCKED: frozenset({R.REFUNDED, R.EXCHANGED}),
}


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cancellation_deadline(
    *, received_at: datetime, telephone_sale: bool, reason: Reason
) -> datetime:
    """The first instant after the window (end of the last day, Asia/Seoul)."""
    received = received_at.astimezone(KST).date()
    if reason in LONG_WINDOW_REASONS:
        last = _add_months(received, NOT_AS_ADVERTISED_MONTHS)
    else:
        last = received + timedelta(days=TELEPHONE_SALE_DAYS if telephone_sale else E_COMMERCE_DAYS)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=KST)


@dataclass(frozen=True, kw_only=True)
class Return:
    id: int
    order_id: int
    shipment_id: int | None
    kind: str
    reason: str
    note: str
    lines: list[dict[str, int]]
    status: ReturnStatus
    refund_status: str
    deadline: datetime | None
    pickup_carrier: str | None
    pickup_tracking_number: str | None
    replacement_shipment_id: int | None
    requested_by: str
    requested_at: datetime
    phone: str | None = None
    customer_name: str | None = None

    @classmethod
    def from_row(cls, r: asyncpg.Record) -> Return:
        keys = r.keys()
        return cls(
            id=r["id"], order_id=r["order_id"], shipment_id=r["shipment_id"], kind=r["kind"],
            reason=r["reason"], note=r["note"], lines=r["lines"],
            status=ReturnStatus(r["status"]), refund_status=r["refund_status"],
            deadline=r["deadline"], pickup_carrier=r["pickup_carrier"],
            pickup_tracking_number=r["pickup_tracking_number"],
            replacement_shipment_id=r["replacement_shipment_id"],
            requested_by=r["requested_by"], requested_at=r["requested_at"],
            phone=r["phone"] if "phone" in keys else None,
            customer_name=r["customer_name"] if "customer_name" in keys else None,
        )  # fmt: skip

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "order_id": self.order_id, "shipment_id": self.shipment_id,
            "kind": self.kind, "reason": self.reason, "note": self.note, "lines": self.lines,
            "status": self.status.value, "refund_status": self.refund_status,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "pickup_carrier": self.pickup_carrier,
            "pickup_tracking_number": self.pickup_tracking_number,
            "replacement_shipment_id": self.replacement_shipment_id,
            "requested_by": self.requested_by, "requested_at": self.requested_at.isoformat(),
            "phone": self.phone, "customer_name": self.customer_name,
        }  # fmt: skip


def _received_at(shipments: list[asyncpg.Record], shipment_id: int | None) -> datetime | None:
    if shipment_id is not None:
        chosen = [s for s in shipments if s["id"] == shipment_id]
        if not chosen:
            raise ReturnError(f"shipment {shipment_id} is not part of this order")
        at: datetime | None = chosen[0]["delivered_at"]
        return at
    received = [s["delivered_at"] for s in shipments if s["delivered_at"] is not None]
    return max(received) if received else None  # the latest receipt: the customer's favour


async def request_return(
    conn: asyncpg.Connection, *, order_id: int, kind: str, reason: Reason, actor: str,
    shipment_id: int | None = None, lines: list[dict[str, int]] | None = None, note: str = "",
    now: datetime,
) -> Return:
    """Open a return or exchange, refusing it once the cancellation window has closed."""
    order = await conn.fetchrow(Q["order_for_return"], order_id)
    if order is None:
        raise ReturnNotFound(f"order {order_id} does not exist")
    if order["status"] in ("cancelled", "expired"):
        raise ReturnError(f"order {order_id} is {order['status']}; nothing to return")
    shipments = await conn.fetch(Q["order_receipts"], order_id)
    received_at = _received_at(list(shipments), shipment_id)
    telephone = order["attempt_id"] is not None or order["agent_id"] is not None
    deadline = None
    if received_at is not None:
        deadline = cancellation_deadline(
            received_at=received_at, telephone_sale=telephone, reason=reason
        )
        if now >= deadline:
            sale = "telephone sale" if telephone else "e-commerce order"
            raise WindowClosed(
                f"the cancellation window for this {sale} ({reason.value}) closed at "
                f"{deadline.astimezone(KST):%Y-%m-%d %H:%M} KST",
                deadline=deadline,
            )
    ordered: dict[int, int] = {}
    for line in order["lines"]:
        ordered[int(line["sku_id"])] = ordered.get(int(line["sku_id"]), 0) + int(line["qty"])
    already = {r["sku_id"]: r["qty"] for r in await conn.fetch(Q["returned_qty"], order_id)}
    wanted = lines or [{"sku_id": s, "qty": q - already.get(s, 0)} for s, q in ordered.items()]
    wanted = [{"sku_id": int(x["sku_id"]), "qty": int(x["qty"])} for x in wanted if x["qty"] > 0]
    if not wanted:
        raise ReturnError(f"everything on order {order_id} is already being returned")
    for line in wanted:
        left = ordered.get(line["sku_id"], 0) - already.get(line["sku_id"], 0)
        if line["qty"] > left:
            raise ReturnError(
                f"order {order_id} has {left} of sku {line['sku_id']} left to return"
            )
    refund = "none" if kind == "return" else "not_applicable"
    row = await conn.fetchrow(
        Q["insert_return"], order_id, shipment_id, kind, reason.value, note, wanted, deadline,
        actor, refund,
    )  # fmt: skip
    await conn.execute(Q["insert_return_event"], row["id"], R.REQUESTED.value, actor, note)
    return Return.from_row(row)


async def _restock(conn: asyncpg.Connection, ret: asyncpg.Record, actor: str) -> None:
    for line in ret["lines"]:
        await restock_return(
            conn, sku_id=line["sku_id"], qty=line["qty"], order_id=ret["order_id"], actor=actor
        )


async def _replacement(conn: asyncpg.Connection, ret: asyncpg.Record) -> int:
    order = await conn.fetchrow(Q["order_for_return"], ret["order_id"])
    seq = await conn.fetchval(QS["next_seq"], ret["order_id"])
    from logistics.shipments import phone_e164

    delivery = order["delivery"]
    new_id: int = await conn.fetchval(
        QS["insert_shipment"], ret["order_id"], seq, order["customer_id"], ret["lines"],
        delivery, phone_e164(delivery.get("phone")), False, "exchange",
    )  # fmt: skip
    return new_id


async def set_return_status(
    conn: asyncpg.Connection, *, return_id: int, status: ReturnStatus, actor: str,
    pickup_carrier: str | None = None, pickup_tracking_number: str | None = None,
    note: str = "",
) -> Return:
    """Move a return one step; restocking writes the stock ledger."""
    row = await conn.fetchrow(Q["lock_return"], return_id)
    if row is None:
        raise ReturnNotFound(f"return {return_id} does not exist")
    current = ReturnStatus(row["status"])
    if status not in NEXT.get(current, frozenset()):
        allowed = ", ".join(sorted(NEXT.get(current, frozenset()))) or "nothing (final)"
        raise ReturnError(f"return {return_id} is {current}; it can go to {allowed}")
    if (status is R.REFUNDED) != (row["kind"] == "return") and status in (R.REFUNDED, R.EXCHANGED):
        raise ReturnError(f"a {row['kind']} cannot be {status}")
    refund = row["refund_status"]
    pickup = None
    if status is R.PICKUP_SCHEDULED:
        if not pickup_carrier or not pickup_tracking_number:
            raise ReturnError("a pickup needs pickup_carrier and pickup_tracking_number")
        pickup = carrier(pickup_carrier).code
        pickup_tracking_number = normalise_tracking_number(pickup, pickup_tracking_number)
    replacement = None
    if status is R.RECEIVED and row["kind"] == "return":
        refund = "pending"
    elif status is R.RESTOCKED:
        await _restock(conn, row, actor)
    elif status is R.REFUNDED:
        refund = "refunded"
    elif status is R.EXCHANGED:
        replacement = await _replacement(conn, row)
    updated = await conn.fetchrow(
        Q["set_return_status"], return_id, status.value, refund, pickup,
        pickup_tracking_number if pickup else None, replacement,
    )  # fmt: skip
    await conn.execute(Q["insert_return_event"], return_id, status.value, actor, note)
    return Return.from_row(updated)


async def list_returns(
    conn: asyncpg.Connection, *, status: str | None = None, before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[Return], int | None]:
    rows = await conn.fetch(Q["list_returns"], status, before_id, limit + 1)
    items = [Return.from_row(r) for r in rows[:limit]]
    return items, (items[-1].id if len(rows) > limit and items else None)


async def return_deadlines(
    conn: asyncpg.Connection, *, order_id: int, shipment_id: int | None
) -> dict[Reason, datetime | None]:
    """The deadline a return would get now for each reason (None: not received yet, so
    the window has not started), as `request_return` computes it."""
    order = await conn.fetchrow(Q["order_channel"], order_id)
    if order is None:
        raise ReturnNotFound(f"order {order_id} does not exist")
    received_at = _received_at(list(await conn.fetch(Q["order_receipts"], order_id)), shipment_id)
    return {
        reason: None if received_at is None else cancellation_deadline(
            received_at=received_at, telephone_sale=order["telephone"], reason=reason)
        for reason in Reason
    }  # fmt: skip
