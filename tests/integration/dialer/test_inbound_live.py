"""The sim carrier's inbound calls through the live runtime to real websocket agents on a
real PostgreSQL: routing by skill with overflow and VIP priority, the inbound screen pop,
announcements, keep-my-place callbacks, and blending (outbound holds back while callers
wait)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from config.db import _init_connection
from dialer.inbound import services, store
from dialer.inbound.ars import load_menu
from dialer.live.inbound import MEASURE_EVERY_S
from dialer.sim.scenario import Dist
from dialer.sim.seed import seed_campaign
from dialer.telephony.prompts import CALLBACK_CONFIRMED as PROMPT_CALLBACK_OK
from dialer.telephony.prompts import CALLBACK_OFFER as PROMPT_CALLBACK_OFFER
from dialer.telephony.sim import InboundTraffic, SimCarrier
from server.auth import Role
from server.keys import LIVE
from tests.conftest import token_for
from tests.integration.dialer.helpers import receive_until
from tests.integration.inbound.seed import ars_on_air
from tests.integration.inbound.test_floor_model import _callers
from tests.integration.telephony.test_controls_live import (
    hold_resume_mute_unmute,
    supervisor_listens,
)

Client = TestClient[web.Request, web.Application]
Ws = aiohttp.ClientWebSocketResponse
ORDER_LINE = "15880000"
VIP_LINE = "15889999"
ARS_CALLER = "+821055501234"


async def _db(db_url: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(db_url)
    await _init_connection(conn)
    return conn


async def _setup(client: Client, db_url: str, *, overflow_s: float = 1.0,
                 callback_after_s: float = 0.0, start: bool = False,
                 leads: int = 3) -> tuple[dict[str, str], int, str]:
    """A supervisor's headers, a campaign (running if `start`), a customer's phone."""
    sup = await token_for(client, db_url, Role.SUPERVISOR)
    for name, body in (("order-line", {"numbers": [ORDER_LINE], "overflow_s": overflow_s,
                                       "callback_after_s": callback_after_s}),
                       ("vip", {"kind": "vip", "priority": 10, "numbers": [VIP_LINE],
                                "overflow_s": overflow_s, "callback_after_s": 0})):
        resp = await client.put(f"/api/v1/inbound/queues/{name}", headers=sup, json=body)
        assert resp.status == 200, await resp.text()
    conn = await _db(db_url)
    try:
        campaign_id = await seed_campaign(conn, leads=leads, start=start)
        phone = await conn.fetchval("SELECT phone_e164 FROM customers ORDER BY id LIMIT 1")
    finally:
        await conn.close()
    return sup, campaign_id, phone


async def _agent(client: Client, db_url: str, sup: dict[str, str], campaign_id: int,
                 skills: dict[str, int]) -> tuple[Ws, int, dict[str, str]]:
    """An agent with skills (queue -> level), ready on the campaign, phone leg up."""
    headers = await token_for(client, db_url, Role.AGENT)
    me = await (await client.get("/api/v1/auth/me", headers=headers)).json()
    for queue, level in skills.items():
        resp = await client.put("/api/v1/inbound/skills", headers=sup,
                                json={"agent_id": me["id"], "queue": queue, "level": level})
        assert resp.status == 200, await resp.text()
    ws = await client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready"
                        and m["phone"])
    return ws, me["id"], headers


def _runtime(client: Client) -> Any:
    runtime = client.app[LIVE].runtime
    assert runtime is not None
    return runtime


def _port(client: Client) -> SimCarrier:
    port = _runtime(client).port
    assert isinstance(port, SimCarrier)
    return port


async def _pop(ws: Ws, timeout_s: float = 10.0) -> dict[str, Any]:
    return await receive_until(ws, lambda m: m["type"] == "pop", timeout_s)


async def _finish(ws: Ws, attempt_id: int, code: str = "no_sale") -> None:
    await ws.send_json({"type": "ack", "attempt_id": attempt_id})
    await ws.send_json({"type": "hangup", "attempt_id": attempt_id})
    await ws.send_json({"type": "disposition", "attempt_id": attempt_id, "code": code})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready"
                        and m["attempt_id"] is None)


async def _until(check: Callable[[], Any], timeout_s: float = 10.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await check():  # noqa: ASYNC110 - the runtime's tasks change it
            await asyncio.sleep(0.05)


async def _settled(client: Client) -> None:
    """Every inbound caller's task has finished writing."""
    running = list(_runtime(client).inbound.running.values())
    async with asyncio.timeout(10.0):
        await asyncio.gather(*running)


