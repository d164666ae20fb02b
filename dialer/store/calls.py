"""Calls in flight, durable before they are dialled (`live_calls`), and the dialer
processes that own them (`dialer_nodes`, a heartbeat each).

A call's row is written before `originate()` and deleted in the transaction that writes
its attempt, so a process that dies leaves rows behind: a survivor finds them (their
owner's heartbeat is stale), takes them over and closes them (`dialer.live.recovery`).
While a row exists, the hopper never leases its lead.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
from typing import Any

import asyncpg

from config.sql import load_queries

Q = load_queries("dialer.store", "calls.sql")


class LiveState(enum.StrEnum):
    DIALING = "dialing"  # originated, not answered yet
    ANSWERED = "answered"  # a person answered, being connected to an agent
    CONNECTED = "connected"  # talking to an agent
    WRAP_UP = "wrap_up"  # the line is down, the agent sets the disposition
    RECOVERED = "recovered"  # its process died: waiting for the agent's disposition


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LiveCallRow:
    attempt_id: int
    call_id: str
    campaign_id: int
    lead_id: int
    customer_id: int
    phone_e164: str
    owner: str | None
    mode: str
    state: LiveState
    agent_id: int | None
    pop: dict[str, Any] | None
    dialed_at: dt.datetime


def _row(r: asyncpg.Record) -> LiveCallRow:
    pop = r["pop"]
    return LiveCallRow(
        attempt_id=r["attempt_id"], call_id=r["call_id"], campaign_id=r["campaign_id"],
        lead_id=r["lead_id"], customer_id=r["customer_id"], phone_e164=r["phone_e164"],
        owner=r["owner"], mode=r["mode"], state=LiveState(r["state"]), agent_id=r["agent_id"],
        pop=json.loads(pop) if isinstance(pop, str) else pop, dialed_at=r["dialed_at"],
    )  # fmt: skip


async def insert(
    conn: asyncpg.Connection, *, attempt_id: int, call_id: str, campaign_id: int,
    lead_id: int, customer_id: int, phone_e164: str, owner: str, mode: str,
    dialed_at: dt.datetime,
) -> None:  # fmt: skip
    await conn.execute(Q["insert_call"], attempt_id, call_id, campaign_id, lead_id,
                       customer_id, phone_e164, owner, mode, dialed_at)


async def set_state(
    conn: asyncpg.Connection, *, attempt_id: int, owner: str, state: LiveState,
    agent_id: int | None = None, pop: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    await conn.execute(Q["set_state"], attempt_id, owner, state.value, agent_id, pop)


async def delete(conn: asyncpg.Connection, *, attempt_id: int, owner: str | None) -> bool:
    """Remove a closed call; False when it was not (any more) this owner's."""
    return await conn.fetchval(Q["delete_call"], attempt_id, owner) is not None


async def heartbeat(conn: asyncpg.Connection, *, owner: str) -> None:
    await conn.execute(Q["node_heartbeat"], owner)


async def node_gone(conn: asyncpg.Connection, *, owner: str) -> None:
    await conn.execute(Q["node_gone"], owner)


async def dead_owners(conn: asyncpg.Connection, *, me: str, stale_s: float) -> list[str]:
    return [r["owner"] for r in await conn.fetch(Q["dead_owners"], me, stale_s)]


async def take_calls(conn: asyncpg.Connection, *, dead: str, me: str) -> list[LiveCallRow]:
    rows = [_row(r) for r in await conn.fetch(Q["take_calls"], dead, me)]
    await conn.execute(Q["forget_node"], dead)
    return rows


async def mark_recovered(conn: asyncpg.Connection, *, attempt_id: int, owner: str) -> None:
    await conn.execute(Q["mark_recovered"], attempt_id, owner)


async def recovered_for_agents(
    conn: asyncpg.Connection, *, agent_ids: list[int]
) -> list[LiveCallRow]:
    return [_row(r) for r in await conn.fetch(Q["recovered_for_agents"], agent_ids)]


async def take_stale_recovered(
    conn: asyncpg.Connection, *, older_than_s: float, agent_gone_s: float, me: str
) -> list[LiveCallRow]:
    rows = await conn.fetch(Q["stale_recovered"], older_than_s, me, agent_gone_s)
    return [_row(r) for r in rows]


async def existing(conn: asyncpg.Connection, *, attempt_ids: list[int]) -> set[int]:
    if not attempt_ids:
        return set()
    return {r["attempt_id"] for r in await conn.fetch(Q["existing"], attempt_ids)}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentCall:
    """The call an agent is on or must dispose of, as its row says."""

    attempt_id: int
    campaign_id: int


async def calls_of_agents(
    conn: asyncpg.Connection, *, agent_ids: list[int]
) -> dict[int, AgentCall]:
    """Agent id -> the call they are on or must dispose of."""
    if not agent_ids:
        return {}
    rows = await conn.fetch(Q["calls_of_agents"], agent_ids)
    return {
        r["agent_id"]: AgentCall(attempt_id=r["attempt_id"], campaign_id=r["campaign_id"])
        for r in rows
    }


async def pops(conn: asyncpg.Connection, *, attempt_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not attempt_ids:
        return {}
    rows = await conn.fetch(Q["pops"], attempt_ids)
    return {r["attempt_id"]: json.loads(r["pop"]) if isinstance(r["pop"], str) else r["pop"]
            for r in rows}
