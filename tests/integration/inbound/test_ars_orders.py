"""The ARS takes an order through the same capture path as an agent: the same order
(lines, prices, total, payment, delivery, stock reserved) as one placed over the API by an
agent; idempotent on the call; out of stock says so and offers another option."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from config.db import connect
from dialer.inbound import services, store
from dialer.inbound.ars import ArsSession, Command, PlaceOrder, ToAgent, load_menu
from dialer.inbound.schedule import Broadcast
from server.auth import Role
from server.inbound import place_ars_order, products_for
from server.keys import POOL
from tests.integration.orders.seed import product

Client = TestClient  # type: ignore[type-arg]
CALLER = "+821055501234"
ADDRESS = {"address": "서울시 중구 세종대로 1", "postal_code": "04524"}


async def _seed(db_url: str, *, stock: int) -> dict[str, Any]:
    conn = await connect(db_url)
    try:
        skus = await product(conn, "PAD", skus=2, price=89_000, stock=stock)
        cust = await conn.fetchval(
            "INSERT INTO customers (name, phone_e164, address, postal_code)"
            " VALUES ('김민지', $1, $2, $3) RETURNING id",
            CALLER, ADDRESS["address"], ADDRESS["postal_code"])
        pay = await store.add_payment(conn, customer_id=cust, label="신한카드", last4="0457")
        qid = await store.queue_id(conn, "order-line")
        assert qid is not None
        now = dt.datetime.now(dt.UTC)
        await services.add_broadcasts(conn, rows=[(1, Broadcast(
            start=now - dt.timedelta(minutes=5), end=now + dt.timedelta(minutes=55),
            title="겨울 패딩", products=("PAD",), expected_calls=500))], actor="test")
    finally:
        await conn.close()
    return {"skus": skus, "customer": cust, "payment": pay, "queue": qid}


async def _session(conn: asyncpg.Connection, queue_id: int, call_id: str) -> ArsSession:
    offer, broadcast = await services.ars_offer(conn, caller_e164=CALLER, queue_id=queue_id,
                                                now=dt.datetime.now(dt.UTC),
                                                products_for=products_for)
    assert broadcast is not None
    return ArsSession(load_menu(), offer, call_id=call_id)


def _press(session: ArsSession, keys: str) -> list[Command]:
    out: list[Command] = []
    for k in keys:
        out += session.key(k)
    return out


def _comparable(order: dict[str, Any]) -> dict[str, Any]:
    keep = {k: v for k, v in order.items() if k not in
            ("id", "agent_id", "placed_at", "updated_at", "paid_at", "lines", "events")}
    keep["lines"] = [{k: v for k, v in ln.items() if k != "id"} for ln in order["lines"]]
    return keep


async def test_ars_order_is_the_agents_order(client: Client, auth_headers: Any,
                                             db_url: str) -> None:
    seed = await _seed(db_url, stock=10)
    app = client.server.app
    async with app[POOL].acquire() as conn:
        session = await _session(conn, seed["queue"], "call-ars-1")
        customer = await services.find_customer(conn, CALLER)
    assert customer is not None
    session.start()
    # product 1, option 2, quantity 2, registered card confirmed by its last four digits
    # (they start with 0: the card step takes 0 as a digit), confirm
    commands = _press(session, "1" "2" "2" "1" "0457" "1")
    assert isinstance(commands[-1], PlaceOrder)
    intent = commands[-1].intent
    assert (intent.sku_id, intent.qty, intent.payment) == (seed["skus"][1], 2, "card")
    assert session.total_krw == 178_000
    result = await place_ars_order(app, intent=intent, customer=customer)
    assert result.order_id is not None
    assert result.total_krw == 178_000
    done = session.order_result(placed=True, order_id=result.order_id)
    assert session.outcome == "order"
    assert str(result.order_id) in done[0].text  # type: ignore[union-attr]
    # the same call pressing confirm again (or a retried request) places nothing new
    again = await place_ars_order(app, intent=intent, customer=customer)
    assert again.order_id == result.order_id

    # an agent takes the same order over the API
    agent = await auth_headers(Role.AGENT)
    resp = await client.post("/api/v1/orders", headers={**agent, "Idempotency-Key": "agent-1"},
                             json={"customer_id": seed["customer"],
                                   "lines": [{"sku_id": seed["skus"][1], "qty": 2}],
                                   "delivery": {"name": "김민지", "phone": CALLER, **ADDRESS},
                                   "payment": {"method": "card"}})
    assert resp.status == 201, await resp.text()
    by_agent = await resp.json()
    sup = await auth_headers(Role.SUPERVISOR)
    by_ars = await (await client.get(f"/api/v1/orders/{result.order_id}", headers=sup)).json()
    assert _comparable(by_ars) == _comparable(by_agent)
    assert by_ars["agent_id"] is None
    async with app[POOL].acquire() as conn:
        reserved = await conn.fetch(
            "SELECT order_id, sku_id, qty FROM order_allocations WHERE order_id = ANY($1)"
            " ORDER BY order_id", [result.order_id, by_agent["id"]])
        events = await conn.fetch("SELECT order_id, type, actor FROM order_events"
                                  " WHERE order_id = $1 ORDER BY id", result.order_id)
    assert [(r["sku_id"], r["qty"]) for r in reserved] == [(seed["skus"][1], 2)] * 2
    assert [(e["type"], e["actor"]) for e in events] == [("placed", "ars"), ("paid", "ars")]


async def test_out_of_stock_offers_another_option_then_cod(client: Client, db_url: str) -> None:
    seed = await _seed(db_url, stock=1)
    app = client.server.app
    async with app[POOL].acquire() as conn:
        await conn.execute("UPDATE stock SET on_hand = 0 WHERE sku_id = $1", seed["skus"][1])
        session = await _session(conn, seed["queue"], "call-ars-2")
        customer = await services.find_customer(conn, CALLER)
    assert customer is not None
    session.start()
    said = _press(session, "12")  # option 2 is sold out
    assert session.step.name == "sold_out"
    assert "품절" in said[0].text  # type: ignore[union-attr]
    _press(session, "1")  # another option
    assert session.step.name == "option"
    # option 1 has one unit: two are refused before payment, one goes through, COD
    _press(session, "12")
    assert session.step.name == "sold_out"
    commands = _press(session, "1" "1" "1" "2" "1")
    assert isinstance(commands[-1], PlaceOrder)
    assert commands[-1].intent.payment == "cod"
    # another caller takes the last unit first: the capture refuses, the ARS says sold out
    async with app[POOL].acquire() as conn:
        await conn.execute("UPDATE stock SET on_hand = 0 WHERE sku_id = $1", seed["skus"][0])
    result = await place_ars_order(app, intent=commands[-1].intent, customer=customer)
    assert result.out_of_stock
    follow = session.order_result(placed=False, out_of_stock=True)
    assert session.step.name == "sold_out"
    assert any("품절" in getattr(c, "text", "") for c in follow)
    assert isinstance(_press(session, "2")[-1], ToAgent)
    async with app[POOL].acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM orders") == 0


async def test_preview_walks_the_menu_without_ordering(client: Client, auth_headers: Any,
                                                      db_url: str) -> None:
    await _seed(db_url, stock=10)
    sup = await auth_headers(Role.SUPERVISOR)
    resp = await client.post("/api/v1/inbound/ars/preview", headers=sup,
                             json={"caller": CALLER, "keys": "1" "1" "3" "2" "1"})
    assert resp.status == 200, await resp.text()
    r = await resp.json()
    assert r["broadcast"] == "겨울 패딩"
    assert r["said"][0]["text"].startswith("김민지 고객님")
    assert r["path"][-1] == "placing"
    assert r["would_order"]["qty"] == 3
    assert r["would_order"]["payment"] == "cod"
    assert r["would_order"]["total_krw"] == 267_000
    unknown = await (await client.post("/api/v1/inbound/ars/preview", headers=sup,
                                       json={"caller": "+821000000000"})).json()
    assert unknown["outcome"] == "agent:welcome:unknown"
    bad = await client.post("/api/v1/inbound/ars/preview", headers=sup,
                            json={"caller": "010", "keys": "x"})
    assert bad.status == 422
    async with client.server.app[POOL].acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM orders") == 0
