"""Marketer pages: the segment builder and the campaign pages (data comes from the JSON API)."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any
from zoneinfo import available_timezones

import aiohttp_jinja2
import asyncpg
from aiohttp import web

from crm.segments import list_segments
from crm.segments_filter import AGE_BANDS, FIELDS, Kind
from dialer.core.abandon import UK_WINDOW_S, US_WINDOW_S
from dialer.core.pacing.base import PacingSettings
from dialer.core.pacing.registry import BUILT_IN
from dialer.errors import CampaignNotFound
from dialer.store.campaigns import (
    TRANSITIONS,
    Campaign,
    CampaignStatus,
    get_campaign,
    list_campaigns,
    script_preview,
    status_history,
)
from dialer.store.campaigns_config import ABANDON_CAP_MAX, SCRIPT_FIELDS
from dialer.store.lists import REASONS, campaign_lists
from server.auth import Role, allow, page_user
from server.keys import POOL

routes = web.RouteTableDef()

FIELD_LABELS = {
    "region": "Region", "gender": "Gender", "age": "Age", "age_band": "Age band",
    "consent_marketing": "Marketing consent", "consent_night": "Night-time consent",
    "do_not_call": "On do-not-call list", "rfm_r": "RFM recency (1-5)",
    "rfm_f": "RFM frequency (1-5)", "rfm_m": "RFM monetary (1-5)",
    "days_since_last_purchase": "Days since last purchase", "order_count": "Order count",
    "total_spend": "Total spend (KRW)", "bought_product": "Bought product (code)",
    "bought_category": "Bought category", "contacted": "Contacted",
    "last_disposition": "Last disposition",
}  # fmt: skip
REASON_LABELS = {
    "do_not_call": "On a do-not-call list", "no_consent": "No marketing consent",
    "night_window": "Night-only window, no night consent", "invalid_phone": "Invalid phone",
    "contacted_recently": "Contacted recently",
    "other_active_campaign": "In another active campaign",
    "already_in_campaign": "Already in this campaign",
}  # fmt: skip
# Pacing settings a user may tune; abandon cap, connect window and ring time come from the
# compliance section (dialer/runtime_campaign.py overrides them).
PACING_KNOBS = (
    ("dial_ratio", "Lines per agent (ratio; adaptive start)", None),
    ("max_dial_level", "Max lines per agent", None),
    ("target_abandon", "Target abandon %", "percent"),
    ("amd_s", "Machine detection (s)", None),
)
_PROBE_SEP = "\x1f"  # unit separator: cannot occur in a customer's name or region
OP_ORDER = ("eq", "ne", "gt", "gte", "lt", "lte", "between", "in", "not_in",
            "within_days", "not_within_days")  # fmt: skip


def field_catalog() -> list[dict[str, Any]]:
    """What the builder offers: every field, its kind, operators and choices."""
    catalog = []
    for name, spec in FIELDS.items():
        choices = list(spec.choices) if name != "age_band" else list(AGE_BANDS)
        catalog.append({
            "name": name, "label": FIELD_LABELS.get(name, name),
            "kind": "bool" if spec.kind is Kind.BOOL else spec.kind.value,
            "ops": [op for op in OP_ORDER if op in spec.ops], "choices": choices,
            "low": spec.low, "high": spec.high,
            "within_days": name in ("bought_product", "bought_category"),
        })  # fmt: skip
    return catalog


@cache
def time_zones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/")))


def form_choices() -> dict[str, Any]:
    """What the campaign forms offer: strategies, time zones, pacing knobs and their defaults."""
    defaults = PacingSettings()
    return {
        "strategies": list(BUILT_IN), "time_zones": time_zones(),
        "abandon_cap_max_pct": ABANDON_CAP_MAX * 100, "script_fields": SCRIPT_FIELDS,
        "window_default_h": {"us": US_WINDOW_S / 3600, "uk": UK_WINDOW_S / 3600},
        "pacing_knobs": [(key, label, unit, getattr(defaults, key))
                         for key, label, unit in PACING_KNOBS],
    }  # fmt: skip


async def preview_fields(
    conn: asyncpg.Connection, *, campaign: Campaign, agent: str
) -> dict[str, str]:
    """The values `script_preview` fills in, so the page can render the script live while
    the user types (same first lead, same fallbacks)."""
    probe_text = _PROBE_SEP.join("{{" + name + "}}" for name in SCRIPT_FIELDS)
    config = campaign.config.model_copy(update={"script": probe_text, "data_source_line": ""})
    probe = dataclasses.replace(campaign, config=config)
    values = (await script_preview(conn, campaign=probe, agent=agent)).split(_PROBE_SEP)
    if len(values) != len(SCRIPT_FIELDS):
        return {}
    return dict(zip(SCRIPT_FIELDS, values, strict=True))


def json_for_script(value: Any) -> str:
    """JSON safe to put inside <script type="application/json">."""
    return json.dumps(value, ensure_ascii=False).replace("</", "<\\/")


@routes.get("/segments")
@allow(Role.MARKETER)
@aiohttp_jinja2.template("segments.html")
async def segments_page(request: web.Request) -> dict[str, Any]:
    page_user(request, Role.MARKETER)
    async with request.app[POOL].acquire() as conn:
        saved = await list_segments(conn)
    return {
        "fields_json": json_for_script(field_catalog()),
        "saved": saved[:20],
    }


@routes.get("/campaigns")
@allow(Role.MARKETER, Role.SUPERVISOR)
@aiohttp_jinja2.template("campaigns.html")
async def campaigns_page(request: web.Request) -> dict[str, Any]:
    page_user(request, Role.MARKETER, Role.SUPERVISOR)
    async with request.app[POOL].acquire() as conn:
        campaigns = await list_campaigns(conn)
    return {"campaigns": campaigns, **form_choices()}


@routes.get("/campaigns/{id:\\d+}")
@allow(Role.MARKETER, Role.SUPERVISOR)
@aiohttp_jinja2.template("campaign.html")
async def campaign_page(request: web.Request) -> dict[str, Any]:
    user = page_user(request, Role.MARKETER, Role.SUPERVISOR)
    campaign_id = int(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        try:
            campaign = await get_campaign(conn, campaign_id=campaign_id)
        except CampaignNotFound:
            raise web.HTTPNotFound(text=f"no campaign {campaign_id}") from None
        lists = await campaign_lists(conn, campaign_id=campaign_id)
        history = await status_history(conn, campaign_id=campaign_id)
        script = await script_preview(conn, campaign=campaign, agent=user.username)
        sample = await preview_fields(conn, campaign=campaign, agent=user.username)
    actions = [a.value for a, (sources, _) in TRANSITIONS.items() if campaign.status in sources]
    return {
        "campaign": campaign, "lists": lists, "history": history, "script": script,
        "actions": actions, "reasons": [(r, REASON_LABELS[r]) for r in REASONS],
        "compliance": campaign.config.compliance,
        "editable": campaign.status is not CampaignStatus.STOPPED,
        "sample_json": json_for_script(sample), **form_choices(),
    }  # fmt: skip
