"""RFM scores by quintile, ties sharing a score; cancelled orders do not count."""

from __future__ import annotations

import asyncpg

from crm.jobs import JOBS
from crm.rfm import last_run, refresh_rfm
from tests.integration.segments.seed import add_customer, add_order, add_product


async def test_quintiles_from_order_history(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        sku = await add_product(conn, code="P", category="c")
        ids = []
        for i in range(10):  # customer i: i+1 orders of 1000*(i+1), last one i*10 days ago
            cid = await add_customer(conn, name=f"c{i}")
            ids.append(cid)
            for _ in range(i + 1):
                await add_order(conn, customer_id=cid, sku_id=sku, total=1000 * (i + 1),
                                days_ago=i * 10 + 1)  # fmt: skip
        never = await add_customer(conn, name="never")
        await add_order(conn, customer_id=never, sku_id=sku, total=5, days_ago=1,
                        status="expired")  # fmt: skip
        run = await refresh_rfm(conn, trigger="test")
        assert run.customers == 10
        rows = {r["customer_id"]: r for r in await conn.fetch("SELECT * FROM customer_stats")}
        assert never not in rows
        scores = [(rows[c]["rfm_r"], rows[c]["rfm_f"], rows[c]["rfm_m"]) for c in ids]
        # two customers per quintile: the most recent, most frequent, biggest spend score 5
        assert scores == [(5, 1, 1), (5, 1, 1), (4, 2, 2), (4, 2, 2), (3, 3, 3), (3, 3, 3),
                          (2, 4, 4), (2, 4, 4), (1, 5, 5), (1, 5, 5)]  # fmt: skip
        assert rows[ids[3]]["order_count"] == 4
        assert rows[ids[3]]["total_spend_krw"] == 16000

        # ties share a score; a customer whose orders are all cancelled loses the summary
        await conn.execute("UPDATE orders SET status = 'cancelled' WHERE customer_id = $1", ids[0])
        await refresh_rfm(conn, trigger="test")
        assert await conn.fetchval(
            "SELECT count(*) FROM customer_stats WHERE customer_id = $1", ids[0]) == 0
        run2 = await last_run(conn)
        assert run2 is not None
        assert run2.customers == 9


async def test_rfm_job_is_registered(pool: asyncpg.Pool) -> None:
    job = next(j for j in JOBS if j.name == "crm.rfm_refresh")
    async with pool.acquire() as conn:
        await job.body(conn)
        assert (await last_run(conn)) is not None
