"""An agent in Chromium: log in, go ready, get the screen pop, order, survive a dropped
websocket, hang up and set the disposition; the CRM timeline and the order show it."""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Page, expect

from cli.demo_data import seed_catalog
from config.scratch import free_port
from config.settings import Settings
from dialer.sim.seed import seed_campaign
from server.app import create_app
from server.auth import Role
from server.dialer_runtime import make_dialer_ctx
from server.keys import LIVE
from tests.e2e.conftest import LiveApp, login, screenshot
from tests.integration.dialer.helpers import scenario

pytestmark = pytest.mark.e2e



@dataclasses.dataclass(frozen=True, kw_only=True)
class DialerApp(LiveApp):
    app: web.Application

    async def calls_settled(self) -> None:
        """Wait until every call task has written its attempt, journey and lead."""
        runtime = self.app[LIVE].runtime
        assert runtime is not None
        async with asyncio.timeout(10):
            await asyncio.gather(*runtime.tasks.values())


@pytest.fixture
async def dialer_app(db_url: str, tmp_path: Path) -> AsyncIterator[DialerApp]:
    """The server with the live dialer on a fast sim carrier (every dial a live answer)."""
    settings = Settings(home=tmp_path / "home", pool_min_size=1, pool_max_size=10)
    ctx = make_dialer_ctx(time_scale=0.05, tick_s=0.1, scan_s=0.1, scenario=scenario())
    app = create_app(settings, url=db_url, background=False, extra_ctx=[ctx])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield DialerApp(base_url=f"http://127.0.0.1:{port}", db_url=db_url, app=app)
    finally:
        await runner.cleanup()


async def seed(app: LiveApp) -> int:
    conn = await app.connect()
    try:
        await seed_catalog(conn, random.Random(7))
        return await seed_campaign(conn, leads=10, name="봄 홈쇼핑")
    finally:
        await conn.close()


async def test_agent_takes_a_call_orders_and_dispositions(
    dialer_app: DialerApp, page: Page
) -> None:
    campaign_id = await seed(dialer_app)
    await dialer_app.add_user("ana", Role.AGENT)
    await login(page, dialer_app, "ana")
    await page.goto(dialer_app.url("/agent"))
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    await expect(page.locator("#state")).to_have_attribute("data-state", "offline")
    await page.select_option("#campaign", str(campaign_id))
    await page.click("#ready")

    call = page.locator("#call")
    await expect(call).to_be_visible()
    await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")
    attempt_id = int(await call.get_attribute("data-attempt") or 0)
    await expect(page.locator("#script")).to_contain_text("ana입니다")
    await expect(page.locator("#customer")).to_contain_text("고객")

    # The order form: first product with stock, two of it, through the orders API.
    await page.fill("#qty", "2")
    await page.click("#add-line")
    await page.click("#submit-order")
    await expect(page.locator("#order-result")).to_contain_text("번 접수")
    await screenshot(page, "agent")

    # The websocket drops: the page reconnects and the call is still on screen.
    await page.evaluate("window.telemartAgent.dropSocket()")
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "closed")
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")
    await expect(call).to_have_attribute("data-attempt", str(attempt_id))

    await page.click("#hangup")
    await expect(page.locator("#state")).to_have_attribute("data-state", "wrap_up")
    await expect(page.locator("#disposition")).to_have_value("sale")
    await page.select_option("#then-pause", "break")
    await page.click("#dispose")
    await expect(page.locator("#state")).to_have_attribute("data-state", "paused")
    await expect(call).to_be_hidden()

    await dialer_app.calls_settled()
    conn = await dialer_app.connect()
    try:
        order = await conn.fetchrow("SELECT * FROM orders WHERE attempt_id = $1", attempt_id)
        row = await conn.fetchrow("SELECT * FROM contact_attempts WHERE id = $1", attempt_id)
        journey = await conn.fetchrow("SELECT * FROM call_journeys WHERE attempt_id = $1",
                                      attempt_id)
    finally:
        await conn.close()
    assert order is not None
    assert row["disposition"] == "sale"
    assert journey["order_id"] == order["id"]
    assert journey["pop_acked_at"] is not None
