"""The supervisor's order-line page and the ARS page in Chromium, in Korean and in English:
a schedule CSV imported with its bad rows reported by line, staffing for the day, the ARS
menu shown; agents are kept out."""

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


# What each language says of the same things (the catalog's Korean, the English source).
WORDS = {
    "ko": {
        "lang": "ko",
        "imported": "1건을 넣었습니다. 오류 1건.",
        "bad_row": "3번째 줄: 종료 시각은 시작 시각보다 뒤여야 합니다.",
        "queue": "주문 전화",
        "tile": "응답률",
        "staffing": "필요 인원",
        "patience": "60초, 기본값: 최근 7일 통화가 적어 측정하지 못했습니다",
        "handed": "상담원 연결 (welcome:unknown)",
        "action": "고객 확인",
        "title": "주문 전화 (인바운드)",
    },
    "en": {
        "lang": "en",
        "imported": "1 broadcast imported, 1 with errors.",
        "bad_row": "Line 3: the end must be after the start.",
        "queue": "Order line",
        "tile": "Service level",
        "staffing": "Agents needed",
        "patience": "60 s, the default: too few calls in the last 7 days to measure",
        "handed": "Handed to an agent (welcome:unknown)",
        "action": "Recognise the caller",
        "title": "Order line (inbound)",
    },
}


async def _choose(page: Page, lang: str) -> None:
    if lang != "ko":  # Korean is the default; the switch in the top bar for the other
        async with page.expect_navigation():
            await page.click(f".lang-switch button[value={lang}]")


@pytest.mark.parametrize("lang", ["ko", "en"])
async def test_schedule_import_and_staffing(live_app: LiveApp, page: Page, lang: str) -> None:
    words = WORDS[lang]
    await live_app.add_user("boss", Role.SUPERVISOR)
    await login(page, live_app, "boss")
    await page.goto(live_app.url("/inbound"))
    await _choose(page, lang)
    await expect(page.locator("html")).to_have_attribute("lang", words["lang"])
    await expect(page).to_have_title(f"{words['title']} · Telemart")
    await expect(page.locator("#queue-tiles .tile")).to_have_count(1)
    await expect(page.locator("#queue-tiles .tile")).to_contain_text(words["queue"])
    await expect(page.locator("#queue-tiles .tile")).to_contain_text(words["tile"])
    await page.fill("#day", "2026-12-04")
    await page.set_input_files(
        "#schedule-file",
        files=[{"name": "schedule.csv", "mimeType": "text/csv", "buffer": CSV.encode("utf-8")}],
    )
    await page.click("#schedule-import button[type=submit]")
    report = page.locator("#import-report")
    await expect(report).to_contain_text(words["imported"])
    await expect(report).to_contain_text(words["bad_row"])
    await page.dispatch_event("#day", "change")
    await expect(page.locator("#schedule tbody tr")).to_have_count(1)
    await expect(page.locator("#schedule tbody")).to_contain_text("겨울 패딩 특가")
    # Times in the site's zone, labelled; the queue in words.
    await expect(page.locator("#schedule tbody")).to_contain_text("2026-12-04 09:00 KST")
    await expect(page.locator("#schedule tbody")).to_contain_text(words["queue"])
    await expect(page.locator("#staffing tbody tr").first).to_be_visible()
    await expect(page.locator("#staffing thead")).to_contain_text(words["staffing"])
    # the patience is the floor's unless one is entered; no calls yet: the default, said so
    await expect(page.locator("#patience")).to_have_value("")
    await expect(page.locator("#patience-note")).to_have_text(words["patience"])
    await page.fill("#patience", "90")
    await page.dispatch_event("#patience", "change")
    await expect(page.locator("#patience-note")).to_have_text("")  # as entered: nothing to say
    if lang == "ko":
        await screenshot(page, "inbound-board")

    await page.goto(live_app.url("/wallboard"))  # inbound's tiles inside the wallboard
    await expect(page.locator("#inbound-tiles .tile")).to_have_count(1)
    await expect(page.locator("#inbound-tiles")).to_contain_text(words["queue"])

    await page.goto(live_app.url("/inbound/ars"))
    await expect(page.locator("#steps tbody")).to_contain_text("주문하실 상품 번호를 눌러 주세요")
    await expect(page.locator("#steps tbody")).to_contain_text(words["action"])
    await expect(page.locator("#agent-key")).to_have_text("0")
    await page.fill("#pv-caller", "+821000000000")  # not a customer: the ARS hands over
    await page.click("#preview-form button[type=submit]")
    await expect(page.locator("#preview-end")).to_contain_text(words["handed"])
    if lang == "ko":
        await screenshot(page, "inbound-ars")


async def test_agents_may_not_open_the_inbound_pages(live_app: LiveApp, page: Page) -> None:
    await live_app.add_user("agent1", Role.AGENT)
    await login(page, live_app, "agent1")
    resp = await page.goto(live_app.url("/inbound"))
    assert resp is not None
    assert resp.status == 403
