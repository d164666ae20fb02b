"""Marketer pages: the segment builder and the campaign pages (data comes from the JSON API)."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import available_timezones

import aiohttp_jinja2
import asyncpg
from aiohttp import web
from pydantic import BaseModel, Field, ValidationError

from crm.customers import (
    MAX_PAGE,
    contact_history,
    count_customers,
    get_customer,
    list_customers,
    regions_present,
)
from crm.errors import CustomerNotFound
from crm.segments import list_segments
from crm.segments_filter import AGE_BANDS, FIELDS, Kind
from dialer.core.abandon import UK_WINDOW_S, US_WINDOW_S
from dialer.core.pacing.base import PacingSettings
from dialer.core.pacing.registry import BUILT_IN
from dialer.errors import CampaignNotFound
from dialer.recordings import store as recordings
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
from logistics.shipments import shipments_of_customer
from orders.reads import OrderFilter, list_orders
from server.access import audit_read
from server.auth import Role, allow, page_user
from server.i18n import N_, gettext
from server.keys import POOL
from server.labels import disposition_label, label

routes = web.RouteTableDef()

FIELD_LABELS = {
    "region": N_("Region"), "gender": N_("Gender"), "age": N_("Age"),
    "age_band": N_("Age band"), "consent_marketing": N_("Marketing consent"),
    "consent_night": N_("Night-time consent"), "do_not_call": N_("On a do-not-call list"),
    "rfm_r": N_("Recency score (1-5)"), "rfm_f": N_("Frequency score (1-5)"),
    "rfm_m": N_("Spend score (1-5)"), "days_since_last_purchase": N_("Days since last purchase"),
    "order_count": N_("Number of orders"), "total_spend": N_("Total spend (won)"),
    "bought_product": N_("Bought product (code)"), "bought_category": N_("Bought category"),
    "contacted": N_("Contacted"), "last_disposition": N_("Last call outcome"),
}  # fmt: skip
# Pacing settings a user may tune; abandon cap, connect window and ring time come from the
# compliance section (dialer/runtime_campaign.py overrides them).
PACING_KNOBS = (
    ("dial_ratio", N_("Lines per agent (ratio; adaptive start)"), None),
    ("max_dial_level", N_("Most lines per agent"), None),
    ("target_abandon", N_("Target abandon rate (%)"), "percent"),
    ("amd_s", N_("Answering-machine detection (s)"), None),
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
            "name": name, "label": gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name,
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
        "pacing_knobs": [(key, gettext(text), unit, getattr(defaults, key))
                         for key, text, unit in PACING_KNOBS],
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
        regions = await regions_present(conn)
    return {
        "fields_json": json_for_script(field_catalog()),
        "regions_json": json_for_script(regions),
        "saved": saved[:50], "script_fields": SCRIPT_FIELDS,
        "default_script": gettext("Hello {{name}}, this is {{agent}} from {{campaign}}."),
    }  # fmt: skip


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
    history = [{**h, "at_dt": datetime.fromisoformat(h["at"])} for h in history]
    return {
        "campaign": campaign, "lists": lists, "history": history, "script": script,
        "disposition_label": disposition_label,
        "actions": actions, "reasons": [(r, label("suppression", r)) for r in REASONS],
        "compliance": campaign.config.compliance,
        "editable": campaign.status is not CampaignStatus.STOPPED,
        "sample_json": json_for_script(sample), **form_choices(),
    }  # fmt: skip


class CustomerQuery(BaseModel):
    limit: int = Field(default=50, ge=1, le=MAX_PAGE)
    cursor: int | None = Field(default=None, ge=0)
    q: str | None = Field(default=None, max_length=200)


@routes.get("/customers")
@allow(Role.MARKETER, Role.SUPERVISOR)
@aiohttp_jinja2.template("customers.html")
async def customers_page(request: web.Request) -> dict[str, Any]:
    user = page_user(request, Role.MARKETER, Role.SUPERVISOR)
    try:
        query = CustomerQuery.model_validate(
            {k: v for k, v in request.query.items() if k in ("q", "cursor") and v}
        )
    except ValidationError:
        query = CustomerQuery()
    async with request.app[POOL].acquire() as conn:
        page = await list_customers(conn, limit=query.limit, cursor=query.cursor, q=query.q)
        total = await count_customers(conn, q=query.q)
        await audit_read(conn, user, "customers", [c.id for c in page.items], q=query.q,
                         page=True)  # fmt: skip
    return {
        "customers": page.items, "next": page.next, "q": query.q or "", "total": total,
        "paged": query.cursor is not None,
        "can_import": user.role in (Role.MARKETER, Role.ADMIN),
    }  # fmt: skip


def customer_timeline(
    customer: dict[str, Any], contacts: list[dict[str, Any]], orders: list[Any],
    shipments: list[Any], campaigns: dict[int, str],
) -> list[dict[str, Any]]:
    """Calls, orders, shipments, consent and do-not-call changes, newest first."""
    items: list[dict[str, Any]] = []
    for c in contacts:
        items.append({"at": c["at"], "kind": "call", "attempt_id": c["id"],
                      "outcome": c["outcome"],
                      "disposition": c["disposition"], "note": c["note"] or "",
                      "campaign": campaigns.get(c["campaign_id"], "")})  # fmt: skip
    for o in orders:
        items.append({"at": o.placed_at, "kind": "order", "id": o.id, "status": o.status.value,
                      "total": o.total_krw})  # fmt: skip
    for s in shipments:
        items.append({"at": s.last_event_at or s.created_at, "kind": "shipment", "id": s.id,
                      "order_id": s.order_id, "status": s.status.value,
                      "carrier": s.carrier, "tracking_number": s.tracking_number})  # fmt: skip
    for c in customer["consents"]:
        items.append({"at": datetime.fromisoformat(c["at"]), "kind": "consent",
                      "purpose": c["purpose"], "channel": c["channel"], "granted": c["granted"],
                      "source": c["source"]})  # fmt: skip
    for d in customer["do_not_call"]["entries"]:
        items.append({"at": datetime.fromisoformat(d["added_at"]), "kind": "dnc",
                      "list": d["kind"], "source": d["source"]})  # fmt: skip
    return sorted(items, key=lambda i: i["at"], reverse=True)


@routes.get(r"/customers/{id:\d+}")
@allow(Role.MARKETER, Role.SUPERVISOR)
@aiohttp_jinja2.template("customer.html")
async def customer_page(request: web.Request) -> dict[str, Any]:
    """One customer: the card, and one timeline of calls, orders, shipments, consent and
    do-not-call changes."""
    user = page_user(request, Role.MARKETER, Role.SUPERVISOR)
    customer_id = int(request.match_info["id"])
    async with request.app[POOL].acquire() as conn:
        try:
            customer = await get_customer(conn, customer_id=customer_id)
        except CustomerNotFound:
            raise web.HTTPNotFound() from None
        await audit_read(conn, user, "customer", [customer_id], page=True)
        contacts = await contact_history(conn, customer_id=customer_id)
        orders = await list_orders(conn, where=OrderFilter(customer_id=customer_id), limit=100)
        shipments = await shipments_of_customer(conn, customer_id=customer_id)
        campaigns = {c.id: c.config.name for c in await list_campaigns(conn)}
        # Recorded calls are for supervisors only (the audio API says so too); marketers
        # see the timeline without players. Listing is not playing: the play is audited
        # when the audio is fetched (server/views_recordings.py).
        played: dict[int, list[recordings.Recording]] = {}
        if user.role in (Role.SUPERVISOR, Role.ADMIN):
            for rec in reversed(await recordings.for_customer(conn, customer_id)):
                played.setdefault(rec.attempt_id, []).append(rec)  # parts in order
    timeline = customer_timeline(customer, contacts, orders, shipments, campaigns)
    first_seen = datetime.fromisoformat(customer["created_at"])
    return {"customer": customer, "timeline": timeline, "first_seen": first_seen,
            "counts": {"calls": len(contacts), "orders": len(orders)},
            "recordings": played}  # fmt: skip
