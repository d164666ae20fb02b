"""The hopper: leads leased from a campaign's lists, re-checked by the compliance guard.

A lease is a claim with an expiry (`FOR UPDATE SKIP LOCKED` picks, an UPDATE stamps the
owner): several dialers can share a campaign without dialling a lead twice, and a dead
dialer's leads come back when their leases run out. A live call keeps its lease alive
with `extend_leases`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
from collections.abc import Awaitable, Callable

import asyncpg

from config.sql import load_queries
from dialer.core.calls import CallState
from dialer.core.compliance import (
    Allowed,
    AttemptRecord,
    ComplianceSettings,
    LeadRecord,
    Refusal,
    Rule,
    check_lead,
)
from dialer.core.timezones import CallingWindow, in_window, lead_zones

Q = load_queries("dialer.store", "hopper.sql")

# Leads screened between two returns to the event loop. Placing a lead in its time zones
# parses its number (phonenumbers, ~0.1 ms): a tick of 50 leads held the dialer's loop for
# 4-7 ms in one piece, and a screen pop (or an ack) due meanwhile waited for all of it.
SCREEN_BATCH = 8
DEFAULT_LEASE_S = 60.0  # a call in progress renews its lease well before this runs out


class LeadStatus(enum.StrEnum):
    NEW = "new"
    LEASED = "leased"
    DONE = "done"
    DNC = "dnc"
    EXHAUSTED = "exhausted"
    FOLLOW_UP = "follow_up"  # its call was cut by a crash after a person answered


# What a refusal does to the lead: closed for good, or held back for a while.
_HOLD_BACK_S: dict[Rule, float] = {
    Rule.CALLING_WINDOW: 15 * 60.0,
    Rule.NIGHT_CONSENT: 15 * 60.0,
    Rule.RETRY_DELAY: 10 * 60.0,
    Rule.ATTEMPTS_PER_DAY: 6 * 3600.0,
    Rule.UK_ABANDON_REDIAL: 3600.0,
    Rule.NO_MARKETING_CONSENT: 24 * 3600.0,  # consent may yet be recorded
}
_CLOSES: dict[Rule, LeadStatus] = {
    Rule.DO_NOT_CALL: LeadStatus.DNC,
    Rule.ATTEMPTS_TOTAL: LeadStatus.EXHAUSTED,
}


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LeasedLead:
    lead_id: int
    campaign_id: int
    customer_id: int
    phone_e164: str
    priority: int
    position: int
    attempts: int
    callback_at: dt.datetime | None = None
    callback_agent_id: int | None = None
    # Dialled by hand: the lead's status before (MADE_BY_HAND: the dial made it), what a
    # skip puts back; None for a lead the hopper gave.
    by_hand: str | None = None


MADE_BY_HAND = "made"


def _leased(row: asyncpg.Record, *, by_hand: str | None = None) -> LeasedLead:
    return LeasedLead(
        lead_id=row["id"], campaign_id=row["campaign_id"], customer_id=row["customer_id"],
        phone_e164=row["phone_e164"], priority=row["priority"], position=row["position"],
        attempts=row["attempts"], callback_at=row["callback_at"],
        callback_agent_id=row["callback_agent_id"], by_hand=by_hand,
    )  # fmt: skip


def claim_order(lead: LeasedLead) -> tuple[bool, int, int, int]:
    """The hopper's order as a sort key: due callbacks, priority (low first), list order."""
    return (lead.callback_at is None, lead.priority, lead.position, lead.lead_id)


async def lease_leads(
    conn: asyncpg.Connection,
    *,
    campaign_id: int,
    owner: str,
    count: int,
    now: dt.datetime,
    lease_s: float = DEFAULT_LEASE_S,
) -> list[LeasedLead]:
    """Lease up to `count` leads, in claim order."""
    if count <= 0:
        return []
    rows = await conn.fetch(Q["lease_leads"], campaign_id, owner, count, now, lease_s)
    return sorted((_leased(r) for r in rows), key=claim_order)


async def lease_for_agent(
    conn: asyncpg.Connection,
    *,
    campaign_id: int,
    owner: str,
    agent_id: int,
    now: dt.datetime,
    lease_s: float = DEFAULT_LEASE_S,
) -> LeasedLead | None:
    """Preview mode: one lead for one agent, their own due callbacks first."""
    row = await conn.fetchrow(Q["lease_one_for_agent"], campaign_id, owner, agent_id, now, lease_s)
    return _leased(row) if row else None


async def lease_callback_for_agent(
    conn: asyncpg.Connection,
    *,
    campaign_id: int,
    owner: str,
    agent_id: int,
    lead_id: int,
    now: dt.datetime,
    lease_s: float = DEFAULT_LEASE_S,
) -> LeasedLead | None:
    """Preview mode: the agent's own callback `lead_id`, chosen from their list; None when
    it is not theirs, not in this campaign, done, or on a call already."""
    row = await conn.fetchrow(Q["lease_callback_for_agent"], campaign_id, owner, agent_id, now,
                              lease_s, lead_id)  # fmt: skip
    return _leased(row) if row else None


