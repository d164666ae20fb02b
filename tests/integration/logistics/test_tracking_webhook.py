"""Signed tracking webhooks: every checkpoint stored once, shipments never move backwards."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from typing import Any

from aiohttp.test_utils import TestClient

from config.db import connect
from logistics.relay import relay_all
from orders.follow import follow_all
from server.auth import Role
from tests.integration.logistics.conftest import SECRETS, make_order, signed

URL = "/api/v1/tracking/webhook/telemart"


async def dispatched(client: TestClient, db_url: str, headers: dict[str, str], number: str,
                     carrier: str = "cj") -> int:  # type: ignore[type-arg]
    conn = await connect(db_url)
    try:
        order_id = await make_order(conn)
        await relay_all(conn)
        sid: int = await conn.fetchval("SELECT id FROM shipments WHERE order_id = $1", order_id)
    finally:
        await conn.close()
    resp = await client.post(
        f"/api/v1/shipments/{sid}/dispatch", json={"carrier": carrier, "tracking_number": number},
        headers=headers,
    )  # fmt: skip
    assert resp.status == 200, await resp.text()
    return sid


def ev(number: str, status: str, at: str, **kw: Any) -> dict[str, Any]:
    return {"tracking_number": number, "status": status, "occurred_at": at,
            "location": kw.pop("location", "곤지암 Hub"), **kw}  # fmt: skip


async def test_signature_is_required_and_checked(client: TestClient) -> None:  # type: ignore[type-arg]
    body = json.dumps(ev("123456789012", "in_transit", "2025-01-01T10:00:00+09:00")).encode()
    no_sig = await client.post(URL, data=body)
    assert no_sig.status == 401
    assert (await no_sig.json())["error"] == "bad_signature"
    wrong = await client.post(URL, data=body, headers={"X-Telemart-Signature": "sha256=00"})
    assert wrong.status == 401
    other_secret = hmac.new(b"guess", body, hashlib.sha256).hexdigest()
    forged = await client.post(URL, data=body,
                               headers={"X-Telemart-Signature": f"sha256={other_secret}"})
    assert forged.status == 401
    unknown = await client.post("/api/v1/tracking/webhook/nobody", data=body)
    assert unknown.status == 404


async def test_out_of_order_and_duplicates_never_move_backwards(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    sid = await dispatched(client, db_url, headers, "6001-2345-6789")
    n = "600123456789"
    truth = [
        ev(n, "in_transit", "2025-03-01T10:00:00+09:00"),
        ev(n, "in_transit", "2025-03-01T18:00:00+09:00", location="옥천 HUB"),
        ev(n, "out_for_delivery", "2025-03-02T08:00:00+09:00"),
        ev(n, "delivered", "2025-03-02T13:00:00+09:00", event_id="e-9"),
    ]
    # Delivered first, then the older ones, one of them twice.
    body, sig = signed("telemart", [truth[3], truth[1], truth[1]])
    first = await client.post(URL, data=body, headers=sig)
    assert first.status == 200, await first.text()
    assert await first.json() == {"received": 3, "stored": 2, "duplicates": 1, "moved": 1,
                                  "unknown": []}  # fmt: skip
    body, sig = signed("telemart", truth[0])  # a single event, not a batch
    assert (await client.post(URL, data=body, headers=sig)).status == 200
    body, sig = signed("telemart", [truth[2], truth[3]])
    last = await (await client.post(URL, data=body, headers=sig)).json()
    assert (last["stored"], last["duplicates"], last["moved"]) == (1, 1, 0)

    detail = await (await client.get(f"/api/v1/shipments/{sid}", headers=headers)).json()
    assert detail["status"] == "delivered"
    assert detail["delivered_at"].startswith("2025-03-02T04:00:00")
    # four carrier checkpoints in time order (and dispatch's own info_received)
    carrier_points = [c for c in detail["checkpoints"] if c["provider"] != "dispatch"]
    assert [c["status"] for c in carrier_points] == [
        "in_transit", "in_transit", "out_for_delivery", "delivered"]
    conn = await connect(db_url)
    try:
        await follow_all(conn)  # orders' job: the order follows its parcel
        status = await conn.fetchval(
            "SELECT o.status FROM orders o JOIN shipments s ON s.order_id = o.id WHERE s.id = $1",
            sid,
        )  # fmt: skip
    finally:
        await conn.close()
    assert status == "delivered"


async def test_a_later_checkpoint_in_the_middle_states_wins(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    sid = await dispatched(client, db_url, headers, "700123456789", carrier="hanjin")
    n = "700123456789"
    body, sig = signed("telemart", [
        ev(n, "attempt_fail", "2025-03-02T15:00:00+09:00"),
        ev(n, "out_for_delivery", "2025-03-02T09:00:00+09:00"),
    ])  # fmt: skip
    await client.post(URL, data=body, headers=sig)
    detail = await (await client.get(f"/api/v1/shipments/{sid}", headers=headers)).json()
    assert detail["status"] == "attempt_fail"
    body, sig = signed("telemart", ev(n, "out_for_delivery", "2025-03-03T09:00:00+09:00"))
    await client.post(URL, data=body, headers=sig)
    detail = await (await client.get(f"/api/v1/shipments/{sid}", headers=headers)).json()
    assert detail["status"] == "out_for_delivery"


async def test_concurrent_batches_end_in_the_true_state(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    numbers = [f"8001000000{i:02d}" for i in range(6)]
    sids = [await dispatched(client, db_url, headers, n) for n in numbers]
    batches = []
    for hour in range(8):
        status = "delivered" if hour == 7 else "in_transit"
        batches.append([ev(n, status, f"2025-04-01T{10 + hour:02d}:00:00+09:00") for n in numbers])

    async def send(batch: list[dict[str, Any]]) -> int:
        body, sig = signed("telemart", batch)
        return (await client.post(URL, data=body, headers=sig)).status

    statuses = await asyncio.wait_for(asyncio.gather(*(send(b) for b in reversed(batches))), 30)
    assert set(statuses) == {200}
    for sid in sids:
        detail = await (await client.get(f"/api/v1/shipments/{sid}", headers=headers)).json()
        assert detail["status"] == "delivered"
        assert len(detail["checkpoints"]) == 9


async def test_sweettracker_and_aftership_shapes(  # type: ignore[no-untyped-def]
    client: TestClient, db_url: str, auth_headers  # type: ignore[type-arg]
) -> None:
    headers = await auth_headers(Role.LOGISTICS)
    st = await dispatched(client, db_url, headers, "1234567890123", carrier="epost")
    callback = {"fid": "f1", "invoice_no": "1234567890123", "level": 5,
                "time_trans": "2025-05-01 09:10:11", "where_": "서울마포",
                "details_trans": "배송출발"}  # fmt: skip
    body, sig = signed("sweettracker", callback)
    resp = await client.post("/api/v1/tracking/webhook/sweettracker", data=body, headers=sig)
    assert (await resp.json())["moved"] == 1
    detail = await (await client.get(f"/api/v1/shipments/{st}", headers=headers)).json()
    assert detail["status"] == "out_for_delivery"
    point = next(c for c in detail["checkpoints"] if c["provider"] == "sweettracker")
    assert point["occurred_at"] == "2025-05-01T00:10:11+00:00"  # naive times are KST
    assert (point["location"], point["message"]) == ("서울마포", "배송출발")

    af = await dispatched(client, db_url, headers, "12345678901", carrier="logen")
    hook = {"event": "tracking_update", "msg": {
            "tracking_number": "12345678901", "slug": "kr.logen", "checkpoints": [
                {"checkpoint_time": "2025-05-02T10:00:00+09:00", "tag": "InTransit",
                 "location": "Seoul"},
                {"checkpoint_time": "2025-05-03T10:00:00+09:00", "tag": "Exception",
                 "subtag": "Exception_011", "message": "returned"}]}}  # fmt: skip
    raw = json.dumps(hook).encode()
    digest = base64.b64encode(hmac.new(SECRETS["aftership"].encode(), raw, hashlib.sha256).digest())
    resp = await client.post("/api/v1/tracking/webhook/aftership", data=raw,
                             headers={"aftership-hmac-sha256": digest.decode()})
    assert resp.status == 200, await resp.text()
    detail = await (await client.get(f"/api/v1/shipments/{af}", headers=headers)).json()
    assert detail["status"] == "returned_to_sender"


async def test_unknown_numbers_and_bad_events_are_reported(client: TestClient) -> None:  # type: ignore[no-untyped-def,type-arg]
    body, sig = signed("telemart", [ev("999999999999", "in_transit", "2025-01-01T00:00:00Z")])
    resp = await client.post(URL, data=body, headers=sig)
    assert (await resp.json())["unknown"] == ["999999999999"]
    body, sig = signed("telemart", [ev("999999999999", "teleported", "2025-01-01T00:00:00Z")])
    bad = await client.post(URL, data=body, headers=sig)
    assert bad.status == 422
    assert "teleported" in (await bad.json())["message"]
