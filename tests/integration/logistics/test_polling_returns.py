"""Polling a carrier without push, and returns within the cancellation windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from aiohttp.test_utils import TestClient

from config.db import connect
from logistics.carriers_sim import SimulatedCarrier, journey
from logistics.polling import PollConfig, RateLimiter, poll_once
from logistics.relay import relay_all
from logistics.shipments import dispatch
from orders.follow import follow_all
from server.auth import Role
from tests.integration.logistics.conftest import make_order, make_sku


def delivered_number(prefix: str) -> str:
    """A Lotte-shaped number whose simulated journey ends delivered in one go."""
    for i in range(1000):
        number = f"{prefix}{i:04d}"
        steps = [s.status.value for s in journey(number)]
        if steps[-1] == "delivered" and len(steps) == 6:
            return number
    raise AssertionError("no such number")


async def test_poll_moves_parcels_along_without_duplicates(pool: asyncpg.Pool) -> None:
    number = delivered_number("31234567")
    t0 = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    async with pool.acquire() as conn:
        order_id = await make_order(conn)
        await relay_all(conn)
        sid = await conn.fetchval("SELECT id FROM shipments WHERE order_id = $1", order_id)
        await dispatch(conn, shipment_id=sid, carrier_code="lotte", tracking_number=number,
                       actor="t", now=t0)  # fmt: skip
        sim = SimulatedCarrier()
        config = PollConfig(adapters={"lotte": sim}, every=timedelta(minutes=30),
                            limiters={"lotte": RateLimiter(1000.0)})  # fmt: skip
        # Not due yet: the first poll is 30 minutes after dispatch.
        assert (await poll_once(conn, config=config, now=t0 + timedelta(minutes=10))).polled == 0
        mid = t0 + timedelta(hours=journey(number)[2].after_h + 0.01)
        first = await poll_once(conn, config=config, now=mid)
        assert (first.polled, first.stored) == (1, 3)
        status = await conn.fetchval("SELECT status FROM shipments WHERE id = $1", sid)
        assert status == "in_transit"
        # Asked again too soon: not due. When due, the same checkpoints are not stored twice.
        assert (await poll_once(conn, config=config, now=mid)).polled == 0
        again = await poll_once(conn, config=config, now=mid + timedelta(minutes=31))
        assert (again.polled, again.stored) == (1, 0)
        end = t0 + timedelta(days=5)
        last = await poll_once(conn, config=config, now=end)
        assert last.stored == 3
        row = await conn.fetchrow("SELECT status, next_poll_at FROM shipments WHERE id = $1", sid)
        assert (row["status"], row["next_poll_at"]) == ("delivered", None)  # no more polls
        assert (await follow_all(conn)).moved >= 1  # the order follows (orders' job)
        order_status = await conn.fetchval("SELECT status FROM orders WHERE id = $1", order_id)
        assert order_status == "delivered"
        # Push carriers are never polled.
        assert (await poll_once(conn, config=config, now=end + timedelta(days=1))).polled == 0


async def _delivered_order(db_url: str, *, telephone: bool, days_ago: float, stock: bool = True
                           ) -> tuple[int, int]:  # fmt: skip
    conn = await connect(db_url)
    try:
        sku = await make_sku(conn, stock=5 if stock else None)
        order_id = await make_order(conn, lines=[(sku, 2)], telephone=telephone)
        await relay_all(conn)
        await conn.execute(
            "UPDATE shipments SET status = 'delivered', status_tier = 4, delivered_at = $2"
            " WHERE order_id = $1", order_id, datetime.now(UTC) - timedelta(days=days_ago),
        )  # fmt: skip
    finally:
        await conn.close()
    return order_id, sku


async def test_cancellation_windows(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    web_order, _ = await _delivered_order(db_url, telephone=False, days_ago=10)
    late = await client.post("/api/v1/returns", json={"order_id": web_order,
                             "reason": "changed_mind"}, headers=headers)  # fmt: skip
    assert late.status == 422
    body = await late.json()
    assert body["error"] == "cancellation_window_closed"
    assert "e-commerce" in body["message"]
    assert body["deadline"]
    ad = await client.post("/api/v1/returns", json={"order_id": web_order,
                           "reason": "not_as_advertised"}, headers=headers)  # fmt: skip
    assert ad.status == 201

    phone_order, _ = await _delivered_order(db_url, telephone=True, days_ago=10)
    ok = await client.post("/api/v1/returns", json={"order_id": phone_order,
                           "reason": "changed_mind"}, headers=headers)  # fmt: skip
    assert ok.status == 201, await ok.text()
    again = await client.post("/api/v1/returns", json={"order_id": phone_order,
                              "reason": "changed_mind"}, headers=headers)  # fmt: skip
    assert again.status == 409  # everything is already being returned
    old_phone, _ = await _delivered_order(db_url, telephone=True, days_ago=16)
    closed = await client.post("/api/v1/returns", json={"order_id": old_phone,
                               "reason": "changed_mind"}, headers=headers)  # fmt: skip
    assert closed.status == 422
    assert "telephone sale" in (await closed.json())["message"]


async def test_return_flow_restocks_and_refunds(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    order_id, sku = await _delivered_order(db_url, telephone=True, days_ago=1)
    created = await client.post("/api/v1/returns", json={
        "order_id": order_id, "reason": "defective", "lines": [{"sku_id": sku, "qty": 1}]},
        headers=headers)  # fmt: skip
    ret = await created.json()
    url = f"/api/v1/returns/{ret['id']}/status"
    skip = await client.post(url, json={"status": "refunded"}, headers=headers)
    assert skip.status == 409
    steps = [
        {"status": "pickup_scheduled", "pickup_carrier": "cj",
         "pickup_tracking_number": "5550001112"},
        {"status": "in_transit"}, {"status": "received"}, {"status": "restocked"},
        {"status": "refunded"},
    ]  # fmt: skip
    seen = []
    for step in steps:
        resp = await client.post(url, json=step, headers=headers)
        assert resp.status == 200, await resp.text()
        seen.append((await resp.json())["refund_status"])
    assert seen == ["none", "none", "pending", "pending", "refunded"]
    conn = await connect(db_url)
    try:
        on_hand = await conn.fetchval("SELECT on_hand FROM stock WHERE sku_id = $1", sku)
        moves = await conn.fetchval(
            "SELECT count(*) FROM stock_movements WHERE kind = 'return' AND order_id = $1", order_id
        )
        history = await conn.fetchval(
            "SELECT count(*) FROM return_events WHERE return_id = $1", ret["id"]
        )
    finally:
        await conn.close()
    assert (on_hand, moves, history) == (6, 1, 6)
    listed = await (await client.get("/api/v1/returns?status=refunded", headers=headers)).json()
    assert [r["id"] for r in listed["items"]] == [ret["id"]]


async def test_exchange_ships_a_replacement(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    order_id, _ = await _delivered_order(db_url, telephone=True, days_ago=2)
    ret = await (await client.post("/api/v1/returns", json={
        "order_id": order_id, "kind": "exchange", "reason": "wrong_item"}, headers=headers)).json()
    url = f"/api/v1/returns/{ret['id']}/status"
    for status in ("received", "restocked", "exchanged"):
        resp = await client.post(url, json={"status": status}, headers=headers)
        assert resp.status == 200, await resp.text()
    done = await resp.json()
    assert done["refund_status"] == "not_applicable"
    replacement = await (await client.get(
        f"/api/v1/shipments/{done['replacement_shipment_id']}", headers=headers)).json()
    assert (replacement["kind"], replacement["seq"], replacement["status"]) == (
        "exchange", 2, "pending")
