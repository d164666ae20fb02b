"""Call controls through the live dialer on the sim carrier: the agent's desktop holds,
mutes and transfers its call; a supervisor connects a phone and listens, whispers or
barges; a recorded campaign's call leaves a recording row."""

from __future__ import annotations

import asyncio
from typing import Any, NamedTuple

import asyncpg
from aiohttp.test_utils import TestClient

from dialer.telephony.port import MonitorMode
from dialer.telephony.sim import SimCarrier
from server.auth import Role
from server.keys import LIVE
from tests.conftest import token_for
from tests.integration.dialer.helpers import calls_settled, receive_until
from tests.integration.dialer.test_live_desktop import _campaign


def _sim(client: TestClient) -> SimCarrier:  # type: ignore[type-arg]
    runtime = client.app[LIVE].runtime
    assert runtime is not None
    assert isinstance(runtime.port, SimCarrier)
    return runtime.port


async def hold_resume_mute_unmute(ws: Any, sim: SimCarrier, attempt_id: int,
                                  call_id: str) -> None:
    """The agent's desktop holds, resumes, mutes and unmutes its call (outbound or
    inbound): each answered on the websocket and done on the carrier's call."""
    for action, check in (("hold", lambda c: c.held), ("resume", lambda c: not c.held),
                          ("mute", lambda c: c.muted), ("unmute", lambda c: not c.muted)):
        await ws.send_json({"type": "control", "attempt_id": attempt_id, "action": action})
        said = await receive_until(ws, lambda m: m["type"] in ("control", "error"))
        assert said.get("action") == action, said
        assert check(sim.calls[call_id])


async def supervisor_listens(client: TestClient, sup: dict[str, str],  # type: ignore[type-arg]
                             agent_id: int) -> int:
    """A supervisor connects a phone and listens, whispers, barges on the agent's line,
    then stops; the supervisor's id."""
    sim = _sim(client)
    resp = await client.post("/api/v1/dialer/supervisor/phone", headers=sup,
                             json={"connect": True})
    assert resp.status == 200
    supervisor_id = int((await resp.json())["supervisor_id"])
    for mode in ("listen", "whisper", "barge"):
        resp = await client.post("/api/v1/dialer/monitor", headers=sup,
                                 json={"agent_id": agent_id, "mode": mode})
        assert resp.status == 200, await resp.text()
        assert sim.monitors[supervisor_id] == (agent_id, MonitorMode(mode))
    resp = await client.post("/api/v1/dialer/monitor", headers=sup,
                             json={"agent_id": agent_id, "mode": None})
    assert resp.status == 200
    assert supervisor_id not in sim.monitors
    return supervisor_id


class OnACall(NamedTuple):
    """An agent on a call of a one-lead campaign, and a supervisor who may monitor it."""

    campaign_id: int
    agent: dict[str, str]
    sup: dict[str, str]
    ws: Any
    sim: SimCarrier
    agent_id: int
    attempt_id: int  # the call's, from the pop


async def an_agent_on_a_call(live_client: TestClient, db_url: str) -> OnACall:  # type: ignore[type-arg]
    campaign_id = await _campaign(db_url, leads=1)
    agent = await token_for(live_client, db_url, Role.AGENT)
    sup = await token_for(live_client, db_url, Role.SUPERVISOR)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=agent)
    await receive_until(ws, lambda m: m["type"] == "state")
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    agent_id = next(iter(live_client.app[LIVE].desk.agents))
    return OnACall(campaign_id, agent, sup, ws, _sim(live_client), agent_id, pop["attempt_id"])


async def test_an_agent_holds_mutes_and_transfers_the_call(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    on_call = await an_agent_on_a_call(live_client, db_url)
    campaign_id, ws1, attempt_id = on_call.campaign_id, on_call.ws, on_call.attempt_id
    second = await token_for(live_client, db_url, Role.AGENT)
    call_id = f"tm-{campaign_id}-{attempt_id}"
    sim = _sim(live_client)
    await hold_resume_mute_unmute(ws1, sim, attempt_id, call_id)
    ws2 = await live_client.ws_connect("/api/v1/dialer/ws", headers=second)
    state2 = await receive_until(ws2, lambda m: m["type"] == "state")
    await ws2.send_json({"type": "ready", "campaign_id": campaign_id})
    await receive_until(ws2, lambda m: m["type"] == "state" and m["state"] == "ready")
    agent2 = next(a.agent_id for a in live_client.app[LIVE].desk.agents.values()
                  if a.agent_id != sim.bridged[call_id])
    await ws1.send_json({"type": "control", "attempt_id": attempt_id, "action": "transfer",
                         "to_agent_id": agent2})
    moved = await receive_until(ws2, lambda m: m["type"] == "pop")
    assert moved["attempt_id"] == attempt_id
    assert sim.bridged[call_id] == agent2
    freed = await receive_until(ws1, lambda m: m["type"] == "state" and m["state"] == "ready")
    assert freed["attempt_id"] is None
    await ws2.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "sale",
                         "then_pause": "break"})
    await calls_settled(live_client, [attempt_id])
    conn = await asyncpg.connect(db_url)
    try:
        row = await conn.fetchrow("SELECT disposition FROM contact_attempts WHERE id = $1",
                                  attempt_id)
    finally:
        await conn.close()
    assert row["disposition"] == "sale"
    assert state2["state"] == "offline"
    await ws1.close()
    await ws2.close()


