"""A marketer builds a segment in the browser, makes a campaign list and starts it."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from crm.rfm import refresh_rfm
from server.auth import Role
from tests.e2e.conftest import LiveApp, login, screenshot
from tests.integration.segments.seed import seed_base

pytestmark = pytest.mark.e2e


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
    await expect(count).to_have_attribute("data-count", "10")  # the empty first row: everyone

    first = page.locator(".seg-row").nth(0)
    await first.locator("[data-role=value]").fill("서울")
    await expect(count).to_have_attribute("data-count", "4")
    await expect(page.locator("#sample tbody tr")).to_have_count(4)
    await expect(page.locator("#sample tbody")).to_contain_text("+82 10-****-")

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
    await third.locator("[data-role=remove]").click()
    await expect(count).to_have_attribute("data-count", "3")
    await expect(page.locator("#filter-error")).to_be_hidden()

    await page.fill("#segment-name", "서울 동의 고객")
    await page.click("#save")
    await expect(page.locator("#saved")).to_contain_text("Saved segment #")
    await screenshot(page, "segments")

    await page.fill("#campaign-name", "서울 봄 캠페인")
    await page.fill("#exclude-days", "7")
    await page.click("#make-list")
    report = page.locator("#report-table")
    await expect(report).to_contain_text("Added as leads")
    # seoul_f_30s, big_spender, cancelled_only are in Seoul with consent; none suppressed
    await expect(report.locator("tr.ok td")).to_have_text("3")
    await screenshot(page, "segments")

    async with page.expect_navigation():
        await page.click("#campaign-link")
    await expect(page.locator("#status")).to_have_text("draft")
    await expect(page.locator("#lists tbody tr")).to_have_count(1)
    await expect(page.locator("#leads-total")).to_have_text("3")
    await expect(page.locator("#script")).to_contain_text("고객님의 연락처는")

    await page.click("#action-start")
    await expect(page.locator("#status")).to_have_text("running")
    await expect(page.locator("#action-pause")).to_be_visible()
    await screenshot(page, "campaign")

    # A supervisor sees the campaign in the list and may pause it.
    await page.context.clear_cookies()
    await login(page, live_app, "sam")
    await page.goto(live_app.url("/campaigns"))
    await expect(page.locator("#campaigns")).to_contain_text("서울 봄 캠페인")
    await page.click("text=서울 봄 캠페인")
    await page.click("#action-pause")
    await expect(page.locator("#status")).to_have_text("paused")
