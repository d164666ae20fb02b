"""The transactional outbox that carries events between domains.

A domain publishes in the transaction of the change that causes the event; the consuming
domain claims its topics (`FOR UPDATE SKIP LOCKED`), applies them and marks them processed
in one transaction, so a relay may run twice or die mid-batch. This is how a domain tells
another something without importing it: logistics tells orders that a parcel left or
arrived, orders tells logistics that an order was paid or cancelled.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import asyncpg

from config.sql import load_queries

Q = load_queries("config", "outbox.sql")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Event:
    topic: str  # "order.paid", "shipment.delivered", ...
    key: str  # what it is about (an order id)
    payload: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Claimed:
    id: int
    event: Event


async def publish(conn: asyncpg.Connection, events: Sequence[Event]) -> None:
    """Write events in the caller's transaction."""
    if not events:
        return
    await conn.execute(Q["publish"], [e.topic for e in events], [e.key for e in events],
                       [e.payload for e in events])


async def claim(conn: asyncpg.Connection, *, topics: Sequence[str], limit: int) -> list[Claimed]:
    """Lock up to `limit` unprocessed events of `topics` (inside the caller's transaction)."""
    rows = await conn.fetch(Q["claim"], list(topics), limit)
    return [
        Claimed(id=r["id"], event=Event(
            topic=r["topic"], key=r["key"],
            payload=r["payload"] if isinstance(r["payload"], dict) else {},
        ))
        for r in rows
    ]  # fmt: skip


async def mark_processed(conn: asyncpg.Connection, *, ids: Sequence[int]) -> None:
    if ids:
        await conn.execute(Q["mark_processed"], list(ids))