async def test_controls_refuse_someone_elses_call(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    campaign_id = await _campaign(db_url, leads=1)
    headers = await token_for(live_client, db_url, Role.AGENT)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await receive_until(ws, lambda m: m["type"] == "state")
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    await receive_until(ws, lambda m: m["type"] == "pop")
    await ws.send_json({"type": "control", "attempt_id": 999999, "action": "hold"})
    said = await receive_until(ws, lambda m: m["type"] == "error")
    assert "no such call" in said["message"].lower()
    await ws.close()


async def test_a_supervisor_connects_a_phone_then_listens_whispers_barges(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    _, agent, sup, ws, sim, agent_id, _ = await an_agent_on_a_call(live_client, db_url)
    resp = await live_client.post("/api/v1/dialer/monitor", headers=sup,
                                  json={"agent_id": agent_id, "mode": "listen"})
    assert resp.status == 409  # no phone yet
    assert "connect your phone" in (await resp.json())["message"]
    supervisor_id = await supervisor_listens(live_client, sup, agent_id)
    assert supervisor_id not in sim.monitors
    resp = await live_client.post("/api/v1/dialer/monitor", headers=agent,
                                  json={"agent_id": agent_id, "mode": "listen"})
    assert resp.status == 403
    await ws.close()


async def test_a_recorded_campaign_keeps_its_recordings(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    campaign_id = await _campaign(db_url, leads=1)
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("UPDATE campaigns SET telephony = $2 WHERE id = $1", campaign_id,
                           '{"record": true, "recording_retention_days": 120}')
    finally:
        await conn.close()
    headers = await token_for(live_client, db_url, Role.AGENT)
    ws = await live_client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await receive_until(ws, lambda m: m["type"] == "state")
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    attempt_id = pop["attempt_id"]
    await ws.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "no_sale",
                        "then_pause": "break"})
    await calls_settled(live_client, [attempt_id])
    conn = await asyncpg.connect(db_url)
    try:
        row: Any = None
        for _ in range(200):  # the recording is reported after the hang-up
            row = await conn.fetchrow(
                "SELECT name, delete_after - recorded_at AS kept FROM call_recordings"
                " WHERE attempt_id = $1", attempt_id)
            if row is not None:
                break
            await asyncio.sleep(0.02)
    finally:
        await conn.close()
    assert row is not None
    assert row["name"] == f"tm-{campaign_id}-{attempt_id}"
    assert row["kept"].days == 120, await _telephony(db_url, campaign_id)
    await ws.close()


async def _telephony(db_url: str, campaign_id: int) -> Any:
    conn = await asyncpg.connect(db_url)
    try:
        return await conn.fetchval("SELECT telephony::text FROM campaigns WHERE id = $1",
                                   campaign_id)
    finally:
        await conn.close()


async def test_a_transferred_call_is_the_second_agents_in_journey_and_attempt(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    first_call = await an_agent_on_a_call(live_client, db_url)
    campaign_id, ws1, attempt_id = first_call.campaign_id, first_call.ws, first_call.attempt_id
    second = await token_for(live_client, db_url, Role.AGENT)
    desk = live_client.app[LIVE].desk
    agent1 = next(iter(desk.agents))
    # Held and muted show in the agent's state, so a reloaded desktop shows them too.
    await ws1.send_json({"type": "control", "attempt_id": attempt_id, "action": "hold"})
    held = await receive_until(ws1, lambda m: m["type"] == "state" and m["held"])
    assert (held["state"], held["muted"]) == ("on_call", False)
    await ws1.send_json({"type": "control", "attempt_id": attempt_id, "action": "mute"})
    await receive_until(ws1, lambda m: m["type"] == "state" and m["held"] and m["muted"])
    # Nobody else is ready yet: no one to transfer to, and a transfer is refused with a code.
    await ws1.send_json({"type": "transfer_targets"})
    none = await receive_until(ws1, lambda m: m["type"] == "transfer_targets")
    assert none["agents"] == []
    await ws1.send_json({"type": "control", "attempt_id": attempt_id, "action": "transfer",
                         "to_agent_id": agent1 + 1000})
    refused = await receive_until(ws1, lambda m: m["type"] == "error")
    assert (refused["for"], refused["code"]) == ("control", "illegal_transition")

    ws2 = await live_client.ws_connect("/api/v1/dialer/ws", headers=second)
    await receive_until(ws2, lambda m: m["type"] == "state")
    await ws2.send_json({"type": "ready", "campaign_id": campaign_id})
    await receive_until(ws2, lambda m: m["type"] == "state" and m["state"] == "ready")
    agent2 = next(a for a in desk.agents if a != agent1)
    await ws1.send_json({"type": "transfer_targets"})
    targets = await receive_until(ws1, lambda m: m["type"] == "transfer_targets")
    assert [a["agent_id"] for a in targets["agents"]] == [agent2]
    await ws1.send_json({"type": "control", "attempt_id": attempt_id, "action": "transfer",
                         "to_agent_id": agent2})
    moved = await receive_until(ws2, lambda m: m["type"] == "pop")
    assert moved["attempt_id"] == attempt_id
    on_call = await receive_until(ws2, lambda m: m["type"] == "state"
                                  and m["state"] == "on_call")
    assert (on_call["held"], on_call["muted"]) == (False, False)  # the transfer resumed it
    told = await receive_until(ws2, lambda m: m["type"] == "notice")
    assert told["code"] == "transferred_in"
    await ws2.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "sale",
                         "then_pause": "break"})
    await calls_settled(live_client, [attempt_id])
    conn = await asyncpg.connect(db_url)
    try:
        attempt = await conn.fetchrow(
            "SELECT agent_id, disposition, (details ->> 'transferred_from')::bigint AS before"
            " FROM contact_attempts WHERE id = $1", attempt_id)
        journey = await conn.fetchrow(
            "SELECT agent_id, transferred_from, transferred_at, agent_connected_at, ended_at"
            " FROM call_journeys WHERE attempt_id = $1", attempt_id)
    finally:
        await conn.close()
    assert (attempt["agent_id"], attempt["disposition"], attempt["before"]) == (
        agent2, "sale", agent1)
    assert (journey["agent_id"], journey["transferred_from"]) == (agent2, agent1)
    assert journey["agent_connected_at"] < journey["transferred_at"] < journey["ended_at"]
    resp = await live_client.get("/api/v1/dialer/journeys",
                                 headers=await token_for(live_client, db_url, Role.SUPERVISOR))
    shown = next(j for j in (await resp.json())["journeys"] if j["attempt_id"] == attempt_id)
    assert (shown["agent_id"], shown["transferred_from"]) == (agent2, agent1)
    assert shown["steps_ms"]["transferred"] is not None
    await ws1.close()
    await ws2.close()


