"""Store tracking checkpoints and move shipments forward, never backwards."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from config.sql import load_queries
from logistics import events
from logistics.carriers import UnknownCarrier, carrier
from logistics.tracking import S, ShipmentStatus, StatusKey, TrackingEvent, status_key

Q = load_queries("logistics", "shipments.sql")


@dataclass(frozen=True, kw_only=True)
class IngestResult:
    received: int
    stored: int
    duplicates: int
    moved: int
    unknown: list[str] = field(default_factory=list)  # tracking numbers we do not ship

    def as_json(self) -> dict[str, object]:
        return {
            "received": self.received, "stored": self.stored, "duplicates": self.duplicates,
            "moved": self.moved, "unknown": self.unknown,
        }  # fmt: skip


def _carrier_code(ident: str | None) -> str | None:
    if not ident:
        return None
    try:
        return carrier(ident).code
    except UnknownCarrier:
        return None


async def resolve(
    conn: asyncpg.Connection, events: Sequence[TrackingEvent]
) -> tuple[list[tuple[int, TrackingEvent]], list[str]]:
    """Pair events with shipment ids by tracking number (and carrier when given)."""
    numbers = sorted({e.tracking_number for e in events})
    rows = await conn.fetch(Q["shipments_by_tracking"], numbers)
    by_number: dict[str, list[asyncpg.Record]] = {}
    for row in rows:
        by_number.setdefault(row["tracking_number"], []).append(row)
    paired: list[tuple[int, TrackingEvent]] = []
    unknown: set[str] = set()
    for event in events:
        candidates = by_number.get(event.tracking_number, [])
        code = _carrier_code(event.carrier)
        if code is not None and len(candidates) > 1:
            candidates = [r for r in candidates if r["carrier"] == code]
        if len(candidates) != 1:
            unknown.add(event.tracking_number)  # none, or ambiguous without a carrier
            continue
        paired.append((candidates[0]["id"], event))
    return paired, sorted(unknown)


async def record(
    conn: asyncpg.Connection, *, provider: str, items: Sequence[tuple[int, TrackingEvent]],
    actor: str,
) -> tuple[int, int]:
    """Store checkpoints for known shipments; advance their status. (stored, moved)."""
    if not items:
        return 0, 0
    # Sorted, so that concurrent batches take index and row locks in the same order.
    items = sorted(items, key=lambda item: (item[0], item[1].dedup_key()))
    cols: tuple[list[object], ...] = ([], [], [], [], [], [], [])
    for sid, e in items:
        for col, value in zip(
            cols,
            (sid, e.dedup_key(), e.status.value, e.raw_status, e.occurred_at, e.location,
             e.message),
            strict=True,
        ):  # fmt: skip
            col.append(value)
    stored = await conn.fetch(Q["insert_checkpoints"], cols[0], provider, *cols[1:])
    moved_rows = await _advance(conn, stored)
    shipped = {r["order_id"] for r in moved_rows if ShipmentStatus(r["status"]).tier == 1}
    delivered = {r["order_id"] for r in moved_rows if r["status"] == S.DELIVERED}
    # Orders follow through the outbox; most checkpoints move no shipment and tell nothing.
    if shipped:
        # A carrier scan also proves the order left (dispatch may have been missed).
        await events.orders_shipped(conn, order_ids=shipped, actor=actor)
    if delivered:
        done = [r["order_id"] for r in await conn.fetch(Q["orders_all_delivered"],
                                                        sorted(delivered))]
        await events.orders_delivered(conn, order_ids=done, actor=actor)
    return len(stored), len(moved_rows)


async def _advance(
    conn: asyncpg.Connection, stored: Iterable[asyncpg.Record]
) -> list[asyncpg.Record]:
    best: dict[int, tuple[StatusKey, ShipmentStatus]] = {}
    newest: dict[int, datetime] = {}
    for row in stored:
        sid, status, at = row["shipment_id"], ShipmentStatus(row["status"]), row["occurred_at"]
        key = status_key(status, at)
        if sid not in best or key > best[sid][0]:
            best[sid] = (key, status)
        if sid not in newest or at > newest[sid]:
            newest[sid] = at
    if not best:
        return []
    ids = sorted(best)
    await conn.fetch(Q["lock_shipments"], ids)
    keys = [best[i][0] for i in ids]
    moved = await conn.fetch(
        Q["advance_status"], ids, [best[i][1].value for i in ids],
        [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
    )  # fmt: skip
    await conn.execute(Q["touch_last_event"], ids, [newest[i] for i in ids])
    return list(moved)


async def ingest(
    conn: asyncpg.Connection, *, provider: str, events: Sequence[TrackingEvent], actor: str
) -> IngestResult:
    """A webhook batch or a poll result: resolve, store, advance. Caller owns the transaction."""
    paired, unknown = await resolve(conn, events)
    stored, moved = await record(conn, provider=provider, items=paired, actor=actor)
    return IngestResult(
        received=len(events), stored=stored, duplicates=len(paired) - stored, moved=moved,
        unknown=unknown,
    )  # fmt: skip
