"""A running campaign as the live dialer needs it: a frozen record read from its row."""

from __future__ import annotations

import dataclasses

import asyncpg

from dialer.core.compliance import ComplianceSettings
from dialer.core.pacing.base import PacingSettings
from dialer.core.timezones import CallingWindow
from dialer.store.campaigns import Campaign, get_campaign
from dialer.store.campaigns_config import CallbacksIn, DispositionIn
from dialer.telephony.port import AmdMode


@dataclasses.dataclass(frozen=True, kw_only=True, slots=True)
class LiveCampaign:
    campaign_id: int
    name: str
    status: str
    strategy: str
    pacing: PacingSettings
    compliance: ComplianceSettings
    window: CallingWindow  # the campaign's own hours, on top of the legal ones
    script: str
    data_source_line: str
    dispositions: dict[str, DispositionIn]
    callbacks: CallbacksIn
    caller_id: str | None = None  # the registered number shown (None: the site's)
    amd: AmdMode | None = None  # None: the telephony's default
    record: bool = False
    amd_machine: str = "hangup"  # what a machine gets: "hangup" or "message" first


def live_campaign(campaign: Campaign) -> LiveCampaign:
    cfg = campaign.config
    c = cfg.compliance
    pacing_fields = {k: v for k, v in cfg.pacing_settings.items() if v is not None}
    pacing = PacingSettings(**{
        **pacing_fields, "abandon_cap": c.abandon_cap, "connect_window_s": c.connect_window_s,
        "max_ring_s": c.ring_timeout_s,
    })  # fmt: skip
    compliance = ComplianceSettings(
        abandon_cap=c.abandon_cap, uk_mode=c.uk_mode, abandon_window_s=c.abandon_window_s,
        connect_window_s=c.connect_window_s, max_ring_s=c.ring_timeout_s,
        night_calling=c.night_calling, require_marketing_consent=c.require_marketing_consent,
        max_attempts_total=c.max_attempts_total, max_attempts_per_day=c.max_attempts_per_day,
        default_tz=cfg.calling_window.tz,
    )  # fmt: skip
    return LiveCampaign(
        campaign_id=campaign.id, name=cfg.name, status=campaign.status.value,
        strategy=cfg.pacing_strategy, pacing=pacing, compliance=compliance,
        window=CallingWindow(start=cfg.calling_window.start, end=cfg.calling_window.end),
        script=cfg.script, data_source_line=cfg.data_source_line,
        dispositions={d.code: d for d in cfg.dispositions}, callbacks=cfg.callbacks,
        caller_id=cfg.telephony.caller_number,
        amd=AmdMode(cfg.telephony.amd) if cfg.telephony.amd else None,
        record=cfg.telephony.record, amd_machine=cfg.telephony.amd_machine,
    )  # fmt: skip


async def load_live_campaign(conn: asyncpg.Connection, campaign_id: int) -> LiveCampaign:
    return live_campaign(await get_campaign(conn, campaign_id=campaign_id))
