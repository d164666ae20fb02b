"""The supervisor's order-line page and the ARS page in Chromium: a schedule CSV imported
with its bad rows reported by line, staffing for the day, the ARS menu shown; agents are
kept out."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from server.auth import Role
from tests.e2e.conftest import LiveApp, login, screenshot

pytestmark = pytest.mark.e2e

CSV = """start,end,title,products,expected_calls
2026-12-04 09:00,2026-12-04 10:00,겨울 패딩 특가,PAD-01,1200
2026-12-04 11:00,2026-12-04 10:00,끝이 먼저,X,10
"""


async def test_schedule_import_and_staffing(live_app: LiveApp, page: Page) -> None:
    await live_app.add_user("boss", Role.SUPERVISOR)
    await login(page, live_app, "boss")
    await page.goto(live_app.url("/inbound"))
    await expect(page.locator("#queue-tiles .tile")).to_have_count(1)
    await page.fill("#day", "2026-12-04")
    await page.set_input_files("#schedule-file", files=[{
        "name": "schedule.csv", "mimeType": "text/csv", "buffer": CSV.encode("utf-8")}])
    await page.click("#schedule-import button[type=submit]")
    report = page.locator("#import-report")
    await expect(report).to_contain_text("1건을 넣었습니다. 오류 1건.")
    await expect(report).to_contain_text("3번째 줄 (end): end must be after start")
    await page.dispatch_event("#day", "change")
    await expect(page.locator("#schedule tbody tr")).to_have_count(1)
    await expect(page.locator("#schedule tbody")).to_contain_text("겨울 패딩 특가")
    await expect(page.locator("#staffing tbody tr").first).to_be_visible()
    await screenshot(page, "inbound-board")

    await page.goto(live_app.url("/wallboard"))  # inbound's tiles inside the wallboard
    await expect(page.locator("#inbound-tiles .tile")).to_have_count(1)
    await expect(page.locator("#inbound-tiles")).to_contain_text("주문 전화")

    await page.goto(live_app.url("/inbound/ars"))
    await expect(page.locator("#steps tbody")).to_contain_text("주문하실 상품 번호를 눌러 주세요")
    await expect(page.locator("#agent-key")).to_have_text("0")
    await page.fill("#pv-caller", "+821000000000")  # not a customer: the ARS hands over
    await page.click("#preview-form button[type=submit]")
    await expect(page.locator("#preview-end")).to_contain_text("상담원 연결 (welcome:unknown)")
    await screenshot(page, "inbound-ars")


async def test_agents_may_not_open_the_inbound_pages(live_app: LiveApp, page: Page) -> None:
    await live_app.add_user("agent1", Role.AGENT)
    await login(page, live_app, "agent1")
    resp = await page.goto(live_app.url("/inbound"))
    assert resp is not None
    assert resp.status == 403
