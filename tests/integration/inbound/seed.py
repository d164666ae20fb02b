"""What the ARS needs to take an order: a product on air with two options, and a customer
it knows with a registered card."""

from __future__ import annotations

import datetime as dt

import asyncpg

from dialer.inbound import store
from tests.integration.orders.seed import product


async def ars_on_air(conn: asyncpg.Connection, *, caller: str, queue: str) -> tuple[list[int], int]:
    """`PAD` (two skus, 89,000원, 10 in stock) on air now on `queue`'s broadcast, and the
    customer calling from `caller` with a card ending 0457. The skus and the customer."""
    skus = await product(conn, "PAD", skus=2, price=89_000, stock=10)
    customer_id: int = await conn.fetchval(
        "INSERT INTO customers (name, phone_e164, address, postal_code)"
        " VALUES ('김민지', $1, '서울시 중구 세종대로 1', '04524') RETURNING id",
        caller,
    )
    await store.add_payment(conn, customer_id=customer_id, label="신한카드", last4="0457")
    now = dt.datetime.now(dt.UTC)
    await conn.execute(
        "INSERT INTO broadcasts (starts_at, ends_at, title, products, expected_calls, queue_id)"
        " SELECT $1, $2, '겨울 패딩', '{PAD}', 0, id FROM inbound_queues WHERE name = $3",
        now - dt.timedelta(minutes=5),
        now + dt.timedelta(minutes=55),
        queue,
    )
    return skus, customer_id