async def _seed_ars(db_url: str) -> tuple[list[int], int]:
    """The ARS's product on air on the order line and its known caller: skus, customer."""
    conn = await _db(db_url)
    try:
        return await ars_on_air(conn, caller=ARS_CALLER, queue="order-line")
    finally:
        await conn.close()


@pytest.fixture
async def inbound_client(live_app_factory: Callable[..., Any]) -> Any:
    async with live_app_factory() as client:
        yield client


async def test_best_level_first_overflow_after_the_wait_and_vip_first(
    inbound_client: Client, db_url: str
) -> None:
    client = inbound_client
    sup, campaign_id, phone = await _setup(client, db_url, overflow_s=1.0)
    # the level-2 agent is ready first (idle longest), the level-1 agent still gets the call
    ws2, agent2, _ = await _agent(client, db_url, sup, campaign_id, {"order-line": 2})
    ws1, agent1, _ = await _agent(client, db_url, sup, campaign_id,
                                  {"order-line": 1, "vip": 1})
    await _runtime(client).inbound.reload()
    port = _port(client)
    port.ring_in(called=ORDER_LINE, caller_e164=phone)
    first = await _pop(ws1)
    assert first["pop"]["inbound"]["queue"] == "order-line"
    assert first["pop"]["inbound"]["waited_s"] < 1.0
    # agent 1 is busy: the next caller waits for level 2 to open after overflow_s
    port.ring_in(called=ORDER_LINE, caller_e164="+821099990001")
    second = await _pop(ws2)
    assert second["pop"]["inbound"]["waited_s"] >= 1.0
    assert second["pop"]["inbound"]["unknown_caller"] is True
    assert second["pop"]["customer"]["phone"] == "+821099990001"
    # two callers wait (order line first, then VIP); agent 1, freed, takes the VIP one
    await _finish(ws2, second["attempt_id"])  # agent 2 (order line only) is free again...
    await ws2.send_json({"type": "pause", "reason": "break"})  # ...and steps away
    await receive_until(ws2, lambda m: m["type"] == "state" and m["state"] == "paused")
    port.ring_in(called=ORDER_LINE, caller_e164="+821099990002")
    await asyncio.sleep(0.3)
    port.ring_in(called=VIP_LINE, caller_e164="+821099990003")
    await asyncio.sleep(0.3)
    await _finish(ws1, first["attempt_id"])
    vip = await _pop(ws1)
    assert vip["pop"]["inbound"]["queue"] == "vip"
    assert vip["pop"]["customer"]["phone"] == "+821099990003"
    await _finish(ws1, vip["attempt_id"], code="sale")
    nxt = await _pop(ws1)
    assert nxt["pop"]["customer"]["phone"] == "+821099990002"
    await _finish(ws1, nxt["attempt_id"])
    await _settled(client)
    conn = await _db(db_url)
    try:
        rows = await conn.fetch("SELECT c.*, q.name AS queue FROM inbound_calls c"
                                " JOIN inbound_queues q ON q.id = c.queue_id ORDER BY c.id")
        journeys = await conn.fetch("SELECT * FROM call_journeys WHERE mode = 'inbound'"
                                    " ORDER BY attempt_id")
    finally:
        await conn.close()
    assert [(r["queue"], r["agent_id"], r["outcome"]) for r in rows] == [
        ("order-line", agent1, "answered"), ("order-line", agent2, "answered"),
        ("order-line", agent1, "answered"), ("vip", agent1, "answered")]
    assert [r["disposition"] for r in rows] == ["no_sale", "no_sale", "no_sale", "sale"]
    assert all(r["attempt_id"] is not None for r in rows)
    assert len(journeys) == 4
    assert all(j["agent_connected_at"] and j["ended_at"] and j["pop_acked_at"]
               for j in journeys)
    stats = {q["name"]: q for q in (await (await client.get(
        "/api/v1/inbound/stats", headers=sup)).json())["items"]}
    assert (stats["order-line"]["offered"], stats["order-line"]["answered"]) == (3, 3)
    assert stats["vip"]["answered"] == 1
    for ws in (ws1, ws2):
        await ws.close()


