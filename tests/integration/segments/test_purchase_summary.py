"""What previews read: `customer_facts` in step with customers, and the product summary
plus the orders changed since its refresh (exact answers between refreshes)."""

from __future__ import annotations

from typing import Any

import asyncpg

from crm.rfm import refresh_rfm
from crm.segments import compile_document, count_matching
from tests.integration.segments.seed import add_customer, add_order, add_product


async def _ids(conn: asyncpg.Connection, doc: dict[str, Any]) -> set[int]:
    compiled = compile_document(doc)
    rows = await conn.fetch(
        f"SELECT c.id FROM {compiled.from_clause} WHERE {compiled.where}", *compiled.params
    )
    assert await count_matching(conn, compiled=compiled) == len(rows)
    return {r["id"] for r in rows}


def _bought(field: str, op: str, value: list[str], days: int | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {"field": field, "op": op, "value": value}
    if days is not None:
        doc["within_days"] = days
    return doc


async def _settle(conn: asyncpg.Connection) -> None:
    """Orders as a live base has them long after capture: last changed when placed."""
    await conn.execute("UPDATE orders SET updated_at = placed_at")


async def test_facts_follow_customer_changes(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        cid = await add_customer(conn, region="서울", consent_marketing=False)
        assert await _ids(conn, {"field": "region", "op": "eq", "value": "서울"}) == {cid}
        await conn.execute(
            "UPDATE customers SET region = '부산', consent_marketing = true WHERE id = $1", cid
        )
        assert await _ids(conn, {"field": "region", "op": "eq", "value": "서울"}) == set()
        assert await _ids(conn, {"all": [
            {"field": "region", "op": "eq", "value": "부산"},
            {"field": "consent_marketing", "op": "eq", "value": True}]}) == {cid}  # fmt: skip
        await conn.execute("DELETE FROM customers WHERE id = $1", cid)
        assert await conn.fetchval("SELECT count(*) FROM customer_facts") == 0


async def test_refresh_copies_the_summary_and_clears_lost_buyers(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        sku = await add_product(conn, code="P1", category="health")
        buyer = await add_customer(conn)
        never = await add_customer(conn)
        order = await add_order(conn, customer_id=buyer, sku_id=sku, total=70000, days_ago=3)
        # rows that missed the trigger (a bulk load with triggers off) are added by a refresh
        await conn.execute("DELETE FROM customer_facts WHERE id = $1", never)
        await refresh_rfm(conn, trigger="test")
        facts = {r["id"]: r for r in await conn.fetch("SELECT * FROM customer_facts")}
        assert set(facts) == {buyer, never}
        assert (facts[buyer]["order_count"], facts[buyer]["total_spend_krw"]) == (1, 70000)
        assert facts[buyer]["rfm_r"] is not None
        assert (facts[never]["order_count"], facts[never]["rfm_r"]) == (0, None)

        await conn.execute("UPDATE orders SET status = 'cancelled' WHERE id = $1", order)
        await refresh_rfm(conn, trigger="test")
        row = await conn.fetchrow("SELECT * FROM customer_facts WHERE id = $1", buyer)
        assert row is not None
        assert (row["order_count"], row["total_spend_krw"], row["rfm_r"]) == (0, 0, None)
        assert row["last_purchase_at"] is None


async def test_bought_is_exact_between_refreshes(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        health = await add_product(conn, code="VIT", category="health")
        kitchen = await add_product(conn, code="PAN", category="kitchen")
        a, b, c, d = [await add_customer(conn) for _ in range(4)]
        old_a = await add_order(conn, customer_id=a, sku_id=health, total=1000, days_ago=10)
        await add_order(conn, customer_id=b, sku_id=health, total=1000, days_ago=200)
        await add_order(conn, customer_id=c, sku_id=kitchen, total=1000, days_ago=5)
        await _settle(conn)
        await refresh_rfm(conn, trigger="test")
        summary = await conn.fetch(
            "SELECT customer_id, orders FROM customer_product_purchases ORDER BY customer_id")
        assert [(r["customer_id"], r["orders"]) for r in summary] == [(a, 1), (b, 1), (c, 1)]

        health_90 = _bought("bought_category", "in", ["health"], 90)
        assert await _ids(conn, health_90) == {a}
        assert await _ids(conn, _bought("bought_category", "in", ["health"])) == {a, b}
        assert await _ids(conn, _bought("bought_product", "not_in", ["VIT"])) == {c, d}
        # settled customers are answered from the summary (proof: it is what they read)
        await conn.execute("DELETE FROM customer_product_purchases WHERE customer_id = $1", b)
        assert await _ids(conn, _bought("bought_category", "in", ["health"])) == {a}
        await refresh_rfm(conn, trigger="test")  # incremental: b's orders did not change
        assert await _ids(conn, _bought("bought_category", "in", ["health"])) == {a}
        await conn.execute("DELETE FROM purchase_summary_state")
        await refresh_rfm(conn, trigger="test")  # no watermark: a full rebuild
        assert await _ids(conn, _bought("bought_category", "in", ["health"])) == {a, b}

        # after the refresh: a cancels (the orders domain bumps updated_at), d buys
        await conn.execute(
            "UPDATE orders SET status = 'cancelled', updated_at = now() WHERE id = $1", old_a)
        await add_order(conn, customer_id=d, sku_id=health, total=1000, days_ago=0.01)
        assert await _ids(conn, health_90) == {d}
        assert await _ids(conn, _bought("bought_product", "in", ["VIT"])) == {b, d}
        assert await _ids(conn, _bought("bought_product", "not_in", ["VIT"])) == {a, c}
        assert await _ids(conn, {"not": health_90}) == {a, b, c}

        # the next refresh folds the changes into the summary; answers stay the same
        await refresh_rfm(conn, trigger="test")
        summary = await conn.fetch("SELECT customer_id FROM customer_product_purchases")
        assert {r["customer_id"] for r in summary} == {b, c, d}
        assert await _ids(conn, health_90) == {d}
        assert await _ids(conn, _bought("bought_product", "in", ["VIT"])) == {b, d}


async def test_a_partly_cancelled_line_still_counts(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        sku = await add_product(conn, code="X", category="living")
        cid = await add_customer(conn)
        order = await add_order(conn, customer_id=cid, sku_id=sku, total=1000, days_ago=1)
        await conn.execute("UPDATE order_lines SET qty = 2, cancelled_qty = 1 WHERE order_id = $1",
                           order)  # fmt: skip
        await _settle(conn)
        await refresh_rfm(conn, trigger="test")
        assert await _ids(conn, _bought("bought_category", "in", ["living"])) == {cid}
        await conn.execute("UPDATE order_lines SET cancelled_qty = 2 WHERE order_id = $1", order)
        await conn.execute("UPDATE orders SET updated_at = now() WHERE id = $1", order)
        assert await _ids(conn, _bought("bought_category", "in", ["living"])) == set()
