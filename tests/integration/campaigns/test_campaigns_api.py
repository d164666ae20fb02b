"""Campaigns: settings with lawful defaults, lists with the suppression report, status."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from config.db import connect
from server.auth import Role
from tests.integration.segments.seed import seed_base

EVERYONE: dict[str, Any] = {"all": []}


@pytest.fixture
async def ids(db_url: str) -> dict[str, int]:
    conn = await connect(db_url)
    try:
        return await seed_base(conn)
    finally:
        await conn.close()


@pytest.fixture
async def marketer(client: TestClient, auth_headers: Any, ids: dict[str, int]) -> dict[str, str]:  # type: ignore[type-arg]
    headers: dict[str, str] = await auth_headers(Role.MARKETER)
    return headers


async def make_segment(client: TestClient, headers: dict[str, str], doc: Any = EVERYONE) -> int:  # type: ignore[type-arg]
    resp = await client.post("/api/v1/segments", headers=headers,
                             json={"name": "all", "kind": "dynamic", "filter": doc})
    assert resp.status == 201, await resp.text()
    return int((await resp.json())["id"])


async def make_campaign(
    client: TestClient, headers: dict[str, str], **extra: Any  # type: ignore[type-arg]
) -> dict[str, Any]:
    body = {"name": "봄 건강식품", "script": "안녕하세요 {{name}}님, {{agent}}입니다.",
            "data_source_line": "고객님의 연락처는 당사 구매 이력에서 받았습니다.", **extra}
    resp = await client.post("/api/v1/campaigns", headers=headers, json=body)
    assert resp.status == 201, await resp.text()
    result: dict[str, Any] = await resp.json()
    return result


async def test_defaults_are_lawful(client: TestClient, marketer: dict[str, str]) -> None:  # type: ignore[type-arg]
    c = await make_campaign(client, marketer)
    assert c["status"] == "draft"
    assert c["compliance"]["abandon_cap"] == 0.03
    assert c["compliance"]["abandon_window_s"] == 30 * 86400
    assert c["compliance"]["connect_window_s"] == 2.0
    assert c["compliance"]["ring_timeout_s"] >= 15
    assert {d["code"] for d in c["dispositions"]} >= {"sale", "callback", "do_not_call"}
    uk = await make_campaign(client, marketer, compliance={"uk_mode": True})
    assert uk["compliance"]["abandon_window_s"] == 86400


@pytest.mark.parametrize(("body", "field"), [
    ({"compliance": {"abandon_cap": 0.05}}, "compliance.abandon_cap"),
    ({"compliance": {"ring_timeout_s": 10}}, "compliance.ring_timeout_s"),
    ({"compliance": {"connect_window_s": 5}}, "compliance.connect_window_s"),
    ({"pacing_strategy": "yolo"}, "pacing_strategy"),
    ({"pacing_settings": {"warp": 9}}, "pacing_settings"),
    ({"script": "hi {{password}}"}, "script"),
    ({"calling_window": {"start": "25:00"}}, "calling_window.start"),
])  # fmt: skip
async def test_bad_settings_are_422(
    client: TestClient, marketer: dict[str, str], body: dict[str, Any], field: str  # type: ignore[type-arg]
) -> None:
    resp = await client.post("/api/v1/campaigns", headers=marketer, json={"name": "x", **body})
    assert resp.status == 422, await resp.text()
    assert (await resp.json())["field"] == field


async def test_list_with_suppression_report_and_status_flow(
    client: TestClient, marketer: dict[str, str], auth_headers: Any, db_url: str  # type: ignore[type-arg]
) -> None:
    segment_id = await make_segment(client, marketer)
    campaign = await make_campaign(client, marketer)
    cid = campaign["id"]
    early = await client.post(f"/api/v1/campaigns/{cid}/start", headers=marketer)
    assert early.status == 409
    assert (await early.json())["error"] == "not_ready"

    resp = await client.post(f"/api/v1/campaigns/{cid}/lists", headers=marketer,
                             json={"segment_id": segment_id, "exclude_contacted_days": 7})
    assert resp.status == 201, await resp.text()
    built = await resp.json()
    assert built["candidates"] == 10
    assert built["suppression"] == {
        "do_not_call": 1, "no_consent": 1, "night_window": 0, "invalid_phone": 1,
        "contacted_recently": 1, "other_active_campaign": 0, "already_in_campaign": 0,
    }
    assert built["added"] == 6

    # The same segment without the contact rule adds only the recently contacted customer.
    again = await (await client.post(f"/api/v1/campaigns/{cid}/lists", headers=marketer,
                                     json={"segment_id": segment_id})).json()
    assert again["added"] == 1
    assert again["suppression"]["already_in_campaign"] == 6

    supervisor = await auth_headers(Role.SUPERVISOR)
    started = await (await client.post(f"/api/v1/campaigns/{cid}/start", headers=supervisor)).json()
    assert started["status"] == "running"
    assert started["leads_total"] == 7
    twice = await client.post(f"/api/v1/campaigns/{cid}/start", headers=supervisor)
    assert twice.status == 409
    assert (await twice.json())["error"] == "illegal_transition"

    # Leads of a running campaign are suppressed from another campaign's list.
    other = await make_campaign(client, marketer, name="다른 캠페인",
                                calling_window={"start": "21:00", "end": "08:00"})
    built2 = await (await client.post(f"/api/v1/campaigns/{other['id']}/lists", headers=marketer,
                                      json={"segment_id": segment_id})).json()
    # night-only window: only the customer with night consent passes, and that customer is
    # already a lead of the running campaign.
    assert built2["suppression"]["night_window"] == 7
    assert built2["suppression"]["other_active_campaign"] == 1
    assert built2["added"] == 0

    for action, status in (("pause", "paused"), ("start", "running"), ("stop", "stopped")):
        resp = await client.post(f"/api/v1/campaigns/{cid}/{action}", headers=marketer)
        assert (await resp.json())["status"] == status
    closed = await client.patch(f"/api/v1/campaigns/{cid}", headers=marketer, json={"name": "y"})
    assert closed.status == 409
    detail = await (await client.get(f"/api/v1/campaigns/{cid}", headers=marketer)).json()
    assert [h["to"] for h in detail["history"]] == ["running", "paused", "running", "stopped"]
    assert len(detail["lists"]) == 2

    conn = await connect(db_url)
    try:
        row = await conn.fetchrow(
            "SELECT status, attempts, priority, position, next_attempt_at FROM campaign_leads"
            " WHERE campaign_id = $1 ORDER BY position LIMIT 1", cid)
        assert row["status"] == "new"
        assert row["position"] == 1
    finally:
        await conn.close()


async def test_patch_revalidates_and_roles(
    client: TestClient, marketer: dict[str, str], auth_headers: Any  # type: ignore[type-arg]
) -> None:
    c = await make_campaign(client, marketer)
    resp = await client.patch(f"/api/v1/campaigns/{c['id']}", headers=marketer,
                              json={"compliance": {"uk_mode": True}, "pacing_strategy": "ratio"})
    assert resp.status == 200
    body = await resp.json()
    assert body["compliance"]["abandon_window_s"] == 86400
    assert body["pacing_strategy"] == "ratio"
    bad = await client.patch(f"/api/v1/campaigns/{c['id']}", headers=marketer,
                             json={"compliance": {"abandon_cap": 0.2}})
    assert bad.status == 422
    agent = await auth_headers(Role.AGENT)
    assert (await client.get("/api/v1/campaigns", headers=agent)).status == 403
    missing = await client.get("/api/v1/campaigns/999999", headers=marketer)
    assert missing.status == 404
    no_segment = await client.post(f"/api/v1/campaigns/{c['id']}/lists", headers=marketer,
                                   json={"segment_id": 424242})
    assert no_segment.status == 404
