"""Do-not-call: the national and financial registers (imported) and the internal list.

An internal entry is what an agent's "do not call me" disposition writes; once there, no
campaign dials the number again.
"""

from __future__ import annotations

import asyncpg

from config.sql import load_queries

Q = load_queries("crm")
DNC_KINDS = ("national", "financial", "internal")


async def add_internal(
    conn: asyncpg.Connection, *, phone_e164: str, source: str, actor: str
) -> bool:
    """Put `phone_e164` on the internal do-not-call list and audit it. True if it was not
    there yet. The caller validates the number (crm.phones.normalize) and owns the
    transaction."""
    added = await conn.fetchval(Q["insert_internal_dnc"], phone_e164, source)
    await conn.execute(
        Q["insert_audit"], actor, "dnc.add_internal", phone_e164,
        {"source": source, "added": added is not None},
    )  # fmt: skip
    return added is not None


async def listed_kinds(conn: asyncpg.Connection, *, phone_e164: str) -> list[str]:
    """The do-not-call lists that hold `phone_e164` (empty: it may be called)."""
    rows = await conn.fetch(Q["dnc_entries"], phone_e164)
    return [r["kind"] for r in rows]
