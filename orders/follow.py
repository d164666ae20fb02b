"""The order follows its shipments: shipped when a parcel leaves, delivered when every
parcel arrived.

Logistics publishes `shipment.shipped` / `shipment.delivered` on the outbox in the
transaction that moves the shipment; this relay applies them to the order state machine.
The moves are idempotent, so a replayed event changes nothing; an order that refuses to
follow (cancelled meanwhile) is logged and its event still marked processed.
"""

from __future__ import annotations

import dataclasses
import logging

import asyncpg

from config import outbox
from orders import lifecycle
from orders.errors import OrdersError

log = logging.getLogger(__name__)

SHIPPED = "shipment.shipped"
DELIVERED = "shipment.delivered"
TOPICS = (SHIPPED, DELIVERED)
BATCH = 200


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class FollowResult:
    claimed: int = 0
    moved: int = 0


async def follow_once(conn: asyncpg.Connection, *, limit: int = BATCH) -> FollowResult:
    """Apply up to `limit` shipment events, in one transaction."""
    moved = 0
    async with conn.transaction():
        claimed = await outbox.claim(conn, topics=TOPICS, limit=limit)
        for c in claimed:
            order_id = int(c.event.payload.get("order_id") or c.event.key)
            actor = str(c.event.payload.get("actor") or "logistics")
            move = lifecycle.mark_shipped if c.event.topic == SHIPPED else lifecycle.mark_delivered
            try:
                async with conn.transaction():  # a savepoint: one refusal spoils no other
                    await move(conn, order_id=order_id, actor=actor)
                moved += 1
            except OrdersError as exc:
                log.warning("order %s did not follow %s: %s", order_id, c.event.topic, exc)
        await outbox.mark_processed(conn, ids=[c.id for c in claimed])
    return FollowResult(claimed=len(claimed), moved=moved)


async def follow_all(conn: asyncpg.Connection, *, limit: int = BATCH) -> FollowResult:
    """Follow until no shipment event is left."""
    claimed = moved = 0
    while True:
        result = await follow_once(conn, limit=limit)
        claimed, moved = claimed + result.claimed, moved + result.moved
        if result.claimed < limit:
            return FollowResult(claimed=claimed, moved=moved)
