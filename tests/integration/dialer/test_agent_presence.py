"""An agent the dialer took out of routing because their session went stale (the web node
holding their desktop stopped beating it: it stalled, lost the database or the bus) comes
back when it beats again, without a reload; one who left does not.

One process (web node and dialer) on a NATS server of the test's own, so that the desk
checks the sessions as it does across nodes. The web node "stalls" by losing its pool:
its heartbeat loop then skips the beats (`AgentHub.beat`), everything else goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from config.settings import Settings
from dialer.core.agents import AgentState
from dialer.live.desk import LiveDesk
from dialer.sim.seed import seed_campaign
from dialer.store.campaigns import Action, change_status
from server.app import create_app
from server.dialer_runtime import make_dialer_ctx
from server.keys import LIVE, POOL
from tests.integration.dialer.helpers import receive_until, scenario
from tests.integration.dialer.processes import NatsServer, agent_token

LEASE_S = 2.0
# A session a lease old, seen by the desk's check every lease/3, with room for a loaded
# machine.
GONE_S = LEASE_S + LEASE_S / 3 + 5.0
TICKS_S = 0.5  # ten of the loop's ticks (0.05 s): it would have dialled by then


Client = TestClient[web.Request, web.Application]


@contextlib.asynccontextmanager
async def _nodes(tmp_path: Path, db_url: str, *, web_only: int = 0) -> AsyncIterator[list[Client]]:
    """A node running the web and the dialer, then `web_only` web nodes, on one NATS."""
    nats = NatsServer()
    await nats.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            clients: list[Client] = []
            for i in range(1 + web_only):
                settings = Settings(home=tmp_path / f"home-{i}", pool_min_size=1,
                                    pool_max_size=10, nats_url=nats.url,
                                    dialer_lease_s=LEASE_S)  # fmt: skip
                ctx = make_dialer_ctx(time_scale=0.01, tick_s=0.05, scan_s=0.05,
                                      lease_s=LEASE_S, scenario=scenario())  # fmt: skip
                app = create_app(settings, url=db_url, background=False,
                                 extra_ctx=[ctx] if i == 0 else [])  # fmt: skip
                clients.append(await stack.enter_async_context(TestClient(TestServer(app))))
            yield clients
    finally:
        await nats.kill()


@contextlib.asynccontextmanager
async def _node(tmp_path: Path, db_url: str) -> AsyncIterator[Client]:
    async with _nodes(tmp_path, db_url) as (client,):
        yield client


async def _campaign(pool: asyncpg.Pool, *, start: bool = True) -> int:
    """A campaign (running if `start`) whose leads are not due yet: nothing is dialled
    until the test makes them due (`_due`)."""
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=20, start=start)
        await conn.execute("UPDATE campaign_leads SET next_attempt_at = now() + interval '1 day'"
                           " WHERE campaign_id = $1", campaign_id)  # fmt: skip
    return campaign_id


async def _due(pool: asyncpg.Pool, campaign_id: int, count: int) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE campaign_leads SET next_attempt_at = now() WHERE id IN (SELECT id FROM"
            " campaign_leads WHERE campaign_id = $1 AND next_attempt_at > now()"
            " ORDER BY id LIMIT $2)", campaign_id, count)  # fmt: skip


async def _ready(
    client: TestClient,  # type: ignore[type-arg]
    db_url: str,
    name: str,
    campaign_id: int,
) -> tuple[int, aiohttp.ClientWebSocketResponse]:
    """An agent's desktop, ready on the campaign with their phone leg up."""
    agent_id, token = await agent_token(db_url, name)
    ws = await client.ws_connect("/api/v1/dialer/ws", headers={"Authorization": f"Bearer {token}"})
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready"
                        and m["phone"] is True)  # fmt: skip
    return agent_id, ws


async def _until(what: str, check: Any, timeout_s: float = GONE_S) -> None:
    """Poll the desk (it runs in this process) until `check()` holds."""
    try:
        async with asyncio.timeout(timeout_s):
            while not check():  # noqa: ASYNC110 - the desk's own check runs on its clock
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"not within {timeout_s} s: {what}") from None


async def _dialled(pool: asyncpg.Pool, campaign_id: int) -> int:
    async with pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM call_journeys WHERE campaign_id = $1", campaign_id
        )
    return count


async def _routed_to(pool: asyncpg.Pool, agent_ids: list[int]) -> int:
    async with pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM call_journeys WHERE agent_id = ANY ($1::bigint[])", agent_ids
        )
    return count


