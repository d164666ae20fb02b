"""Periodic jobs of the orders domain (scheduled by server/jobs.py)."""

from __future__ import annotations

import asyncpg

from config.jobs import Job


async def _expire_unpaid(conn: asyncpg.Connection) -> object:
    from orders.lifecycle import expire_unpaid

    return await expire_unpaid(conn)


async def _purge_keys(conn: asyncpg.Connection) -> object:
    from orders.idempotency import purge

    return await purge(conn)


async def _follow_shipments(conn: asyncpg.Connection) -> object:
    from orders.follow import follow_all

    return await follow_all(conn)


JOBS: list[Job] = [
    # Orders follow their parcels (logistics' outbox events) within seconds.
    Job(name="orders.follow_shipments", every_s=2, body=_follow_shipments),
    # Unpaid virtual-account orders past their deadline release their stock.
    Job(name="orders.expire_unpaid", every_s=60, body=_expire_unpaid),
    Job(name="orders.purge_idempotency_keys", every_s=3600, body=_purge_keys),
]
