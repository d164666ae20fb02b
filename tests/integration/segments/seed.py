"""A small customer base with orders and contacts, shared by the segment and campaign tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

NOW = dt.datetime.now(dt.UTC)


async def add_customer(conn: asyncpg.Connection, **fields: Any) -> int:
    serial = await conn.fetchval("SELECT count(*) FROM customers")
    row: dict[str, Any] = {
        "name": "고객", "phone_e164": f"+8210{serial + 10000000:08d}",
        "region": "서울", "gender": "F", "birth_date": dt.date(1985, 6, 1),
        "consent_marketing": True, "consent_night": False,
    }  # fmt: skip
    row.update(fields)
    cols = ", ".join(row)
    marks = ", ".join(f"${i}" for i in range(1, len(row) + 1))
    return int(await conn.fetchval(
        f"INSERT INTO customers ({cols}) VALUES ({marks}) RETURNING id", *row.values()
    ))


async def add_product(conn: asyncpg.Connection, *, code: str, category: str) -> int:
    product_id = await conn.fetchval(
        "INSERT INTO products (code, name, category, price_krw) VALUES ($1, $1, $2, 10000)"
        " RETURNING id", code, category,
    )  # fmt: skip
    return int(await conn.fetchval(
        "INSERT INTO skus (product_id, code) VALUES ($1, $2) RETURNING id", product_id, code + "-1"
    ))


async def add_order(
    conn: asyncpg.Connection, *, customer_id: int, sku_id: int, total: int, days_ago: float,
    status: str = "delivered",
) -> int:
    order_id = await conn.fetchval(
        "INSERT INTO orders (customer_id, status, total_krw, payment_method, delivery, placed_at)"
        " VALUES ($1, $2, $3, 'card', '{}'::jsonb, $4) RETURNING id",
        customer_id, status, total, NOW - dt.timedelta(days=days_ago),
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO order_lines (order_id, sku_id, qty, unit_price_krw) VALUES ($1, $2, 1, $3)",
        order_id, sku_id, total,
    )  # fmt: skip
    return int(order_id)


async def add_contact(
    conn: asyncpg.Connection, *, customer_id: int, days_ago: float, disposition: str | None,
    campaign_id: int | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO contact_attempts (customer_id, campaign_id, phone_e164, at, outcome,"
        " disposition) SELECT id, $2, phone_e164, $3, 'answered_live', $4 FROM customers"
        " WHERE id = $1",
        customer_id, campaign_id, NOW - dt.timedelta(days=days_ago), disposition,
    )  # fmt: skip


async def seed_base(conn: asyncpg.Connection) -> dict[str, int]:
    """Ten customers with known facts; returns their ids by nickname."""
    health = await add_product(conn, code="VIT-1", category="health")
    kitchen = await add_product(conn, code="PAN-1", category="kitchen")
    ids = {
        "seoul_f_30s": await add_customer(conn, region="서울", gender="F",
                                          birth_date=dt.date(NOW.year - 35, 1, 1)),
        "busan_m_40s": await add_customer(conn, region="부산", gender="M",
                                          birth_date=dt.date(NOW.year - 45, 1, 1)),
        "no_consent": await add_customer(conn, consent_marketing=False),
        "night": await add_customer(conn, consent_night=True, region="대구"),
        "dnc": await add_customer(conn, region="부산"),
        "no_region": await add_customer(conn, region=None, birth_date=None, gender=None),
        "big_spender": await add_customer(conn, region="서울"),
        "recent_contact": await add_customer(conn, region="인천"),
        "bad_phone": await add_customer(conn, phone_e164="010-1234", region="광주"),
        "cancelled_only": await add_customer(conn, region="서울"),
    }  # fmt: skip
    await conn.execute(
        "INSERT INTO do_not_call (phone_e164, kind, source) SELECT phone_e164, 'national', 'test'"
        " FROM customers WHERE id = $1", ids["dnc"],
    )  # fmt: skip
    await add_order(conn, customer_id=ids["seoul_f_30s"], sku_id=health, total=30000, days_ago=5)
    await add_order(conn, customer_id=ids["busan_m_40s"], sku_id=kitchen, total=50000,
                    days_ago=200)  # fmt: skip
    for days in (1, 10, 40, 100):
        await add_order(conn, customer_id=ids["big_spender"], sku_id=health, total=500000,
                        days_ago=days)  # fmt: skip
    await add_order(conn, customer_id=ids["night"], sku_id=kitchen, total=20000, days_ago=60)
    await add_order(conn, customer_id=ids["cancelled_only"], sku_id=health, total=90000,
                    days_ago=3, status="cancelled")  # fmt: skip
    await add_contact(conn, customer_id=ids["recent_contact"], days_ago=2, disposition="callback")
    await add_contact(conn, customer_id=ids["busan_m_40s"], days_ago=90, disposition="no_sale")
    await add_contact(conn, customer_id=ids["busan_m_40s"], days_ago=80, disposition="callback")
    return ids
