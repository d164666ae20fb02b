"""Least privilege for agents, from the dialer's durable state: an agent may read the
customer of a call it is on (the call's journey is open: ringing through wrap-up; an
inbound call until its disposition), of its own pending callbacks and of a keep-my-place
callback being dialled for it or on its line, and no one else. (Own orders are the orders domain's
`agent_id`; see server/access.py for the whole policy.)"""

from __future__ import annotations

import asyncpg

from config.sql import load_queries

Q = load_queries("dialer.store", "access.sql")


async def agent_may_read_customer(
    conn: asyncpg.Connection, *, agent_id: int, customer_id: int
) -> bool:
    return bool(await conn.fetchval(Q["agent_customer"], agent_id, customer_id))


async def agent_customers(conn: asyncpg.Connection, *, agent_id: int) -> set[int]:
    """The customers the agent may read now."""
    return {r["customer_id"] for r in await conn.fetch(Q["agent_customers"], agent_id)}