async def test_unknown_number_goes_to_the_default_queue_and_the_pop_names_the_customer(
    inbound_client: Client, db_url: str
) -> None:
    client = inbound_client
    sup, campaign_id, phone = await _setup(client, db_url)
    now = dt.datetime.now(dt.UTC)
    resp = await client.post("/api/v1/inbound/schedule", headers=sup, json=[{
        "start": (now - dt.timedelta(minutes=5)).isoformat(),
        "end": (now + dt.timedelta(minutes=55)).isoformat(), "title": "겨울 패딩 특가",
        "products": ["PAD-01"], "expected_calls": 0}])
    assert resp.status in (200, 201), await resp.text()
    ws, _, _ = await _agent(client, db_url, sup, campaign_id, {"order-line": 1})
    await _runtime(client).inbound.reload()
    _port(client).ring_in(called="0299998888", caller_e164=phone)
    pop = (await _pop(ws))["pop"]
    conn = await _db(db_url)
    try:
        name = await conn.fetchval("SELECT name FROM customers WHERE phone_e164 = $1", phone)
        row = await conn.fetchrow("SELECT * FROM inbound_calls")
    finally:
        await conn.close()
    assert pop["kind"] == "inbound"
    assert pop["customer"]["name"] == name
    assert pop["inbound"]["unknown_caller"] is False
    assert pop["inbound"]["unknown_number"] is True
    assert pop["inbound"]["queue"] == "order-line"
    assert pop["inbound"]["on_air"]["title"] == "겨울 패딩 특가"
    assert row["unknown_number"] is True
    assert row["customer_id"] is not None
    # the agent may read the customer of the inbound call it is on (least privilege)
    await ws.close()


async def test_position_announced_callback_keeps_the_place_and_is_never_abandoned(
    inbound_client: Client, db_url: str
) -> None:
    client = inbound_client
    sup, campaign_id, phone = await _setup(client, db_url, callback_after_s=0.5)
    port = _port(client)
    ws, agent_id, mine = await _agent(client, db_url, sup, campaign_id, {"order-line": 1})
    await _runtime(client).inbound.reload()
    busy = port.ring_in(called=ORDER_LINE, caller_e164="+821099990010")
    first = await _pop(ws)  # the agent is on a call now
    assert port.bridged[busy] == agent_id
    waiting = port.ring_in(called=ORDER_LINE, caller_e164=phone)

    def played(call_id: str) -> list[str]:
        return [p for c, p in port.prompts if c == call_id]

    async def announced() -> bool:
        return bool(played(waiting))

    await _until(announced)  # in the queue: the next caller is behind
    behind = port.ring_in(called=ORDER_LINE, caller_e164="+821099990011")

    async def offered() -> bool:
        return PROMPT_CALLBACK_OFFER in played(waiting) and bool(played(behind))

    await _until(offered)
    assert played(waiting)[:2] == ["queue-position-1", "queue-wait-4-min"]
    assert played(behind)[0] == "queue-position-2"
    port.press(waiting, "1")  # keep my place

    async def kept() -> bool:
        return waiting not in port.calls

    await _until(kept)
    assert PROMPT_CALLBACK_OK in played(waiting)
    pending = await (await client.get("/api/v1/inbound/callbacks", headers=sup)).json()
    assert [c["phone_e164"] for c in pending["items"]] == [phone]
    stats = {q["name"]: q for q in (await (await client.get(
        "/api/v1/inbound/stats", headers=sup)).json())["items"]}
    assert stats["order-line"]["callbacks_pending"] == 1
    dialled_before = port.originated
    # the agent frees up: the callback (its caller came before `behind`) goes first, and
    # the agent is reserved before the number is dialled
    await ws.send_json({"type": "ack", "attempt_id": first["attempt_id"]})
    await ws.send_json({"type": "hangup", "attempt_id": first["attempt_id"]})
    await ws.send_json({"type": "disposition", "attempt_id": first["attempt_id"],
                        "code": "no_sale"})
    reserved = await receive_until(ws, lambda m: m["type"] == "state"
                                   and m["state"] == "reserved")
    assert reserved["attempt_id"] is None
    callback = await _pop(ws)
    assert port.originated == dialled_before + 1
    assert callback["pop"]["inbound"]["callback"] is True
    assert callback["pop"]["customer"]["phone"] == phone
    assert callback["pop"]["inbound"]["waited_s"] >= 0.5  # the place since the first call
    # least privilege: the agent reads this caller's card and sees this callback while it
    # is on their line; another agent sees neither
    customer_id = callback["pop"]["customer"]["id"]
    other = await token_for(client, db_url, Role.AGENT)
    assert (await client.get(f"/api/v1/customers/{customer_id}", headers=mine)).status == 200
    assert (await client.get(f"/api/v1/customers/{customer_id}", headers=other)).status == 403
    own = (await (await client.get("/api/v1/inbound/callbacks", headers=mine)).json())["items"]
    assert [(c["phone_e164"], c["status"]) for c in own] == [(phone, "connected")]
    assert (await (await client.get("/api/v1/inbound/callbacks", headers=other)).json()
            )["items"] == []
    await _finish(ws, callback["attempt_id"], code="sale")
    after = await _pop(ws)
    assert after["pop"]["customer"]["phone"] == "+821099990011"
    await _finish(ws, after["attempt_id"])
    await _settled(client)
    conn = await _db(db_url)
    try:
        cb = await conn.fetchrow("SELECT * FROM inbound_callbacks")
        outcomes = {r["caller_e164"]: r["outcome"]
                    for r in await conn.fetch("SELECT * FROM inbound_calls")}
    finally:
        await conn.close()
    assert (cb["status"], cb["agent_id"], cb["attempts"]) == ("connected", agent_id, 1)
    assert outcomes[phone] == "callback"
    assert "abandoned" not in outcomes.values()
    pending = await (await client.get("/api/v1/inbound/callbacks", headers=sup)).json()
    assert pending["items"] == []
    assert (await client.get(f"/api/v1/customers/{customer_id}", headers=mine)).status == 403
    calls = (await (await client.get("/api/v1/inbound/calls", headers=mine)).json())["items"]
    assert sorted(c["caller_e164"] for c in calls) == ["+821099990010", "+821099990011"]
    assert (await (await client.get("/api/v1/inbound/calls", headers=other)).json()
            )["items"] == []
    everyone = (await (await client.get("/api/v1/inbound/calls", headers=sup)).json())["items"]
    assert len(everyone) == 3
    bad = await client.get("/api/v1/inbound/calls?limit=0", headers=sup)
    assert (bad.status, (await bad.json())["field"]) == (422, "limit")
    await ws.close()


