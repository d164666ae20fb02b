"""An agent on the websocket: ready, screen pop, ack, hang-up, disposition; reconnects."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient

from dialer.sim.seed import seed_campaign
from server.auth import Role
from tests.conftest import token_for
from tests.integration.dialer.helpers import calls_settled, receive_until


async def _campaign(db_url: str, leads: int = 5) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        from config.db import _init_connection

        await _init_connection(conn)
        return await seed_campaign(conn, leads=leads)
    finally:
        await conn.close()


async def test_answer_pops_on_agent_desktop_and_disposition_lands_in_history(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    campaign_id = await _campaign(db_url)
    headers = await token_for(live_client, db_url, Role.AGENT)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    first = await receive_until(ws, lambda m: m["type"] == "state")
    assert first["state"] == "offline"
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    attempt_id = pop["attempt_id"]
    assert pop["pop"]["customer"]["name"].startswith("고객")
    assert "고객님" in pop["pop"]["script"]
    await ws.send_json({"type": "ack", "attempt_id": attempt_id})
    await ws.send_json({"type": "hangup", "attempt_id": attempt_id})
    wrap = await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "wrap_up")
    assert wrap["attempt_id"] == attempt_id
    await ws.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "no_sale",
                        "then_pause": "break"})
    paused = await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "paused")
    assert paused["attempt_id"] is None
    await calls_settled(live_client, [attempt_id])
    await ws.close()
    metrics = await (await live_client.get("/metrics")).text()
    for name in ("answer_to_agent", "answer_to_screen_pop", "dial_to_answer"):
        count = next(line for line in metrics.splitlines()
                     if line.startswith(f"telemart_{name}_seconds_count"))
        assert float(count.split()[-1]) >= 1
    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow("SELECT * FROM contact_attempts WHERE id = $1", attempt_id)
        journey = await conn.fetchrow("SELECT * FROM call_journeys WHERE attempt_id = $1",
                                      attempt_id)
        lead = await conn.fetchrow(
            "SELECT l.status FROM campaign_leads l WHERE l.customer_id = $1", row["customer_id"])
    finally:
        await conn.close()
    assert row["outcome"] == "answered_live"
    assert row["disposition"] == "no_sale"
    assert journey["pop_acked_at"] >= journey["answered_at"]
    assert journey["agent_connected_at"] is not None
    assert lead["status"] == "done"


async def test_reconnect_restores_the_call_on_screen(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    campaign_id = await _campaign(db_url)
    headers = await token_for(live_client, db_url, Role.AGENT)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    await ws.send_json({"type": "ack", "attempt_id": pop["attempt_id"]})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "on_call")
    await ws.close()  # the browser's connection drops mid-call

    again = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    state = await receive_until(again, lambda m: m["type"] == "state")
    assert state["state"] == "on_call"
    assert state["attempt_id"] == pop["attempt_id"]
    assert state["pop"]["customer"] == pop["pop"]["customer"]
    assert state["campaign_id"] == campaign_id
    # and the call can be finished from the new connection
    await again.send_json({"type": "disposition", "attempt_id": pop["attempt_id"],
                           "code": "callback", "callback_mine": True,
                           "callback_at": "2099-01-01T10:00:00+09:00", "then_pause": "lunch"})
    paused = await receive_until(again, lambda m: m["type"] == "state" and m["state"] == "paused")
    assert paused["pause_reason"] == "lunch"
    await calls_settled(live_client, [pop["attempt_id"]])
    await again.close()
    conn = await asyncpg.connect(db_url)
    try:
        lead = await conn.fetchrow(
            "SELECT l.* FROM campaign_leads l JOIN contact_attempts a"
            " ON a.customer_id = l.customer_id WHERE a.id = $1", pop["attempt_id"])
    finally:
        await conn.close()
    assert lead["status"] == "new"
    assert lead["callback_agent_id"] is not None
    assert lead["callback_at"].year == 2099


async def test_bad_messages_get_an_error_not_a_disconnect(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    headers = await token_for(live_client, db_url, Role.AGENT)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await receive_until(ws, lambda m: m["type"] == "state")
    await ws.send_json({"type": "pause", "reason": "nap"})
    err = await receive_until(ws, lambda m: m["type"] == "error")
    assert "reason" in err["message"]
    await ws.send_json({"type": "hangup", "attempt_id": 12345})
    err = await receive_until(ws, lambda m: m["type"] == "error")
    assert "no such call" in err["message"]
    await ws.send_json({"type": "pause", "reason": "break"})
    state = await receive_until(ws, lambda m: m["type"] == "state")
    assert state["state"] == "paused"
    await ws.close()


async def test_supervisor_reads_wallboard_and_journeys_agent_may_not(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    await _campaign(db_url)
    sup = await token_for(live_client, db_url, Role.SUPERVISOR)
    agent = await token_for(live_client, db_url, Role.AGENT)
    resp = await live_client.get("/api/v1/dialer/wallboard", headers=sup)
    assert resp.status == 200
    body = await resp.json()
    assert body["campaigns"][0]["status"] == "running"
    assert body["campaigns"][0]["abandon_cap"] == 0.03
    assert (await live_client.get("/api/v1/dialer/journeys", headers=sup)).status == 200
    assert (await live_client.get("/api/v1/dialer/wallboard", headers=agent)).status == 403


async def test_manual_dial_previews_a_lead_then_calls_it(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        from config.db import _init_connection

        await _init_connection(conn)
        campaign_id = await seed_campaign(conn, leads=3, strategy="preview")
    finally:
        await conn.close()
    headers = await token_for(live_client, db_url, Role.AGENT)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await ws.send_json({"type": "ready", "campaign_id": campaign_id, "preview": True})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready")
    await ws.send_json({"type": "preview_next", "campaign_id": campaign_id})
    shown = await receive_until(ws, lambda m: m["type"] == "state" and m["preview_lead"])
    lead = shown["preview_lead"]
    await ws.send_json({"type": "preview_dial"})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "reserved")
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    assert pop["attempt_id"] == lead["attempt_id"]
    assert pop["pop"]["customer"] == lead["pop"]["customer"]
    await ws.send_json({"type": "disposition", "attempt_id": pop["attempt_id"],
                        "code": "do_not_call", "then_pause": "break"})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "paused")
    await calls_settled(live_client, [pop["attempt_id"]])
    await ws.close()
    conn = await asyncpg.connect(db_url)
    try:
        mode = await conn.fetchval("SELECT mode FROM call_journeys WHERE attempt_id = $1",
                                   pop["attempt_id"])
        dnc = await conn.fetchval(
            "SELECT count(*) FROM do_not_call WHERE kind = 'internal' AND phone_e164 = $1",
            pop["pop"]["customer"]["phone"])
        audited = await conn.fetchrow(
            "SELECT actor, (details ->> 'added')::bool AS added FROM audit_log"
            " WHERE action = 'dnc.add_internal'"
            " AND subject = $1", pop["pop"]["customer"]["phone"])
    finally:
        await conn.close()
    assert mode == "preview"
    assert dnc == 1
    assert audited is not None  # the do-not-call entry went through crm, with its audit row
    assert audited["added"] is True