def _outcome(value: str) -> CallState | None:
    try:
        return CallState(value)
    except ValueError:
        return None


async def lead_records(
    conn: asyncpg.Connection, *, campaign_id: int, lead_ids: list[int]
) -> dict[int, LeadRecord]:
    """The compliance guard's view of each lead, read at dial time."""
    rows = await conn.fetch(Q["lead_facts"], lead_ids, campaign_id)
    records: dict[int, LeadRecord] = {}
    for r in rows:
        attempts = tuple(
            AttemptRecord(at=at, outcome=state)
            for at, raw in zip(r["ats"] or (), r["outcomes"] or (), strict=True)
            if (state := _outcome(raw)) is not None
        )
        records[r["lead_id"]] = LeadRecord(
            lead_id=r["lead_id"], phone_e164=r["phone_e164"], tz_override=r["tz"],
            dnc=r["dnc"], consent_marketing=r["consent_marketing"],
            consent_night=r["consent_night"], attempts=attempts,
            last_abandoned_at=r["last_abandoned_at"],
        )  # fmt: skip
    return records


async def refuse(
    conn: asyncpg.Connection,
    *,
    campaign_id: int,
    owner: str,
    refusal: Refusal,
    now: dt.datetime,
) -> None:
    """Record a refusal with its rule and close the lead or hold it back."""
    lead_id = refusal.lead_id
    await conn.execute(
        Q["insert_refusal"], campaign_id, lead_id, refusal.rule.value, refusal.detail
    )
    if lead_id is None:
        return
    closes = _CLOSES.get(refusal.rule)
    if closes is not None:
        await conn.execute(Q["refuse_lead"], lead_id, owner, closes.value, None)
        return
    hold_s = _HOLD_BACK_S.get(refusal.rule, 15 * 60.0)
    await conn.execute(
        Q["refuse_lead"], lead_id, owner, LeadStatus.NEW.value, now + dt.timedelta(seconds=hold_s)
    )


def _verdict(
    record: LeadRecord,
    settings: ComplianceSettings,
    now: dt.datetime,
    campaign_window: CallingWindow | None,
) -> Allowed | Refusal:
    """The legal rules, then the campaign's own calling hours (callee local time)."""
    verdict = check_lead(record, settings, now)
    if isinstance(verdict, Allowed) and campaign_window is not None:
        zones = lead_zones(record.phone_e164, record.tz_override, settings.default_tz)
        if not in_window(now, zones, campaign_window):
            verdict = Refusal(rule=Rule.CALLING_WINDOW, lead_id=record.lead_id,
                              detail="outside the campaign's calling hours in "
                                     + ", ".join(z.key for z in zones))  # fmt: skip
    return verdict


async def screen(
    conn: asyncpg.Connection,
    *,
    leads: list[LeasedLead],
    settings: ComplianceSettings,
    owner: str,
    now: dt.datetime,
    campaign_window: CallingWindow | None = None,
) -> list[LeasedLead]:
    """The compliance guard at dial time: the leads that may be dialled now, in order.

    The campaign's own calling hours (callee local time) apply on top of the legal rules.
    Every refused lead is recorded with its rule and released."""
    if not leads:
        return []
    facts = await lead_records(
        conn, campaign_id=leads[0].campaign_id, lead_ids=[lead.lead_id for lead in leads]
    )
    allowed: list[LeasedLead] = []
    for i, lead in enumerate(leads):
        if i and i % SCREEN_BATCH == 0:
            await asyncio.sleep(0)
        record = facts.get(lead.lead_id)
        if record is None:  # the lead vanished: let the lease lapse
            continue
        verdict = _verdict(record, settings, now, campaign_window)
        if isinstance(verdict, Allowed):
            allowed.append(lead)
        else:
            await refuse(conn, campaign_id=lead.campaign_id, owner=owner, refusal=verdict, now=now)
    return allowed


async def extend_leases(
    conn: asyncpg.Connection,
    *,
    lead_ids: list[int],
    owner: str,
    now: dt.datetime,
    lease_s: float = DEFAULT_LEASE_S,
) -> None:
    if lead_ids:
        await conn.execute(Q["extend_leases"], lead_ids, owner, now, lease_s)


