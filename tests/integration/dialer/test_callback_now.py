"""An agent calls one of their own callbacks now, from My callbacks (issue 17): the lead
comes up in preview (leased to this agent, screened by the compliance guard) and Dial calls
it. Another agent's callback, a lead that is not a callback, and a number on the
do-not-call list are refused with a code the desktop says in words."""

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


async def _setup(client: Client, db_url: str) -> dict[str, Any]:
    me = await token_for(client, db_url, Role.AGENT)
    other = await token_for(client, db_url, Role.AGENT)
    ids = {}
    for name, headers in (("me", me), ("other", other)):
        ids[name] = (await (await client.get("/api/v1/auth/me", headers=headers)).json())["id"]
    conn = await asyncpg.connect(db_url)
    await _init_connection(conn)
    try:
        campaign_id = await seed_campaign(conn, leads=4, strategy="preview")
        leads = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM campaign_leads WHERE campaign_id = $1 ORDER BY id", campaign_id
            )
        ]
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)  # not due yet
        for lead, agent in ((leads[0], ids["me"]), (leads[1], ids["other"]),
                            (leads[2], ids["me"])):  # fmt: skip
            await conn.execute(
                "UPDATE campaign_leads SET callback_at = $2, callback_agent_id = $3 WHERE id = $1",
                lead, later, agent)  # fmt: skip
        # leads[2]'s number asked not to be called since the callback was set
        await conn.execute(
            "INSERT INTO do_not_call (phone_e164, kind, source, registered_on)"
            " SELECT phone_e164, 'internal', 'test', current_date FROM campaign_leads"
            " WHERE id = $1", leads[2])  # fmt: skip
    finally:
        await conn.close()
    return {"me": me, "campaign_id": campaign_id, "leads": leads}


async def test_an_agent_calls_their_callback_now(live_client: Client, db_url: str) -> None:
    s = await _setup(live_client, db_url)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=s["me"])
    await ws.send_json({"type": "ready", "campaign_id": s["campaign_id"], "preview": True})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready")

    refusals = {s["leads"][1]: "callback_unavailable",  # another agent's callback
                s["leads"][3]: "callback_unavailable",  # not a callback at all
                s["leads"][2]: "guard_refused"}  # on the do-not-call list  # fmt: skip
    for lead, code in refusals.items():
        await ws.send_json({"type": "preview_next", "lead_id": lead})
        said = await receive_until(ws, lambda m: m["type"] == "error")
        assert said["code"] == code, (lead, said)

    await ws.send_json({"type": "preview_next", "lead_id": s["leads"][0]})
    shown = await receive_until(ws, lambda m: m["type"] == "state" and m["preview_lead"])
    lead = shown["preview_lead"]
    await ws.send_json({"type": "preview_next", "lead_id": s["leads"][0]})  # twice: refused
    assert (await receive_until(ws, lambda m: m["type"] == "error"))["code"] == "preview_first"
    await ws.send_json({"type": "preview_dial"})
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    assert pop["attempt_id"] == lead["attempt_id"]
    await ws.send_json({"type": "disposition", "attempt_id": pop["attempt_id"],
                        "code": "no_sale", "then_pause": "break"})  # fmt: skip
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "paused")
    await calls_settled(live_client, [pop["attempt_id"]])
    await ws.close()
    conn = await asyncpg.connect(db_url)
    try:
        lead_of_call = await conn.fetchval(
            "SELECT lead_id FROM call_journeys WHERE attempt_id = $1", pop["attempt_id"]
        )
    finally:
        await conn.close()
    assert lead_of_call == s["leads"][0]
