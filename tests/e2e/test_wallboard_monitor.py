"""A supervisor listens to an agent's call from the wallboard, barges in after confirming,
and stops, on the sim carrier (issue 14); the mode shows on the agent's row. Agents see no
such buttons: not on their desktop, and the wallboard and the monitor API refuse them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from dialer.sim.seed import seed_campaign
from dialer.telephony.port import MonitorMode
from server.auth import Role
from tests.e2e.conftest import login, screenshot
from tests.e2e.test_agent_desktop import DialerApp, dialer_app  # noqa: F401
from tests.e2e.test_call_controls import agent_id, sim_of

pytestmark = pytest.mark.e2e


@pytest.fixture
async def two(browser: Browser) -> AsyncIterator[tuple[Page, Page]]:
    made: list[BrowserContext] = []
    pages = []
    for _ in range(2):
        context = await browser.new_context(viewport={"width": 1440, "height": 900},
                                            locale="ko-KR", timezone_id="Asia/Seoul")  # fmt: skip
        context.set_default_timeout(10_000)
        made.append(context)
        pages.append(await context.new_page())
    try:
        yield pages[0], pages[1]
    finally:
        for c in made:
            await c.close()


async def _user_id(app: DialerApp, username: str) -> int:
    conn = await app.connect()
    try:
        found: int = await conn.fetchval("SELECT id FROM users WHERE username = $1", username)
    finally:
        await conn.close()
    return found


async def test_a_supervisor_listens_barges_and_stops_from_the_wallboard(
    dialer_app: DialerApp,  # noqa: F811
    two: tuple[Page, Page],
) -> None:
    ana, sup = two
    conn = await dialer_app.connect()
    try:
        campaign_id = await seed_campaign(conn, leads=1, name="봄 홈쇼핑")
    finally:
        await conn.close()
    await dialer_app.add_user("ana", Role.AGENT)
    await dialer_app.add_user("sam", Role.SUPERVISOR)
    sam_id = await _user_id(dialer_app, "sam")

    await login(ana, dialer_app, "ana")
    await ana.goto(dialer_app.url("/agent"))
    await expect(ana.locator("#conn")).to_have_attribute("data-conn", "open")
    await ana.select_option("#campaign", str(campaign_id))
    await ana.keyboard.press("F2")
    await expect(ana.locator("#state")).to_have_attribute("data-state", "on_call")
    # An agent's page has no listen-in buttons, and the wallboard and API refuse agents.
    await expect(ana.locator("[data-mode=listen], [data-role=monitor]")).to_have_count(0)
    refused = await ana.goto(dialer_app.url("/wallboard"))
    assert refused is not None
    assert refused.status == 403
    resp = await ana.request.post(dialer_app.url("/api/v1/dialer/monitor"),
                                  data={"agent_id": agent_id(dialer_app, "ana"),
                                        "mode": "listen"})  # fmt: skip
    assert resp.status == 403
    assert (await resp.json())["error"] in ("forbidden", "csrf"), await resp.text()
    await ana.goto(dialer_app.url("/agent"))

    await login(sup, dialer_app, "sam")
    await sup.goto(dialer_app.url("/wallboard"))
    row = sup.locator("#agents tr[data-agent=ana]")
    cell = row.locator("[data-role=monitor]")
    await expect(row.locator("[data-role=state]")).to_have_text("통화 중")
    await expect(cell.locator("button")).to_have_text(["듣기", "귓속말", "끼어들기"])
    await expect(sup.locator("#agents thead")).to_contain_text("모니터링")

    # Listen: the supervisor's phone is called first, then joined to ana's line.
    await cell.locator("button[data-mode=listen]").click()
    await expect(sup.locator("#monitor-status")).to_have_text("ana님 통화 듣는 중")
    await expect(cell.locator("[data-role=monitor-mode]")).to_have_text("듣는 중")
    await expect(cell.locator("button[data-mode=listen]")).to_have_attribute("aria-pressed", "true")
    ana_id = agent_id(dialer_app, "ana")
    sim = sim_of(dialer_app)
    assert sam_id in sim.legs  # the supervisor's phone leg
    assert sim.monitors[sam_id] == (ana_id, MonitorMode.LISTEN)

    # Barge in asks first; going back changes nothing.
    await cell.locator("button[data-mode=barge]").click()
    dialog = sup.locator("#confirm")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("ana님의 통화에 끼어들까요?")
    await expect(dialog).to_contain_text("고객과 ana님 모두")
    await sup.click("#confirm-cancel")
    assert sim.monitors[sam_id] == (ana_id, MonitorMode.LISTEN)
    await cell.locator("button[data-mode=barge]").click()
    await sup.click("#confirm-ok")
    await expect(cell.locator("[data-role=monitor-mode]")).to_have_text("끼어든 중")
    assert sim.monitors[sam_id] == (ana_id, MonitorMode.BARGE)
    await screenshot(sup, "wallboard-monitor")
    # After a reload the wallboard still says what the supervisor is doing.
    await sup.reload()
    await expect(cell.locator("[data-role=monitor-mode]")).to_have_text("끼어든 중")

    await cell.locator("button[data-mode=stop]").click()
    await expect(sup.locator("#monitor-status")).to_have_text("ana님 통화 모니터링을 마쳤습니다.")
    await expect(cell.locator("[data-role=monitor-mode]")).to_have_count(0)
    assert sam_id not in sim.monitors
    await expect(cell.locator("button[data-mode=stop]")).to_have_count(0)
