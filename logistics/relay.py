"""The outbox relay: paid orders become shipments, cancelled ones stop theirs.

Safe to run twice and to die mid-batch: rows are claimed with FOR UPDATE SKIP
LOCKED, each shipment is (order_id, seq=1) unique, and the rows are marked
processed in the same transaction that creates the shipments.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import asyncpg

from config import outbox
from config.sql import load_queries
from logistics.shipments import phone_e164

log = logging.getLogger(__name__)
Q = load_queries("logistics", "shipments.sql")
TOPICS = ["order.paid", "order.cancelled"]
BATCH = 200


@dataclass(frozen=True, kw_only=True)
class RelayResult:
    claimed: int = 0
    created: int = 0
    cancelled: int = 0

    def __add__(self, other: RelayResult) -> RelayResult:
        return RelayResult(
            claimed=self.claimed + other.claimed, created=self.created + other.created,
            cancelled=self.cancelled + other.cancelled,
        )  # fmt: skip


async def _create_shipment(
    conn: asyncpg.Connection, order_id: int, payload: dict[str, Any]
) -> bool:
    order = await conn.fetchrow(Q["order_for_shipment"], order_id)
    if order is None:
        log.warning("outbox order.paid for missing order %s", order_id)
        return False
    if order["status"] in ("cancelled", "expired"):
        return False  # cancelled between payment and the relay
    delivery = payload.get("delivery") or order["delivery"]
    lines = payload.get("lines") or order["lines"]
    lines = [{"sku_id": int(x["sku_id"]), "qty": int(x["qty"])} for x in lines]
    cod = bool(payload.get("cod", order["payment_method"] == "cod"))
    new_id = await conn.fetchval(
        Q["insert_shipment"], order_id, 1, payload.get("customer_id") or order["customer_id"],
        lines, delivery, phone_e164(delivery.get("phone")), cod, "order",
    )  # fmt: skip
    return new_id is not None


async def relay_once(conn: asyncpg.Connection, *, limit: int = BATCH) -> RelayResult:
    """Claim up to `limit` outbox rows and apply them, all in one transaction."""
    created = cancelled = 0
    async with conn.transaction():
        rows = await outbox.claim(conn, topics=TOPICS, limit=limit)
        for row in rows:
            payload = row.event.payload
            order_id = int(payload.get("order_id") or row.event.key)
            if row.event.topic == "order.paid":
                created += await _create_shipment(conn, order_id, payload)
            else:
                cancelled += len(await conn.fetch(Q["cancel_undispatched"], order_id))
        await outbox.mark_processed(conn, ids=[r.id for r in rows])
    return RelayResult(claimed=len(rows), created=created, cancelled=cancelled)


async def relay_all(conn: asyncpg.Connection, *, limit: int = BATCH) -> RelayResult:
    """Relay until the outbox has nothing left for logistics."""
    total = RelayResult()
    while True:
        result = await relay_once(conn, limit=limit)
        total += result
        if result.claimed < limit:
            return total