async def test_an_inbound_call_has_the_call_controls_and_goes_to_a_skilled_agent(
    inbound_client: Client, db_url: str
) -> None:
    client = inbound_client
    sup, campaign_id, phone = await _setup(client, db_url, overflow_s=60.0)
    ws1, agent1, first = await _agent(client, db_url, sup, campaign_id, {"order-line": 1})
    ws2, agent2, second = await _agent(client, db_url, sup, campaign_id, {"order-line": 2})
    ws3, agent3, _ = await _agent(client, db_url, sup, campaign_id, {})  # no skill
    await _runtime(client).inbound.reload()
    port = _port(client)
    call_id = port.ring_in(called=ORDER_LINE, caller_e164=phone)
    pop = await _pop(ws1)
    attempt_id = pop["attempt_id"]
    await hold_resume_mute_unmute(ws1, port, attempt_id, call_id)
    await ws1.send_json({"type": "control", "attempt_id": attempt_id, "action": "hold"})
    held = await receive_until(ws1, lambda m: m["type"] == "state" and m["held"])
    assert held["state"] == "on_call"
    # Transfer targets are the queue's skilled agents, not the campaign's: agent 3 is ready
    # on the same campaign without a skill for the order line.
    await ws1.send_json({"type": "transfer_targets"})
    targets = await receive_until(ws1, lambda m: m["type"] == "transfer_targets")
    assert [a["agent_id"] for a in targets["agents"]] == [agent2]
    await ws1.send_json({"type": "control", "attempt_id": attempt_id, "action": "transfer",
                         "to_agent_id": agent3})
    refused = await receive_until(ws1, lambda m: m["type"] == "error")
    assert (refused["for"], refused["code"]) == ("control", "illegal_transition")
    assert port.bridged[call_id] == agent1
    await ws1.send_json({"type": "control", "attempt_id": attempt_id, "action": "transfer",
                         "to_agent_id": agent2})
    moved = await _pop(ws2)
    assert moved["attempt_id"] == attempt_id
    assert moved["pop"]["inbound"]["queue"] == "order-line"
    assert port.bridged[call_id] == agent2
    assert not port.calls[call_id].held  # the transfer took it off hold
    await receive_until(ws1, lambda m: m["type"] == "state" and m["state"] == "ready"
                        and m["attempt_id"] is None)
    # the call keeps its queue on the second agent: agent 1, ready again, is its target
    await ws2.send_json({"type": "transfer_targets"})
    back = await receive_until(ws2, lambda m: m["type"] == "transfer_targets")
    assert [a["agent_id"] for a in back["agents"]] == [agent1]

    async def journey() -> Any:
        conn = await _db(db_url)
        try:
            return await conn.fetchrow("SELECT * FROM call_journeys WHERE attempt_id = $1",
                                       attempt_id)
        finally:
            await conn.close()

    async def named() -> bool:  # saved at the transfer, not only at the end
        return bool((await journey())["agent_id"] == agent2)

    await _until(named)
    # least privilege follows the call: the second agent reads the caller's card, the first
    # no longer does
    card = f"/api/v1/customers/{pop['pop']['customer']['id']}"
    assert (await client.get(card, headers=second)).status == 200
    assert (await client.get(card, headers=first)).status == 403
    # a supervisor listens, whispers and barges on the second agent's inbound call
    await supervisor_listens(client, sup, agent2)
    # the agent hangs up: the caller's line goes down, wrap-up, then the disposition
    await ws2.send_json({"type": "hangup", "attempt_id": attempt_id})
    await receive_until(ws2, lambda m: m["type"] == "state" and m["state"] == "wrap_up")

    async def gone() -> bool:
        return call_id not in port.calls

    await _until(gone)
    await ws2.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "sale"})
    await receive_until(ws2, lambda m: m["type"] == "state" and m["state"] == "ready"
                        and m["attempt_id"] is None)
    await _settled(client)
    j = await journey()
    assert (j["mode"], j["agent_id"], j["transferred_from"], j["outcome"]) == (
        "inbound", agent2, agent1, "sale")
    assert j["agent_connected_at"] < j["transferred_at"] < j["ended_at"]
    conn = await _db(db_url)
    try:
        row = await conn.fetchrow("SELECT * FROM inbound_calls WHERE call_id = $1", call_id)
    finally:
        await conn.close()
    # the queue's figures keep the agent who answered the caller
    assert (row["outcome"], row["disposition"], row["agent_id"]) == ("answered", "sale", agent1)
    resp = await client.get("/api/v1/dialer/journeys", headers=sup)
    shown = next(j for j in (await resp.json())["journeys"] if j["attempt_id"] == attempt_id)
    assert (shown["agent_id"], shown["transferred_from"]) == (agent2, agent1)
    # both agents have the call among their own: the one who answered, the one who ended it
    for headers in (first, second):
        mine = (await (await client.get("/api/v1/inbound/calls", headers=headers)).json())
        assert [c["caller_e164"] for c in mine["items"]] == [phone]
    for ws in (ws1, ws2, ws3):
        await ws.close()


