"""A call reads its events: the customer hanging up mid-call, the agent hanging up (the
trunk goes down before the disposition), the agent's phone leg dropping, a bridge that
fails, a cancelled call."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient

from dialer.live.call import call_id_for
from dialer.live.runtime import DialerRuntime
from dialer.sim.scenario import Dist
from dialer.sim.seed import seed_campaign
from dialer.telephony.sim import SimCarrier
from server.auth import Role
from server.keys import LIVE
from tests.conftest import token_for
from tests.integration.dialer.helpers import TIMEOUT_S, calls_settled, receive_until, scenario


def _carrier(**options: Any) -> SimCarrier:
    return SimCarrier(seed=5, time_scale=0.01, scenario=scenario(), **options)


async def _agent_on_call(client: TestClient, pool: asyncpg.Pool,  # type: ignore[type-arg]
                         db_url: str) -> tuple[ClientWebSocketResponse, int, int, int]:
    """An agent ready on a fresh campaign, on a call: (socket, campaign, attempt, agent)."""
    async with pool.acquire() as conn:
        campaign_id = await seed_campaign(conn, leads=3)
    headers = await token_for(client, db_url, Role.AGENT)
    ws = await client.ws_connect("/api/v1/dialer/ws", headers=headers)
    await ws.send_json({"type": "ready", "campaign_id": campaign_id})
    pop = await receive_until(ws, lambda m: m["type"] == "pop")
    await ws.send_json({"type": "ack", "attempt_id": pop["attempt_id"]})
    runtime = _runtime(client)
    agent_id = runtime.calls[pop["attempt_id"]].journey.agent_id
    assert agent_id is not None
    return ws, campaign_id, pop["attempt_id"], agent_id


def _runtime(client: TestClient) -> DialerRuntime:  # type: ignore[type-arg]
    runtime = client.app[LIVE].runtime
    assert isinstance(runtime, DialerRuntime)
    return runtime


async def _attempt(pool: asyncpg.Pool, attempt_id: int) -> asyncpg.Record:
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM contact_attempts WHERE id = $1", attempt_id)
    assert row is not None
    return row


async def test_customer_hanging_up_mid_call_puts_the_agent_in_wrap_up_with_the_reason(
    live_app_factory: Callable[..., Any], pool: asyncpg.Pool, db_url: str
) -> None:
    carrier = _carrier(customer_hangup=Dist(kind="fixed", mean=30.0, sd=0.0))  # 0.3 s
    async with live_app_factory(port=carrier) as client:
        ws, campaign_id, attempt_id, _ = await _agent_on_call(client, pool, db_url)
        notice = await receive_until(ws, lambda m: m["type"] == "notice")
        assert notice["code"] == "customer_hung_up"
        state = await receive_until(ws, lambda m: m["type"] == "state"
                                    and m["state"] == "wrap_up")
        assert state["attempt_id"] == attempt_id  # the disposition is still to save
        assert call_id_for(campaign_id, attempt_id) not in carrier.calls
        await ws.send_json({"type": "disposition", "attempt_id": attempt_id,
                            "code": "no_sale", "then_pause": "break"})
        await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "paused")
        await calls_settled(client, [attempt_id])
        await ws.close()
    attempt = await _attempt(pool, attempt_id)
    assert (attempt["outcome"], attempt["disposition"]) == ("answered_live", "no_sale")


async def test_agent_hang_up_takes_the_trunk_down_before_the_disposition(
    live_app_factory: Callable[..., Any], pool: asyncpg.Pool, db_url: str
) -> None:
    carrier = _carrier()
    async with live_app_factory(port=carrier) as client:
        ws, campaign_id, attempt_id, _ = await _agent_on_call(client, pool, db_url)
        call_id = call_id_for(campaign_id, attempt_id)
        assert call_id in carrier.calls
        await ws.send_json({"type": "hangup", "attempt_id": attempt_id})
        await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "wrap_up")
        async with asyncio.timeout(TIMEOUT_S):
            while call_id in carrier.calls:  # noqa: ASYNC110 - the call task hangs up
                await asyncio.sleep(0.01)
        assert attempt_id in _runtime(client).calls  # no disposition yet: still open
        await ws.send_json({"type": "disposition", "attempt_id": attempt_id,
                            "code": "sale", "then_pause": "break"})
        await calls_settled(client, [attempt_id])
        await ws.close()
    assert (await _attempt(pool, attempt_id))["disposition"] == "sale"


async def test_agent_phone_leg_dropping_ends_the_call_and_comes_back(
    live_app_factory: Callable[..., Any], pool: asyncpg.Pool, db_url: str
) -> None:
    carrier = _carrier()
    async with live_app_factory(port=carrier, leg_retry_s=0.3) as client:
        ws, campaign_id, attempt_id, agent_id = await _agent_on_call(client, pool, db_url)
        carrier.drop_agent_leg(agent_id)
        notice = await receive_until(ws, lambda m: m["type"] == "notice")
        assert notice["code"] == "phone_dropped"
        state = await receive_until(ws, lambda m: m["type"] == "state"
                                    and m["state"] == "wrap_up")
        assert state["phone"] is False
        await receive_until(ws, lambda m: m["type"] == "state" and m["phone"] is True)
        assert call_id_for(campaign_id, attempt_id) not in carrier.calls
        await ws.send_json({"type": "disposition", "attempt_id": attempt_id,
                            "code": "callback", "callback_at": "2099-01-01T10:00:00+09:00",
                            "then_pause": "break"})
        await calls_settled(client, [attempt_id])
        await ws.close()
    assert (await _attempt(pool, attempt_id))["disposition"] == "callback"


async def test_a_failed_bridge_frees_the_agent_and_abandons_with_safe_harbor(
    live_app_factory: Callable[..., Any], pool: asyncpg.Pool, db_url: str
) -> None:
    carrier = _carrier(bridge_failure_rate=1.0)
    async with live_app_factory(port=carrier) as client:
        async with pool.acquire() as conn:
            campaign_id = await seed_campaign(conn, leads=1)
        headers = await token_for(client, db_url, Role.AGENT)
        ws = await client.ws_connect("/api/v1/dialer/ws", headers=headers)
        await ws.send_json({"type": "ready", "campaign_id": campaign_id})
        notice = await receive_until(ws, lambda m: m["type"] == "notice")
        assert notice["code"] == "bridge_failed"
        await receive_until(ws, lambda m: m["type"] == "state" and m["state"] == "ready")
        async with pool.acquire() as conn:
            async with asyncio.timeout(TIMEOUT_S):
                while not (row := await conn.fetchrow("SELECT * FROM contact_attempts")):  # noqa: ASYNC110 - the call task writes it
                    await asyncio.sleep(0.02)
        await ws.close()
    assert row["outcome"] == "abandoned"
    assert (call_id_for(campaign_id, row["id"]), "safe-harbor") in carrier.prompts


async def test_a_cancelled_call_is_hung_up(pool: asyncpg.Pool, db_url: str,
                                           live_app_factory: Callable[..., Any]) -> None:
    carrier = SimCarrier(seed=5, time_scale=1.0, scenario=scenario(answer_after_s=15.0))
    async with live_app_factory(port=carrier) as client:
        async with pool.acquire() as conn:
            campaign_id = await seed_campaign(conn, leads=1)
        headers = await token_for(client, db_url, Role.AGENT)
        ws = await client.ws_connect("/api/v1/dialer/ws", headers=headers)
        await ws.send_json({"type": "ready", "campaign_id": campaign_id})
        runtime = _runtime(client)
        async with asyncio.timeout(TIMEOUT_S):
            while not carrier.calls:  # noqa: ASYNC110 - the loop dials
                await asyncio.sleep(0.01)
        (attempt_id, task), = runtime.tasks.items()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert call_id_for(campaign_id, attempt_id) not in carrier.calls
        await ws.close()


async def test_the_dialer_carries_on_after_its_database_connections_are_cut(
    live_app_factory: Callable[..., Any], pool: asyncpg.Pool, db_url: str
) -> None:
    """Every connection of the database is terminated mid-campaign (what a restart of
    PostgreSQL does to them): the dialer reconnects and the agent gets calls again."""
    async with live_app_factory() as client:
        async with pool.acquire() as conn:
            campaign_id = await seed_campaign(conn, leads=30)
        headers = await token_for(client, db_url, Role.AGENT)
        ws = await client.ws_connect("/api/v1/dialer/ws", headers=headers)
        await ws.send_json({"type": "ready", "campaign_id": campaign_id})

        async def take_call() -> int:
            pop = await receive_until(ws, lambda m: m["type"] == "pop", timeout_s=30)
            await ws.send_json({"type": "ack", "attempt_id": pop["attempt_id"]})
            await ws.send_json({"type": "hangup", "attempt_id": pop["attempt_id"]})
            await ws.send_json({"type": "disposition", "attempt_id": pop["attempt_id"],
                                "code": "no_sale"})
            return int(pop["attempt_id"])

        before = await take_call()
        async with pool.acquire() as conn:
            cut = await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        assert cut >= 2  # the runtime's pool and its campaign lock
        after = await take_call()
        await calls_settled(client, [before, after])
        await ws.close()
    conn = await asyncpg.connect(db_url)  # the test's pool lost its connections too
    try:
        twice = await conn.fetch("SELECT lead_id FROM call_journeys GROUP BY lead_id"
                                 " HAVING count(*) > 1")
        written = await conn.fetchval("SELECT count(*) FROM contact_attempts"
                                      " WHERE id = ANY($1::bigint[])", [before, after])
    finally:
        await conn.close()
    assert twice == []
    assert written == 2
