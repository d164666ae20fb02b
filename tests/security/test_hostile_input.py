"""Hostile input answered with 4xx naming the field, never 500 (issue 16, findings 4 and 5).

Each case here answered 500 (or hung, or read the whole body) on commit 1a94a10.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from config.settings import Settings
from server.app import create_app
from server.auth import Role

HUGE = 2**70  # beyond 64 bits
Client = TestClient  # type: ignore[type-arg]


@pytest.mark.parametrize(("path", "field"), [
    (f"/api/v1/customers/{HUGE}", "customer_id"),
    (f"/api/v1/orders/{HUGE}", "id"),
    (f"/api/v1/shipments/{HUGE}", "id"),
    (f"/api/v1/segments/{HUGE}", "id"),
    (f"/api/v1/campaigns/{HUGE}", "id"),
    (f"/api/v1/catalog/products/{HUGE}", "id"),
    (f"/api/v1/customers?cursor={HUGE}", "cursor"),
    (f"/api/v1/orders?cursor={HUGE}", "cursor"),
    (f"/api/v1/orders?customer_id={HUGE}", "customer_id"),
    (f"/api/v1/shipments?cursor={HUGE}", "cursor"),
    (f"/api/v1/returns?cursor={HUGE}", "cursor"),
    (f"/api/v1/stock?cursor={HUGE}", "cursor"),
    (f"/api/v1/catalog/products?cursor={HUGE}", "cursor"),
])  # fmt: skip
async def test_numbers_beyond_64_bits_in_paths_and_queries_are_422(
    client: Client, auth_headers: Any, path: str, field: str
) -> None:
    headers = await auth_headers(Role.ADMIN)
    resp = await client.get(path, headers=headers)
    assert resp.status == 422, await resp.text()
    body = await resp.json()
    assert body["field"] == field


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/campaigns/1/lists", {"segment_id": HUGE}, "segment_id"),
    ("/api/v1/returns", {"order_id": HUGE, "reason": "changed_mind"}, "order_id"),
    ("/api/v1/orders", {"customer_id": 1, "lines": [{"sku_id": HUGE, "qty": 1}]},
     "lines.0.sku_id"),
    ("/api/v1/orders", {"customer_id": 1, "attempt_id": HUGE, "lines": [{"sku_id": 1, "qty": 1}]},
     "attempt_id"),
    ("/api/v1/orders/1/cancel", {"lines": [{"line_id": 1, "qty": HUGE}]}, "lines.0.qty"),
    ("/api/v1/stock/receipts", {"sku": HUGE, "qty": 1}, "sku"),
])  # fmt: skip
async def test_numbers_beyond_64_bits_in_bodies_are_422(
    client: Client, auth_headers: Any, path: str, body: dict[str, Any], field: str
) -> None:
    headers = await auth_headers(Role.ADMIN) | {"Idempotency-Key": "k1"}
    resp = await client.post(path, json=body, headers=headers)
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["field"] == field


@pytest.mark.parametrize("path", [
    "/api/v1/segments/%C2%B3", "/api/v1/campaigns/%C2%B3", "/api/v1/orders/%C2%B3",
    "/api/v1/customers/%D9%A3", "/api/v1/orders/%D9%A3",
])  # fmt: skip
async def test_digits_other_than_ascii_in_ids_are_not_found(
    client: Client, auth_headers: Any, path: str
) -> None:
    headers = await auth_headers(Role.ADMIN)
    resp = await client.get(path, headers=headers)
    assert resp.status == 404, await resp.text()
    assert (await resp.json())["error"] == "not_found"


async def test_nul_in_a_name_is_422_naming_it(client: Client, auth_headers: Any) -> None:
    headers = await auth_headers(Role.MARKETER)
    resp = await client.post(
        "/api/v1/segments", headers=headers,
        json={"name": "a\x00b", "filter": {"all": []}},
    )  # fmt: skip
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["field"] == "name"


@pytest.mark.parametrize("path", [
    "/api/v1/customers?q=%00", "/api/v1/shipments?q=a%00b", "/api/v1/catalog/products?q=%00",
    "/api/v1/orders?status=%00",
])  # fmt: skip
async def test_nul_in_a_search_is_422(client: Client, auth_headers: Any, path: str) -> None:
    headers = await auth_headers(Role.ADMIN)
    resp = await client.get(path, headers=headers)
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["field"] in ("q", "status")


async def test_405_says_which_methods_are_allowed(client: Client, auth_headers: Any) -> None:
    headers = await auth_headers(Role.ADMIN)
    resp = await client.put("/api/v1/segments", headers=headers, json={})
    assert resp.status == 405
    assert set(resp.headers["Allow"].split(",")) >= {"GET", "POST"}


async def test_json_routes_refuse_other_content_types(client: Client, auth_headers: Any) -> None:
    headers = await auth_headers(Role.AGENT)
    resp = await client.post(
        "/api/v1/dnc", data='{"phone": "010-1234-5678"}',
        headers=headers | {"Content-Type": "text/plain"},
    )  # fmt: skip
    assert resp.status == 415, await resp.text()


async def test_deeply_nested_json_is_400_not_500(client: Client, auth_headers: Any) -> None:
    headers = await auth_headers(Role.MARKETER)
    deep = "[" * 100_000 + "]" * 100_000
    resp = await client.post(
        "/api/v1/segments/preview", data='{"filter": ' + deep + "}",
        headers=headers | {"Content-Type": "application/json"},
    )  # fmt: skip
    assert resp.status in (400, 422), await resp.text()


# --- bodies ---------------------------------------------------------------------------


async def _raw_request(client: Client, head: str, body: bytes = b"") -> tuple[int, str]:
    """Send a request by hand (a declared length we do not honour) and read the status."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    try:
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        async with asyncio.timeout(10):
            status_line = await reader.readline()
            rest = await reader.read(4096)
        return int(status_line.split()[1]), rest.decode(errors="replace")
    finally:
        writer.close()


