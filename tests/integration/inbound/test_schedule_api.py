"""The broadcast schedule imported from CSV (bad rows reported by line, good rows in),
queues, skills, the ARS menu as data, staffing, and who may do what."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from server.auth import Role

Client = TestClient  # type: ignore[type-arg]

CSV = """start,end,title,products,expected_calls,queue
2026-12-04 09:00,2026-12-04 10:00,겨울 패딩 특가,PAD-01;PAD-02,1200,
2026-12-04 09:30,2026-12-04 10:30,겹치는 방송,PAD-03,100,
2026-12-04 11:00,2026-12-04 10:00,끝이 먼저,X,10,
2026-12-04 12:00,2026-12-04 13:00,숫자 아님,X,많이,
2026-12-04 13:00,2026-12-04 14:00,없는 큐,X,10,nowhere
2026-12-04 14:00,2026-12-04 15:00,전기요,MAT-01,"1,500",vip
"""


async def test_schedule_csv_reports_bad_rows_by_line(client: Client, auth_headers: Any) -> None:
    sup = await auth_headers(Role.SUPERVISOR)
    resp = await client.put("/api/v1/inbound/queues/vip", headers=sup,
                            json={"kind": "vip", "priority": 10, "numbers": ["15880001"]})
    assert resp.status == 200, await resp.text()
    resp = await client.post("/api/v1/inbound/schedule/import", headers=sup,
                             data=CSV.encode("utf-8"))
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert report["imported"] == 2
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (3, "start"), (4, "end"), (5, "expected_calls"), (6, "queue")]
    assert "line 2" in report["errors"][0]["message"]
    day = await (await client.get("/api/v1/inbound/schedule?date=2026-12-04",
                                  headers=sup)).json()
    assert [(b["title"], b["queue"], b["expected_calls"], b["products"]) for b in day["items"]] == [
        ("겨울 패딩 특가", "order-line", 1200, ["PAD-01", "PAD-02"]),
        ("전기요", "vip", 1500, ["MAT-01"])]
    # the same file again: every row now overlaps what is stored, nothing doubles
    again = await (await client.post("/api/v1/inbound/schedule/import", headers=sup,
                                      data=CSV.encode("utf-8"))).json()
    assert again["imported"] == 0
    assert {e["line"] for e in again["errors"]} == {2, 3, 4, 5, 6, 7}
    # staffing: the intervals of the broadcast need agents, the night needs none
    staffing = await (await client.get("/api/v1/inbound/staffing?date=2026-12-04&aht_s=180"
                                       "&patience_s=60", headers=sup)).json()
    by_time = {i["start"][11:16]: i for i in staffing["intervals"]}
    assert by_time["03:00"]["agents_needed"] == 0
    assert by_time["09:00"]["agents_needed"] > 10
    assert by_time["09:00"]["service_level"] >= 0.8


async def test_schedule_json_and_csv_in_korean_excel_encoding(client: Client,
                                                             auth_headers: Any) -> None:
    sup = await auth_headers(Role.SUPERVISOR)
    resp = await client.post("/api/v1/inbound/schedule", headers=sup, json=[
        {"start": "2026-12-05T09:00:00+09:00", "end": "2026-12-05T10:00:00+09:00",
         "title": "API", "products": ["A"], "expected_calls": 10}])
    assert resp.status == 201, await resp.text()
    bad = await client.post("/api/v1/inbound/schedule", headers=sup, json=[
        {"start": "2026-12-05T11:00:00+09:00", "end": "2026-12-05T10:00:00+09:00",
         "products": ["A"], "expected_calls": 10}])
    assert bad.status == 422
    cp949 = "start,end,title,products,expected_calls\n2026-12-06 09:00,2026-12-06 10:00,한글,A,5\n"
    resp = await client.post("/api/v1/inbound/schedule/import", headers=sup,
                             data=cp949.encode("cp949"))
    assert (await resp.json())["imported"] == 1


async def test_roles_skills_and_menu(client: Client, auth_headers: Any) -> None:
    agent = await auth_headers(Role.AGENT)
    sup = await auth_headers(Role.SUPERVISOR)
    assert (await client.post("/api/v1/inbound/schedule/import", headers=agent,
                              data=b"x")).status == 403
    assert (await client.put("/api/v1/inbound/skills", headers=agent,
                             json={"agent_id": 1, "queue": "order-line", "level": 1})).status == 403
    resp = await client.put("/api/v1/inbound/skills", headers=sup,
                            json={"agent_id": 7, "queue": "order-line", "level": 2})
    assert resp.status == 200
    skills = await (await client.get("/api/v1/inbound/skills", headers=sup)).json()
    assert [(s["agent_id"], s["queue"], s["level"]) for s in skills["items"]] == [
        (7, "order-line", 2)]
    assert (await client.put("/api/v1/inbound/skills", headers=sup,
                             json={"agent_id": 7, "queue": "nope", "level": 2})).status == 404
    menu = await (await client.get("/api/v1/inbound/ars/menu", headers=sup)).json()
    assert menu["start"] == "welcome"
    menu["steps"]["total"]["on"]["yes"] = "nowhere"
    resp = await client.put("/api/v1/inbound/ars/menu", headers=sup, json=menu)
    assert resp.status == 422
    assert "nowhere" in (await resp.json())["message"]
    menu["steps"]["total"]["on"]["yes"] = "placing"
    menu["steps"]["welcome"]["say"] = "반갑습니다. {greeting}"
    saved = await client.put("/api/v1/inbound/ars/menu", headers=sup, json=menu)
    assert saved.status == 200, await saved.text()
    again = await (await client.get("/api/v1/inbound/ars/menu", headers=sup)).json()
    assert again["steps"]["welcome"]["say"] == "반갑습니다. {greeting}"
    queues = await (await client.get("/api/v1/inbound/queues", headers=agent)).json()
    assert [q["name"] for q in queues["items"]] == ["order-line"]
