"""Where the database is, and the connection pool."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from config.embedded import EmbeddedPostgres
from config.errors import DatabaseUnavailable
from config.settings import Settings


@asynccontextmanager
async def database_url(settings: Settings) -> AsyncIterator[str]:
    """The server URL: TELEMART_DATABASE_URL, else an embedded server under HOME/pg
    which is stopped on the way out (if this process started it)."""
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    embedded = EmbeddedPostgres(settings.home / "pg")
    try:
        url = embedded.start()
        yield url
    finally:
        embedded.stop()


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb in and out as Python objects everywhere.
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """A pooled connection goes back as it is (asyncpg still rolls back an open
    transaction). Nothing here leaves session state on one: settings are `SET LOCAL`,
    advisory locks and LISTEN live on dedicated connections. asyncpg's default reset
    (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`) is one more round trip
    per use: a tenth of a busy dialer process's time, measured with py-spy."""


async def connect(url: str) -> asyncpg.Connection:
    try:
        conn: asyncpg.Connection = await asyncpg.connect(url)
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    await _init_connection(conn)
    return conn


async def create_pool(
    url: str, *, min_size: int = 2, max_size: int = 20, **kw: Any
) -> asyncpg.Pool:
    try:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, init=_init_connection,
            reset=_keep_session, **kw,
        )  # fmt: skip
    except (OSError, asyncpg.PostgresError) as exc:
        raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
    assert pool is not None
    return pool


@asynccontextmanager
async def open_database(
    settings: Settings, *, run_migrations: bool = True
) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """URL and pool for a command: embedded server if needed, migrated, closed on exit."""
    from config.migrations import migrate

    async with database_url(settings) as url:
        if run_migrations:
            conn = await connect(url)
            try:
                await migrate(conn)
            finally:
                await conn.close()
        pool = await create_pool(
            url, min_size=settings.pool_min_size, max_size=settings.pool_max_size
        )
        try:
            yield url, pool
        finally:
            await pool.close()
