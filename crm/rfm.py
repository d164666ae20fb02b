"""RFM: recency, frequency and monetary scores 1-5 by quintile, kept in `customer_stats`.

R ranks the last purchase (most recent = 5), F the number of orders, M the total spend.
Scores are quintiles of the cumulative distribution, so customers with equal values share
a score. Only purchasing customers are scored; cancelled and expired orders do not count.

The same refresh maintains what segment previews read (docs/segments.md): the purchase
columns of `customer_facts` (one row per customer) and `customer_product_purchases`
(rebuilt in full the first time, then only for customers whose orders changed).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import asyncpg

from config.locks import lock_key
from config.sql import load_queries

Q = load_queries("crm", "rfm.sql")
# One refresh at a time across the cluster (the job, the API and the CLI share it).
RFM_LOCK = "crm:rfm_refresh"
# Sorting and hashing a million customers' orders in memory instead of on disk.
REFRESH_WORK_MEM = "SET LOCAL work_mem = '256MB'"


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class RfmRun:
    id: int
    trigger: str
    started_at: dt.datetime
    finished_at: dt.datetime
    customers: int

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id, "trigger": self.trigger, "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(), "customers": self.customers,
            "seconds": round((self.finished_at - self.started_at).total_seconds(), 3),
        }  # fmt: skip


async def refresh_rfm(conn: asyncpg.Connection, *, trigger: str) -> RfmRun:
    """Recompute every customer's summary and scores in one transaction."""
    async with conn.transaction():
        # Waits for a refresh already running rather than computing the same thing twice.
        await conn.execute("SELECT pg_advisory_xact_lock($1)", lock_key(RFM_LOCK))
        await conn.execute(REFRESH_WORK_MEM)
        started = await conn.fetchval("SELECT clock_timestamp()")
        status = await conn.execute(Q["refresh_customer_stats"], started)
        await conn.execute(Q["delete_stale_stats"], started)
        await conn.execute(Q["insert_missing_facts"])
        await conn.execute(Q["repair_dnc_facts"])
        await conn.execute(Q["copy_stats_to_facts"])
        await conn.execute(Q["clear_stale_facts"])
        await conn.execute(Q["delete_orphan_facts"])
        await refresh_product_purchases(conn, refreshed_at=started)
        finished = await conn.fetchval("SELECT clock_timestamp()")
        scored = int(status.split()[-1])
        run_id = await conn.fetchval(Q["insert_rfm_run"], trigger, started, finished, scored)
    return RfmRun(id=run_id, trigger=trigger, started_at=started, finished_at=finished,
                  customers=scored)


async def refresh_product_purchases(
    conn: asyncpg.Connection, *, refreshed_at: dt.datetime
) -> None:
    """Bring `customer_product_purchases` up to date: recompute the customers with orders
    placed or changed since the last refresh (minus the settle margin), or everyone the
    first time. Part of `refresh_rfm`'s transaction."""
    since = await conn.fetchval(Q["purchases_settled_until"])
    # asyncpg reads -infinity (never refreshed) as datetime.min.
    if since is None or since.year <= 1:
        await conn.execute(Q["delete_all_product_purchases"])
        await conn.execute(Q["insert_product_purchases"].format(scope=""))
    else:
        await conn.execute(Q["delete_changed_product_purchases"], since)
        scope = ("AND o.customer_id IN (SELECT d.customer_id FROM orders d"
                 " WHERE d.placed_at >= $1 OR d.updated_at >= $1)")  # fmt: skip
        await conn.execute(Q["insert_product_purchases"].format(scope=scope), since)
    await conn.execute(Q["set_product_purchases_refreshed"], refreshed_at)


async def last_run(conn: asyncpg.Connection) -> RfmRun | None:
    row = await conn.fetchrow(Q["last_rfm_run"])
    return RfmRun(**dict(row)) if row else None


async def rfm_job(conn: asyncpg.Connection) -> object:
    """The periodic refresh (server/jobs.py runs it once per cluster)."""
    return await refresh_rfm(conn, trigger="job")
