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


async def test_callbacks_and_ars_calls_are_visible(client: Client, auth_headers: Any,
                                                   pool: asyncpg.Pool) -> None:
    sup = await auth_headers(Role.SUPERVISOR)
    now = dt.datetime.now(dt.UTC)
    async with pool.acquire() as conn:
        qid = await store.queue_id(conn, "order-line")
        assert qid is not None
        first = await store.add_callback(conn, queue_id=qid, call_id="c-1", phone="+821011110000",
                                         customer_id=None, place_since=now)
        again = await store.add_callback(conn, queue_id=qid, call_id="c-1",
                                          phone="+821011110000", customer_id=None,
                                          place_since=now)
        assert first is not None
        assert again is None  # one callback per call
        earlier = await store.add_callback(conn, queue_id=qid, call_id="c-0",
                                           phone="+821011119999", customer_id=None,
                                           place_since=now - dt.timedelta(seconds=30))
        assert earlier is not None
        row = await store.set_callback(conn, callback_id=first, status="dialing", agent_id=3,
                                       attempt=True)
        assert (row["status"], row["agent_id"], row["attempts"]) == ("dialing", 3, 1)
        await store.save_session(conn, call_id="ars-1", customer_id=None, started=now,
                                 ended=now, path=["welcome"], outcome="agent:welcome:unknown",
                                 order_id=None, total_krw=None)
        assert await store.skills(conn) == {}
    pending = (await (await client.get("/api/v1/inbound/callbacks", headers=sup)).json())["items"]
    assert [c["call_id"] for c in pending] == ["c-0", "c-1"]  # the earlier place first
    sessions = (await (await client.get("/api/v1/inbound/ars/sessions",
                                        headers=sup)).json())["items"]
    assert [(s["call_id"], s["outcome"]) for s in sessions] == [("ars-1", "agent:welcome:unknown")]
    async with pool.acquire() as conn:
        await store.set_callback(conn, callback_id=first, status="connected", agent_id=3)
    pending = (await (await client.get("/api/v1/inbound/callbacks", headers=sup)).json())["items"]
    assert [c["call_id"] for c in pending] == ["c-0"]