async def test_a_caller_who_hangs_up_waiting_is_a_queue_abandon(
    inbound_client: Client, db_url: str
) -> None:
    client = inbound_client
    await _setup(client, db_url)
    port = _port(client)
    call_id = port.ring_in(called=ORDER_LINE, caller_e164="+821099990020", patience_s=30.0)
    await asyncio.sleep(0.5)  # no agent at all: the caller waits, then gives up

    async def gone() -> bool:
        conn = await _db(db_url)
        try:
            outcome = await conn.fetchval(
                "SELECT outcome FROM inbound_calls WHERE call_id = $1", call_id)
            return bool(outcome == "abandoned")
        finally:
            await conn.close()

    port.hang_up_customer(call_id)
    await _until(gone)


async def test_blending_holds_outbound_back_while_callers_wait(
    inbound_client: Client, db_url: str
) -> None:
    client = inbound_client
    sup, campaign_id, _ = await _setup(client, db_url, start=True, leads=30)
    runtime = _runtime(client)
    port = _port(client)
    # two blended agents: one is busy on inbound, the other would be dialled for
    ws1, agent1, _ = await _agent(client, db_url, sup, campaign_id, {"order-line": 1})
    first = await _pop(ws1)  # an outbound call comes to the first agent
    assert "inbound" not in first["pop"]
    await runtime.inbound.reload()
    # a caller waits while the only agent is on an outbound call: the hold plan keeps the
    # agent off outbound, so the pacer dials nothing more for them
    waiting = port.ring_in(called=ORDER_LINE, caller_e164="+821099990030")
    await asyncio.sleep(0.3)
    await runtime.inbound.plan_hold()
    assert runtime.desk.held == frozenset({agent1})
    loop = runtime.loops[campaign_id]
    floor = loop.floor()
    assert (len(floor.ready), len(floor.on_call), len(floor.wrap_up)) == (0, 0, 0)
    dialled = port.originated
    await _finish_outbound(ws1, first["attempt_id"])
    pop = await _pop(ws1)  # inbound first: the waiting caller, not a new outbound call
    assert pop["pop"]["kind"] == "inbound"
    assert port.bridged[waiting] == agent1
    await asyncio.sleep(0.5)
    assert port.originated == dialled  # nothing dialled for a held agent
    await _finish(ws1, pop["attempt_id"])
    await _settled(client)
    await runtime.inbound.plan_hold()  # nobody waits and nothing is on air: released
    assert runtime.desk.held == frozenset()
    assert (await _pop(ws1))["pop"].get("kind") != "inbound"  # outbound again
    await ws1.close()


