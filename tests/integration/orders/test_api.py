"""The orders and catalog API over HTTP: idempotency, refusals that write nothing, lifecycle."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from server.auth import Role
from tests.integration.orders.seed import DELIVERY

Client = TestClient  # type: ignore[type-arg]


async def _setup(client: Client, auth_headers: Any, db_url: str, stock: int = 10) -> dict[str, Any]:
    sup = await auth_headers(Role.SUPERVISOR)
    agent = await auth_headers(Role.AGENT)
    ops = await auth_headers(Role.LOGISTICS)
    resp = await client.post(
        "/api/v1/catalog/products",
        headers=sup,
        json={
            "code": "TSHIRT",
            "name": "Cotton T-shirt",
            "category": "apparel",
            "price_krw": 19_900,
            "variants": [
                {"code": "TS-M-RED", "size": "M", "color": "red"},
                {"code": "TS-L-RED", "size": "L", "color": "red", "price_krw": 21_900},
            ],
        },
    )
    assert resp.status == 201, await resp.text()
    product = await resp.json()
    m, lg = (s["id"] for s in product["skus"])
    for sku in ("TS-M-RED", "TS-L-RED"):
        resp = await client.post(
            "/api/v1/stock/receipts", headers=ops, json={"sku": sku, "qty": stock}
        )
        assert resp.status == 201, await resp.text()
    import asyncpg

    conn = await asyncpg.connect(db_url)
    try:
        cust = await conn.fetchval(
            "INSERT INTO customers (name, phone_e164) VALUES ('Lee', '+821099998888') RETURNING id"
        )
    finally:
        await conn.close()
    return {
        "sup": sup,
        "agent": agent,
        "ops": ops,
        "m": m,
        "l": lg,
        "cust": cust,
        "product": product["id"],
    }


def _body(s: dict[str, Any], lines: list[tuple[int, int]], **payment: Any) -> dict[str, Any]:
    return {
        "customer_id": s["cust"],
        "lines": [{"sku_id": k, "qty": q} for k, q in lines],
        "delivery": DELIVERY,
        "payment": payment or {"method": "card", "installment_months": 3},
        "attempt_id": 77,
    }


async def _post(client: Client, s: dict[str, Any], key: str | None, body: Any) -> Any:
    headers = {**s["agent"], **({"Idempotency-Key": key} if key else {})}
    return await client.post("/api/v1/orders", headers=headers, json=body)


async def _count(client: Client, s: dict[str, Any]) -> int:
    resp = await client.get("/api/v1/orders", headers=s["sup"])
    return len((await resp.json())["items"])


async def test_order_is_idempotent(client: Client, auth_headers: Any, db_url: str) -> None:
    s = await _setup(client, auth_headers, db_url)
    body = _body(s, [(s["m"], 2), (s["l"], 1)])
    first = await _post(client, s, "k-1", body)
    assert first.status == 201, await first.text()
    order = await first.json()
    assert order["status"] == "paid"
    assert order["total_krw"] == 2 * 19_900 + 21_900
    again = await _post(client, s, "k-1", body)
    assert again.status == 201
    assert await again.json() == order
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await _post(client, s, "k-1", _body(s, [(s["m"], 1)]))
    assert other.status == 422
    assert (await other.json())["field"] == "Idempotency-Key"
    assert await _count(client, s) == 1
    product = await (
        await client.get(f"/api/v1/catalog/products/{s['product']}", headers=s["agent"])
    ).json()
    assert [k["available"] for k in product["skus"]] == [8, 9]


async def test_racing_duplicates_make_one_order(
    client: Client, auth_headers: Any, db_url: str
) -> None:
    s = await _setup(client, auth_headers, db_url)
    body = _body(s, [(s["m"], 1)])
    resps = await asyncio.wait_for(
        asyncio.gather(*(_post(client, s, "same", body) for _ in range(20))), timeout=30
    )
    statuses = sorted(r.status for r in resps)
    assert set(statuses) <= {201, 409}
    bodies = [await r.json() for r in resps if r.status == 201]
    assert len({b["id"] for b in bodies}) == 1
    for r in resps:
        if r.status == 409:
            assert (await r.json())["error"] == "request_in_progress"
    assert await _count(client, s) == 1


@pytest.mark.parametrize(
    ("mutate", "status", "field"),
    [
        (lambda b: b["lines"][0].update(qty=0), 422, "lines.0.qty"),
        (lambda b: b["lines"][0].update(qty=100), 422, "lines.0.qty"),
        (lambda b: b["lines"][0].update(sku_id=999_999), 422, "lines.0.sku_id"),
        (lambda b: b["delivery"].update(postal_code="1234"), 422, "delivery.postal_code"),
        (lambda b: b.update(customer_id=424_242), 422, "customer_id"),
        (lambda b: b["payment"].update(method="bitcoin"), 422, "payment"),
        (lambda b: b["lines"][0].update(qty=11), 409, "lines.0.sku_id"),
    ],
)
async def test_bad_input_names_the_field_and_writes_nothing(
    client: Client, auth_headers: Any, db_url: str, mutate: Any, status: int, field: str
) -> None:
    s = await _setup(client, auth_headers, db_url)
    body = _body(s, [(s["m"], 1)])
    body["delivery"] = dict(DELIVERY)
    mutate(body)
    resp = await _post(client, s, "bad-1", body)
    assert resp.status == status, await resp.text()
    err = await resp.json()
    assert err["field"].startswith(field)
    if status == 409:
        assert err["error"] == "out_of_stock"
        assert err["available"] == 10
        assert err["sku"] == "TS-M-RED"
    assert await _count(client, s) == 0
    # The key was not consumed: a corrected request with it succeeds.
    fixed = await _post(client, s, "bad-1", _body(s, [(s["m"], 1)]))
    assert fixed.status == 201


async def test_missing_idempotency_key_is_400(
    client: Client, auth_headers: Any, db_url: str
) -> None:
    s = await _setup(client, auth_headers, db_url)
    resp = await _post(client, s, None, _body(s, [(s["m"], 1)]))
    assert resp.status == 400
    assert (await resp.json())["field"] == "Idempotency-Key"
    assert await _count(client, s) == 0


async def test_500_concurrent_http_orders_for_100_units(
    client: Client, auth_headers: Any, db_url: str
) -> None:
    s = await _setup(client, auth_headers, db_url, stock=100)
    body = _body(s, [(s["m"], 1)])
    sem = asyncio.Semaphore(64)

    async def one(i: int) -> int:
        async with sem:
            resp = await _post(client, s, f"c-{i}", body)
            return resp.status

    statuses = await asyncio.wait_for(asyncio.gather(*(one(i) for i in range(500))), timeout=60)
    assert statuses.count(201) == 100
    assert statuses.count(409) == 400
    check = await (await client.get("/api/v1/stock/check", headers=s["ops"])).json()
    assert check["ok"] is True
    low = await (await client.get("/api/v1/stock?low=1", headers=s["ops"])).json()
    assert [i["sku"] for i in low["items"]] == ["TS-M-RED"]  # 0 left; L has 100
    assert low["items"][0]["available"] == 0


async def test_lifecycle_over_http(client: Client, auth_headers: Any, db_url: str) -> None:
    s = await _setup(client, auth_headers, db_url)
    va = await (
        await _post(client, s, "va", _body(s, [(s["m"], 2), (s["l"], 2)], method="virtual_account"))
    ).json()
    assert va["status"] == "placed"
    assert va["pay_deadline"]
    line_m = va["lines"][0]["id"]
    resp = await client.post(
        f"/api/v1/orders/{va['id']}/cancel",
        headers=s["agent"],
        json={"lines": [{"line_id": line_m, "qty": 1}]},
    )
    assert resp.status == 200, await resp.text()
    part = await resp.json()
    assert part["status"] == "placed"
    assert part["lines"][0]["cancelled_qty"] == 1
    assert part["total_krw"] == 19_900 + 2 * 21_900
    early = await client.post(
        f"/api/v1/orders/{va['id']}/status", headers=s["ops"], json={"status": "preparing"}
    )
    assert early.status == 409
    paid = await client.post(f"/api/v1/orders/{va['id']}/pay", headers=s["sup"])
    assert (await paid.json())["status"] == "paid"
    for status in ("preparing", "shipped", "shipped", "delivered"):
        resp = await client.post(
            f"/api/v1/orders/{va['id']}/status", headers=s["ops"], json={"status": status}
        )
        assert resp.status == 200, await resp.text()
    late = await client.post(f"/api/v1/orders/{va['id']}/cancel", headers=s["agent"], json={})
    assert late.status == 409
    full = await (await client.get(f"/api/v1/orders/{va['id']}", headers=s["agent"])).json()
    assert [e["type"] for e in full["events"]] == [
        "placed",
        "lines_cancelled",
        "paid",
        "preparing",
        "shipped",
        "delivered",
    ]
    levels = {
        i["sku"]: i
        for i in (await (await client.get("/api/v1/stock", headers=s["ops"])).json())["items"]
    }
    assert (levels["TS-M-RED"]["on_hand"], levels["TS-M-RED"]["reserved"]) == (9, 0)
    assert (levels["TS-L-RED"]["on_hand"], levels["TS-L-RED"]["reserved"]) == (8, 0)
    cod = await (await _post(client, s, "cod", _body(s, [(s["l"], 1)], method="cod"))).json()
    resp = await client.post(f"/api/v1/orders/{cod['id']}/cancel", headers=s["agent"], json={})
    assert (await resp.json())["status"] == "cancelled"
    assert (await (await client.get("/api/v1/stock/check", headers=s["ops"])).json())["ok"]


async def test_order_list_pages_with_cursor(client: Client, auth_headers: Any, db_url: str) -> None:
    s = await _setup(client, auth_headers, db_url)
    for i in range(5):
        assert (await _post(client, s, f"p{i}", _body(s, [(s["m"], 1)]))).status == 201
    seen: list[int] = []
    url = "/api/v1/orders?limit=2&status=paid"
    while url:
        page = await (await client.get(url, headers=s["sup"])).json()
        seen += [o["id"] for o in page["items"]]
        url = f"/api/v1/orders?limit=2&status=paid&cursor={page['next']}" if page["next"] else ""
    assert len(seen) == 5
    assert seen == sorted(seen, reverse=True)
    bad = await client.get("/api/v1/orders?status=lost", headers=s["sup"])
    assert bad.status == 422
    assert (await bad.json())["field"] == "status"


async def test_roles_are_enforced(client: Client, auth_headers: Any, db_url: str) -> None:
    s = await _setup(client, auth_headers, db_url)
    marketer = await auth_headers(Role.MARKETER)
    resp = await client.post(
        "/api/v1/orders", headers={**marketer, "Idempotency-Key": "x"}, json=_body(s, [(s["m"], 1)])
    )
    assert resp.status == 403
    resp = await client.post(
        "/api/v1/stock/receipts", headers=s["agent"], json={"sku": "TS-M-RED", "qty": 1}
    )
    assert resp.status == 403