async def _session_state(pool: asyncpg.Pool, agent_id: int) -> str | None:
    async with pool.acquire() as conn:
        state: str | None = await conn.fetchval(
            "SELECT state FROM agent_sessions WHERE agent_id = $1", agent_id
        )
    return state


async def _session_stale(pool: asyncpg.Pool, agent_id: int) -> bool:
    async with pool.acquire() as conn:
        stale: bool = await conn.fetchval(
            "SELECT heartbeat_at <= now() - make_interval(secs => $2) FROM agent_sessions"
            " WHERE agent_id = $1", agent_id, LEASE_S)  # fmt: skip
    return stale


async def test_an_agent_whose_web_node_stalled_is_routed_again_when_it_beats_again(
    tmp_path: Path, db_url: str, pool: asyncpg.Pool
) -> None:
    """On a call when taken out: the call stays theirs; back, they finish it and get the
    next call, on the same websocket, told both times."""
    campaign_id = await _campaign(pool)
    async with _node(tmp_path, db_url) as client:
        desk: LiveDesk = client.app[LIVE].desk
        hub = client.app[LIVE].hub
        agent_id, ws = await _ready(client, db_url, "stalled-1", campaign_id)
        await _due(pool, campaign_id, 1)
        pop = await receive_until(ws, lambda m: m["type"] == "pop")
        attempt_id = int(pop["attempt_id"])
        await ws.send_json({"type": "ack", "attempt_id": attempt_id})

        hub.pool = None  # the web node stops beating; its websocket stays open
        await _until("taken out of routing", lambda: desk.agents[agent_id].connections == 0)
        await receive_until(ws, lambda m: m.get("code") == "desktop_lost")
        await _due(pool, campaign_id, 19)
        await asyncio.sleep(TICKS_S)  # the loop ticks: the only agent is out, none is dialled
        assert await _dialled(pool, campaign_id) == 1

        hub.pool = client.app[POOL]  # it beats again
        await receive_until(ws, lambda m: m.get("code") == "desktop_back", GONE_S)
        # before the agent says anything (any message of theirs would bring them back)
        assert desk.agents[agent_id].connections > 0
        state = await receive_until(ws, lambda m: m["type"] == "state")
        assert state["attempt_id"] == attempt_id, "the call they were on is still theirs"
        assert state["pop"] is not None, "shown again: what was published meanwhile may be lost"
        if state["state"] == AgentState.ON_CALL.value:
            await ws.send_json({"type": "hangup", "attempt_id": attempt_id})
        await ws.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "no_sale"})
        nxt = await receive_until(ws, lambda m: m["type"] == "pop", GONE_S)
        assert int(nxt["attempt_id"]) != attempt_id
        await ws.close()


async def test_an_agent_routed_again_without_reconnecting_one_who_left_is_not(
    tmp_path: Path, db_url: str, pool: asyncpg.Pool
) -> None:
    """Three agents go stale together. One closes the desktop (and their session still
    looks alive: the write saying so was lost), one logs out (their session still says
    ready), one waits: only the one who waited is routed again, and gets the calls."""
    campaign_id = await _campaign(pool)
    async with _node(tmp_path, db_url) as client:
        desk: LiveDesk = client.app[LIVE].desk
        hub = client.app[LIVE].hub
        closed_id, closed_ws = await _ready(client, db_url, "closed-1", campaign_id)
        left_id, left_ws = await _ready(client, db_url, "left-1", campaign_id)
        kept_id, kept_ws = await _ready(client, db_url, "kept-1", campaign_id)
        hub.pool = None
        await _until("all three out of routing",
                     lambda: all(desk.agents[a].connections == 0
                                 for a in (closed_id, left_id, kept_id)))  # fmt: skip

        await closed_ws.close()
        await left_ws.send_json({"type": "logout"})
        await receive_until(left_ws, lambda m: m["type"] == "state" and m["state"] == "offline")
        async with asyncio.timeout(GONE_S):
            while await _session_state(pool, left_id) != "offline":  # noqa: ASYNC110 - a row
                await asyncio.sleep(0.02)
        async with pool.acquire() as conn:
            # As if the closing desktop's write had failed and the logout were not saved
            # yet: both sessions say a live desktop, ready, beating.
            await conn.execute(
                "UPDATE agent_sessions SET connections = 1, state = 'ready',"
                " heartbeat_at = now() + interval '1 hour' WHERE agent_id = ANY ($1::bigint[])",
                [closed_id, left_id])  # fmt: skip
        hub.pool = client.app[POOL]
        await receive_until(kept_ws, lambda m: m.get("code") == "desktop_back", GONE_S)
        await _due(pool, campaign_id, 20)
        await receive_until(kept_ws, lambda m: m["type"] == "pop")
        await asyncio.sleep(TICKS_S)  # the loop ticks: it would route to them by now

        assert desk.agents[closed_id].connections == 0
        assert desk.agents[left_id].state is AgentState.OFFLINE
        assert await _routed_to(pool, [closed_id, left_id]) == 0
        await left_ws.close()
        await kept_ws.close()


