"""The outbox relay: exactly one shipment per paid order, however it is run."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from logistics.relay import relay_all, relay_once
from tests.integration.logistics.conftest import make_order


async def _counts(conn: asyncpg.Connection) -> tuple[int, int, int]:
    shipments = await conn.fetchval("SELECT count(*) FROM shipments")
    per_order = await conn.fetchval(
        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) n FROM shipments GROUP BY order_id) x"
    )
    left = await conn.fetchval("SELECT count(*) FROM outbox WHERE processed_at IS NULL")
    return shipments, per_order, left


async def test_relay_creates_one_shipment_per_paid_order(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        ids = [await make_order(conn, phone="010-2222-3333") for _ in range(3)]
        result = await relay_all(conn)
        assert (result.claimed, result.created) == (3, 3)
        again = await relay_all(conn)
        assert again.claimed == 0
        assert await _counts(conn) == (3, 1, 0)
        row = await conn.fetchrow("SELECT * FROM shipments WHERE order_id = $1", ids[0])
        assert row["status"] == "pending"
        assert row["seq"] == 1
        assert row["phone_e164"] == "+821022223333"
        assert row["lines"][0]["qty"] == 1


async def test_two_relays_at_once_make_each_shipment_once(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        for _ in range(40):
            await make_order(conn)

    async def run() -> int:
        async with pool.acquire() as conn:
            return (await relay_all(conn, limit=7)).created

    created = await asyncio.wait_for(asyncio.gather(run(), run(), run()), timeout=30)
    assert sum(created) == 40
    async with pool.acquire() as conn:
        assert await _counts(conn) == (40, 1, 0)


async def test_a_relay_that_dies_mid_batch_leaves_no_trace(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        for _ in range(5):
            await make_order(conn)
        created = []

        async def die_mid_batch() -> None:
            async with conn.transaction():
                created.append((await relay_once(conn, limit=3)).created)
                raise RuntimeError("killed before commit")

        with pytest.raises(RuntimeError):
            await die_mid_batch()
        assert created == [3]
        assert await _counts(conn) == (0, 0, 5)
        await relay_all(conn)
        assert await _counts(conn) == (5, 1, 0)


async def test_a_replayed_outbox_row_does_not_duplicate(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await make_order(conn)
        await relay_all(conn)
        # As if a relay marked nothing (crash after commit of a different design).
        await conn.execute("UPDATE outbox SET processed_at = NULL")
        result = await relay_all(conn)
        assert (result.claimed, result.created) == (1, 0)
        assert await _counts(conn) == (1, 1, 0)


async def test_cancelled_order_stops_its_undispatched_shipment(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        order_id = await make_order(conn)
        await relay_all(conn)
        await conn.execute(
            "INSERT INTO outbox (topic, key, payload) VALUES ('order.cancelled', $1, $2)",
            str(order_id), {"order_id": order_id},
        )  # fmt: skip
        result = await relay_all(conn)
        assert result.cancelled == 1
        status = await conn.fetchval("SELECT status FROM shipments WHERE order_id = $1", order_id)
        assert status == "cancelled"


async def test_other_topics_are_left_for_their_consumers(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO outbox (topic, key, payload) VALUES ('order.placed', '1', '{}'::jsonb)"
        )
        await relay_all(conn)
        assert await conn.fetchval("SELECT count(*) FROM outbox WHERE processed_at IS NULL") == 1
