"""A supervisor watches the wallboard while an agent takes calls, and pauses the campaign."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from server.auth import Role
from tests.e2e.conftest import login, screenshot
from tests.e2e.test_agent_desktop import DialerApp, dialer_app, seed  # noqa: F401

pytestmark = pytest.mark.e2e


async def test_wallboard_shows_agents_calls_and_pauses_campaign(
    dialer_app: DialerApp, page: Page, browser: Browser  # noqa: F811
) -> None:
    campaign_id = await seed(dialer_app)
    await dialer_app.add_user("ana", Role.AGENT)
    await dialer_app.add_user("sam", Role.SUPERVISOR)

    agent_context = await browser.new_context()
    agent = await agent_context.new_page()
    try:
        await login(agent, dialer_app, "ana")
        await agent.goto(dialer_app.url("/agent"))
        await expect(agent.locator("#conn")).to_have_attribute("data-conn", "open")
        await agent.select_option("#campaign", str(campaign_id))
        await agent.click("#ready")
        await expect(agent.locator("#call")).to_be_visible()

        await login(page, dialer_app, "sam")
        await page.goto(dialer_app.url("/wallboard"))
        row = page.locator(f"#campaigns tr[data-campaign='{campaign_id}']")
        await expect(row.locator("[data-role=status]")).to_have_text("진행 중")
        await expect(row.locator("[data-role=dials]")).not_to_have_text("0")
        # The headline: the campaign's abandon rate against its cap, coloured by level.
        headline = page.locator(f"[data-role=abandon-tile][data-campaign='{campaign_id}']")
        await expect(headline).to_contain_text("상한 3.0%")
        await expect(headline).to_have_attribute("data-level", "ok")
        await expect(page.locator("#waiting-tile")).to_contain_text("상담원 연결 대기 호")
        ana = page.locator("#agents tr[data-agent=ana]")
        await expect(ana.locator("[data-role=state]")).to_have_text("통화 중")
        await expect(ana.locator("[data-role=calls]")).to_have_text("1")
        await expect(ana.locator("[data-role=desktop]")).to_have_text("연결됨")
        first = page.locator("#journeys tbody tr").first
        await expect(first).to_be_visible()
        await expect(page.locator("#journeys thead")).to_contain_text("상담원 연결")
        await expect(page.locator("#charts svg.chart")).to_have_count(1)
        await expect(page.locator("#charts svg.chart line.axis")).to_have_count(2)
        await expect(page.locator("#charts .legend")).to_contain_text("포기")
        await screenshot(page, "wallboard")

        # Pause asks first; going back changes nothing.
        await row.locator("button[data-action=pause]").click()
        dialog = page.locator("#confirm")
        await expect(dialog).to_contain_text("일시 중지할까요?")
        await dialog.locator("#confirm-cancel").click()
        await expect(row.locator("[data-role=status]")).to_have_text("진행 중")
        await row.locator("button[data-action=pause]").click()
        await dialog.locator("#confirm-ok").click()
        await expect(row.locator("[data-role=status]")).to_have_text("일시 중지")

        # The agent's desktop goes away mid-call: the wallboard raises it.
        await agent_context.close()
        alert = page.locator("#alert-list li[data-kind=desktop_gone]")
        await expect(alert).to_contain_text("ana")
        await expect(ana.locator("[data-role=desktop]")).to_have_text("끊김")
    finally:
        await agent_context.close()
    conn = await dialer_app.connect()
    try:
        status = await conn.fetchval("SELECT status FROM campaigns WHERE id = $1", campaign_id)
    finally:
        await conn.close()
    assert status == "paused"
