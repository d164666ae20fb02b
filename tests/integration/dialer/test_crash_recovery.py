"""kill -9 of the process running a call: an agent on the call, an order placed on it.
The restarted server closes the journey, keeps the customer from being dialled again and
gives the call back to the agent, whose disposition writes the attempt."""

from __future__ import annotations

import json
import random
import secrets
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from cli.demo_data import seed_catalog
from dialer.sim.seed import seed_campaign
from tests.integration.dialer.helpers import receive_until
from tests.integration.dialer.processes import (
    agent_token,
    eventually_row,
    node_env,
    nodes,
    start_serve,
)


async def _order(session: aiohttp.ClientSession, base: str, token: str, pop: dict[str, object],
                  sku: int) -> int:
    customer = pop["customer"]
    assert isinstance(customer, dict)
    body = {"customer_id": customer["id"], "attempt_id": pop["attempt_id"],
            "lines": [{"sku_id": sku, "qty": 1}],
            "delivery": {"name": customer["name"], "phone": customer["phone"],
                         "address": customer["address"], "postal_code": customer["postal_code"]},
            "payment": {"method": "cod"}}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(8)}
    async with session.post(base + "/api/v1/orders", json=body, headers=headers) as resp:
        assert resp.status == 201, await resp.text()
        return int((await resp.json())["id"])


@pytest.mark.parametrize("saved_as", ["saved", "behind", "never-saved"])
async def test_kill_9_mid_call_with_an_order_closes_the_call_and_the_agent_disposes(
    db_url: str, pool: asyncpg.Pool, tmp_path: Path, saved_as: str
) -> None:
    """`behind`: the process died before its batch of agent sessions was written, so the
    agent's session still says ready, with no call; `never-saved`: no batch was written
    since the agent logged in, so it says offline, with no campaign (seen when the
    process was starved of CPU). Either way the call's row decides."""
    async with pool.acquire() as conn:
        await seed_catalog(conn, random.Random(1))
        sku = await conn.fetchval("SELECT id FROM skus WHERE NOT is_set ORDER BY id LIMIT 1")
        campaign_id = await seed_campaign(conn, leads=3)
    agent_id, token = await agent_token(db_url, "agent-crash")
    headers = {"Authorization": f"Bearer {token}"}
    env = node_env(db_url, tmp_path)
    async with nodes() as started, aiohttp.ClientSession() as session:
        first = await start_serve("first", env)
        started.append(first)
        ws = await session.ws_connect(first.ws, headers=headers)
        await ws.send_json({"type": "ready", "campaign_id": campaign_id})
        pop = await receive_until(ws, lambda m: m["type"] == "pop")
        attempt_id = pop["attempt_id"]
        await ws.send_json({"type": "ack", "attempt_id": attempt_id})
        assert first.base is not None
        order_id = await _order(session, first.base, token, pop["pop"], sku)
        await ws.send_json({"type": "order", "attempt_id": attempt_id, "order_id": order_id,
                            "submit_ms": 12.0})
        await eventually_row(pool, "SELECT 1 FROM call_journeys WHERE attempt_id = $1"
                             " AND order_id IS NOT NULL", attempt_id)
        lead_id = (await eventually_row(pool, "SELECT lead_id FROM call_journeys"
                                        " WHERE attempt_id = $1", attempt_id))["lead_id"]
        await first.kill()  # the agent is on the call, the customer has ordered
        await ws.close()
        if saved_as != "saved":
            ready = saved_as == "behind"
            async with pool.acquire() as conn:
                await conn.execute(
                    "UPDATE agent_sessions SET state = $2, attempt_id = NULL,"
                    " campaign_id = CASE WHEN $3 THEN campaign_id END WHERE agent_id = $1",
                    agent_id, "ready" if ready else "offline", ready)  # fmt: skip

        second = await start_serve("second", env)
        started.append(second)
        # Before the agent is back: the journey is closed, the lead held for a person.
        journey = await eventually_row(pool, "SELECT * FROM call_journeys WHERE attempt_id = $1"
                                       " AND ended_at IS NOT NULL", attempt_id)
        assert journey["outcome"] == "interrupted"
        lead = await eventually_row(pool, "SELECT * FROM campaign_leads WHERE id = $1", lead_id)
        assert lead["status"] == "follow_up"
        again = await session.ws_connect(second.ws, headers=headers)
        await again.send_json({"type": "state"})
        # The first state the desktop gets is the call back, not a new one on its way.
        back = await receive_until(again, lambda m: m["type"] == "state", timeout_s=30)
        assert (back["state"], back["attempt_id"]) == ("wrap_up", attempt_id)
        assert back["pop"]["customer"] == pop["pop"]["customer"]
        await again.send_json({"type": "disposition", "attempt_id": attempt_id, "code": "sale",
                               "then_pause": "break"})
        attempt = await eventually_row(pool, "SELECT * FROM contact_attempts WHERE id = $1",
                                       attempt_id)
        await again.close()
    details = attempt["details"]
    details = json.loads(details) if isinstance(details, str) else details
    assert (attempt["outcome"], attempt["disposition"]) == ("answered_live", "sale")
    assert details["interrupted"] is True
    assert details["order_id"] == order_id
    async with pool.acquire() as conn:
        dials = await conn.fetchval("SELECT count(*) FROM call_journeys WHERE lead_id = $1",
                                    lead_id)
        status = await conn.fetchval("SELECT status FROM campaign_leads WHERE id = $1", lead_id)
        left = await conn.fetchval("SELECT count(*) FROM live_calls WHERE attempt_id = $1",
                                   attempt_id)
    assert dials == 1  # the customer who ordered was never dialled again
    assert status == "done"
    assert left == 0
