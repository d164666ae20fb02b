"""Dispatch (API and CSV), split shipments, the list with filters, exceptions, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from config.db import connect
from logistics.exceptions import list_exceptions
from logistics.relay import relay_all
from orders.follow import follow_all
from server.auth import Role
from tests.integration.logistics.conftest import make_order, make_sku


async def orders_with_shipments(db_url: str, n: int, **kw: object) -> list[tuple[int, int]]:
    conn = await connect(db_url)
    try:
        orders = [await make_order(conn, **kw) for _ in range(n)]  # type: ignore[arg-type]
        await relay_all(conn)
        rows = await conn.fetch(
            "SELECT order_id, id FROM shipments WHERE order_id = ANY($1) ORDER BY order_id", orders
        )
    finally:
        await conn.close()
    return [(r["order_id"], r["id"]) for r in rows]


async def test_dispatch_validates_and_is_idempotent(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    (order_id, a), (_, b) = await orders_with_shipments(db_url, 2)
    url = f"/api/v1/shipments/{a}/dispatch"
    bad = await client.post(url, json={"carrier": "cj", "tracking_number": "12-34"},
                            headers=headers)
    assert bad.status == 422
    assert (await bad.json())["field"] == "tracking_number"
    nope = await client.post(url, json={"carrier": "dhl", "tracking_number": "1234567890"},
                             headers=headers)
    assert (await nope.json())["field"] == "carrier"
    ok = await client.post(url, json={"carrier": "04", "tracking_number": "1234-5678-9012"},
                           headers=headers)
    assert ok.status == 200
    body = await ok.json()
    assert (body["carrier"], body["tracking_number"], body["status"]) == (
        "cj", "123456789012", "info_received")
    again = await client.post(url, headers=headers,
                              json={"carrier": "CJ대한통운", "tracking_number": "123456789012"})
    assert again.status == 200
    taken = await client.post(f"/api/v1/shipments/{b}/dispatch",
                              json={"carrier": "cj", "tracking_number": "123456789012"},
                              headers=headers)
    assert taken.status == 409
    conn = await connect(db_url)
    try:
        await follow_all(conn)  # orders' job: the order follows its parcel
        assert await conn.fetchval("SELECT status FROM orders WHERE id = $1", order_id) == "shipped"
    finally:
        await conn.close()
    agent = await auth_headers(Role.AGENT)
    assert (await client.get("/api/v1/shipments", headers=agent)).status == 403
    assert (await client.post(url, json={"carrier": "cj", "tracking_number": "1234567890"},
                              headers=agent)).status == 403


async def test_csv_upload_reports_each_row(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    (o1, s1), (o2, _), (_, s3) = await orders_with_shipments(db_url, 3)
    text = (
        "주문번호,출고번호,택배사,송장번호\n"
        f"{o1},,CJ대한통운,111122223333\n"
        f",{s3},롯데택배,222233334444\n"
        f"{o2},,로젠택배,12345\n"  # too short for Logen
        f"{o1},,한진택배,333344445555\n"  # a second box of order 1
        f"{o1},,CJ대한통운,111122223333\n"  # the same row again: idempotent
        "77777,,cj,444455556666\n"
    )
    form = FormData()
    form.add_field("file", text.encode("cp949"), filename="dispatch.csv", content_type="text/csv")
    resp = await client.post("/api/v1/shipments/dispatch.csv", data=form, headers=headers)
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert (body["rows"], body["ok"], body["failed"]) == (6, 4, 2)
    report = body["report"]
    assert report[0]["shipment_id"] == s1
    assert report[1]["shipment_id"] == s3
    assert "11 digits" in report[2]["error"]
    assert report[3]["ok"]
    assert report[3]["shipment_id"] not in (s1, s3)
    assert report[4]["shipment_id"] == s1
    assert "no shipment" in report[5]["error"]
    listed = await (await client.get(f"/api/v1/shipments?q={o1}", headers=headers)).json()
    assert sorted(s["seq"] for s in listed["items"]) == [1, 2]
    raw = await client.post("/api/v1/shipments/dispatch.csv", data=b"a,b\n1,2\n", headers=headers)
    assert raw.status == 422


async def test_split_moves_lines_to_a_new_shipment(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    conn = await connect(db_url)
    try:
        a, b = await make_sku(conn), await make_sku(conn)
        order_id = await make_order(conn, lines=[(a, 2), (b, 1)])
        await relay_all(conn)
        sid = await conn.fetchval("SELECT id FROM shipments WHERE order_id = $1", order_id)
    finally:
        await conn.close()
    too_many = await client.post(f"/api/v1/shipments/{sid}/split",
                                 json={"lines": [{"sku_id": a, "qty": 3}]}, headers=headers)
    assert too_many.status == 422
    resp = await client.post(f"/api/v1/shipments/{sid}/split",
                             json={"lines": [{"sku_id": b, "qty": 1}]}, headers=headers)
    assert resp.status == 201
    new = await resp.json()
    assert (new["seq"], new["lines"]) == (2, [{"sku_id": b, "qty": 1}])
    old = await (await client.get(f"/api/v1/shipments/{sid}", headers=headers)).json()
    assert old["lines"] == [{"sku_id": a, "qty": 2}]


async def test_list_filters_search_and_pages(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.SUPERVISOR)
    logi = await auth_headers(Role.LOGISTICS)
    pairs = await orders_with_shipments(db_url, 5)
    await orders_with_shipments(db_url, 1, phone="010-5555-1234")
    await client.post(f"/api/v1/shipments/{pairs[0][1]}/dispatch",
                      json={"carrier": "hanjin", "tracking_number": "5555666677"}, headers=logi)
    seen: list[int] = []
    cursor = ""
    while True:
        page = await (await client.get(f"/api/v1/shipments?limit=2&cursor={cursor}",
                                       headers=headers)).json()
        seen += [s["id"] for s in page["items"]]
        if not page["next"]:
            break
        cursor = page["next"]
    assert len(seen) == len(set(seen)) == 6
    assert seen == sorted(seen, reverse=True)
    by_carrier = await (await client.get("/api/v1/shipments?carrier=hanjin",
                                         headers=headers)).json()
    assert [s["id"] for s in by_carrier["items"]] == [pairs[0][1]]
    by_status = await (await client.get("/api/v1/shipments?status=pending",
                                        headers=headers)).json()
    assert len(by_status["items"]) == 5
    by_number = await (await client.get("/api/v1/shipments?q=5555666677", headers=headers)).json()
    assert [s["id"] for s in by_number["items"]] == [pairs[0][1]]
    by_phone = await (await client.get("/api/v1/shipments?q=010-5555-1234",
                                       headers=headers)).json()
    assert [s["phone"] for s in by_phone["items"]] == ["+821055551234"]
    bad = await client.get("/api/v1/shipments?status=lost", headers=headers)
    assert bad.status == 422


async def test_exceptions_list_who_to_call(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    pairs = await orders_with_shipments(db_url, 4, phone="010-7777-8888")
    for (_, sid), number in zip(pairs[:3], ("900000000001", "900000000002", "900000000003"),
                                strict=True):  # fmt: skip
        await client.post(f"/api/v1/shipments/{sid}/dispatch",
                          json={"carrier": "cj", "tracking_number": number}, headers=headers)
    conn = await connect(db_url)
    try:
        old = datetime.now(UTC) - timedelta(days=5)
        # 1: no news for 5 days; 2: a failed attempt; 3: fine; 4: never dispatched (5 days)
        await conn.execute("UPDATE shipments SET dispatched_at = $2, last_event_at = $2"
                           " WHERE id = $1", pairs[0][1], old)  # fmt: skip
        await conn.execute("UPDATE shipments SET status = 'attempt_fail', status_tier = 1"
                           " WHERE id = $1", pairs[1][1])  # fmt: skip
        await conn.execute("UPDATE shipments SET created_at = $2 WHERE id = $1", pairs[3][1], old)
        found = {e.shipment_id: e for e in await list_exceptions(conn)}
    finally:
        await conn.close()
    assert found[pairs[0][1]].reason == "stale"
    assert found[pairs[1][1]].reason == "attempt_fail"
    assert found[pairs[3][1]].reason == "not_dispatched"
    assert pairs[2][1] not in found
    body = await (await client.get("/api/v1/shipments/exceptions", headers=headers)).json()
    assert {e["phone"] for e in body["items"]} == {"+821077778888"}
    assert len(body["items"]) == 3
