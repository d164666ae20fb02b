"""A marketer builds a segment in the browser (regions picked from those present, an
invalid value clears the count), saves it, reopens and edits it, makes a campaign with a
script from it and starts it; a supervisor pauses it."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from crm.rfm import refresh_rfm
from server.auth import Role
from tests.e2e.conftest import LiveApp, login, screenshot
from tests.integration.segments.seed import seed_base

pytestmark = pytest.mark.e2e

SCRIPT = "{{name}} 고객님, {{campaign}} 봄 행사 안내드립니다."


async def test_marketer_builds_segment_and_starts_campaign(live_app: LiveApp, page: Page) -> None:
    conn = await live_app.connect()
    try:
        await seed_base(conn)
        await refresh_rfm(conn, trigger="test")
    finally:
        await conn.close()
    await live_app.add_user("mia", Role.MARKETER)
    await live_app.add_user("sam", Role.SUPERVISOR)
    await login(page, live_app, "mia")
    await page.goto(live_app.url("/segments"))
    count = page.locator("#count")
    await expect(count).to_have_attribute("data-count", "10")  # nothing picked yet: everyone

    # Regions are picked from those the customers have; two regions count both.
    first = page.locator(".seg-row").nth(0)
    picker = first.locator("[data-role=regions]")
    for region in ("광주", "대구", "부산", "서울", "인천"):
        await expect(picker.get_by_label(region, exact=True)).to_be_visible()
    await picker.get_by_label("서울", exact=True).check()
    await expect(count).to_have_attribute("data-count", "4")
    await picker.get_by_label("부산", exact=True).check()
    await expect(count).to_have_attribute("data-count", "6")
    await picker.get_by_label("부산", exact=True).uncheck()
    await expect(count).to_have_attribute("data-count", "4")
    await expect(page.locator("#sample tbody tr")).to_have_count(4)
    await expect(page.locator("#sample tbody")).to_contain_text("010-****-")  # masked

    await page.click("#add-condition")
    second = page.locator(".seg-row").nth(1)
    await second.locator("[data-role=field]").select_option("consent_marketing")
    await second.locator("[data-role=value]").select_option("true")
    await expect(count).to_have_attribute("data-count", "3")

    await page.click("#add-condition")
    third = page.locator(".seg-row").nth(2)
    await third.locator("[data-role=field]").select_option("age")
    await third.locator("[data-role=op]").select_option("gte")
    await third.locator("[data-role=value]").fill("")  # incomplete: left out, no error
    await expect(count).to_have_attribute("data-count", "3")
    await third.locator("[data-role=value]").fill("100")
    await expect(count).to_have_attribute("data-count", "0")
    # An invalid value: the old count and sample do not stay on screen.
    await third.locator("[data-role=value]").fill("500")
    await expect(page.locator("#filter-error")).to_contain_text("200 이하")
    await expect(count).to_have_text("—")
    await expect(count).not_to_have_attribute("data-count", "0")
    await expect(page.locator("#sample tbody tr")).to_have_count(0)
    await third.locator("[data-role=remove]").click()
    await expect(count).to_have_attribute("data-count", "3")
    await expect(page.locator("#filter-error")).to_be_hidden()

    await page.fill("#segment-name", "서울 동의 고객")
    await page.click("#save")
    await expect(page.locator("#saved")).to_contain_text("(3명)")

    # Reopen it from the saved list, change it, save the change.
    await page.reload()
    await expect(count).to_have_attribute("data-count", "10")
    saved_row = page.locator("#saved-segments tr", has_text="서울 동의 고객")
    await saved_row.locator("button[data-open]").click()
    await expect(page.locator("#editing")).to_contain_text("서울 동의 고객")
    await expect(page.locator(".seg-row")).to_have_count(2)
    await expect(count).to_have_attribute("data-count", "3")
    picker = page.locator(".seg-row").nth(0).locator("[data-role=regions]")
    await expect(picker.get_by_label("서울", exact=True)).to_be_checked()
    await picker.get_by_label("부산", exact=True).check()
    await expect(count).to_have_attribute("data-count", "5")  # both in 부산 consent
    await page.fill("#segment-name", "서울·부산 동의 고객")
    await page.click("#save")
    await expect(page.locator("#saved")).to_contain_text("(5명)")
    await expect(page.locator("#saved-segments tr[data-segment]")).to_have_count(1)
    await expect(page.locator("#saved-segments tr[data-segment]")).to_contain_text(
        "서울·부산 동의 고객")
    segment_id = int(await page.locator("#saved-segments tr[data-segment]").first
                     .get_attribute("data-segment") or 0)  # fmt: skip
    conn = await live_app.connect()
    try:
        row = await conn.fetchrow("SELECT name, filter FROM segments WHERE id = $1", segment_id)
        assert await conn.fetchval("SELECT count(*) FROM segments") == 1  # edited, not copied
    finally:
        await conn.close()
    assert row["name"] == "서울·부산 동의 고객"
    assert sorted(row["filter"]["all"][0]["value"]) == ["부산", "서울"]
    await screenshot(page, "segments")

    # A new campaign from it, with its script previewed on the first sample customer.
    await page.fill("#campaign-name", "서울 봄 캠페인")
    await page.fill("#campaign-script", "")
    await page.click("#placeholders button[data-placeholder=name]")
    await page.fill("#campaign-script", SCRIPT)
    await expect(page.locator("#script-preview")).to_contain_text(
        "고객 고객님, 서울 봄 캠페인 봄 행사")
    await page.fill("#exclude-days", "7")
    await page.click("#make-list")
    report = page.locator("#report-table")
    await expect(report).to_contain_text("발신 대상 추가")
    await expect(report.locator("tr[data-key=do_not_call] td")).to_have_text("1")  # 부산's DNC
    await expect(report.locator("tr.ok td")).to_have_text("4")
    await screenshot(page, "segment-builder")
    async with page.expect_navigation():
        await page.click("#campaign-link")
    await expect(page.locator("#status")).to_have_attribute("data-status", "draft")
    await expect(page.locator("#status")).to_have_text("준비 중")
    await expect(page.locator("#lists tbody tr")).to_have_count(1)
    await expect(page.locator("#leads-total")).to_have_text("4")
    await expect(page.locator("#script")).to_contain_text("고객님의 연락처는")
    await expect(page.locator("#script")).to_contain_text("봄 행사 안내드립니다")
    await page.click("#action-start")
    await expect(page.locator("#status")).to_have_text("진행 중")
    await expect(page.locator("#action-pause")).to_be_visible()
    await screenshot(page, "campaign")

    # A supervisor sees the campaign in the list and may pause it.
    await page.context.clear_cookies()
    await login(page, live_app, "sam")
    await page.goto(live_app.url("/campaigns"))
    await expect(page.locator("#campaigns")).to_contain_text("서울 봄 캠페인")
    await page.click("text=서울 봄 캠페인")
    await page.click("#action-pause")
    await expect(page.locator("#status")).to_have_text("일시 중지")
