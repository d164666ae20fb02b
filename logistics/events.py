"""What logistics tells other domains, through the outbox (`config.outbox`): a parcel of
an order left the warehouse, every parcel of an order arrived. Orders follows them
(`orders.follow`); logistics never imports orders."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from config import outbox

SHIPMENT_SHIPPED = "shipment.shipped"
SHIPMENT_DELIVERED = "shipment.delivered"


async def _publish(conn: asyncpg.Connection, topic: str, order_ids: Iterable[int],
                   actor: str) -> None:
    await outbox.publish(conn, [
        outbox.Event(topic=topic, key=str(oid), payload={"order_id": oid, "actor": actor})
        for oid in sorted(set(order_ids))
    ])  # fmt: skip


async def orders_shipped(conn: asyncpg.Connection, *, order_ids: Iterable[int],
                         actor: str) -> None:
    """A parcel of each of these orders left (dispatch, or a carrier's first scan)."""
    await _publish(conn, SHIPMENT_SHIPPED, order_ids, actor)


async def orders_delivered(conn: asyncpg.Connection, *, order_ids: Iterable[int],
                           actor: str) -> None:
    """Every live parcel of each of these orders was delivered."""
    await _publish(conn, SHIPMENT_DELIVERED, order_ids, actor)
