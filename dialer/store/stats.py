"""What the dialer tells a wallboard: today's figures per campaign, the chart's series,
the last call journeys. Reads only the dialer's own tables; the server joins orders and
the contact history from their domains."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

import asyncpg

from config.sql import load_queries

Q = load_queries("dialer.store", "stats.sql")
JOURNEY_STEPS = ("queued_at", "dialed_at", "ringing_at", "answered_at", "agent_connected_at",
                 "pop_acked_at", "order_submitted_at", "order_committed_at", "transferred_at",
                 "ended_at")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CampaignToday:
    id: int
    name: str
    status: str
    strategy: str
    compliance: dict[str, Any]
    dials: int
    live_answers: int
    connected: int
    abandoned: int
    answer_to_agent_s: tuple[float | None, float | None]  # p50, p99
    answer_to_pop_s: tuple[float | None, float | None]


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class SeriesPoint:
    campaign_id: int
    bucket: int  # epoch seconds at the bucket's start
    dials: int
    live: int
    abandoned: int


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AgentToday:
    agent_id: int
    calls: int  # calls connected to the agent
    talk_s: float  # from connect to hang-up (a call still on counts until now)
    orders: int  # calls on which an order was placed


async def agents_today(conn: asyncpg.Connection, *, since: dt.datetime) -> dict[int, AgentToday]:
    """Each agent's figures since `since` (the start of the contact centre's day)."""
    rows = await conn.fetch(Q["agents_today"], since)
    return {r["agent_id"]: AgentToday(agent_id=r["agent_id"], calls=r["calls"],
                                      talk_s=r["talk_s"], orders=r["orders"])
            for r in rows}  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Callback:
    lead_id: int
    campaign_id: int
    campaign: str
    campaign_status: str
    customer_id: int
    phone_e164: str
    callback_at: dt.datetime


async def agent_callbacks(
    conn: asyncpg.Connection, *, agent_id: int, limit: int = 50
) -> list[Callback]:
    """The agent's own callbacks still to make, soonest first."""
    rows = await conn.fetch(Q["agent_callbacks"], agent_id, limit)
    return [Callback(lead_id=r["lead_id"], campaign_id=r["campaign_id"], campaign=r["campaign"],
                     campaign_status=r["campaign_status"], customer_id=r["customer_id"],
                     phone_e164=r["phone_e164"], callback_at=r["callback_at"])
            for r in rows]  # fmt: skip


async def day_start(conn: asyncpg.Connection, *, tz: str) -> dt.datetime:
    started: dt.datetime = await conn.fetchval(Q["day_start"], tz)
    return started


async def campaigns_today(conn: asyncpg.Connection, *, tz: str) -> list[CampaignToday]:
    rows = await conn.fetch(Q["campaigns_today"], tz)
    return [
        CampaignToday(
            id=r["id"], name=r["name"], status=r["status"], strategy=r["pacing_strategy"],
            compliance=dict(r["compliance"] or {}), dials=r["dials"],
            live_answers=r["live_answers"], connected=r["connected"], abandoned=r["abandoned"],
            answer_to_agent_s=(r["a2a_p50"], r["a2a_p99"]),
            answer_to_pop_s=(r["pop_p50"], r["pop_p99"]),
        )
        for r in rows
    ]  # fmt: skip


async def series(conn: asyncpg.Connection, *, bucket_s: int, hours: int) -> list[SeriesPoint]:
    rows = await conn.fetch(Q["series"], bucket_s, hours)
    return [SeriesPoint(campaign_id=r["campaign_id"], bucket=r["bucket"], dials=r["dials"],
                        live=r["live"], abandoned=r["abandoned"]) for r in rows]


async def recent_journeys(conn: asyncpg.Connection, *, limit: int) -> list[dict[str, Any]]:
    """The last journeys, newest first: every column of call_journeys plus `campaign`."""
    return [dict(r) for r in await conn.fetch(Q["recent_journeys"], limit)]


async def campaigns_of_attempts(
    conn: asyncpg.Connection, *, attempt_ids: Sequence[int]
) -> dict[int, int]:
    if not attempt_ids:
        return {}
    rows = await conn.fetch(Q["campaigns_of_attempts"], list(attempt_ids))
    return {r["attempt_id"]: r["campaign_id"] for r in rows}


async def campaign_names(
    conn: asyncpg.Connection, *, campaign_ids: Sequence[int]
) -> dict[int, str]:
    if not campaign_ids:
        return {}
    rows = await conn.fetch(Q["campaign_names"], list(set(campaign_ids)))
    return {r["id"]: r["name"] for r in rows}
