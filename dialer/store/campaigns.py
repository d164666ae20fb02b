"""Campaigns: settings, status (draft → running ⇄ paused → stopped) and their history."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from typing import Any

import asyncpg

from config.sql import load_queries
from dialer.core.pacing.registry import strategy_class
from dialer.errors import (
    CampaignClosed,
    CampaignNotFound,
    CampaignNotReady,
    IllegalTransition,
    UnknownStrategy,
)
from dialer.store.campaigns_config import CampaignConfig, CampaignPatch, apply_patch, render_script

Q = load_queries("dialer.store", "campaigns.sql")


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"


class Action(enum.StrEnum):
    START = "start"
    PAUSE = "pause"
    STOP = "stop"


# action → (statuses it may start from, status it leads to)
TRANSITIONS: dict[Action, tuple[frozenset[CampaignStatus], CampaignStatus]] = {
    Action.START: (frozenset({CampaignStatus.DRAFT, CampaignStatus.PAUSED}),
                   CampaignStatus.RUNNING),
    Action.PAUSE: (frozenset({CampaignStatus.RUNNING}), CampaignStatus.PAUSED),
    Action.STOP: (frozenset({CampaignStatus.DRAFT, CampaignStatus.RUNNING,
                             CampaignStatus.PAUSED}), CampaignStatus.STOPPED),
}  # fmt: skip


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class Campaign:
    id: int
    status: CampaignStatus
    config: CampaignConfig
    lead_counts: dict[str, int]
    created_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    stopped_at: dt.datetime | None

    @property
    def leads_total(self) -> int:
        return sum(self.lead_counts.values())

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status.value, **self.config.model_dump(mode="json"),
            "lead_counts": self.lead_counts, "leads_total": self.leads_total,
            "created_by": self.created_by, "created_at": self.created_at.isoformat(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "stopped_at": self.stopped_at.isoformat() if self.stopped_at else None,
        }  # fmt: skip


def _campaign(row: asyncpg.Record) -> Campaign:
    config = CampaignConfig.model_validate({
        "name": row["name"], "pacing_strategy": row["pacing_strategy"],
        "pacing_settings": row["pacing_settings"], "calling_window": row["calling_window"],
        "compliance": row["compliance"], "script": row["script"],
        "data_source_line": row["data_source_line"], "dispositions": row["dispositions"],
        "callbacks": row["callbacks"], "telephony": row["telephony"],
    })  # fmt: skip
    return Campaign(
        id=row["id"], status=CampaignStatus(row["status"]), config=config,
        lead_counts=dict(row["lead_counts"]), created_by=row["created_by"],
        created_at=row["created_at"], started_at=row["started_at"], stopped_at=row["stopped_at"],
    )  # fmt: skip


def _columns(config: CampaignConfig) -> tuple[Any, ...]:
    doc = config.model_dump(mode="json")
    return (
        doc["name"], doc["pacing_strategy"], doc["pacing_settings"], doc["calling_window"],
        doc["compliance"], doc["script"], doc["data_source_line"], doc["dispositions"],
        doc["callbacks"], doc["telephony"],
    )  # fmt: skip


async def create_campaign(
    conn: asyncpg.Connection, *, config: CampaignConfig, actor: str
) -> Campaign:
    campaign_id = await conn.fetchval(Q["insert_campaign"], *_columns(config), actor)
    return await get_campaign(conn, campaign_id=campaign_id)


async def get_campaign(conn: asyncpg.Connection, *, campaign_id: int) -> Campaign:
    row = await conn.fetchrow(Q["get_campaign"], campaign_id)
    if row is None:
        raise CampaignNotFound(f"campaign {campaign_id}")
    return _campaign(row)


async def list_campaigns(conn: asyncpg.Connection) -> list[Campaign]:
    return [_campaign(row) for row in await conn.fetch(Q["list_campaigns"])]


async def lock_campaign(conn: asyncpg.Connection, *, campaign_id: int) -> CampaignStatus:
    """Lock the campaign row for the caller's transaction; its status."""
    status = await conn.fetchval(Q["lock_campaign"], campaign_id)
    if status is None:
        raise CampaignNotFound(f"campaign {campaign_id}")
    return CampaignStatus(status)


async def update_campaign(
    conn: asyncpg.Connection, *, campaign_id: int, patch: CampaignPatch
) -> Campaign:
    async with conn.transaction():
        status = await lock_campaign(conn, campaign_id=campaign_id)
        if status is CampaignStatus.STOPPED:
            raise CampaignClosed(f"campaign {campaign_id} is stopped")
        current = await get_campaign(conn, campaign_id=campaign_id)
        config = apply_patch(current.config, patch)
        await conn.execute(Q["update_campaign"], campaign_id, *_columns(config))
    return await get_campaign(conn, campaign_id=campaign_id)


def _ready_to_start(campaign: Campaign) -> None:
    if campaign.leads_total == 0:
        raise CampaignNotReady("it has no leads: add a list first")
    if not campaign.config.data_source_line.strip():
        # 정보통신망법 §50: a live telemarketer says where the customer's data came from.
        raise CampaignNotReady("set the data source line the agent reads to the customer")
    try:
        strategy_class(campaign.config.pacing_strategy)
    except UnknownStrategy as exc:
        raise CampaignNotReady(str(exc)) from exc


async def change_status(
    conn: asyncpg.Connection, *, campaign_id: int, action: Action, actor: str
) -> Campaign:
    """Start, pause or stop; `IllegalTransition` when the current status does not allow it."""
    allowed, target = TRANSITIONS[action]
    async with conn.transaction():
        status = await lock_campaign(conn, campaign_id=campaign_id)
        if status not in allowed:
            raise IllegalTransition(f"cannot {action.value} a {status.value} campaign")
        if action is Action.START:
            _ready_to_start(await get_campaign(conn, campaign_id=campaign_id))
        await conn.fetchval(Q["set_status"], campaign_id, target.value, [s.value for s in allowed])
        await conn.execute(Q["insert_event"], campaign_id, status.value, target.value, actor)
    return await get_campaign(conn, campaign_id=campaign_id)


async def status_history(conn: asyncpg.Connection, *, campaign_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(Q["list_events"], campaign_id)
    return [
        {"at": r["at"].isoformat(), "from": r["from_status"], "to": r["to_status"],
         "actor": r["actor"]}
        for r in rows
    ]  # fmt: skip


async def script_preview(conn: asyncpg.Connection, *, campaign: Campaign, agent: str) -> str:
    """The script and data-source line as an agent would read them to the first lead."""
    row = await conn.fetchrow(Q["first_lead_customer"], campaign.id)
    name = row["name"] if row else "홍길동"
    fields = {
        "name": name, "first_name": name.split(" ")[0] if name else "",
        "region": row["region"] if row else "", "agent": agent,
        "campaign": campaign.config.name, "last_purchase_date": "",
    }  # fmt: skip
    text = render_script(campaign.config.script, fields)
    line = render_script(campaign.config.data_source_line, fields)
    return f"{line}\n\n{text}".strip() if line else text