async def test_an_agent_answering_a_caller_is_not_held_when_nothing_more_is_needed(
    inbound_client: Client, db_url: str
) -> None:
    """As in the simulator's plan: an agent busy with a caller covers that caller now and,
    with nobody else waiting and nothing on air, goes back to outbound after the call."""
    client = inbound_client
    sup, campaign_id, _ = await _setup(client, db_url, start=False, leads=0)
    runtime = _runtime(client)
    port = _port(client)
    ws1, _, _ = await _agent(client, db_url, sup, campaign_id, {"order-line": 1})
    await runtime.inbound.reload()
    port.ring_in(called=ORDER_LINE, caller_e164="+821099990031")
    pop = await _pop(ws1)
    assert pop["pop"]["kind"] == "inbound"
    await ws1.send_json({"type": "ack", "attempt_id": pop["attempt_id"]})
    await runtime.inbound.plan_hold()
    assert runtime.desk.held == frozenset()
    await _finish(ws1, pop["attempt_id"])
    await ws1.close()


async def _finish_outbound(ws: Ws, attempt_id: int) -> None:
    await ws.send_json({"type": "ack", "attempt_id": attempt_id})
    await ws.send_json({"type": "hangup", "attempt_id": attempt_id})
    await ws.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "no_sale"})


async def test_a_stream_of_callers_every_one_answered_or_counted_as_an_abandon(
    inbound_client: Client, db_url: str
) -> None:
    """The sim carrier's Poisson callers (each with a patience) against one agent who
    answers and disposes at once: every caller is in the log, answered or abandoned, and
    the queue's figures add up."""
    client = inbound_client
    sup, campaign_id, _ = await _setup(client, db_url, overflow_s=0.0)
    ws, agent_id, _ = await _agent(client, db_url, sup, campaign_id, {"order-line": 1})
    await _runtime(client).inbound.reload()
    port = _port(client)
    # the sim runs at 1/100: 0.8 callers a second of real time, patience 1.5 s real
    port.start_inbound(InboundTraffic(
        called=ORDER_LINE, rate_per_s=0.008, callers=("+821099991000", "+821099991001"),
        patience=Dist(kind="fixed", mean=150.0, sd=0.0)))
    answered: list[int] = []

    async def agent() -> None:
        while True:
            pop = await _pop(ws, timeout_s=30.0)
            answered.append(pop["attempt_id"])
            await asyncio.sleep(0.5)  # a short talk: callers queue behind
            await _finish(ws, pop["attempt_id"])

    working = asyncio.create_task(agent())
    try:
        async def enough() -> bool:
            return len(port.inbound) >= 8

        await _until(enough, timeout_s=30.0)
        port.start_inbound(InboundTraffic(called=ORDER_LINE, rate_per_s=0.0, callers=()))

        # Done when every caller the carrier put through has a closed row: a caller's
        # InboundCall event may still be on its way to the line when the last running
        # call ends, so an empty `running` alone is not the end.
        async def all_done() -> bool:
            if _runtime(client).inbound.running:
                return False
            check = await _db(db_url)
            try:
                closed = await check.fetchval(
                    "SELECT count(*) FROM inbound_calls WHERE ended_at IS NOT NULL")
            finally:
                await check.close()
            return int(closed) == len(port.inbound)
        await _until(all_done, timeout_s=30.0)
    finally:
        working.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await working
    conn = await _db(db_url)
    try:
        rows = await conn.fetch("SELECT * FROM inbound_calls ORDER BY id")
    finally:
        await conn.close()
    assert sorted(r["call_id"] for r in rows) == sorted(port.inbound)
    outcomes = [r["outcome"] for r in rows]
    assert set(outcomes) <= {"answered", "abandoned"}
    assert outcomes.count("answered") == len(answered) >= 2
    for r in rows:
        if r["outcome"] == "answered":
            assert r["agent_id"] == agent_id
            assert (r["answered_at"] - r["arrived_at"]).total_seconds() < 1.6  # patience
    stats = {q["name"]: q for q in (await (await client.get(
        "/api/v1/inbound/stats", headers=sup)).json())["items"]}
    line = stats["order-line"]
    assert line["offered"] == len(rows)
    assert line["answered"] + line["abandoned"] == line["offered"]
    assert line["waiting"] == 0
    await ws.close()


