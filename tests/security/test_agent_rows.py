"""An agent reads its own rows of the live dialer's tables and nobody else's (issue 16,
least privilege per record): its session (`agent_sessions`), its day's calls
(`call_journeys`), its callbacks (`campaign_leads.callback_agent_id`); recordings
(`call_recordings`) are for supervisors only. No route takes another agent's id: one
given in the query is ignored, not obeyed. (The customers and orders of the matrix are in
test_access_matrix.py; a call another agent is on is refused by the desk, NoSuchCall, in
tests/unit/dialer/live/test_desk.py.)"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from config.db import _init_connection
from dialer.sim.seed import seed_campaign
from server.auth import Role
from tests.conftest import make_user

Client = TestClient[web.Request, web.Application]


async def _login(client: Client, db_url: str, role: Role) -> tuple[int, dict[str, str]]:
    name = f"{role.value}-{secrets.token_hex(3)}"
    await make_user(db_url, name, role)
    resp = await client.post("/api/v1/auth/token",
                             json={"username": name, "password": "password-1"})  # fmt: skip
    headers = {"Authorization": f"Bearer {(await resp.json())['token']}"}
    me = await client.get("/api/v1/auth/me", headers=headers)
    return int((await me.json())["id"]), headers


@pytest.fixture
async def two_agents(client: Client, db_url: str) -> dict[str, Any]:
    """Agents `a` and `b` on one campaign: each with a session, a call today and a
    callback; `b`'s call was recorded."""
    a_id, a = await _login(client, db_url, Role.AGENT)
    b_id, b = await _login(client, db_url, Role.AGENT)
    _, sup = await _login(client, db_url, Role.SUPERVISOR)
    conn = await asyncpg.connect(db_url)
    await _init_connection(conn)
    try:
        campaign_id = await seed_campaign(conn, leads=4, start=False)
        leads = await conn.fetch(
            "SELECT id, customer_id FROM campaign_leads WHERE campaign_id = $1 ORDER BY id",
            campaign_id)  # fmt: skip
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        for lead, agent in ((leads[0], a_id), (leads[1], b_id)):
            await conn.execute(
                "UPDATE campaign_leads SET callback_at = $2, callback_agent_id = $3 WHERE id = $1",
                lead["id"], soon, agent)  # fmt: skip
        calls = ((8101, leads[2], a_id, 60), (8102, leads[3], b_id, 300),
                 (8103, leads[3], b_id, 240))  # fmt: skip
        for attempt, lead, agent, talk_s in calls:
            await conn.execute(
                "INSERT INTO call_journeys (attempt_id, campaign_id, lead_id, agent_id, dialer,"
                " queued_at, answered_at, agent_connected_at, ended_at) VALUES ($1, $2, $3, $4,"
                " 'test', now() - make_interval(secs => $5 + 10),"
                " now() - make_interval(secs => $5), now() - make_interval(secs => $5), now())",
                attempt, campaign_id, lead["id"], agent, float(talk_s))  # fmt: skip
        sessions: tuple[tuple[int, str, int | None], ...] = (
            (a_id, "ready", None), (b_id, "on_call", 8102))  # fmt: skip
        for agent, state, on_call in sessions:
            await conn.execute(
                "INSERT INTO agent_sessions (agent_id, username, campaign_id, state, attempt_id)"
                " VALUES ($1, 'x', $2, $3, $4)", agent, campaign_id, state, on_call)  # fmt: skip
        recording = await conn.fetchval(
            "INSERT INTO call_recordings (attempt_id, campaign_id, name, port, duration_s,"
            " recorded_at, delete_after) VALUES (8102, $1, 'b-call', 'sim', 300, now(),"
            " now() + interval '30 days') RETURNING id", campaign_id)  # fmt: skip
    finally:
        await conn.close()
    return {"a": (a_id, a), "b": (b_id, b), "sup": sup, "recording": recording,
            "b_customer": leads[3]["customer_id"], "a_lead": leads[0]["id"],
            "b_lead": leads[1]["id"]}  # fmt: skip


async def test_an_agent_reads_its_own_session_only(client: Client, two_agents: Any) -> None:
    _, a = two_agents["a"]
    b_id, _ = two_agents["b"]
    for path in ("/api/v1/dialer/agents/me", f"/api/v1/dialer/agents/me?agent_id={b_id}"):
        resp = await client.get(path, headers=a)
        assert resp.status == 200
        body = await resp.json()
        assert body["state"] == "ready", body  # a's, not b's on_call
        assert body["attempt_id"] is None


async def test_an_agents_day_counts_its_own_calls(client: Client, two_agents: Any) -> None:
    _, a = two_agents["a"]
    _, b = two_agents["b"]
    b_id = two_agents["b"][0]
    mine = await (await client.get("/api/v1/agent/today", headers=a)).json()
    theirs = await (await client.get("/api/v1/agent/today", headers=b)).json()
    assert mine["calls"] == 1, mine
    assert 55 <= mine["talk_s"] <= 70, mine
    assert theirs["calls"] == 2, theirs
    assert theirs["talk_s"] >= 530, theirs
    asked = await (await client.get(f"/api/v1/agent/today?agent_id={b_id}", headers=a)).json()
    assert asked["calls"] == 1  # the query names b; the answer is still a's


async def test_an_agent_lists_its_own_callbacks_only(client: Client, two_agents: Any) -> None:
    _, a = two_agents["a"]
    b_id = two_agents["b"][0]
    for path in ("/api/v1/agent/callbacks", f"/api/v1/agent/callbacks?agent_id={b_id}"):
        listed = await (await client.get(path, headers=a)).json()
        assert [c["lead_id"] for c in listed["callbacks"]] == [two_agents["a_lead"]]


async def test_recordings_are_for_supervisors_only(client: Client, two_agents: Any) -> None:
    customer = two_agents["b_customer"]
    recording = two_agents["recording"]
    for who in ("a", "b"):  # b made the call; neither agent may list or play it
        headers = two_agents[who][1]
        listed = await client.get(f"/api/v1/customers/{customer}/recordings", headers=headers)
        assert listed.status == 403
        played = await client.get(f"/api/v1/recordings/{recording}/audio", headers=headers)
        assert played.status == 403
    listed = await client.get(f"/api/v1/customers/{customer}/recordings",
                              headers=two_agents["sup"])  # fmt: skip
    assert listed.status == 200


async def test_supervisor_views_of_everyones_rows_are_closed_to_agents(
    client: Client, two_agents: Any
) -> None:
    _, a = two_agents["a"]
    for path in ("/api/v1/dialer/wallboard", "/api/v1/dialer/journeys"):
        assert (await client.get(path, headers=a)).status == 403, path