@pytest.mark.parametrize("path", ["/api/v1/tracking/webhook/sweettracker", "/login",
                                  "/api/v1/auth/token"])
async def test_an_oversized_body_is_refused_before_it_is_read(client: Client, path: str) -> None:
    # 200 MB announced, a few bytes sent: the answer must come at once, not after the body.
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {client.host}:{client.port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 209715200\r\n"
    )
    status, rest = await _raw_request(client, head, b"{}")
    assert status == 413, rest


async def test_a_chunked_body_over_the_limit_stops_at_the_limit(
    client: Client, auth_headers: Any
) -> None:
    headers = await auth_headers(Role.MARKETER)

    async def chunks() -> Any:
        for _ in range(64):  # 64 MB offered, in 1 MB chunks
            yield b" " * (1 << 20)

    resp = await client.post(
        "/api/v1/segments/preview", data=chunks(),
        headers=headers | {"Content-Type": "application/json"},
    )  # fmt: skip
    assert resp.status == 413, await resp.text()


async def test_a_captured_webhook_cannot_be_replayed_later(
    client: Client, db_url: str, settings: Settings
) -> None:
    from pydantic import SecretStr

    from logistics.tracking import SIGNATURE_HEADER, sign

    configured = settings.model_copy(update={"tracking_secrets": {"telemart": SecretStr("s")}})
    body = b'{"events": []}'
    async with TestClient(TestServer(create_app(configured, url=db_url, background=False))) as c:
        fresh = await c.post("/api/v1/tracking/webhook/telemart", data=body, headers={
            SIGNATURE_HEADER: sign("s", body), "Content-Type": "application/json"})
        assert fresh.status != 401, await fresh.text()
        stale = await c.post("/api/v1/tracking/webhook/telemart", data=body, headers={
            SIGNATURE_HEADER: sign("s", body, at=time.time() - 3600),
            "Content-Type": "application/json"})  # fmt: skip
        assert stale.status == 401
        assert (await stale.json())["error"] == "bad_signature"