async def give_back(conn: asyncpg.Connection, *, lead: LeasedLead, owner: str) -> None:
    """Release a lease that was not dialled. A lead dialled by hand goes back as it was
    (one made for the dial is removed), so a skip does not hand it to the dialer."""
    if lead.by_hand == MADE_BY_HAND:
        await conn.execute(Q["drop_hand_lead"], lead.lead_id, owner)
    elif lead.by_hand is not None:
        await conn.execute(Q["give_back_by_hand"], lead.lead_id, owner, lead.by_hand)
    else:
        await conn.execute(Q["give_back"], lead.lead_id, owner)


async def finish(
    conn: asyncpg.Connection,
    *,
    lead_id: int,
    owner: str,
    status: LeadStatus,
    outcome: str,
    next_attempt_at: dt.datetime | None = None,
    callback_at: dt.datetime | None = None,
    callback_agent_id: int | None = None,
) -> bool:
    """Count the attempt and close the lead or give it back; False if the lease was lost."""
    row = await conn.fetchrow(
        Q["finish_lead"], lead_id, owner, status.value, outcome, next_attempt_at,
        callback_at, callback_agent_id,
    )  # fmt: skip
    return row is not None


async def take_lead(conn: asyncpg.Connection, *, lead_id: int, owner: str) -> bool:
    """Move a dead process's lease to `owner` (to close the call it left)."""
    return await conn.fetchval(Q["take_lead"], lead_id, owner) is not None


async def finish_follow_up(
    conn: asyncpg.Connection,
    *,
    lead_id: int,
    status: LeadStatus,
    outcome: str,
    next_attempt_at: dt.datetime | None = None,
    callback_at: dt.datetime | None = None,
    callback_agent_id: int | None = None,
) -> bool:
    """A recovered call's disposition moves its lead on from `follow_up`."""
    row = await conn.fetchrow(
        Q["finish_follow_up"],
        lead_id,
        status.value,
        outcome,
        next_attempt_at,
        callback_at,
        callback_agent_id,
    )
    return row is not None


async def follow_ups(conn: asyncpg.Connection) -> dict[int, int]:
    """Leads in follow-up, by campaign."""
    return {r["campaign_id"]: r["n"] for r in await conn.fetch(Q["follow_up_count"])}


async def lead_attempts(conn: asyncpg.Connection, *, lead_id: int) -> int:
    return int(await conn.fetchval(Q["lead_attempts"], lead_id) or 0)


class HandDialRefused(enum.StrEnum):
    """Why a number dialled by hand has no lead to call (the desktop's error codes)."""

    NOT_A_CUSTOMER = "not_a_customer"  # register the customer first
    LEAD_BUSY = "lead_busy"  # another agent or the dialer holds the customer's lead


async def lease_by_hand(
    conn: asyncpg.Connection,
    *,
    campaign_id: int,
    list_id: Callable[[], Awaitable[int]],
    owner: str,
    phone_e164: str,
    now: dt.datetime,
    lease_s: float = DEFAULT_LEASE_S,
) -> LeasedLead | HandDialRefused:
    """A number an agent dials by hand: its customer's lead in the campaign, leased (made
    now in the list `list_id` gives, if there was none). The caller holds a transaction and
    rolls it back when the guard refuses, so a refused hand dial leaves no lead."""
    customer_id = await conn.fetchval(Q["customer_of_phone"], phone_e164)
    if customer_id is None:
        return HandDialRefused.NOT_A_CUSTOMER
    row = await conn.fetchrow(Q["lease_customer_for_agent"], campaign_id, owner, customer_id,
                              now, lease_s)  # fmt: skip
    if row is not None:
        return _leased(row, by_hand=row["was"])
    row = await conn.fetchrow(Q["insert_hand_lead"], campaign_id, await list_id(), customer_id,
                              owner, now, lease_s)  # fmt: skip
    if row is None:  # the lead exists and someone holds it
        return HandDialRefused.LEAD_BUSY
    return _leased(row, by_hand=MADE_BY_HAND)


async def judge(
    conn: asyncpg.Connection,
    *,
    lead: LeasedLead,
    settings: ComplianceSettings,
    now: dt.datetime,
    campaign_window: CallingWindow | None = None,
) -> Refusal | None:
    """The compliance guard on one lead, writing nothing (as `screen` judges; a hand dial
    records the refusal itself, after undoing its lease)."""
    facts = await lead_records(conn, campaign_id=lead.campaign_id, lead_ids=[lead.lead_id])
    record = facts.get(lead.lead_id)
    if record is None:
        raise LookupError(f"lead {lead.lead_id} vanished")  # leased in this transaction
    verdict = _verdict(record, settings, now, campaign_window)
    return verdict if isinstance(verdict, Refusal) else None


async def record_refusal(conn: asyncpg.Connection, *, campaign_id: int, refusal: Refusal) -> None:
    """Keep a refusal without touching its lead (a hand dial's: the agent is told)."""
    await conn.execute(
        Q["insert_refusal"], campaign_id, refusal.lead_id, refusal.rule.value, refusal.detail
    )
