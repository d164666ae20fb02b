"""Each call's journey: every step timestamped, stored per attempt, measured as latencies."""

from __future__ import annotations

import dataclasses
import datetime as dt

import asyncpg

from config.sql import load_queries

Q = load_queries("dialer.store", "journeys.sql")

# Latency names; the server exports each as telemart_<name>_seconds.
DIAL_TO_ANSWER = "dial_to_answer"
ANSWER_TO_AGENT = "answer_to_agent"
ANSWER_TO_SCREEN_POP = "answer_to_screen_pop"
ORDER_SUBMIT = "order_submit"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclasses.dataclass(kw_only=True, slots=True)
class Journey:
    """Mutable while the call runs; saved at each milestone."""

    attempt_id: int
    campaign_id: int | None  # None: an inbound call (no campaign, no lead)
    lead_id: int | None
    dialer: str
    mode: str = "predictive"
    agent_id: int | None = None
    outcome: str | None = None
    queued_at: dt.datetime
    dialed_at: dt.datetime | None = None
    ringing_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    agent_connected_at: dt.datetime | None = None
    pop_acked_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    transferred_at: dt.datetime | None = None  # the last transfer (issue 14)
    transferred_from: int | None = None  # the agent who had the call before it

    def hand_over(self, agent_id: int, at: dt.datetime) -> None:
        """The call was transferred: the new agent holds it (and is named at the end, for
        outbound and inbound calls alike); the one who had it is kept beside it."""
        self.transferred_from, self.transferred_at = self.agent_id, at
        self.agent_id = agent_id


def _between(a: dt.datetime | None, b: dt.datetime | None) -> float | None:
    return (b - a).total_seconds() if a is not None and b is not None else None


def latencies(journey: Journey) -> dict[str, float]:
    """The journey's measured latencies in seconds, by name (only those that happened)."""
    found = {
        DIAL_TO_ANSWER: _between(journey.dialed_at, journey.answered_at),
        ANSWER_TO_AGENT: _between(journey.answered_at, journey.agent_connected_at),
        ANSWER_TO_SCREEN_POP: _between(journey.answered_at, journey.pop_acked_at),
    }
    return {name: s for name, s in found.items() if s is not None}


async def save(conn: asyncpg.Connection, journey: Journey) -> None:
    j = journey
    await conn.execute(
        Q["save_journey"], j.attempt_id, j.campaign_id, j.lead_id, j.agent_id, j.dialer,
        j.mode, j.outcome, j.queued_at, j.dialed_at, j.ringing_at, j.answered_at,
        j.agent_connected_at, j.pop_acked_at, j.ended_at, j.transferred_at, j.transferred_from,
    )  # fmt: skip


async def pop_acked(conn: asyncpg.Connection, *, attempt_id: int, at: dt.datetime) -> None:
    await conn.execute(Q["journey_pop_acked"], attempt_id, at)


async def order_captured(
    conn: asyncpg.Connection,
    *,
    attempt_id: int,
    order_id: int,
    submitted_at: dt.datetime,
    committed_at: dt.datetime,
) -> None:
    await conn.execute(Q["journey_order"], attempt_id, order_id, submitted_at, committed_at)


async def close_after_crash(conn: asyncpg.Connection, *, attempt_id: int,
                            outcome: str) -> int | None:
    """Close a journey its process left open; the id of the order taken on the call."""
    row = await conn.fetchrow(Q["close_journey"], attempt_id, outcome)
    return row["order_id"] if row is not None else None
