"""The CRM JSON API: import upload, customers, internal do-not-call."""

from __future__ import annotations

from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from server.auth import Role

CSV = (
    "고객번호,이름,휴대폰,수신동의,비고\n"
    "A1,홍길동,010-1234-5678,Y,x\n"
    "A2,김영희,010-2222-3333,N,\n"
    "A3,무명,123,,\n"
    "A4,박철수,010-4444-5555,,\n"
).encode("cp949")


def form(data: bytes = CSV, **fields: str) -> FormData:
    f = FormData()
    for key, value in fields.items():
        f.add_field(key, value)
    f.add_field("file", data, filename="list.csv", content_type="text/csv")
    return f


async def upload(client: TestClient, headers: dict[str, str], **fields: str) -> Any:  # type: ignore[type-arg]
    resp = await client.post("/api/v1/imports/customers", data=form(**fields), headers=headers)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def test_upload_returns_the_summary_and_report(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def,type-arg]
    headers = await auth_headers(Role.MARKETER)
    body = await upload(client, headers, source="fair")
    assert {k: body[k] for k in ("rows", "imported", "updated", "duplicates", "invalid")} == {
        "rows": 4, "imported": 3, "updated": 0, "duplicates": 0, "invalid": 1,
    }  # fmt: skip
    assert body["unknown_columns"] == ["비고"]
    assert body["error_rows"] == [{"line": 4, "reason": "invalid phone number", "value": "123"}]
    report = await client.get(body["error_report_url"], headers=headers)
    assert report.status == 200
    assert (await report.text()).splitlines()[1] == "4,invalid phone number,123"


async def test_only_marketers_and_admins_import(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def,type-arg]
    for role, status in ((Role.AGENT, 403), (Role.SUPERVISOR, 403), (Role.ADMIN, 200)):
        resp = await client.post(
            "/api/v1/imports/customers", data=form(), headers=await auth_headers(role)
        )
        assert resp.status == status, role


async def test_upload_errors(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def,type-arg]
    headers = await auth_headers(Role.MARKETER)
    no_phone = await client.post(
        "/api/v1/imports/customers", data=form(b"name,address\na,b\n"), headers=headers
    )
    assert no_phone.status == 422
    assert (await no_phone.json())["field"] == "file"
    not_multipart = await client.post("/api/v1/imports/customers", json={}, headers=headers)
    assert not_multipart.status == 415


async def test_customer_list_search_and_pages(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def,type-arg]
    headers = await auth_headers(Role.MARKETER)
    await upload(client, headers)
    first = await (await client.get("/api/v1/customers?limit=2", headers=headers)).json()
    assert [c["external_ref"] for c in first["items"]] == ["A1", "A2"]
    second = await (
        await client.get(f"/api/v1/customers?limit=2&cursor={first['next']}", headers=headers)
    ).json()
    assert [c["external_ref"] for c in second["items"]] == ["A4"]
    assert second["next"] is None
    for q in ("010 2222 3333", "+82-10-2222-3333", "2222", "010-2222", "김영", "A2"):
        resp = await client.get("/api/v1/customers", params={"q": q}, headers=headers)
        found = await resp.json()
        assert [c["external_ref"] for c in found["items"]] == ["A2"], q
    bad = await client.get("/api/v1/customers?limit=0", headers=headers)
    assert bad.status == 422
    assert (await bad.json())["field"] == "limit"


async def test_customer_detail_with_consents_and_dnc(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def,type-arg]
    marketer = await auth_headers(Role.MARKETER)
    await upload(client, marketer, source="fair")
    items = (await (await client.get("/api/v1/customers", headers=marketer)).json())["items"]
    a1 = items[0]["id"]
    agent = await auth_headers(Role.AGENT)
    # An agent reads only the customer of its own call (tests/security/test_access_matrix.py).
    assert (await client.get(f"/api/v1/customers/{a1}", headers=agent)).status == 403
    supervisor = await auth_headers(Role.SUPERVISOR)
    detail = await (await client.get(f"/api/v1/customers/{a1}", headers=supervisor)).json()
    assert detail["phone_e164"] == "+821012345678"
    assert detail["consents"][0]["granted"] is True
    assert detail["consents"][0]["source"] == "fair"
    assert detail["do_not_call"] == {"listed": False, "entries": []}

    added = await client.post("/api/v1/dnc", json={"phone": "010.1234.5678"}, headers=agent)
    assert added.status == 201
    assert (await added.json())["phone_e164"] == "+821012345678"
    again = await client.post("/api/v1/dnc", json={"phone": "01012345678"}, headers=agent)
    assert again.status == 200
    assert (await again.json())["added"] is False
    detail = await (await client.get(f"/api/v1/customers/{a1}", headers=supervisor)).json()
    assert detail["do_not_call"]["listed"] is True
    assert detail["do_not_call"]["entries"][0]["kind"] == "internal"

    missing = await client.get("/api/v1/customers/999999", headers=supervisor)
    assert missing.status == 404
    invalid = await client.post("/api/v1/dnc", json={"phone": "12"}, headers=agent)
    assert invalid.status == 422
    assert (await invalid.json())["field"] == "phone"
    logistics = await auth_headers(Role.LOGISTICS)
    assert (await client.post("/api/v1/dnc", json={"phone": "010-1111-2222"},
                              headers=logistics)).status == 403  # fmt: skip


async def test_customers_page_lists_and_searches(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def,type-arg]
    headers = await auth_headers(Role.MARKETER)
    await upload(client, headers)
    page = await client.get("/customers", headers=headers)
    text = await page.text()
    assert page.status == 200
    assert "홍길동" in text
    assert 'id="import-form"' in text
    found = await (await client.get("/customers", params={"q": "김영희"}, headers=headers)).text()
    assert "김영희" in found
    assert "홍길동" not in found
