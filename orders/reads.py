"""Reading orders: one with its events, or a filtered page."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from config.sql import load_queries
from orders.errors import OrderNotFound
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, PaymentMethod

Q = load_queries("orders", "queries.sql")


def order_from_row(row: asyncpg.Record, lines: Sequence[asyncpg.Record]) -> Order:
    return Order(
        id=row["id"],
        customer_id=row["customer_id"],
        status=OrderStatus(row["status"]),
        total_krw=row["total_krw"],
        payment_method=PaymentMethod(row["payment_method"]),
        payment=row["payment"],
        pay_deadline=row["pay_deadline"],
        delivery=row["delivery"],
        attempt_id=row["attempt_id"],
        agent_id=row["agent_id"],
        placed_at=row["placed_at"],
        updated_at=row["updated_at"],
        paid_at=row["paid_at"],
        lines=tuple(
            OrderLine(
                id=ln["id"],
                sku_id=ln["sku_id"],
                sku_code=ln["sku_code"],
                qty=ln["qty"],
                cancelled_qty=ln["cancelled_qty"],
                unit_price_krw=ln["unit_price_krw"],
            )
            for ln in lines
        ),
    )


async def get_order(conn: asyncpg.Connection, *, order_id: int) -> Order:
    row = await conn.fetchrow(Q["order_by_id"], order_id)
    if row is None:
        raise OrderNotFound(f"no order {order_id}")
    return order_from_row(row, await conn.fetch(Q["lines_of_orders"], [order_id]))


async def order_events(conn: asyncpg.Connection, *, order_id: int) -> list[OrderEvent]:
    return [
        OrderEvent(id=r["id"], at=r["at"], type=r["type"], actor=r["actor"], details=r["details"])
        for r in await conn.fetch(Q["events_of_order"], order_id)
    ]


@dataclass(frozen=True, kw_only=True)
class OrderFilter:
    status: OrderStatus | None = None
    customer_id: int | None = None
    agent_id: int | None = None
    placed_from: datetime | None = None
    placed_until: datetime | None = None


async def list_orders(
    conn: asyncpg.Connection, *, where: OrderFilter, before_id: int = 0, limit: int = 50
) -> list[Order]:
    """Newest first; `before_id` is the cursor (the last id of the previous page)."""
    rows = await conn.fetch(
        Q["list_orders"],
        before_id,
        where.status.value if where.status else None,
        where.customer_id,
        where.agent_id,
        where.placed_from,
        where.placed_until,
        limit,
    )
    by_order: dict[int, list[asyncpg.Record]] = defaultdict(list)
    for ln in await conn.fetch(Q["lines_of_orders"], [r["id"] for r in rows]):
        by_order[ln["order_id"]].append(ln)
    return [order_from_row(r, by_order[r["id"]]) for r in rows]


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderSummary:
    """One line of a customer's purchase history (screen pop, customer page)."""

    id: int
    placed_at: datetime
    status: OrderStatus
    total_krw: int
    items: str  # "Product x2, Other x1"


@dataclass(frozen=True, kw_only=True, slots=True)
class CallOrder:
    """An order taken on a call (`attempt_id` joins it to the dialer's journey)."""

    id: int
    attempt_id: int
    total_krw: int
    placed_at: datetime
    first_event_at: datetime | None = None


async def recent_for_customer(
    conn: asyncpg.Connection, *, customer_id: int, limit: int = 5
) -> list[OrderSummary]:
    rows = await conn.fetch(Q["recent_for_customer"], customer_id, limit)
    return [
        OrderSummary(id=r["id"], placed_at=r["placed_at"], status=OrderStatus(r["status"]),
                     total_krw=r["total_krw"], items=r["items"] or "")
        for r in rows
    ]  # fmt: skip


async def call_orders_since(conn: asyncpg.Connection, *, since: datetime) -> list[CallOrder]:
    """Orders taken on calls since `since`, cancelled ones left out."""
    rows = await conn.fetch(Q["call_orders_since"], since)
    return [CallOrder(id=r["id"], attempt_id=r["attempt_id"], total_krw=r["total_krw"],
                      placed_at=r["placed_at"]) for r in rows]


async def orders_of_attempts(
    conn: asyncpg.Connection, *, attempt_ids: Sequence[int]
) -> dict[int, CallOrder]:
    """The first order taken on each of these calls, by attempt id."""
    if not attempt_ids:
        return {}
    rows = await conn.fetch(Q["orders_of_attempts"], list(attempt_ids))
    return {
        r["attempt_id"]: CallOrder(id=r["id"], attempt_id=r["attempt_id"],
                                   total_krw=r["total_krw"], placed_at=r["placed_at"],
                                   first_event_at=r["first_event_at"])
        for r in rows
    }  # fmt: skip


async def products_bought(conn: asyncpg.Connection, *, customer_id: int) -> list[int]:
    """Ids of the products a customer has ordered (not cancelled), most recent first."""
    return [r["product_id"] for r in await conn.fetch(Q["products_bought"], customer_id)]
