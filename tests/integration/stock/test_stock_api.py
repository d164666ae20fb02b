"""Stock API: receipts, adjustments, refusals naming the field, low stock, the check."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server.auth import Role
from tests.integration.orders import seed

Client = TestClient  # type: ignore[type-arg]


async def test_receive_adjust_low_and_check(client: Client, auth_headers: Any, pool: Any) -> None:
    ops = await auth_headers(Role.LOGISTICS)
    async with pool.acquire() as conn:
        (sku,) = await seed.product(conn, "LAMP")
        (kit_sku,) = [await seed.bundle(conn, "LAMPSET", [(sku, 2)])]
    resp = await client.post(
        "/api/v1/stock/receipts", headers=ops, json={"sku": "LAMP-0", "qty": 12}
    )
    assert resp.status == 201
    assert (await resp.json())["on_hand"] == 12
    resp = await client.post(
        "/api/v1/stock/adjustments", headers=ops, json={"sku": sku, "delta": -3, "reason": "broken"}
    )
    assert (await resp.json())["available"] == 9
    low = await (await client.get("/api/v1/stock?low=1", headers=ops)).json()
    assert [i["sku"] for i in low["items"]] == ["LAMP-0"]  # 9 <= default threshold 10
    check = await (await client.get("/api/v1/stock/check", headers=ops)).json()
    assert check == {"ok": True, "rows_checked": 1, "mismatches": []}
    for body, status, field in [
        ({"sku": "NOPE", "qty": 1}, 422, "sku"),
        ({"sku": "LAMP-0", "qty": 0}, 422, "qty"),
        ({"sku": kit_sku, "qty": 1}, 422, "sku"),
        ({"sku": "LAMP-0", "qty": 1, "warehouse": "NOWHERE"}, 422, "warehouse"),
    ]:
        resp = await client.post("/api/v1/stock/receipts", headers=ops, json=body)
        assert resp.status == status, body
        assert (await resp.json())["field"] == field
    resp = await client.post(
        "/api/v1/stock/adjustments", headers=ops, json={"sku": sku, "delta": -1}
    )
    assert resp.status == 422
    assert (await resp.json())["field"] == "reason"
    async with pool.acquire() as conn:
        (cust,) = await seed.customers(conn, 1)
        from orders.capture import place_order

        await place_order(conn, request=seed.order(cust, [(sku, 5)]))
    resp = await client.post(
        "/api/v1/stock/adjustments", headers=ops, json={"sku": sku, "delta": -5, "reason": "count"}
    )
    assert resp.status == 409
    assert (await resp.json())["error"] == "insufficient_stock"
    movements = await (await client.get("/api/v1/stock/check", headers=ops)).json()
    assert movements["ok"] is True
