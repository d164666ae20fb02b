"""Call controls in Chromium, in Korean, on the sim carrier (issue 14): an agent holds,
resumes, mutes and transfers a call to another agent ready on the campaign, who gets the
call and hangs up with F8; a refused transfer says why in Korean; buttons are disabled
without a call. (The wallboard's listen / whisper / barge: test_wallboard_monitor.py.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from dialer.sim.seed import seed_campaign
from dialer.telephony.sim import SimCarrier
from server.auth import Role
from server.keys import LIVE
from tests.e2e.conftest import login, screenshot
from tests.e2e.test_agent_desktop import DialerApp, dialer_app  # noqa: F401

pytestmark = pytest.mark.e2e


def sim_of(app: DialerApp) -> SimCarrier:
    runtime = app.app[LIVE].runtime
    assert runtime is not None
    assert isinstance(runtime.port, SimCarrier)
    return runtime.port


def agent_id(app: DialerApp, username: str) -> int:
    return next(a.agent_id for a in app.app[LIVE].desk.agents.values() if a.username == username)


@pytest.fixture
async def contexts(browser: Browser) -> AsyncIterator[list[BrowserContext]]:
    made: list[BrowserContext] = []
    try:
        yield made
    finally:
        for c in made:
            await c.close()


async def desktop(browser: Browser, contexts: list[BrowserContext], app: DialerApp,
                  user: str) -> Page:  # fmt: skip
    context = await browser.new_context(viewport={"width": 1366, "height": 768},
                                        locale="ko-KR", timezone_id="Asia/Seoul")  # fmt: skip
    context.set_default_timeout(10_000)
    contexts.append(context)
    page = await context.new_page()
    await login(page, app, user)
    await page.goto(app.url("/agent"))
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    return page


async def test_an_agent_holds_mutes_and_transfers_a_call_to_another_agent(
    dialer_app: DialerApp,  # noqa: F811
    browser: Browser,
    contexts: list[BrowserContext],
) -> None:
    conn = await dialer_app.connect()
    try:  # one lead: the agent ready for the transfer gets no call of their own
        campaign_id = await seed_campaign(conn, leads=1, name="봄 홈쇼핑")
    finally:
        await conn.close()
    await dialer_app.add_user("ana", Role.AGENT)
    await dialer_app.add_user("bo", Role.AGENT)
    ana = await desktop(browser, contexts, dialer_app, "ana")
    hold, mute, transfer = ana.locator("#hold"), ana.locator("#mute"), ana.locator("#transfer")
    await ana.select_option("#campaign", str(campaign_id))
    await ana.keyboard.press("F2")
    await expect(ana.locator("#call")).to_be_visible()
    await expect(ana.locator("#state")).to_have_attribute("data-state", "on_call")
    attempt_id = int(await ana.locator("#call").get_attribute("data-attempt") or 0)
    call_id = f"tm-{campaign_id}-{attempt_id}"
    call = sim_of(dialer_app).calls[call_id]
    controls = ana.locator("#call-controls")
    await expect(controls).to_have_attribute("aria-label", "통화 제어")

    # Hold and resume: the carrier holds the caller, the page says so.
    await expect(hold).to_have_text("보류")
    await hold.click()
    await expect(controls).to_have_attribute("data-held", "true")
    await expect(ana.locator("#call-flags")).to_have_text("보류 중")
    await expect(hold).to_have_text("보류 해제")
    await expect(hold).to_have_attribute("aria-pressed", "true")
    assert call.held
    await hold.click()
    await expect(controls).to_have_attribute("data-held", "false")
    assert not call.held
    # Mute and unmute.
    await mute.click()
    await expect(ana.locator("#call-flags")).to_have_text("음소거 중")
    await expect(mute).to_have_text("음소거 해제")
    assert call.muted
    await ana.reload()  # the desk keeps the flags: a reloaded desktop shows them
    await expect(ana.locator("#call-flags")).to_have_text("음소거 중")
    await mute.click()
    await expect(ana.locator("#call-flags")).to_have_text("")
    assert not call.muted
    await screenshot(ana, "agent-call-controls")

    # Nobody else is ready: the picker says so and offers nobody.
    await transfer.click()
    dialog = ana.locator("#transfer-dialog")
    await expect(dialog).to_be_visible()
    await expect(ana.locator("#transfer-none")).to_be_visible()
    await expect(ana.locator("#transfer-none")).to_contain_text("대기 중인 다른 상담원이 없습니다")
    await expect(ana.locator("#transfer-ok")).to_be_disabled()
    await ana.click("#transfer-cancel")

    bo = await desktop(browser, contexts, dialer_app, "bo")
    await bo.select_option("#campaign", str(campaign_id))
    await bo.keyboard.press("F2")
    await expect(bo.locator("#state")).to_have_attribute("data-state", "ready")
    await expect(bo.locator("#hold")).to_be_disabled()  # no call: no controls
    await expect(bo.locator("#hangup")).to_be_disabled()

    # bo steps away between the pick and the confirmation: refused, in Korean.
    await transfer.click()
    await expect(ana.locator("#transfer-to option")).to_have_text(["bo"])
    await expect(ana.locator("#transfer-ok")).to_have_text("bo님에게 호 전환")
    await expect(ana.locator("#transfer-text")).to_contain_text("bo님에게 넘어가고")
    await bo.keyboard.press("F4")
    await expect(bo.locator("#state")).to_have_attribute("data-state", "paused")
    await ana.click("#transfer-ok")
    await expect(ana.locator("#notice")).to_have_text(
        "그 상담원은 지금 이 통화를 받을 수 없습니다. 다른 상담원을 고르세요."
    )
    await expect(ana.locator("#notice")).to_have_class("error")
    assert sim_of(dialer_app).bridged[call_id] == agent_id(dialer_app, "ana")
    await expect(ana.locator("#state")).to_have_attribute("data-state", "on_call")

    # bo is ready again: the call and its screen go to bo.
    await bo.keyboard.press("F2")
    await expect(bo.locator("#state")).to_have_attribute("data-state", "ready")
    await transfer.click()
    await expect(ana.locator("#transfer-to option")).to_have_text(["bo"])
    await ana.click("#transfer-ok")
    await expect(ana.locator("#notice")).to_have_text(
        "bo님에게 호 전환했습니다. 다음 통화를 받을 수 있습니다."
    )
    await expect(ana.locator("#call")).to_be_hidden()
    await expect(ana.locator("#state")).to_have_attribute("data-state", "ready")
    await expect(bo.locator("#call")).to_be_visible()
    await expect(bo.locator("#call")).to_have_attribute("data-attempt", str(attempt_id))
    await expect(bo.locator("#notice")).to_have_text("ana님이 넘긴 통화입니다.")
    await expect(bo.locator("#script")).to_contain_text("bo입니다")  # bo's own script
    assert sim_of(dialer_app).bridged[call_id] == agent_id(dialer_app, "bo")
    await expect(bo.locator("#hold")).to_be_enabled()
    await screenshot(bo, "agent-transferred-call")

    # bo hangs up with F8: wrap-up, the controls go dim.
    await bo.keyboard.press("F8")
    await expect(bo.locator("#state")).to_have_attribute("data-state", "wrap_up")
    for button in ("#hold", "#mute", "#transfer", "#hangup"):
        await expect(bo.locator(button)).to_be_disabled()
