"""The audit log: who looked at or changed what (개인정보보호법 §29: staff reads of
customers' data are logged)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg

from config.sql import load_queries

Q = load_queries("crm", "queries.sql")


async def record(conn: asyncpg.Connection, *, actor: str, action: str, subject: str | None,
                 details: Mapping[str, Any] | None = None) -> None:
    """Append one entry (the caller's transaction)."""
    await conn.execute(Q["insert_audit"], actor, action, subject, dict(details or {}))