async def test_callers_of_a_dialer_that_stopped_are_closed_and_its_callbacks_taken_over(
    inbound_client: Client, db_url: str
) -> None:
    client = inbound_client
    sup, campaign_id, phone = await _setup(client, db_url)
    conn = await _db(db_url)
    try:
        queue_id = await conn.fetchval("SELECT id FROM inbound_queues WHERE name = 'order-line'")
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        # a caller waiting on a dialer process that died, and a callback it held
        await conn.execute(
            "INSERT INTO call_journeys (attempt_id, dialer, mode, queued_at, answered_at)"
            " VALUES (990001, 'dead-node', 'inbound', $1, $1)", long_ago)
        await conn.execute(
            "INSERT INTO inbound_calls (call_id, caller_e164, called, queue_id, arrived_at,"
            " attempt_id) VALUES ('gone-1', '+821099992000', $1, $2, $3, 990001)",
            ORDER_LINE, queue_id, long_ago)  # fmt: skip
        await conn.execute(
            "INSERT INTO inbound_callbacks (queue_id, call_id, phone_e164, place_since, owner)"
            " VALUES ($1, 'gone-2', $2, $3, 'dead-node')", queue_id, phone, long_ago)
    finally:
        await conn.close()
    runtime = _runtime(client)
    await runtime.inbound.recover()
    ws, agent_id, _ = await _agent(client, db_url, sup, campaign_id, {"order-line": 1})
    await runtime.inbound.reload()
    runtime.inbound.dispatch()
    pop = await _pop(ws)  # the dead process's callback, dialled here for this agent
    assert pop["pop"]["inbound"]["callback"] is True
    assert pop["pop"]["customer"]["phone"] == phone
    await _finish(ws, pop["attempt_id"])
    await _settled(client)
    conn = await _db(db_url)
    try:
        call = await conn.fetchrow("SELECT * FROM inbound_calls WHERE call_id = 'gone-1'")
        journey = await conn.fetchrow("SELECT * FROM call_journeys WHERE attempt_id = 990001")
        callback = await conn.fetchrow("SELECT * FROM inbound_callbacks")
    finally:
        await conn.close()
    assert (call["outcome"], call["ended_at"] is not None) == ("failed", True)
    assert (journey["outcome"], journey["ended_at"] is not None) == ("failed", True)
    assert (callback["status"], callback["agent_id"]) == ("connected", agent_id)
    assert callback["owner"] == runtime.owner
    stats = {q["name"]: q for q in (await (await client.get(
        "/api/v1/inbound/stats", headers=sup)).json())["items"]}
    assert stats["order-line"]["waiting"] == 0
    await ws.close()


async def test_the_ars_answers_first_orders_by_keypad_and_hands_the_rest_to_agents(
    inbound_client: Client, db_url: str
) -> None:
    client = inbound_client
    sup, campaign_id, _ = await _setup(client, db_url)
    resp = await client.put("/api/v1/inbound/queues/order-line", headers=sup,
                            json={"numbers": [ORDER_LINE], "ars": True, "overflow_s": 1.0})
    assert resp.status == 200, await resp.text()
    caller = ARS_CALLER
    skus, customer_id = await _seed_ars(db_url)
    ws, agent_id, _ = await _agent(client, db_url, sup, campaign_id, {"order-line": 1})
    await _runtime(client).inbound.reload()
    port = _port(client)
    # product 1, option 2, quantity 2, the registered card by its last four digits, confirm
    ordering = port.ring_in(called=ORDER_LINE, caller_e164=caller)
    port.press(ordering, "1" "2" "2" "1" "0457" "1")

    async def ordered() -> bool:
        return ordering not in port.calls

    await _until(ordered, timeout_s=20.0)
    # a caller the ARS does not know goes on to an agent
    stranger = port.ring_in(called=ORDER_LINE, caller_e164="+821099993000")
    pop = await _pop(ws)
    assert pop["pop"]["customer"]["phone"] == "+821099993000"
    assert port.bridged[stranger] == agent_id
    await _finish(ws, pop["attempt_id"])
    await _settled(client)
    conn = await _db(db_url)
    try:
        sessions = {r["call_id"]: r for r in await conn.fetch("SELECT * FROM ars_sessions")}
        calls = {r["call_id"]: r for r in await conn.fetch("SELECT * FROM inbound_calls")}
        order = await conn.fetchrow("SELECT * FROM orders WHERE id = $1",
                                    sessions[ordering]["order_id"])
        line = await conn.fetchrow("SELECT * FROM order_lines WHERE order_id = $1", order["id"])
    finally:
        await conn.close()
    assert sessions[ordering]["outcome"] == "order"
    # each step the caller went through was said to them through the port
    assert [p for c, p in port.prompts if c == ordering] == [
        f"ars-{step}" for step in sessions[ordering]["path"]]
    assert sessions[ordering]["path"][0] == "welcome"
    assert sessions[ordering]["total_krw"] == 178_000
    assert (order["customer_id"], order["agent_id"]) == (customer_id, None)
    assert (line["sku_id"], line["qty"]) == (skus[1], 2)
    assert calls[ordering]["outcome"] == "ars_order"
    assert sessions[stranger]["outcome"].startswith("agent:")
    assert (calls[stranger]["outcome"], calls[stranger]["agent_id"]) == ("answered", agent_id)
    await ws.close()


