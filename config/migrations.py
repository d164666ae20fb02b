"""Schema migrations: `<domain>/migrations/NNNN_name.sql`, one global numbering.

Each file runs in its own transaction, in number order, under an advisory lock
so that two processes starting together do not both migrate; applied versions
are recorded in `schema_migrations` with a checksum so an edited, already
applied file is noticed.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import asyncpg

from config.errors import MigrationError

log = logging.getLogger(__name__)

DOMAINS = ("crm", "server", "orders", "logistics", "dialer")
# pg_advisory_lock key: "telemart migrate" folded into a bigint.
MIGRATION_LOCK_KEY = 0x7E1E_0001
_FILENAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, kw_only=True)
class Migration:
    version: int
    name: str
    domain: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(domains: tuple[str, ...] = DOMAINS) -> list[Migration]:
    """Every domain's migrations, sorted; a number used twice is an error."""
    found: dict[int, Migration] = {}
    for domain in domains:
        folder = resources.files(domain).joinpath("migrations")
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            match = _FILENAME.match(entry.name)
            if not match:
                continue
            version = int(match.group(1))
            migration = Migration(
                version=version, name=match.group(2), domain=domain,
                sql=entry.read_text(encoding="utf-8"),
            )  # fmt: skip
            if version in found:
                other = found[version]
                raise MigrationError(
                    f"migration number {version:04d} is used by both "
                    f"{other.domain}/{other.name} and {domain}/{migration.name}"
                )
            found[version] = migration
    return [found[v] for v in sorted(found)]


_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    domain      text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


async def migrate(conn: asyncpg.Connection) -> list[Migration]:
    """Apply what is missing; return the migrations applied now."""
    migrations = discover()
    applied_now: list[Migration] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(_CREATE_TABLE)
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations")
        done = {r["version"]: r["checksum"] for r in rows}
        for migration in migrations:
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    log.warning(
                        "migration %04d_%s changed after it was applied",
                        migration.version, migration.name,
                    )  # fmt: skip
                continue
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, domain, checksum)"
                        " VALUES ($1, $2, $3, $4)",
                        migration.version, migration.name, migration.domain, migration.checksum,
                    )  # fmt: skip
            except asyncpg.PostgresError as exc:
                raise MigrationError(
                    f"migration {migration.domain}/{migration.version:04d}_{migration.name} "
                    f"failed: {exc}"
                ) from exc
            log.info("applied migration %04d_%s", migration.version, migration.name)
            applied_now.append(migration)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied_now
