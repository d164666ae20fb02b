"""Campaign lists: a segment's customers become leads, minus those who may not be called.

Every member is classified once, in SQL, by the first reason that removes it:

    do_not_call            on any do-not-call list (national, financial, internal)
    no_consent             no marketing consent, when the campaign requires it
    night_window           the campaign calls only at night and there is no night consent
    invalid_phone          the stored number is not E.164
    contacted_recently     contacted within `exclude_contacted_days`
    other_active_campaign  a live lead in another running or paused campaign
    already_in_campaign    already a lead of this campaign (an earlier list)

The rest are inserted as `new` leads, ordered by customer id within the list.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import asyncpg

from config.locks import lock_key
from config.sql import load_queries
from crm.segments import NO_JIT, Segment, member_ids_sql
from dialer.errors import CampaignClosed
from dialer.store.campaigns import CampaignStatus, get_campaign, lock_campaign
from dialer.store.campaigns_config import night_only

Q = load_queries("dialer.store", "lists.sql")
REASONS = (
    "do_not_call", "no_consent", "night_window", "invalid_phone", "contacted_recently",
    "other_active_campaign", "already_in_campaign",
)  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class CampaignList:
    id: int
    campaign_id: int
    segment_id: int | None
    segment_name: str
    exclude_contacted_days: int | None
    priority: int
    candidates: int
    added: int
    suppression: dict[str, int]
    created_by: str
    created_at: dt.datetime

    @property
    def suppressed(self) -> int:
        return sum(self.suppression.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "campaign_id": self.campaign_id, "segment_id": self.segment_id,
            "segment_name": self.segment_name,
            "exclude_contacted_days": self.exclude_contacted_days, "priority": self.priority,
            "candidates": self.candidates, "added": self.added, "suppressed": self.suppressed,
            "suppression": self.suppression, "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }  # fmt: skip


def _list(row: asyncpg.Record) -> CampaignList:
    return CampaignList(**{k: row[k] for k in row.keys()})


async def build_list(
    conn: asyncpg.Connection,
    *,
    campaign_id: int,
    segment: Segment,
    exclude_contacted_days: int | None,
    priority: int,
    actor: str,
) -> CampaignList:
    """Turn the segment's members into this campaign's leads; the report counts every
    member removed, by reason (each reason present, zero or not)."""
    async with conn.transaction():
        status = await lock_campaign(conn, campaign_id=campaign_id)
        if status is CampaignStatus.STOPPED:
            raise CampaignClosed(f"campaign {campaign_id} is stopped")
        await conn.execute(NO_JIT)
        campaign = await get_campaign(conn, campaign_id=campaign_id)
        list_id = await conn.fetchval(
            Q["insert_list"], campaign_id, segment.id, segment.name, exclude_contacted_days,
            priority, actor,
        )  # fmt: skip
        members, member_params = member_ids_sql(segment)
        base = len(member_params) + 1
        slots = {f"p{i}": base + i for i in range(6)}
        query = Q["build_leads"].format(members=members, **slots)
        rows = await conn.fetch(
            query, *member_params, campaign_id, list_id, priority,
            campaign.config.compliance.require_marketing_consent,
            night_only(campaign.config.calling_window), exclude_contacted_days,
        )  # fmt: skip
        counts = {row["reason"]: row["n"] for row in rows}
        suppression = {reason: counts.get(reason, 0) for reason in REASONS}
        row = await conn.fetchrow(
            Q["finish_list"], list_id, counts.get("candidates", 0), counts.get("added", 0),
            suppression,
        )  # fmt: skip
    assert row is not None
    return _list(row)


async def campaign_lists(conn: asyncpg.Connection, *, campaign_id: int) -> list[CampaignList]:
    return [_list(row) for row in await conn.fetch(Q["campaign_lists"], campaign_id)]


async def hand_dial_list(conn: asyncpg.Connection, *, campaign_id: int) -> int:
    """The campaign's list for leads dialled by hand, made on first use. The caller holds a
    transaction; the advisory lock makes two first hand dials make one list."""
    await conn.execute(Q["lock_hand_dial_list"], lock_key(f"hand_dial_list:{campaign_id}"))
    found = await conn.fetchval(Q["hand_dial_list"], campaign_id)
    if found is not None:
        return int(found)
    return int(await conn.fetchval(Q["insert_hand_dial_list"], campaign_id))
