"""The order follows its shipments: shipped on dispatch, delivered when all are.

The orders domain owns the order state machine (`orders.lifecycle`). Until that
module exists this falls back to a guarded UPDATE that only moves an order
forward, so logistics works on its own.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg

log = logging.getLogger(__name__)

_FALLBACK_SQL = {
    "shipped": "UPDATE orders SET status = 'shipped', updated_at = now()"
    " WHERE id = $1 AND status IN ('paid', 'preparing') RETURNING id",
    "delivered": "UPDATE orders SET status = 'delivered', updated_at = now()"
    " WHERE id = $1 AND status IN ('paid', 'preparing', 'shipped') RETURNING id",
}


def _lifecycle(name: str) -> Callable[..., Awaitable[Any]] | None:
    try:
        module = importlib.import_module("orders.lifecycle")
    except ImportError:
        return None
    func = getattr(module, name, None)
    return func if callable(func) else None


async def _follow(conn: asyncpg.Connection, *, order_id: int, actor: str, to: str) -> None:
    func = _lifecycle(f"mark_{to}")
    # A savepoint: an order that refuses to follow must not undo the tracking.
    try:
        async with conn.transaction():
            if func is not None:
                await func(conn, order_id=order_id, actor=actor)
                return
            moved = await conn.fetchval(_FALLBACK_SQL[to], order_id)
            if moved is not None:
                await conn.execute(
                    "INSERT INTO order_events (order_id, type, actor, details)"
                    " VALUES ($1, $2, $3, '{}'::jsonb)",
                    order_id, to, actor,
                )  # fmt: skip
    except Exception:
        log.exception("order %s did not follow its shipment to %s", order_id, to)


async def order_shipped(conn: asyncpg.Connection, *, order_id: int, actor: str) -> None:
    await _follow(conn, order_id=order_id, actor=actor, to="shipped")


async def order_delivered(conn: asyncpg.Connection, *, order_id: int, actor: str) -> None:
    await _follow(conn, order_id=order_id, actor=actor, to="delivered")
