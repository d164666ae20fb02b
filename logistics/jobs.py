"""Periodic jobs of the logistics domain (scheduled by server/jobs.py)."""

from __future__ import annotations

import logging

import asyncpg

from config.jobs import Job

log = logging.getLogger(__name__)

JOBS: list[Job] = []


async def _check_stock(conn: asyncpg.Connection) -> object:
    from logistics.stock import check

    result = await check(conn)
    if not result.ok:
        log.error(
            "stock counters differ from the ledger on %d row(s): %s",
            len(result.mismatches), [m.stock_id for m in result.mismatches[:20]],
        )  # fmt: skip
    return result


# Proves counters == ledger once an hour (also `telemart stock check`).
JOBS.append(Job(name="stock.check", every_s=3600, body=_check_stock))


async def _relay_outbox(conn: asyncpg.Connection) -> object:
    from logistics.relay import relay_all

    return await relay_all(conn)


async def _poll_carriers(conn: asyncpg.Connection) -> object:
    from logistics.polling import poll_once

    return await poll_once(conn)


# Paid orders become shipments within seconds; carriers without push are asked
# about due parcels every minute (each parcel every PollConfig.every).
JOBS.append(Job(name="logistics.relay", every_s=5, body=_relay_outbox))
JOBS.append(Job(name="logistics.poll", every_s=60, body=_poll_carriers))
