"""Closing the calls a dead dialer process left behind (or a stopping one leaves).

A call not yet answered is closed as `interrupted` and its lead may be dialled again after
the usual retry delay. A call a person had answered is never dialled again by itself: its
lead goes to `follow_up` (a person decides). When an agent was on it, the call is given
back to that agent in wrap-up (`recovered`) and its attempt is written with the
disposition they save; if nobody saves one within `RECOVERED_WAIT_S` (or the agent has no
desktop anywhere for `AGENT_GONE_S`), it is written without.
"""

from __future__ import annotations

import logging
from typing import Any

import asyncpg

from crm import contacts, dnc
from dialer.core.calls import CallState
from dialer.live.campaign import load_live_campaign
from dialer.live.outcomes import DispositionEntry, after_dial, after_disposition
from dialer.store import calls, hopper, journeys
from dialer.store.calls import LiveCallRow, LiveState
from dialer.store.hopper import LeadStatus, LeasedLead
from dialer.store.journeys import utcnow

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted"  # the attempt's outcome when its process died before an answer
RECOVERED_WAIT_S = 900.0  # a recovered call waits this long for its agent's disposition
AGENT_GONE_S = 300.0  # ... or this long when the agent has no desktop open anywhere


async def _attempt(conn: asyncpg.Connection, row: LiveCallRow, *, outcome: str,
                   disposition: str | None, details: dict[str, Any]) -> None:
    await contacts.record_attempt(conn, contacts.Attempt(
        attempt_id=row.attempt_id, customer_id=row.customer_id, campaign_id=row.campaign_id,
        phone_e164=row.phone_e164, at=row.dialed_at, outcome=outcome, disposition=disposition,
        agent_id=row.agent_id, details=details,
    ))  # fmt: skip


async def close_taken(conn: asyncpg.Connection, row: LiveCallRow, *, me: str,
                      dead: str) -> bool:
    """Close one call taken over from `dead` (now owned by `me`), in the caller's
    transaction. True when it waits for its agent's disposition."""
    campaign = await load_live_campaign(conn, row.campaign_id)
    attempts = await hopper.lead_attempts(conn, lead_id=row.lead_id)
    await hopper.take_lead(conn, lead_id=row.lead_id, owner=me)
    details: dict[str, Any] = {"lead_id": row.lead_id, "dialer": me, "mode": row.mode,
                               "interrupted": True, "dead_dialer": dead,
                               "state": row.state.value}
    if row.state is LiveState.DIALING:
        await journeys.close_after_crash(conn, attempt_id=row.attempt_id,
                                          outcome=INTERRUPTED)
        await _attempt(conn, row, outcome=INTERRUPTED, disposition=None, details=details)
        step = after_dial(campaign, attempts, CallState.NO_ANSWER, utcnow())
        await hopper.finish(conn, lead_id=row.lead_id, owner=me, status=step.status,
                            outcome=INTERRUPTED, next_attempt_at=step.next_attempt_at)
        await calls.delete(conn, attempt_id=row.attempt_id, owner=me)
        return False
    # A person answered: never dialled again by itself.
    order_id = await journeys.close_after_crash(conn, attempt_id=row.attempt_id,
                                          outcome=INTERRUPTED)
    if order_id is not None:
        details["order_id"] = order_id
    await hopper.finish(conn, lead_id=row.lead_id, owner=me, status=LeadStatus.FOLLOW_UP,
                        outcome=CallState.ANSWERED_LIVE.value)
    if row.agent_id is not None and row.state in (LiveState.CONNECTED, LiveState.WRAP_UP):
        await calls.mark_recovered(conn, attempt_id=row.attempt_id, owner=me)
        return True
    await _attempt(conn, row, outcome=CallState.ANSWERED_LIVE.value, disposition=None,
                   details=details)
    await calls.delete(conn, attempt_id=row.attempt_id, owner=me)
    return False


async def close_dead_owner(pool: asyncpg.Pool, *, dead: str, me: str) -> list[LiveCallRow]:
    """Take over and close every call of `dead`; the ones given back to agents."""
    async with pool.acquire() as conn, conn.transaction():
        taken = await calls.take_calls(conn, dead=dead, me=me)
        given_back = [row for row in taken
                      if await close_taken(conn, row, me=me, dead=dead)]
    if taken:
        log.warning("closed %d call(s) of dialer %s (%d back to their agents)", len(taken),
                    dead, len(given_back))
    return given_back


async def dispose_recovered(conn: asyncpg.Connection, row: LiveCallRow,
                            entry: DispositionEntry) -> None:
    """The agent saved the disposition of a recovered call: its attempt, its lead."""
    campaign = await load_live_campaign(conn, row.campaign_id)
    async with conn.transaction():
        if not await calls.delete(conn, attempt_id=row.attempt_id, owner=None):
            return  # written already (timed out, or disposed twice)
        attempts = max(1, await hopper.lead_attempts(conn, lead_id=row.lead_id))
        lead = LeasedLead(lead_id=row.lead_id, campaign_id=row.campaign_id,
                          customer_id=row.customer_id, phone_e164=row.phone_e164,
                          priority=0, position=0, attempts=attempts - 1)
        step = after_disposition(campaign, lead, entry, utcnow())
        order_id = await journeys.close_after_crash(conn, attempt_id=row.attempt_id,
                                                    outcome=entry.code)
        details: dict[str, Any] = {"lead_id": row.lead_id, "mode": row.mode,
                                   "interrupted": True, "note": entry.note}
        if order_id is not None:
            details["order_id"] = order_id
        await _attempt(conn, row, outcome=CallState.ANSWERED_LIVE.value,
                       disposition=entry.code, details=details)
        if step.status is LeadStatus.DNC:
            await dnc.add_internal(
                conn, phone_e164=row.phone_e164,
                source=f"agent {row.agent_id} on attempt {row.attempt_id}",
                actor=f"agent:{row.agent_id}",
            )  # fmt: skip
        await hopper.finish_follow_up(
            conn, lead_id=row.lead_id, status=step.status,
            outcome=CallState.ANSWERED_LIVE.value, next_attempt_at=step.next_attempt_at,
            callback_at=step.callback_at, callback_agent_id=step.callback_agent_id,
        )  # fmt: skip


async def expire_recovered(pool: asyncpg.Pool, *, me: str) -> int:
    """Recovered calls nobody disposed in time: written without a disposition (their
    leads stay in follow-up)."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await calls.take_stale_recovered(conn, older_than_s=RECOVERED_WAIT_S,
                                                agent_gone_s=AGENT_GONE_S, me=me)
        for row in rows:
            await _attempt(conn, row, outcome=CallState.ANSWERED_LIVE.value, disposition=None,
                           details={"lead_id": row.lead_id, "mode": row.mode,
                                    "interrupted": True, "no_disposition": True})
            await calls.delete(conn, attempt_id=row.attempt_id, owner=me)
    return len(rows)
