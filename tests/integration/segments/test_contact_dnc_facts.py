"""The contact and do-not-call columns of customer_facts, kept by triggers (0033), always
equal what the base tables say, and the filters that read them answer as before."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import asyncpg

from crm.rfm import refresh_rfm
from crm.segments import compile_document, count_matching
from tests.integration.segments.seed import NOW, add_contact, add_customer

# What the columns must hold, derived from scratch.
DERIVED = """
SELECT c.id,
       (SELECT max(a.at) FROM contact_attempts a WHERE a.customer_id = c.id) AS last_contacted_at,
       (SELECT a.disposition FROM contact_attempts a
        WHERE a.customer_id = c.id AND a.disposition IS NOT NULL
        ORDER BY a.at DESC, a.id DESC LIMIT 1) AS last_disposition,
       EXISTS (SELECT 1 FROM do_not_call d WHERE d.phone_e164 = c.phone_e164) AS dnc
FROM customers c ORDER BY c.id
"""
STORED = """
SELECT id, last_contacted_at, last_disposition, dnc FROM customer_facts ORDER BY id
"""


async def assert_in_step(conn: asyncpg.Connection) -> None:
    derived = [tuple(r) for r in await conn.fetch(DERIVED)]
    stored = [tuple(r) for r in await conn.fetch(STORED)]
    assert stored == derived


async def count(conn: asyncpg.Connection, doc: dict[str, Any]) -> int:
    return await count_matching(conn, compiled=compile_document(doc))


async def list_dnc(conn: asyncpg.Connection, customer_id: int, kind: str) -> None:
    await conn.execute(
        "INSERT INTO do_not_call (phone_e164, kind, source) SELECT phone_e164, $2, 'test'"
        " FROM customers WHERE id = $1", customer_id, kind,
    )  # fmt: skip


async def test_contact_columns_follow_attempts_in_any_order(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        a = await add_customer(conn)
        b = await add_customer(conn)
        await assert_in_step(conn)
        await add_contact(conn, customer_id=a, days_ago=5, disposition="callback")
        # An older attempt recorded later changes neither the latest contact nor disposition.
        await add_contact(conn, customer_id=a, days_ago=50, disposition="no_sale")
        # A newer attempt without a disposition moves the contact, not the disposition.
        await add_contact(conn, customer_id=a, days_ago=1, disposition=None)
        await add_contact(conn, customer_id=b, days_ago=40, disposition=None)
        await assert_in_step(conn)
        row = await conn.fetchrow("SELECT * FROM customer_facts WHERE id = $1", a)
        assert row is not None
        assert row["last_disposition"] == "callback"
        assert await count(conn, {"field": "contacted", "op": "within_days", "value": 2}) == 1
        no_refusal = {"field": "last_disposition", "op": "not_in", "value": ["no_sale"]}
        assert await count(conn, no_refusal) == 2  # b has no disposition at all
        await add_contact(conn, customer_id=b, days_ago=0.5, disposition="no_sale")
        await assert_in_step(conn)
        assert await count(conn, no_refusal) == 1
        # Same time: the later attempt (higher id) is the latest.
        at = NOW - dt.timedelta(days=0.1)
        for disposition in ("sale", "dnc"):
            await conn.execute(
                "INSERT INTO contact_attempts (customer_id, phone_e164, at, outcome, disposition)"
                " VALUES ($1, '+821000000000', $2, 'answered_live', $3)", a, at, disposition,
            )  # fmt: skip
        await assert_in_step(conn)
        assert await count(conn, {"field": "last_disposition", "op": "eq", "value": "dnc"}) == 1


async def test_multi_row_insert_of_attempts(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        ids = [await add_customer(conn) for _ in range(3)]
        await conn.execute(
            "INSERT INTO contact_attempts (customer_id, phone_e164, at, outcome, disposition)"
            " SELECT c, '+821000000000', now() - g * interval '1 day', 'busy',"
            " (ARRAY['no_sale', NULL, 'callback'])[1 + g % 3]"
            " FROM unnest($1::bigint[]) c, generate_series(1, 7) g", ids,
        )  # fmt: skip
        await assert_in_step(conn)


async def test_dnc_flag_follows_lists_and_phone_changes(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        a = await add_customer(conn)
        b = await add_customer(conn)
        dnc = {"field": "do_not_call", "op": "eq", "value": True}
        await list_dnc(conn, a, "national")
        await list_dnc(conn, a, "internal")
        await assert_in_step(conn)
        assert await count(conn, dnc) == 1
        # Off one list, still on the other.
        await conn.execute("DELETE FROM do_not_call WHERE kind = 'national'")
        await assert_in_step(conn)
        assert await count(conn, dnc) == 1
        await conn.execute("DELETE FROM do_not_call")
        assert await count(conn, dnc) == 0
        # A listed phone moves to a customer: the flag follows the phone.
        await conn.execute(
            "INSERT INTO do_not_call (phone_e164, kind, source) VALUES ('+821099990000',"
            " 'financial', 'test')"
        )
        await conn.execute("UPDATE customers SET phone_e164 = '+821099990000' WHERE id = $1", b)
        await assert_in_step(conn)
        await conn.execute("UPDATE do_not_call SET phone_e164 = '+821099990001'")
        await assert_in_step(conn)
        assert await count(conn, {"not": dnc}) == 2
        # A new customer whose phone is already listed.
        await add_customer(conn, phone_e164="+821099990001")
        await assert_in_step(conn)
        assert await count(conn, dnc) == 1


async def test_concurrent_list_changes_of_one_phone_end_exact(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as setup:
        a = await add_customer(setup)
        await list_dnc(setup, a, "national")
    async with pool.acquire() as one, pool.acquire() as two:
        first, second = one.transaction(), two.transaction()
        await first.start()
        await second.start()
        await list_dnc(one, a, "internal")
        delete = asyncio.ensure_future(
            two.execute("DELETE FROM do_not_call WHERE kind = 'national'")
        )
        await asyncio.wait_for(first.commit(), timeout=10)
        await asyncio.wait_for(delete, timeout=10)
        await second.commit()
        await assert_in_step(one)
        assert await one.fetchval("SELECT dnc FROM customer_facts WHERE id = $1", a) is True


async def test_refresh_fills_rows_written_with_triggers_off(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        a = await add_customer(conn)
        await add_contact(conn, customer_id=a, days_ago=3, disposition="callback")
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            b = await add_customer(conn)
            await add_contact(conn, customer_id=b, days_ago=2, disposition="no_sale")
            await list_dnc(conn, b, "national")
            await list_dnc(conn, a, "national")
        assert await conn.fetchval("SELECT count(*) FROM customer_facts WHERE id = $1", b) == 0
        await refresh_rfm(conn, trigger="test")
        await assert_in_step(conn)
