"""An agent on the websocket: ready, screen pop, ack, hang-up, disposition; reconnects."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import os
import socket

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from dialer.sim.seed import seed_campaign
from server.auth import Role
from server.keys import LIVE
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
    supervisor = await token_for(live_client, db_url, Role.SUPERVISOR)  # /metrics needs one
    metrics = await (await live_client.get("/metrics", headers=supervisor)).text()
    for name in ("answer_to_agent", "answer_to_screen_pop", "dial_to_answer"):
        count = next(line for line in metrics.splitlines()
                     if line.startswith(f"telemart_{name}_seconds_count"))
        assert float(count.split()[-1]) >= 1
    # the planner's tally, per campaign (bench live-pacing reads its held_by_cap)
    planned = next(line for line in metrics.splitlines() if line.startswith(
        f'telemart_dialer_dials_planned_total{{campaign="{campaign_id}"}}'))
    assert float(planned.split()[-1]) >= 1
    assert "# TYPE telemart_dialer_dials_held_by_cap_total counter" in metrics
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


async def test_the_pop_counts_as_shown_when_the_web_node_got_the_ack(
    live_client: TestClient,  # type: ignore[type-arg]
    db_url: str,
    pool: asyncpg.Pool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not when the desk heard of it over the bus (held here), nor when the desktop says."""
    campaign_id = await _campaign(db_url)
    headers = await token_for(live_client, db_url, Role.AGENT)
    bus = live_client.app[LIVE].bus
    forward = bus.request
    ack_at_edge, release = asyncio.Event(), asyncio.Event()

    async def held_acks(subject: str, data: bytes, *, timeout_s: float) -> bytes:
        if json.loads(data)["type"] == "ack":
            ack_at_edge.set()
            await release.wait()
        return await forward(subject, data, timeout_s=timeout_s)

    monkeypatch.setattr(bus, "request", held_acks)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    attempt_id = pop["attempt_id"]
    await ws.send_json({"type": "ack", "attempt_id": attempt_id,
                        "acked_at": "2000-01-01T00:00:00+00:00"})
    async with asyncio.timeout(10):
        await ack_at_edge.wait()
    forwarded_after = dt.datetime.now(dt.UTC)
    release.set()
    await ws.send_json({"type": "hangup", "attempt_id": attempt_id})
    await ws.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "no_sale"})
    await calls_settled(live_client, [attempt_id])
    await ws.close()
    journey = await pool.fetchrow("SELECT * FROM call_journeys WHERE attempt_id = $1", attempt_id)
    assert journey["answered_at"] <= journey["pop_acked_at"] <= forwarded_after


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
    campaign_id = await _campaign(db_url, leads=1)
    headers = await token_for(live_client, db_url, Role.AGENT)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await receive_until(ws, lambda m: m["type"] == "state")
    await ws.send_json({"type": "pause", "reason": "break"})
    err = await receive_until(ws, lambda m: m["type"] == "error")
    assert "campaign" in err["message"]  # nothing to pause from yet
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready")
    await ws.send_json({"type": "pause", "reason": "break"})  # no calls meanwhile
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "paused")
    bad: list[str | bytes] = [
        json.dumps({"type": "pause", "reason": "nap"}),
        json.dumps({"type": "hangup", "attempt_id": 12345}),
        "{not json",
        json.dumps([1, 2, 3]),
        json.dumps({"type": "teleport"}),
        "[" * 20_000 + "]" * 20_000,  # nested deeper than the parser's recursion limit
        json.dumps({"type": "ready", "campaign_id": {"a": [[[[[[{"b": 1}]]]]]]}}),
        b"\x00\x01binary",
    ]
    expected = ["reason", "no such call", "not JSON", "JSON object", "unknown message type",
                "nested too deeply", "campaign_id", "text"]
    for message, needle in zip(bad, expected, strict=True):
        if isinstance(message, bytes):
            await ws.send_bytes(message)
        else:
            await ws.send_str(message)
        err = await receive_until(ws, lambda m: m["type"] == "error")
        assert needle in err["message"], (needle, err)
    await ws.send_json({"type": "pause", "reason": "lunch"})
    state = await receive_until(ws, lambda m: m["type"] == "state")
    assert state["pause_reason"] == "lunch"  # the socket stayed, and still works
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


async def test_websocket_from_another_origin_is_refused(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    headers = await token_for(live_client, db_url, Role.AGENT)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await live_client.ws_connect("/api/v1/dialer/ws",
                                     headers={**headers, "Origin": "http://evil.example"})
    assert refused.value.status == 403
    own = f"http://{live_client.server.host}:{live_client.server.port}"
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers={**headers, "Origin": own})
    assert (await receive_until(ws, lambda m: m["type"] == "state"))["state"] == "offline"
    await ws.close()


def _frame(text: str) -> bytes:
    """A masked client text frame."""
    payload = text.encode()
    mask = os.urandom(4)
    size = len(payload)
    head = bytes([0x81, 0x80 | size]) if size < 126 else \
        bytes([0x81, 0x80 | 126]) + size.to_bytes(2, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def test_a_desktop_that_stops_reading_is_closed_and_leaves_routing(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    campaign_id = await _campaign(db_url, leads=1)
    headers = await token_for(live_client, db_url, Role.AGENT)
    host, port = live_client.server.host, live_client.server.port
    assert port is not None  # the test server is started
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a browser that is stuck
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (str(host), int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /api/v1/dialer/ws HTTP/1.1\r\nHost: {host}:{port}\r\n"
                  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  f"Authorization: {headers['Authorization']}\r\n\r\n").encode())
    assert b" 101 " in await reader.readuntil(b"\r\n\r\n")
    writer.write(_frame(json.dumps({"type": "ready", "campaign_id": campaign_id})))
    writer.write(_frame(json.dumps({"type": "pause", "reason": "break"})))
    hub = live_client.app[LIVE].hub
    desk = live_client.app[LIVE].desk
    async with asyncio.timeout(60):
        while not desk.agents:  # noqa: ASYNC110 - the desk hears of the agent
            await asyncio.sleep(0.01)
        (agent_id,) = desk.agents
        state = _frame(json.dumps({"type": "state"}))
        while hub.count(agent_id):  # it asks for its state and never reads the answers
            writer.write(state * 200)
            await writer.drain()
            await asyncio.sleep(0)
        while desk.agents[agent_id].connections:  # noqa: ASYNC110 - out of routing
            await asyncio.sleep(0.01)
    writer.close()
