"""The order follows its shipments: shipped on dispatch, delivered when all are.

The orders domain owns the order state machine (`orders.lifecycle`); its moves are
idempotent, so a replayed tracking event changes nothing.
"""

from __future__ import annotations

import logging

import asyncpg

log = logging.getLogger(__name__)


async def _follow(conn: asyncpg.Connection, *, order_id: int, actor: str, to: str) -> None:
    # Imported here, not at the top: orders imports logistics.stock when it loads.
    from orders import lifecycle

    follow = lifecycle.mark_shipped if to == "shipped" else lifecycle.mark_delivered
    # A savepoint: an order that refuses to follow must not undo the tracking.
    try:
        async with conn.transaction():
            await follow(conn, order_id=order_id, actor=actor)
    except Exception:
        log.exception("order %s did not follow its shipment to %s", order_id, to)


async def order_shipped(conn: asyncpg.Connection, *, order_id: int, actor: str) -> None:
    await _follow(conn, order_id=order_id, actor=actor, to="shipped")


async def order_delivered(conn: asyncpg.Connection, *, order_id: int, actor: str) -> None:
    await _follow(conn, order_id=order_id, actor=actor, to="delivered")
