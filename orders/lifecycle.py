"""Order lifecycle: placed → paid → preparing → shipped → delivered; cancelled or
expired (releasing stock) before shipping; partial cancellation of a line.

Each change locks the order row first, then stock rows in id order (the same
order capture uses), and writes an order event — and an outbox row when other
domains must hear of it — in the caller's transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg

from config.sql import load_queries
from logistics.stock import Movement, MovementKind, apply_movements, lock_stock_ids
from orders.capture import paid_payload
from orders.errors import InvalidOrder, InvalidTransition, OrderNotFound
from orders.models import OPEN_STATUSES, Order, OrderStatus, PaymentMethod
from orders.reads import get_order, order_from_row

Q = load_queries("orders", "queries.sql")


async def _locked(conn: asyncpg.Connection, order_id: int) -> Order:
    row = await conn.fetchrow(Q["lock_order"], order_id)
    if row is None:
        raise OrderNotFound(f"no order {order_id}")
    lines = await conn.fetch(Q["lines_of_orders"], [order_id])
    return order_from_row(row, lines)


async def _event(
    conn: asyncpg.Connection,
    order_id: int,
    kind: str,
    actor: str,
    details: dict[str, Any],
    now: datetime,
) -> None:
    await conn.execute(Q["insert_events"], [order_id], [kind], [actor], [details], [now])


async def _outbox(conn: asyncpg.Connection, topic: str, order_id: int, payload: Any) -> None:
    await conn.execute(Q["insert_outbox"], [topic], [str(order_id)], [payload])


async def _items(conn: asyncpg.Connection, order_id: int) -> list[dict[str, int]]:
    units: dict[int, int] = defaultdict(int)
    for a in await conn.fetch(Q["allocations_of_order"], order_id):
        units[a["sku_id"]] += a["qty"]
    return [{"sku_id": s, "qty": q} for s, q in sorted(units.items())]


async def pay(
    conn: asyncpg.Connection, *, order_id: int, actor: str, now: datetime | None = None
) -> Order:
    """The virtual-account deposit arrived: placed → paid, and logistics hears of it."""
    now = now or datetime.now(UTC)
    order = await _locked(conn, order_id)
    if order.paid_at is not None:
        return order  # idempotent
    if order.payment_method is not PaymentMethod.VIRTUAL_ACCOUNT:
        raise InvalidTransition(f"a {order.payment_method.value} order is not paid by deposit")
    if order.status is not OrderStatus.PLACED:
        raise InvalidTransition(f"order {order_id} is {order.status.value}: it cannot be paid")
    await conn.execute(Q["set_status"], order_id, OrderStatus.PAID.value, now, None)
    await _event(conn, order_id, "paid", actor, {"method": order.payment_method.value}, now)
    await _outbox(conn, "order.paid", order_id, paid_payload(order, await _items(conn, order_id)))
    return await get_order(conn, order_id=order_id)


async def _release(
    conn: asyncpg.Connection,
    *,
    order: Order,
    units: Mapping[int, int] | None,
    actor: str,
    kind: MovementKind = MovementKind.RELEASE,
) -> list[dict[str, int]]:
    """Release reserved units: all of the order's (`units` None) or, per line id, that
    many of the line's units (a set's components in proportion)."""
    allocs = await conn.fetch(Q["allocations_of_order"], order.id)
    lines = {ln.id: ln for ln in order.lines}
    new_qty: dict[int, int] = {a["id"]: a["qty"] for a in allocs}
    if units is None:
        for a in allocs:
            new_qty[a["id"]] = 0
    else:
        by_line: dict[int, list[asyncpg.Record]] = defaultdict(list)
        for a in allocs:
            by_line[a["order_line_id"]].append(a)
        for line_id, n in units.items():
            line = lines[line_id]
            # The line's reserved units per stocked SKU, released in proportion.
            per_sku: dict[int, int] = defaultdict(int)
            for a in by_line[line_id]:
                per_sku[a["sku_id"]] += a["qty"]
            for sku_id, held in per_sku.items():
                release = held * n // line.open_qty
                for a in reversed(by_line[line_id]):  # newest allocation first
                    if a["sku_id"] != sku_id or release == 0:
                        continue
                    take = min(release, new_qty[a["id"]])
                    new_qty[a["id"]] -= take
                    release -= take
    changed = [a for a in allocs if new_qty[a["id"]] != a["qty"]]
    if not changed:
        return []
    await lock_stock_ids(conn, stock_ids=[a["stock_id"] for a in changed])
    await apply_movements(
        conn,
        movements=[
            Movement(
                stock_id=a["stock_id"],
                kind=kind,
                reserved_delta=new_qty[a["id"]] - a["qty"],
                order_id=order.id,
                actor=actor,
            )
            for a in changed
        ],
    )
    await conn.execute(
        Q["set_allocation_qty"],
        [a["id"] for a in changed],
        [new_qty[a["id"]] for a in changed],
        [0] * len(changed),
    )
    return [{"sku_id": a["sku_id"], "qty": a["qty"] - new_qty[a["id"]]} for a in changed]


async def cancel(
    conn: asyncpg.Connection,
    *,
    order_id: int,
    actor: str,
    lines: Mapping[int, int] | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Order:
    """Cancel the whole order (`lines` None) or, per line id, that many units.

    Only before shipping; the released units are available again at once."""
    now = now or datetime.now(UTC)
    order = await _locked(conn, order_id)
    if order.status is OrderStatus.CANCELLED and lines is None:
        return order  # idempotent
    if order.status not in OPEN_STATUSES:
        raise InvalidTransition(f"order {order_id} is {order.status.value}: too late to cancel")
    by_id = {ln.id: ln for ln in order.lines}
    if lines is not None:
        for i, (line_id, n) in enumerate(lines.items()):
            if line_id not in by_id:
                raise InvalidOrder(
                    f"order {order_id} has no line {line_id}", field=f"lines.{i}.line_id"
                )
            if n <= 0 or n > by_id[line_id].open_qty:
                raise InvalidOrder(
                    f"line {line_id} has {by_id[line_id].open_qty} open: cannot cancel {n}",
                    field=f"lines.{i}.qty",
                )
        if all(lines.get(ln.id, 0) == ln.open_qty for ln in order.lines):
            lines = None  # every open unit: a whole cancellation
    units = lines if lines is not None else {ln.id: ln.open_qty for ln in order.lines}
    released = await _release(conn, order=order, units=lines, actor=actor)
    units = {k: v for k, v in units.items() if v > 0}
    refund = sum(by_id[k].unit_price_krw * n for k, n in units.items())
    await conn.execute(Q["cancel_line_units"], list(units), list(units.values()))
    status = OrderStatus.CANCELLED if lines is None else order.status
    await conn.execute(Q["set_status"], order_id, status.value, now, order.total_krw - refund)
    details = {
        "lines": [{"line_id": k, "qty": n} for k, n in units.items()],
        "refund_krw": refund,
        "reason": reason,
        "released": released,
    }
    await _event(
        conn, order_id, "cancelled" if lines is None else "lines_cancelled", actor, details, now
    )
    await _outbox(
        conn,
        "order.cancelled",
        order_id,
        {
            "order_id": order_id,
            "partial": lines is not None,
            "reason": reason,
            "lines": [{"sku_id": by_id[k].sku_id, "qty": n} for k, n in units.items()],
            "items": released,
        },
    )
    return await get_order(conn, order_id=order_id)


async def mark_preparing(conn: asyncpg.Connection, *, order_id: int, actor: str) -> Order:
    """Logistics started picking: paid (or cash-on-delivery placed) → preparing."""
    now = datetime.now(UTC)
    order = await _locked(conn, order_id)
    if order.status is OrderStatus.PREPARING:
        return order
    ready = order.status is OrderStatus.PAID or (
        order.status is OrderStatus.PLACED and order.payment_method is PaymentMethod.COD
    )
    if not ready:
        raise InvalidTransition(f"order {order_id} is {order.status.value}: not ready to prepare")
    await conn.execute(Q["set_status"], order_id, OrderStatus.PREPARING.value, now, None)
    await _event(conn, order_id, "preparing", actor, {}, now)
    return await get_order(conn, order_id=order_id)


async def mark_shipped(conn: asyncpg.Connection, *, order_id: int, actor: str) -> Order:
    """The parcel left: reservations become 'shipment' movements (on_hand and reserved
    both fall). Idempotent: shipping a shipped or delivered order changes nothing."""
    now = datetime.now(UTC)
    order = await _locked(conn, order_id)
    if order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return order
    ready = order.status in (OrderStatus.PAID, OrderStatus.PREPARING) or (
        order.status is OrderStatus.PLACED and order.payment_method is PaymentMethod.COD
    )
    if not ready:
        raise InvalidTransition(f"order {order_id} is {order.status.value}: cannot ship")
    allocs = await conn.fetch(Q["allocations_of_order"], order_id)
    if allocs:
        await lock_stock_ids(conn, stock_ids=[a["stock_id"] for a in allocs])
        await apply_movements(
            conn,
            movements=[
                Movement(
                    stock_id=a["stock_id"],
                    kind=MovementKind.SHIPMENT,
                    on_hand_delta=-a["qty"],
                    reserved_delta=-a["qty"],
                    order_id=order_id,
                    actor=actor,
                )
                for a in allocs
            ],
        )
        await conn.execute(
            Q["set_allocation_qty"],
            [a["id"] for a in allocs],
            [0] * len(allocs),
            [a["qty"] for a in allocs],
        )
    await conn.execute(Q["set_status"], order_id, OrderStatus.SHIPPED.value, now, None)
    await _event(conn, order_id, "shipped", actor, {}, now)
    return await get_order(conn, order_id=order_id)


async def mark_delivered(conn: asyncpg.Connection, *, order_id: int, actor: str) -> Order:
    """Delivered to the door; idempotent."""
    now = datetime.now(UTC)
    order = await _locked(conn, order_id)
    if order.status is OrderStatus.DELIVERED:
        return order
    if order.status is not OrderStatus.SHIPPED:
        raise InvalidTransition(f"order {order_id} is {order.status.value}: not shipped yet")
    await conn.execute(Q["set_status"], order_id, OrderStatus.DELIVERED.value, now, None)
    await _event(conn, order_id, "delivered", actor, {}, now)
    return await get_order(conn, order_id=order_id)


async def expire_unpaid(
    conn: asyncpg.Connection, *, now: datetime | None = None, limit: int = 500
) -> list[int]:
    """Virtual-account orders unpaid at their deadline expire and release their stock.

    Run in a transaction; orders another transaction holds are skipped this round.
    Expiry writes no outbox row: an unpaid order never reached logistics."""
    now = now or datetime.now(UTC)
    ids = [r["id"] for r in await conn.fetch(Q["due_unpaid"], now, limit)]
    for order_id in ids:
        order = await _locked(conn, order_id)
        released = await _release(conn, order=order, units=None, actor="system")
        await conn.execute(Q["set_status"], order_id, OrderStatus.EXPIRED.value, now, None)
        await _event(
            conn,
            order_id,
            "expired",
            "system",
            {
                "pay_deadline": order.pay_deadline.isoformat() if order.pay_deadline else None,
                "released": released,
            },
            now,
        )
    return ids
