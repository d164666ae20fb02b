"""Periodic work on APScheduler. Each job runs once per cluster under an advisory lock.

Domains provide the job bodies (plain async functions taking a connection);
this module only schedules them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from config.jobs import Job
from config.locks import run_once_per_cluster
from config.settings import Settings
from crm.jobs import JOBS as CRM_JOBS
from dialer.recordings.jobs import jobs as recording_jobs
from logistics.jobs import JOBS as LOGISTICS_JOBS
from orders.jobs import JOBS as ORDERS_JOBS
from server.keys import POOL, SETTINGS

log = logging.getLogger(__name__)


async def _delete_expired_tokens(conn: asyncpg.Connection) -> object:
    return await conn.execute("DELETE FROM auth_tokens WHERE expires_at <= now()")


def all_jobs(settings: Settings | None = None) -> list[Job]:
    """Every periodic job: each domain lists its own in `<domain>/jobs.py`."""
    return [
        Job(name="auth.expired_tokens", every_s=3600, body=_delete_expired_tokens),
        *CRM_JOBS,
        *ORDERS_JOBS,
        *LOGISTICS_JOBS,
        *(recording_jobs(settings) if settings is not None else []),
    ]


def _runner(pool: asyncpg.Pool, job: Job) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await run_once_per_cluster(pool, f"job:{job.name}", job.body)
        except Exception:
            log.exception("job %s failed", job.name)

    return run


async def scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    scheduler = AsyncIOScheduler()
    for job in all_jobs(app[SETTINGS]):
        # coalesce + max_instances=1: a slow run is not stacked behind itself.
        scheduler.add_job(
            _runner(app[POOL], job), "interval", seconds=job.every_s, id=job.name, name=job.name,
            coalesce=True, max_instances=1,
        )  # fmt: skip
    scheduler.start()
    yield
    scheduler.shutdown(wait=False)
