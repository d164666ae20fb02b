"""Role × route × record: who may read or change which customer and order (finding 2).

On commit 1a94a10 an agent read every customer and every order and cancelled a
supervisor's order; here an agent reads the customer of its call and of its callback, its
own orders, nothing else, and every staff read of personal data is audited.
"""

from __future__ import annotations

import secrets
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from config.db import _init_connection
from dialer.sim.seed import seed_campaign
from server.auth import Role
from tests.conftest import make_user
from tests.integration.orders.seed import DELIVERY

Client = TestClient  # type: ignore[type-arg]
ROLES = ("agent", "other_agent", "supervisor", "marketer", "logistics", "admin")


async def _login(client: Client, db_url: str, role: Role) -> tuple[int, dict[str, str]]:
    name = f"{role.value}-{secrets.token_hex(3)}"
    await make_user(db_url, name, role)
    resp = await client.post("/api/v1/auth/token",
                             json={"username": name, "password": "password-1"})  # fmt: skip
    body = await resp.json()
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['token']}"})
    return (await me.json())["id"], {"Authorization": f"Bearer {body['token']}"}


async def _order(client: Client, headers: dict[str, str], customer_id: int, sku: int) -> int:
    resp = await client.post("/api/v1/orders", headers=headers | {
        "Idempotency-Key": secrets.token_hex(8)}, json={
        "customer_id": customer_id, "lines": [{"sku_id": sku, "qty": 1}], "delivery": DELIVERY,
        "payment": {"method": "cod"}})  # fmt: skip
    assert resp.status == 201, await resp.text()
    return int((await resp.json())["id"])


@pytest.fixture
async def world(client: Client, db_url: str) -> dict[str, Any]:
    """An agent on a call with customer `on_call`, holding a callback for `callback`;
    `stranger` is nobody's. Orders placed by the agent, another agent and a supervisor."""
    users = {"agent": await _login(client, db_url, Role.AGENT),
             "other_agent": await _login(client, db_url, Role.AGENT),
             "supervisor": await _login(client, db_url, Role.SUPERVISOR),
             "marketer": await _login(client, db_url, Role.MARKETER),
             "logistics": await _login(client, db_url, Role.LOGISTICS),
             "admin": await _login(client, db_url, Role.ADMIN)}  # fmt: skip
    agent_id = users["agent"][0]
    conn = await asyncpg.connect(db_url)
    await _init_connection(conn)
    try:
        campaign_id = await seed_campaign(conn, leads=3, start=False)
        leads = await conn.fetch(
            "SELECT id, customer_id FROM campaign_leads WHERE campaign_id = $1 ORDER BY id",
            campaign_id)  # fmt: skip
        on_call, callback, stranger = (r["customer_id"] for r in leads)
        await conn.execute(
            "INSERT INTO call_journeys (attempt_id, campaign_id, lead_id, agent_id, dialer,"
            " queued_at, answered_at, agent_connected_at) VALUES (9001, $1, $2, $3, 'test',"
            " now(), now(), now())", campaign_id, leads[0]["id"], agent_id)  # fmt: skip
        await conn.execute(
            "UPDATE campaign_leads SET callback_at = now() + interval '1 hour',"
            " callback_agent_id = $2 WHERE id = $1", leads[1]["id"], agent_id)  # fmt: skip
    finally:
        await conn.close()
    sup = users["supervisor"][1]
    product = await client.post("/api/v1/catalog/products", headers=sup, json={
        "code": "MUG", "name": "Mug", "category": "kitchen", "price_krw": 9_900,
        "variants": [{"code": "MUG-1"}]})  # fmt: skip
    sku = (await product.json())["skus"][0]["id"]
    await client.post("/api/v1/stock/receipts", headers=users["logistics"][1],
                      json={"sku": sku, "qty": 50})  # fmt: skip
    orders = {
        "own": await _order(client, users["agent"][1], on_call, sku),
        "other_agents": await _order(client, users["other_agent"][1], stranger, sku),
        "supervisors": await _order(client, sup, stranger, sku),
    }
    return {"users": users, "customers": {"on_call": on_call, "callback": callback,
            "stranger": stranger}, "orders": orders, "db_url": db_url}  # fmt: skip