async def test_an_agent_stale_when_the_campaign_was_taken_on_is_routed_once_beating_again(
    tmp_path: Path, db_url: str, pool: asyncpg.Pool
) -> None:
    """The dialer takes the campaign on while the agent's web node is stalled: the
    take-over leaves them out (nothing is dialled for them), and once the node beats again
    they are routed on the same websocket, without a message of theirs."""
    campaign_id = await _campaign(pool, start=False)
    async with _node(tmp_path, db_url) as client:
        desk: LiveDesk = client.app[LIVE].desk
        hub = client.app[LIVE].hub
        runtime = client.app[LIVE].runtime
        assert runtime is not None
        agent_id, token = await agent_token(db_url, "late-1")
        ws = await client.ws_connect("/api/v1/dialer/ws",
                                     headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        # No desk runs the campaign yet: the wish waits in the session.
        await ws.send_json({"type": "ready", "campaign_id": campaign_id})
        await receive_until(ws, lambda m: m.get("code") == "waiting_for_dialer")

        hub.pool = None  # the web node stalls with the desktop open
        async with asyncio.timeout(GONE_S):
            while not await _session_stale(pool, agent_id):  # noqa: ASYNC110 - a row
                await asyncio.sleep(0.02)
        async with pool.acquire() as conn:
            await change_status(conn, campaign_id=campaign_id, action=Action.START,
                                actor="test")  # fmt: skip
        await _until("the campaign taken on", lambda: campaign_id in runtime.held)
        await _due(pool, campaign_id, 20)
        await asyncio.sleep(TICKS_S)  # the loop ticks: the only agent is not there
        assert agent_id not in desk.agents, "a stale session is not restored"
        assert await _dialled(pool, campaign_id) == 0

        hub.pool = client.app[POOL]  # it beats again; the agent says nothing
        pop = await receive_until(ws, lambda m: m["type"] == "pop", GONE_S)
        assert desk.agents[agent_id].campaign_id == campaign_id
        # The call's row is written off the answer-to-agent path (CallTask._persist): the
        # pop may reach the desktop before the row names the agent.
        async with asyncio.timeout(GONE_S):
            while await _routed_to(pool, [agent_id]) < 1:  # noqa: ASYNC110 - a row
                await asyncio.sleep(0.02)
        assert int(pop["attempt_id"]) > 0
        await ws.close()


async def test_an_agent_with_desktops_on_two_web_nodes_stays_routed_when_one_closes(
    tmp_path: Path, db_url: str, pool: asyncpg.Pool
) -> None:
    """A second tab behind the load balancer lands on another web node, and is closed:
    the desktop still open on the first node keeps the agent routed, without a notice."""
    campaign_id = await _campaign(pool)
    async with _nodes(tmp_path, db_url, web_only=1) as (first, second):
        desk: LiveDesk = first.app[LIVE].desk
        agent_id, token = await agent_token(db_url, "two-tabs-1")
        headers = {"Authorization": f"Bearer {token}"}
        ws = await first.ws_connect("/api/v1/dialer/ws", headers=headers)
        await ws.send_json({"type": "ready", "campaign_id": campaign_id})
        await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready"
                            and m["phone"] is True)  # fmt: skip
        async with asyncio.timeout(GONE_S):  # the desk saves its agents' states in batches
            while await _session_state(pool, agent_id) != "ready":  # noqa: ASYNC110 - a row
                await asyncio.sleep(0.02)
        tab = await second.ws_connect("/api/v1/dialer/ws", headers=headers)
        await receive_until(tab, lambda m: m["type"] == "state" and m["state"] == "ready")
        await tab.close()
        await _until("the second tab's bye", lambda: desk.agents[agent_id].connections == 1)
        await asyncio.sleep(GONE_S)  # the desk checks the sessions every lease/3
        assert desk.agents[agent_id].connections == 1, "the first node's desktop is open"
        assert agent_id not in desk.stale

        await _due(pool, campaign_id, 1)
        notices: list[str] = []

        def pop_or_notice(m: dict[str, Any]) -> bool:
            if m["type"] == "notice":
                notices.append(m["code"])
            return bool(m["type"] == "pop")

        await receive_until(ws, pop_or_notice, GONE_S)
        assert "desktop_lost" not in notices
        await ws.close()
