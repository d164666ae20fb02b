"""Migrations and the embedded PostgreSQL, against real servers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg

from config.db import connect
from config.embedded import EmbeddedPostgres
from config.migrations import discover, migrate


async def test_migrate_is_idempotent_and_recorded(db_url: str) -> None:
    conn = await connect(db_url)
    try:
        assert await migrate(conn) == []  # the template is already migrated
        count = await conn.fetchval("SELECT count(*) FROM schema_migrations")
        assert count == len(discover())
    finally:
        await conn.close()


async def test_concurrent_migrations_apply_each_file_once(server_url: str) -> None:
    admin = await asyncpg.connect(server_url)
    await admin.execute("DROP DATABASE IF EXISTS telemart_mig_race")
    await admin.execute("CREATE DATABASE telemart_mig_race")
    url = server_url.rsplit("/", 1)[0] + "/telemart_mig_race"
    try:
        conns = [await connect(url) for _ in range(3)]
        results = await asyncio.wait_for(asyncio.gather(*(migrate(c) for c in conns)), 120)
        assert sum(len(r) for r in results) == len(discover())
        for c in conns:
            await c.close()
    finally:
        await admin.execute("DROP DATABASE IF EXISTS telemart_mig_race WITH (FORCE)")
        await admin.close()


def test_embedded_server_starts_is_reused_and_stops(tmp_path: Path) -> None:
    pgdata = tmp_path / "pg"
    with EmbeddedPostgres(pgdata) as first:
        assert (pgdata / "PG_VERSION").exists()
        # A second handle on the same folder reuses the running server and leaves it up.
        second = EmbeddedPostgres(pgdata)
        assert second.start() == first.url
        second.stop()
        probe = f"import asyncio, asyncpg; asyncio.run(asyncpg.connect({first.url!r}))"
        assert subprocess.run([sys.executable, "-c", probe], timeout=30).returncode == 0
    assert not (pgdata / "postmaster.pid").exists()
    # Data folder stays private to its owner.
    assert (pgdata.stat().st_mode & 0o077) == 0
