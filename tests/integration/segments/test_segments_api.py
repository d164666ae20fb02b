"""The segment API: preview, bad filters (422 with the path), saved segments, RFM refresh."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from config.db import connect
from server.auth import Role
from tests.integration.segments.seed import seed_base

SEOUL = {"field": "region", "op": "eq", "value": "서울"}


@pytest.fixture
async def marketer(client: TestClient, db_url: str, auth_headers: Any) -> dict[str, str]:  # type: ignore[type-arg]
    conn = await connect(db_url)
    try:
        await seed_base(conn)
    finally:
        await conn.close()
    headers: dict[str, str] = await auth_headers(Role.MARKETER)
    resp = await client.post("/api/v1/rfm/refresh", headers=headers)
    assert resp.status == 200, await resp.text()
    return headers


async def test_preview_counts_and_masks(client: TestClient, marketer: dict[str, str]) -> None:  # type: ignore[type-arg]
    resp = await client.post("/api/v1/segments/preview", json={"filter": SEOUL}, headers=marketer)
    assert resp.status == 200
    body = await resp.json()
    assert body["count"] == 4  # seoul_f_30s, no_consent, big_spender, cancelled_only
    assert len(body["sample"]) == 4
    assert all("****" in row["phone"] for row in body["sample"])
    assert not any(row["phone"].endswith("0000000") and "*" not in row["phone"]
                   for row in body["sample"])  # fmt: skip


@pytest.mark.parametrize(("doc", "field"), [
    ({"all": [SEOUL, SEOUL, {"field": "age", "op": "gte", "value": "forty"}]},
     "filter.all.2.value"),
    ({"all": [{"field": "shoe_size", "op": "eq", "value": 1}]}, "filter.all.0.field"),
    ({"any": [{"field": "region", "op": "like", "value": "%"}]}, "filter.any.0.op"),
    ({"not": {"field": "rfm_r", "op": "in", "value": [1, 6]}}, "filter.not.value.1"),
    ({"all": [{"field": "region", "op": "eq", "value": "x", "sql": "1=1"}]}, "filter.all.0.sql"),
    ({"every": []}, "filter.every"),
    ({"all": [{"field": "consent_marketing", "op": "eq", "value": "yes"}]}, "filter.all.0.value"),
    ({"all": [{"field": "region", "op": "eq", "value": "x", "within_days": 3}]},
     "filter.all.0.within_days"),
])  # fmt: skip
async def test_bad_filter_is_422_with_the_path(
    client: TestClient, marketer: dict[str, str], doc: dict[str, Any], field: str  # type: ignore[type-arg]
) -> None:
    resp = await client.post("/api/v1/segments/preview", json={"filter": doc}, headers=marketer)
    assert resp.status == 422, await resp.text()
    body = await resp.json()
    assert body["error"] == "invalid"
    assert body["field"] == field


async def test_injection_string_matches_nothing_and_table_survives(
    client: TestClient, marketer: dict[str, str], db_url: str  # type: ignore[type-arg]
) -> None:
    evil = {"field": "region", "op": "eq", "value": "x'; DROP TABLE customers; --"}
    resp = await client.post("/api/v1/segments/preview", json={"filter": evil}, headers=marketer)
    assert (await resp.json())["count"] == 0
    conn = await connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM customers") == 10
    finally:
        await conn.close()


async def test_static_segment_keeps_its_snapshot_dynamic_follows(
    client: TestClient, marketer: dict[str, str], db_url: str  # type: ignore[type-arg]
) -> None:
    made = {}
    for kind in ("static", "dynamic"):
        resp = await client.post("/api/v1/segments", headers=marketer,
                                 json={"name": f"서울 {kind}", "kind": kind, "filter": SEOUL})
        assert resp.status == 201, await resp.text()
        made[kind] = await resp.json()
        assert made[kind]["member_count"] == 4
    conn = await connect(db_url)
    try:
        await conn.execute("UPDATE customers SET region = '부산' WHERE region = '서울'")
        from crm.segments import get_segment, member_ids_sql

        for kind, expected in (("static", 4), ("dynamic", 0)):
            segment = await get_segment(conn, segment_id=made[kind]["id"])
            sql, params = member_ids_sql(segment)
            assert len(await conn.fetch(sql, *params)) == expected
    finally:
        await conn.close()
    listed = await (await client.get("/api/v1/segments", headers=marketer)).json()
    assert [s["kind"] for s in listed["segments"]] == ["dynamic", "static"]
    one = await client.get(f"/api/v1/segments/{made['static']['id']}", headers=marketer)
    assert (await one.json())["filter"] == SEOUL
    gone = await client.delete(f"/api/v1/segments/{made['static']['id']}", headers=marketer)
    assert gone.status == 200
    again = await client.get(f"/api/v1/segments/{made['static']['id']}", headers=marketer)
    assert again.status == 404


async def test_roles(client: TestClient, marketer: dict[str, str], auth_headers: Any) -> None:  # type: ignore[type-arg]
    agent = await auth_headers(Role.AGENT)
    resp = await client.post("/api/v1/segments/preview", json={"filter": SEOUL}, headers=agent)
    assert resp.status == 403
    supervisor = await auth_headers(Role.SUPERVISOR)
    resp = await client.post("/api/v1/segments", headers=supervisor,
                             json={"name": "x", "filter": SEOUL})
    assert resp.status == 403
    resp = await client.post("/api/v1/rfm/refresh", headers=agent)
    assert resp.status == 403
    status = await (await client.get("/api/v1/rfm", headers=supervisor)).json()
    assert status["last_run"]["customers"] == 4
