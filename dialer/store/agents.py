"""Agents' sessions and presence (`agent_sessions`): written by the web node holding an
agent's desktops (presence, heartbeat) and by the desk of the agent's campaign (state).
A desk that takes a campaign over finds its agents here."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import asyncpg

from config.sql import load_queries
from dialer.core.agents import AgentState
from dialer.store import calls

Q = load_queries("dialer.store", "agents.sql")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Session:
    agent_id: int
    username: str
    node: str | None
    connections: int
    campaign_id: int | None
    state: str
    pause_reason: str | None
    preview: bool
    attempt_id: int | None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentStateRow:
    agent_id: int
    username: str
    campaign_id: int | None
    state: str
    pause_reason: str | None
    preview: bool
    attempt_id: int | None


def _session(r: asyncpg.Record) -> Session:
    return Session(
        agent_id=r["agent_id"],
        username=r["username"],
        node=r["node"],
        connections=r["connections"],
        campaign_id=r["campaign_id"],
        state=r["state"],
        pause_reason=r["pause_reason"],
        preview=r["preview"],
        attempt_id=r["attempt_id"],
    )


async def connected(
    conn: asyncpg.Connection, *, agent_id: int, username: str, node: str, connections: int
) -> Session:
    """A desktop opened on `node`, where the agent now has `connections` open."""
    async with conn.transaction():
        # the session's row first (locked by the upsert), then the desktops: `beat` and
        # `disconnected` take them in that order too
        await conn.execute(Q["connected"], agent_id, username, node)
        await conn.execute(Q["desktop_opened"], agent_id, node, connections)
        session = _session(await conn.fetchrow(Q["presence"], agent_id))
    return (await as_calls_say(conn, [session]))[0]


async def as_calls_say(conn: asyncpg.Connection, sessions: Sequence[Session]) -> list[Session]:
    """Sessions as the call rows say. The desk saves sessions in batches, so when its
    process dies just after a call reached the agent, the session may still say ready,
    or offline with no campaign if the agent had only just logged in; the call's row
    (written before the call is acted on) says the agent is on that call, and restored
    otherwise they would get a new call, or none at all, before that one came back."""
    on = await calls.calls_of_agents(conn, agent_ids=[s.agent_id for s in sessions])
    out = []
    for s in sessions:
        call = on.get(s.agent_id)
        if call is not None and (
            s.attempt_id != call.attempt_id
            or s.campaign_id is None
            or s.state == AgentState.OFFLINE.value
        ):
            s = dataclasses.replace(
                s,
                state=AgentState.ON_CALL.value,
                attempt_id=call.attempt_id,
                campaign_id=call.campaign_id,
            )
        out.append(s)
    return out


async def disconnected(
    conn: asyncpg.Connection, *, agent_id: int, node: str, connections: int
) -> None:
    """A desktop closed on `node`, where `connections` are left open; the agent may still
    have desktops on other nodes."""
    async with conn.transaction():
        await conn.execute(Q["lock_session"], agent_id)  # first, as everywhere (beat)
        if connections > 0:
            await conn.execute(Q["desktop_opened"], agent_id, node, connections)
        else:
            await conn.execute(Q["desktop_closed"], agent_id, node)
        await conn.execute(Q["presence"], agent_id)


async def beat(conn: asyncpg.Connection, *, agent_ids: Sequence[int], node: str) -> None:
    if agent_ids:
        await conn.execute(Q["beat"], list(agent_ids), node)


async def save_states(conn: asyncpg.Connection, rows: Sequence[AgentStateRow]) -> None:
    if not rows:
        return
    await conn.execute(
        Q["save_states"], [r.agent_id for r in rows], [r.username for r in rows],
        [r.campaign_id for r in rows], [r.state for r in rows],
        [r.pause_reason for r in rows], [r.preview for r in rows],
        [r.attempt_id for r in rows],
    )  # fmt: skip


async def wish_ready(
    conn: asyncpg.Connection, *, agent_id: int, campaign_id: int, preview: bool
) -> None:
    await conn.execute(Q["wish_ready"], agent_id, campaign_id, preview)


async def one(conn: asyncpg.Connection, *, agent_id: int) -> Session | None:
    row = await conn.fetchrow(Q["one"], agent_id)
    return _session(row) if row is not None else None


async def of_campaigns(
    conn: asyncpg.Connection,
    *,
    campaign_ids: Sequence[int],
    fresh_s: float,
    leave_out: Sequence[int] = (),
) -> list[Session]:
    if not campaign_ids:
        return []
    rows = await conn.fetch(Q["of_campaigns"], list(campaign_ids), list(leave_out), fresh_s)
    return [_session(r) for r in rows]


async def gone(conn: asyncpg.Connection, *, agent_ids: Sequence[int], stale_s: float) -> set[int]:
    if not agent_ids:
        return set()
    return {r["agent_id"] for r in await conn.fetch(Q["gone"], list(agent_ids), stale_s)}


async def beating(
    conn: asyncpg.Connection, *, agent_ids: Sequence[int], fresh_s: float
) -> set[int]:
    if not agent_ids:
        return set()
    return {r["agent_id"] for r in await conn.fetch(Q["beating"], list(agent_ids), fresh_s)}


async def wanting_campaigns(conn: asyncpg.Connection, *, fresh_s: float) -> set[int]:
    return {r["campaign_id"] for r in await conn.fetch(Q["wanting_campaigns"], fresh_s)}


async def board(conn: asyncpg.Connection, *, fresh_s: float) -> list[dict[str, Any]]:
    """Agents as their sessions say (the wallboard of a node that runs no desk of theirs)."""
    return [dict(r) for r in await conn.fetch(Q["board"], fresh_s)]
