"""The contact history: each attempt to reach a customer, appended when it ends.

The dialer records its attempts here (the CRM timeline is crm's table); screens read a
customer's last contacts and the answers a campaign had over its compliance window.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

import asyncpg

from config.sql import load_queries

Q = load_queries("crm", "contacts.sql")


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Attempt:
    attempt_id: int  # reserved when the dial started (orders taken during it carry it)
    customer_id: int
    campaign_id: int | None
    phone_e164: str
    at: dt.datetime  # when the dial started
    outcome: str  # answered_live, abandoned, busy, no_answer, ...
    disposition: str | None = None  # the agent's code, when an agent had the call
    agent_id: int | None = None
    details: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Contact:
    attempt_id: int
    at: dt.datetime
    campaign_id: int | None
    outcome: str
    disposition: str | None
    agent_id: int | None
    note: str | None


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class AnswerCounts:
    live: int  # live answers, abandoned ones included
    abandoned: int


async def reserve_attempt_ids(conn: asyncpg.Connection, *, count: int) -> list[int]:
    """Ids for attempts about to be dialed (recorded with them when they end)."""
    if count <= 0:
        return []
    return [r["id"] for r in await conn.fetch(Q["reserve_attempt_ids"], count)]


async def record_attempt(conn: asyncpg.Connection, attempt: Attempt) -> None:
    """Append a finished attempt to the customer's timeline (the caller's transaction)."""
    a = attempt
    await conn.execute(
        Q["insert_attempt"], a.attempt_id, a.customer_id, a.campaign_id, a.phone_e164, a.at,
        a.outcome, a.disposition, a.agent_id, dict(a.details),
    )  # fmt: skip


async def recent_contacts(
    conn: asyncpg.Connection, *, customer_id: int, limit: int = 10
) -> list[Contact]:
    rows = await conn.fetch(Q["recent_contacts"], customer_id, limit)
    return [
        Contact(attempt_id=r["id"], at=r["at"], campaign_id=r["campaign_id"],
                outcome=r["outcome"], disposition=r["disposition"], agent_id=r["agent_id"],
                note=r["note"])
        for r in rows
    ]  # fmt: skip


async def campaign_answers_since(
    conn: asyncpg.Connection, *, campaign_id: int, since: dt.datetime
) -> list[tuple[float, str]]:
    """(epoch seconds, outcome) of a campaign's answers since `since`, oldest first."""
    rows = await conn.fetch(Q["campaign_answers_since"], campaign_id, since)
    return [(r["at_s"], r["outcome"]) for r in rows]


async def answer_counts(
    conn: asyncpg.Connection, *, windows_s: Mapping[int, float]
) -> dict[int, AnswerCounts]:
    """Each campaign's live answers and abandons over its own window (seconds)."""
    if not windows_s:
        return {}
    ids = list(windows_s)
    rows = await conn.fetch(Q["answer_counts"], ids, [windows_s[i] for i in ids])
    return {r["campaign_id"]: AnswerCounts(live=r["live"], abandoned=r["abandoned"])
            for r in rows}