# (method, path template, body) -> expected status per role, in ROLES order.
MATRIX: list[tuple[str, str, dict[str, Any] | None, tuple[int, ...]]] = [
    ("GET", "/api/v1/customers/{on_call}", None, (200, 403, 200, 200, 403, 200)),
    ("GET", "/api/v1/customers/{callback}", None, (200, 403, 200, 200, 403, 200)),
    ("GET", "/api/v1/customers/{stranger}", None, (403, 403, 200, 200, 403, 200)),
    ("GET", "/api/v1/customers", None, (403, 403, 200, 200, 403, 200)),
    ("GET", "/api/v1/orders/{own}", None, (200, 403, 200, 200, 200, 200)),
    ("GET", "/api/v1/orders/{other_agents}", None, (403, 200, 200, 200, 200, 200)),
    ("GET", "/api/v1/orders/{supervisors}", None, (403, 403, 200, 200, 200, 200)),
    ("GET", "/api/v1/orders?agent_id={other_agent_id}", None, (403, 200, 200, 200, 200, 200)),
    ("POST", "/api/v1/returns", {"order_id": "{supervisors}", "reason": "changed_mind"},
     (403, 403, 201, 403, 409, 409)),  # then: that return exists
    # Cancelling an order cancelled already answers it as it is (200).
    ("POST", "/api/v1/orders/{supervisors}/cancel", {}, (403, 403, 200, 403, 403, 200)),
    ("POST", "/api/v1/orders/{other_agents}/cancel", {}, (403, 200, 200, 403, 403, 200)),
    ("POST", "/api/v1/orders/{own}/cancel", {}, (200, 403, 200, 403, 403, 200)),
]  # fmt: skip


def _fill(template: str, world: dict[str, Any]) -> str:
    values = {**world["customers"], **world["orders"],
              "other_agent_id": world["users"]["other_agent"][0]}  # fmt: skip
    return template.format(**values)


async def test_role_route_record_matrix(client: Client, world: dict[str, Any]) -> None:
    mismatches = []
    for method, template, body, expected in MATRIX:
        path = _fill(template, world)
        payload = None
        if body is not None:
            payload = {k: int(_fill(v, world)) if isinstance(v, str) and "{" in v else v
                       for k, v in body.items()}  # fmt: skip
        for role, want in zip(ROLES, expected, strict=True):
            headers = world["users"][role][1]
            resp = await client.request(method, path, headers=headers, json=payload)
            if resp.status != want:
                mismatches.append(f"{role:12} {method} {template}: {resp.status}, want {want}")
    assert not mismatches, "\n".join(mismatches)


async def test_an_agent_lists_only_its_own_orders(client: Client, world: dict[str, Any]) -> None:
    resp = await client.get("/api/v1/orders", headers=world["users"]["agent"][1])
    assert resp.status == 200
    ids = {o["id"] for o in (await resp.json())["items"]}
    assert ids == {world["orders"]["own"]}
    everyone = await client.get("/api/v1/orders", headers=world["users"]["supervisor"][1])
    assert len((await everyone.json())["items"]) == 3


async def test_once_the_call_closes_the_customer_is_out_of_reach(
    client: Client, world: dict[str, Any]
) -> None:
    path = f"/api/v1/customers/{world['customers']['on_call']}"
    agent = world["users"]["agent"][1]
    assert (await client.get(path, headers=agent)).status == 200
    conn = await asyncpg.connect(world["db_url"])
    try:
        await conn.execute("UPDATE call_journeys SET ended_at = now() WHERE attempt_id = 9001")
    finally:
        await conn.close()
    assert (await client.get(path, headers=agent)).status == 403


async def test_reads_of_personal_data_are_audited(client: Client, world: dict[str, Any]) -> None:
    on_call = world["customers"]["on_call"]
    await client.get(f"/api/v1/customers/{on_call}", headers=world["users"]["agent"][1])
    await client.get("/api/v1/customers?limit=2", headers=world["users"]["marketer"][1])
    await client.get(f"/api/v1/orders/{world['orders']['own']}",
                     headers=world["users"]["logistics"][1])  # fmt: skip
    conn = await asyncpg.connect(world["db_url"])
    await _init_connection(conn)
    try:
        rows = await conn.fetch(
            "SELECT actor, action, subject, details FROM audit_log WHERE action LIKE 'read.%'"
            " ORDER BY id")  # fmt: skip
    finally:
        await conn.close()
    got = [(r["actor"].split("-")[0], r["action"], r["details"]["count"]) for r in rows]
    assert got == [("user:agent", "read.customer", 1), ("user:marketer", "read.customers", 2),
                   ("user:logistics", "read.order", 1)]  # fmt: skip
    assert rows[0]["subject"] == str(on_call)
