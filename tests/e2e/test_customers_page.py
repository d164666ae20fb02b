"""A marketer uploads a customer CSV in the browser, sees the summary (problem rows by
line, in Korean), the new customers with their count, and a customer's page."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from logistics.relay import relay_all
from server.auth import Role
from tests.e2e.conftest import LiveApp, login, screenshot
from tests.integration.logistics.conftest import make_order
from tests.integration.segments.seed import add_contact

pytestmark = pytest.mark.e2e

CSV = (
    "고객번호,이름,휴대폰,생년월일,성별,마케팅수신동의,주소\r\n"
    "W1,한가람,010-7777-1234,1988.05.06,여,Y,서울 마포구 월드컵로 1\r\n"
    "W2,오세훈,+82 10 7777 5678,19790102,남,N,부산 해운대구\r\n"
    "W3,무효,1234,,,,\r\n"
    "W1,,01077771234,1988-13-01,,,\r\n"
)


async def test_marketer_uploads_customers_and_sees_them(
    live_app: LiveApp, page: Page, tmp_path: Path
) -> None:
    upload = tmp_path / "고객목록.csv"
    upload.write_bytes(CSV.encode("cp949"))
    await live_app.add_user("mia", Role.MARKETER)
    await login(page, live_app, "mia")

    await page.goto(live_app.url("/customers"))
    await expect(page.locator("#customers tbody")).to_contain_text("아직 고객이 없습니다")
    await expect(page.locator("#customer-total")).to_have_attribute("data-total", "0")
    await page.set_input_files("#import-file", str(upload))
    await page.fill("#import-source", "봄 박람회")
    await page.click("#import-submit")

    summary = page.locator("#import-summary")
    await expect(summary).to_be_visible()
    await expect(summary.locator("[data-key=rows]")).to_have_text("4")
    await expect(summary.locator("[data-key=imported]")).to_have_text("2")
    await expect(summary.locator("[data-key=duplicates]")).to_have_text("1")
    await expect(summary.locator("[data-key=invalid]")).to_have_text("1")
    await expect(summary.locator("[data-key=warnings]")).to_have_text("1")
    await expect(page.locator("#import-errors tbody tr")).to_have_count(2)
    errors = page.locator("#import-errors tbody tr")
    await expect(errors.nth(0)).to_contain_text("잘못된 전화번호")
    await expect(errors.nth(0).locator("td").first).to_have_text("4")  # line 4 of the file
    await expect(page.locator("#import-errors")).to_contain_text("생년월일을 읽을 수 없음")

    rows = page.locator("#customers tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#customers tbody")).to_contain_text("한가람")
    await expect(page.locator("#customers tbody")).to_contain_text("010-7777-5678")
    await expect(page.locator("#customer-total")).to_have_attribute("data-total", "2")
    await expect(page.locator("#customer-total")).to_contain_text("전체 2명")
    await screenshot(page, "customers")

    await page.fill("input[name=q]", "010-7777-5678")
    await page.click(".cust-search button")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("오세훈")
    await expect(page.locator("#customer-total")).to_contain_text("검색 결과 1명")

    # The customer's page: the card and one timeline (consent, calls, orders …).
    async with page.expect_navigation():
        await rows.first.locator("a").first.click()
    await expect(page.locator("#customer-card h1")).to_have_text("오세훈")
    await expect(page.locator("#customer-card")).to_contain_text("010-7777-5678")
    await expect(page.locator("#dnc")).to_contain_text("미등록")
    await screenshot(page, "customer")


async def test_customer_page_shows_one_timeline(live_app: LiveApp, page: Page) -> None:
    conn = await live_app.connect()
    try:
        order_id = await make_order(conn, phone="010-5555-0101")
        await relay_all(conn)  # the order's shipment
        customer_id = await conn.fetchval("SELECT customer_id FROM orders WHERE id = $1",
                                          order_id)  # fmt: skip
        await add_contact(conn, customer_id=customer_id, days_ago=1, disposition="callback")
        await conn.execute(
            "INSERT INTO consent_records (customer_id, channel, purpose, granted, source)"
            " VALUES ($1, 'phone', 'marketing', false, '고객 요청')", customer_id)  # fmt: skip
        await conn.execute("INSERT INTO do_not_call (phone_e164, kind, source)"
                           " VALUES ('+821055550101', 'internal', '상담 중 요청')")  # fmt: skip
    finally:
        await conn.close()
    await live_app.add_user("mia", Role.MARKETER)
    await login(page, live_app, "mia")
    await page.goto(live_app.url(f"/customers/{customer_id}"))
    await expect(page.locator("#dnc")).to_contain_text("등록됨")
    timeline = page.locator("#timeline li")
    for kind in ("call", "order", "shipment", "consent", "dnc"):
        await expect(timeline.locator(f"xpath=self::li[@data-kind='{kind}']")).to_have_count(1)
    await expect(page.locator("#timeline li[data-kind=call]")).to_contain_text("콜백")
    await expect(page.locator("#timeline li[data-kind=order]")).to_contain_text("10,000원")
    await expect(page.locator("#timeline li[data-kind=shipment]")).to_contain_text("출고 대기")
    await expect(page.locator("#timeline li[data-kind=consent]")).to_contain_text("철회")
    await expect(page.locator("#timeline li[data-kind=dnc]")).to_contain_text("자체 수신거부 목록")
    await expect(timeline.first).to_contain_text("KST")
    await screenshot(page, "customer-timeline")
