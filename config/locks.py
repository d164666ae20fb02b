"""Advisory locks: work that must run once per cluster."""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg

T = TypeVar("T")


def lock_key(name: str) -> int:
    """A stable bigint key for a lock name (crc32 keeps it readable in pg_locks)."""
    return zlib.crc32(name.encode())


async def run_once_per_cluster(
    pool: asyncpg.Pool, name: str, job: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T | None:
    """Run `job` if no other process holds the lock `name`; else skip (None).

    The lock is transaction-scoped, so a crashed holder releases it at once."""
    async with pool.acquire() as conn, conn.transaction():
        got = await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", lock_key(name))
        if not got:
            return None
        return await job(conn)
