"""Called numbers map to queues, unknown numbers go to the default queue and are logged;
the figures per queue the wallboard shows (service level, ASA, abandons, waiting)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from dialer.inbound import store
from server.auth import Role

Client = TestClient  # type: ignore[type-arg]


async def test_routing_and_figures(client: Client, auth_headers: Any, pool: asyncpg.Pool) -> None:
    sup = await auth_headers(Role.SUPERVISOR)
    resp = await client.put("/api/v1/inbound/queues/vip", headers=sup,
                            json={"kind": "vip", "priority": 10, "numbers": ["15880001"]})
    vip = (await resp.json())["id"]
    # the client's app and this pool share the test's database
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn:
        known = await store.route(conn, "15880001")
        unknown = await store.route(conn, "0212345678")
        default = await store.queue_id(conn, "order-line")
        assert (known.queue_id, known.unknown) == (vip, False)
        assert (unknown.queue_id, unknown.unknown) == (default, True)
        calls = [("a", known, 5, "answered"), ("b", known, 30, "answered"),
                 ("c", known, None, "abandoned"), ("d", unknown, 3, "answered"),
                 ("e", known, None, None)]
        for call_id, route, answer_after, outcome in calls:
            arrived = now - dt.timedelta(seconds=120)
            await store.log_call(conn, call_id=call_id, caller="+821011112222",
                                 called="x", route=route, customer_id=None,
                                 broadcast_id=None, at=arrived)
            if answer_after is not None:
                await store.answer_call(conn, call_id=call_id, agent_id=1,
                                        at=arrived + dt.timedelta(seconds=answer_after))
            if outcome is not None:
                await store.end_call(conn, call_id=call_id, outcome=outcome, at=now)
        flagged = await conn.fetchval(
            "SELECT count(*) FROM inbound_calls WHERE unknown_number AND queue_id = $1", default)
        assert flagged == 1
    stats = {q["name"]: q for q in
             (await (await client.get("/api/v1/inbound/stats", headers=sup)).json())["items"]}
    v = stats["vip"]
    assert (v["offered"], v["answered"], v["abandoned"], v["waiting"]) == (4, 2, 1, 1)
    assert v["service_level"] == 0.25  # one of four answered within 20 s
    assert v["asa_s"] == 17.5
    assert v["longest_wait_s"] >= 119
    assert stats["order-line"]["service_level"] == 1.0