async def test_the_wallboard_says_what_the_supervisor_monitors_until_a_line_drops(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    campaign_id, _, sup, ws, sim, agent_id, _ = await an_agent_on_a_call(live_client, db_url)

    async def me() -> Any:
        resp = await live_client.get("/api/v1/dialer/wallboard", headers=sup)
        assert resp.status == 200
        return (await resp.json())["me"]

    assert await me() == {"phone": False, "sure": True, "monitoring": None}
    resp = await live_client.post("/api/v1/dialer/supervisor/phone", headers=sup,
                                  json={"connect": True, "campaign_id": campaign_id})
    assert resp.status == 200
    supervisor_id = (await resp.json())["supervisor_id"]
    resp = await live_client.post("/api/v1/dialer/monitor", headers=sup,
                                  json={"agent_id": agent_id, "mode": "whisper"})
    assert resp.status == 200
    found = await me()
    assert found["monitoring"] == {"agent_id": agent_id, "mode": "whisper"}
    sim.drop_agent_leg(supervisor_id)  # the supervisor's phone hangs up
    for _ in range(250):  # the leg's end reaches the runtime as an event
        found = await me()
        if found["monitoring"] is None:
            break
        await asyncio.sleep(0.02)
    assert found == {"phone": False, "sure": True, "monitoring": None}
    await ws.close()


async def test_monitor_requests_are_checked_at_the_edge(
    live_client: TestClient, db_url: str  # type: ignore[type-arg]
) -> None:
    sup = await token_for(live_client, db_url, Role.SUPERVISOR)
    for body, field in (({"agent_id": 2**63, "mode": "listen"}, "agent_id"),
                        ({"agent_id": 1, "mode": "shout"}, "mode"),
                        ({"agent_id": 1}, "mode")):
        resp = await live_client.post("/api/v1/dialer/monitor", headers=sup, json=body)
        assert resp.status == 422, await resp.text()
        assert (await resp.json())["field"] == field
    resp = await live_client.post("/api/v1/dialer/monitor", headers=sup,
                                  json={"agent_id": 424242, "mode": "listen"})
    assert resp.status == 409
    assert (await resp.json())["error"] == "agent_not_on_campaign"
    resp = await live_client.post("/api/v1/dialer/supervisor/phone", headers=sup,
                                  json={"connect": True, "campaign_id": -1})
    assert resp.status == 422