async def test_a_key_cuts_the_ars_words_and_a_step_said_again_waits_for_its_own_end(
    live_app_factory: Callable[..., Any], db_url: str
) -> None:
    prompt_s, timeout_s = 1.5, 1.0  # real seconds: this sim carrier is not scaled
    port = SimCarrier(time_scale=1.0, prompt_s=prompt_s)
    async with live_app_factory(port=port) as client:
        sup, _, _ = await _setup(client, db_url)
        resp = await client.put("/api/v1/inbound/queues/order-line", headers=sup,
                                json={"numbers": [ORDER_LINE], "ars": True, "overflow_s": 1.0})
        assert resp.status == 200, await resp.text()
        await _seed_ars(db_url)
        conn = await _db(db_url)
        try:
            await store.save_menu(conn, body={**load_menu().as_json(), "timeout_s": timeout_s},
                                  actor="test")
        finally:
            await conn.close()
        await _runtime(client).inbound.reload()
        cid = port.ring_in(called=ORDER_LINE, caller_e164=ARS_CALLER)

        def asked(prompt: str, times: int = 1) -> Callable[[], Any]:
            async def check() -> bool:
                return [p for c, p in port.prompts if c == cid].count(prompt) >= times
            return check

        await _until(asked("ars-product"))
        port.press(cid, "1")  # product 1, while the welcome and the product list play
        await _until(asked("ars-option"))
        assert port.stopped == [(cid, "ars-welcome"), (cid, "ars-product")]
        loop = asyncio.get_running_loop()
        pressed = loop.time()
        port.press(cid, "9")  # no such option: the option words are cut and said again
        await _until(asked("ars-option", 3))  # ... and once more when no key follows
        waited = loop.time() - pressed
        assert port.stopped[-1] == (cid, "ars-option")
        # the key's wait runs from the end of the words said again: the PromptDone of the
        # words cut (same prompt, reported at once) does not start it
        assert waited >= prompt_s + timeout_s - 0.3, waited
        port.hang_up_customer(cid)
        await _settled(client)


async def test_the_callback_key_cuts_the_announcement(
    live_app_factory: Callable[..., Any], db_url: str
) -> None:
    port = SimCarrier(time_scale=1.0, prompt_s=2.0)
    async with live_app_factory(port=port) as client:
        _, _, phone = await _setup(client, db_url)
        await _runtime(client).inbound.reload()
        cid = port.ring_in(called=ORDER_LINE, caller_e164=phone)

        def played() -> list[str]:
            return [p for c, p in port.prompts if c == cid]

        async def announced() -> bool:
            return bool(played())

        async def kept() -> bool:
            return cid not in port.calls

        await _until(announced)
        port.press(cid, "1")  # keep my place, during "you are caller number 1"
        await _until(kept)
        assert port.stopped == [(cid, "queue-position-1")]
        # the wait announcement queued behind it is never said: the confirmation comes now
        assert played() == ["queue-position-1", PROMPT_CALLBACK_OK]


async def test_the_hold_plan_measures_the_floor_every_quarter_hour(
    inbound_client: Client, db_url: str
) -> None:
    line = _runtime(inbound_client).inbound
    await line.plan_hold()
    assert line.model == services.FloorModel()  # no calls yet: the defaults
    conn = await _db(db_url)
    try:
        await _callers(conn, n=400, patience_s=30.0, service_s=40.0)
    finally:
        await conn.close()
    await line.plan_hold()
    assert line.model.patience_calls == 0  # measured again only after MEASURE_EVERY_S
    line._measured_at = time.monotonic() - MEASURE_EVERY_S  # a quarter of an hour later
    await line.plan_hold()
    assert line.model.patience_calls == 400
    assert 20.0 < line.model.patience_s < 40.0
