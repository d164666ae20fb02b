"""Orders follow their parcels through logistics' outbox events, once each."""

from __future__ import annotations

import asyncpg

from config import outbox
from config.db import connect
from logistics import events
from orders.follow import DELIVERED, SHIPPED, follow_all
from tests.integration.logistics.conftest import make_order


async def _status(conn: asyncpg.Connection, order_id: int) -> str:
    status: str = await conn.fetchval("SELECT status FROM orders WHERE id = $1", order_id)
    return status


async def test_shipped_then_delivered_and_replays_change_nothing(db_url: str) -> None:
    conn = await connect(db_url)
    try:
        order_id = await make_order(conn, outbox=False)
        async with conn.transaction():
            await events.orders_shipped(conn, order_ids=[order_id, order_id], actor="carrier:cj")
        first = await follow_all(conn)
        assert (first.claimed, first.moved) == (1, 1)  # the same order twice: one event
        assert await _status(conn, order_id) == "shipped"
        async with conn.transaction():
            await events.orders_delivered(conn, order_ids=[order_id], actor="carrier:cj")
            # a replayed 'shipped' after the delivery must not move the order back
            await events.orders_shipped(conn, order_ids=[order_id], actor="carrier:cj")
        await follow_all(conn)
        assert await _status(conn, order_id) == "delivered"
        assert (await follow_all(conn)).claimed == 0  # every event processed once
        actors = await conn.fetch(
            "SELECT type, actor FROM order_events WHERE order_id = $1 ORDER BY id", order_id)
        assert ("shipped", "carrier:cj") in [(r["type"], r["actor"]) for r in actors]
    finally:
        await conn.close()


async def test_an_order_that_cannot_follow_is_skipped_and_its_event_consumed(
    db_url: str,
) -> None:
    conn = await connect(db_url)
    try:
        cancelled = await make_order(conn, outbox=False, status="cancelled")
        fine = await make_order(conn, outbox=False)
        await outbox.publish(conn, [
            outbox.Event(topic=DELIVERED, key=str(cancelled), payload={"order_id": cancelled}),
            outbox.Event(topic=SHIPPED, key=str(fine), payload={"order_id": fine}),
        ])  # fmt: skip
        result = await follow_all(conn)
        assert (result.claimed, result.moved) == (2, 1)
        assert await _status(conn, cancelled) == "cancelled"
        assert await _status(conn, fine) == "shipped"
        left = await conn.fetchval("SELECT count(*) FROM outbox WHERE processed_at IS NULL"
                                   " AND topic LIKE 'shipment.%'")
        assert left == 0
    finally:
        await conn.close()
