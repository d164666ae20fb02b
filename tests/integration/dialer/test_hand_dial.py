"""An agent dials a number by hand from the lookup (issue 17): the customer's lead in the
agent's campaign (made in the campaign's hand-dial list if there is none) comes up in
preview, leased to the agent and screened by the compliance guard, and Dial calls it. A
number that is no customer, one on the do-not-call list, one outside its calling hours,
one called as often as allowed and a lead another agent holds are refused with codes the
desktop says in words; a refused dial leaves no lead."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestClient

from config.db import _init_connection
from dialer.sim.seed import seed_campaign
from server.auth import Role
from tests.conftest import token_for
from tests.integration.dialer.helpers import calls_settled, receive_until

Client = TestClient[web.Request, web.Application]
WS = Any  # aiohttp's ClientWebSocketResponse


def _night_zone(now: dt.datetime) -> str:
    """A fixed-offset zone where it is 03:00-ish now (outside 08-21 whatever the hour)."""
    east = (3 - now.hour) % 24
    east = east - 24 if east > 14 else east
    return f"Etc/GMT{-east:+d}" if east else "Etc/GMT"  # Etc signs are inverted


async def _setup(client: Client, db_url: str) -> dict[str, Any]:
    me = await token_for(client, db_url, Role.AGENT)
    other = await token_for(client, db_url, Role.AGENT)
    conn = await asyncpg.connect(db_url)
    await _init_connection(conn)
    try:
        campaign_id = await seed_campaign(conn, leads=1, strategy="preview")
        seeded = await conn.fetchrow(
            "SELECT l.id, c.phone_e164 FROM campaign_leads l JOIN customers c"
            " ON c.id = l.customer_id WHERE l.campaign_id = $1", campaign_id)  # fmt: skip
        now = dt.datetime.now(dt.UTC)
        phones = {"new": "+821090000001", "dnc": "+821090000002", "night": "+821090000003",
                  "tired": "+821090000004"}  # fmt: skip
        for key, phone in phones.items():
            await conn.execute(
                "INSERT INTO customers (name, phone_e164, consent_marketing, consent_night,"
                " region, address, postal_code, tz) VALUES ($1, $2, true, $3, '서울',"
                " '서울시 중구 세종대로 1', '04524', $4)",
                f"손님 {key}", phone, key != "night",
                _night_zone(now) if key == "night" else None)  # fmt: skip
        await conn.execute(
            "INSERT INTO do_not_call (phone_e164, kind, source, registered_on)"
            " VALUES ($1, 'internal', 'test', current_date)", phones["dnc"])  # fmt: skip
        # six calls already made to this number in the campaign: the total allowed
        await conn.execute(
            "INSERT INTO contact_attempts (customer_id, campaign_id, phone_e164, at, outcome)"
            " SELECT id, $2, phone_e164, $3::timestamptz - make_interval(mins => g),"
            " 'no_answer' FROM customers, generate_series(1, 6) g WHERE phone_e164 = $1",
            phones["tired"], campaign_id, now)  # fmt: skip
    finally:
        await conn.close()
    return {"me": me, "other": other, "campaign_id": campaign_id, "phones": phones,
            "seeded_lead": seeded["id"], "seeded_phone": seeded["phone_e164"]}  # fmt: skip


async def _ready(client: Client, headers: dict[str, str], campaign_id: int) -> WS:
    ws = await client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await ws.send_json({"type": "ready", "campaign_id": campaign_id, "preview": True})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready")
    return ws


async def _refused(ws: WS, phone: str) -> str:
    await ws.send_json({"type": "preview_next", "phone": phone})
    said = await receive_until(ws, lambda m: m["type"] == "error")
    return str(said["code"])


async def _leads(db_url: str, campaign_id: int) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db_url)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT l.id, l.status, l.phone_e164, k.created_by FROM campaign_leads l"
            " JOIN campaign_lists k ON k.id = l.list_id WHERE l.campaign_id = $1"
            " ORDER BY l.id", campaign_id)  # fmt: skip
    finally:
        await conn.close()
    return rows


async def test_an_agent_dials_a_customer_by_hand(live_client: Client, db_url: str) -> None:
    s = await _setup(live_client, db_url)
    phones = s["phones"]
    ws = await _ready(live_client, s["me"], s["campaign_id"])

    assert await _refused(ws, "010-9999-0000") == "not_a_customer"
    assert await _refused(ws, phones["dnc"]) == "guard_do_not_call"
    assert await _refused(ws, phones["night"]) == "guard_calling_window"
    assert await _refused(ws, phones["tired"]) == "guard_attempts"
    # refused dials made no lead (and no list is needed for them)
    assert [r["id"] for r in await _leads(db_url, s["campaign_id"])] == [s["seeded_lead"]]

    # Another agent holds the seeded customer's lead in preview: refused, not shared.
    other = await _ready(live_client, s["other"], s["campaign_id"])
    await other.send_json({"type": "preview_next", "phone": s["seeded_phone"]})
    await receive_until(other, lambda m: m["type"] == "state" and m["preview_lead"])
    assert await _refused(ws, s["seeded_phone"]) == "lead_busy"
    leads = await _leads(db_url, s["campaign_id"])
    assert [(r["id"], r["status"]) for r in leads] == [(s["seeded_lead"], "leased")]
    await other.send_json({"type": "preview_skip"})
    await other.close()

    # A skipped hand dial leaves the leads as they were: the seeded one new (as the other
    # agent's skip gave it back), none made for the skipped customer.
    await ws.send_json({"type": "preview_next", "phone": phones["new"]})
    await receive_until(ws, lambda m: m["type"] == "state" and m["preview_lead"])
    await ws.send_json({"type": "preview_skip"})
    await receive_until(ws, lambda m: m["type"] == "state" and not m["preview_lead"])
    leads = await _leads(db_url, s["campaign_id"])
    assert [(r["id"], r["status"]) for r in leads] == [(s["seeded_lead"], "new")]

    # A customer with no lead in the campaign: one is made in the hand-dial list, dialled.
    await ws.send_json({"type": "preview_next", "phone": "010-9000-0001"})  # national form
    shown = await receive_until(ws, lambda m: m["type"] == "state" and m["preview_lead"])
    assert await _refused(ws, phones["new"]) == "preview_first"
    await ws.send_json({"type": "preview_dial"})
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    assert pop["attempt_id"] == shown["preview_lead"]["attempt_id"]
    await ws.send_json({"type": "disposition", "attempt_id": pop["attempt_id"],
                        "code": "no_sale"})  # fmt: skip
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready")
    await calls_settled(live_client, [pop["attempt_id"]])
    leads = await _leads(db_url, s["campaign_id"])
    made = [r for r in leads if r["phone_e164"] == phones["new"]]
    assert len(made) == 1, leads
    assert made[0]["created_by"] == "hand_dial"

    # Dialled by hand again: the same lead, not a second one.
    await ws.send_json({"type": "preview_next", "phone": phones["new"]})
    again = await receive_until(
        ws, lambda m: m["type"] == "error" or (m["type"] == "state" and m["preview_lead"])
    )
    assert again["type"] == "state", again  # its finished lead, leased again
    await ws.close()
    leads = await _leads(db_url, s["campaign_id"])
    assert [r["id"] for r in leads if r["phone_e164"] == phones["new"]] == [made[0]["id"]]
    assert len(leads) == 2, leads
    conn = await asyncpg.connect(db_url)
    try:
        lead_of_call = await conn.fetchval(
            "SELECT lead_id FROM call_journeys WHERE attempt_id = $1", pop["attempt_id"]
        )
        refusals = await conn.fetch(
            "SELECT rule, lead_id FROM dial_refusals WHERE campaign_id = $1"
            " AND detail LIKE '%dialled by hand by agent%' ORDER BY id",
            s["campaign_id"],
        )
    finally:
        await conn.close()
    assert lead_of_call == made[0]["id"]
    assert [r["rule"] for r in refusals][:3] == [
        "do_not_call",
        "night_consent",
        "attempts_total",
    ], refusals
    assert all(r["lead_id"] is None for r in refusals[:3])  # their leads were not kept
    assert again["preview_lead"]["pop"]["lead_id"] == made[0]["id"]
    # The campaign page names the hand-dial list in words, not by its marker.
    marketer = await token_for(live_client, db_url, Role.MARKETER)
    page = await live_client.get(f"/campaigns/{s['campaign_id']}", headers=marketer)
    assert page.status == 200
    assert "직접 건 전화" in await page.text()
