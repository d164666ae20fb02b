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
        await expect(row.locator("[data-role=status]")).to_have_text("running")
        await expect(row.locator("[data-role=dials]")).not_to_have_text("0")
        await expect(page.locator("#agents tr[data-agent=ana] [data-role=state]")).to_have_text(
            "on call")
        await expect(page.locator("#journeys tbody tr").first).to_be_visible()
        await expect(page.locator("#charts svg.chart")).to_have_count(1)
        await screenshot(page, "wallboard")

        await row.locator("button[data-action=pause]").click()
        await expect(row.locator("[data-role=status]")).to_have_text("paused")
    finally:
        await agent_context.close()
    conn = await dialer_app.connect()
    try:
        status = await conn.fetchval("SELECT status FROM campaigns WHERE id = $1", campaign_id)
    finally:
        await conn.close()
    assert status == "paused"
