"""An inbound caller on the agent desktop, in Korean: the sim carrier's caller reaches the
order line, the ACD gives the call to the skilled agent in Chromium, and the pop says who
is calling, which queue, how long they waited and what is on air now."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from playwright.async_api import Browser, expect

from cli.demo_data import seed_catalog
from dialer.inbound import store
from dialer.sim.seed import seed_campaign
from dialer.telephony.sim import SimCarrier
from server.auth import Role
from server.keys import LIVE
from tests.e2e.conftest import login, screenshot
from tests.e2e.test_agent_desktop import DialerApp, dialer_app

pytestmark = pytest.mark.e2e
__all__ = ["dialer_app"]  # the fixture, shared with the outbound desktop's test

ORDER_LINE = "15880000"


async def test_an_inbound_pop_in_korean(dialer_app: DialerApp, browser: Browser) -> None:
    await dialer_app.add_user("mina", Role.AGENT)
    conn = await dialer_app.connect()
    try:
        await seed_catalog(conn, random.Random(7))
        campaign_id = await seed_campaign(conn, leads=3, name="봄 홈쇼핑", start=False)
        # paused: the agent can be ready on it (inbound only), and nothing is dialled out
        await conn.execute("UPDATE campaigns SET status = 'paused' WHERE id = $1", campaign_id)
        customer = await conn.fetchrow("SELECT id, name, phone_e164 FROM customers"
                                       " ORDER BY id LIMIT 1")
        product = await conn.fetchrow("SELECT code, name FROM products ORDER BY id LIMIT 1")
        agent_id = await conn.fetchval("SELECT id FROM users WHERE username = 'mina'")
        queue_id = await store.queue_id(conn, "order-line")
        assert queue_id is not None
        await store.set_number(conn, called=ORDER_LINE, queue_id=queue_id)
        await store.set_skill(conn, agent_id=agent_id, queue_id=queue_id, level=1)
        now = dt.datetime.now(dt.UTC)
        await conn.execute(
            "INSERT INTO broadcasts (starts_at, ends_at, title, products, expected_calls,"
            " queue_id) VALUES ($1, $2, '겨울 패딩 특가', $3, 0, $4)",
            now - dt.timedelta(minutes=10), now + dt.timedelta(minutes=50), [product["code"]],
            queue_id)  # fmt: skip
    finally:
        await conn.close()
    runtime = dialer_app.app[LIVE].runtime
    assert runtime is not None
    await runtime.inbound.reload()
    port = runtime.port
    assert isinstance(port, SimCarrier)

    context = await browser.new_context(viewport={"width": 1440, "height": 900},
                                        locale="ko-KR", timezone_id="Asia/Seoul")
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await login(page, dialer_app, "mina")
        await page.goto(dialer_app.url("/agent"))
        await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
        await page.select_option("#campaign", str(campaign_id))
        await page.keyboard.press("F2")  # ready
        await expect(page.locator("#state")).to_have_attribute("data-state", "ready")
        call_id = port.ring_in(called=ORDER_LINE, caller_e164=customer["phone_e164"])

        info = page.locator("#inbound-info")
        await expect(info).to_be_visible()
        await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")
        await expect(info.locator("[data-role=queue]")).to_have_text("인바운드 전화: 주문 전화")
        await expect(info.locator("[data-role=waited]")).to_have_text(
            re.compile(r"^대기 \d+초$"))
        await expect(info.locator("[data-role=on-air]")).to_contain_text(
            "지금 방송 중: 겨울 패딩 특가")
        await expect(info.locator("[data-role=on-air]")).to_contain_text(product["name"])
        await expect(page.locator("#call-name")).to_have_text(customer["name"])
        await expect(page.locator("#customer")).to_contain_text("010-")
        await expect(page.locator("#announce")).to_contain_text("새 통화")
        assert await info.locator("[data-role=unknown]").count() == 0
        await screenshot(page, "agent-inbound-pop")
        # The outbound call's controls, the same buttons: the carrier holds the caller.
        hold = page.locator("#hold")
        await hold.click()
        await expect(page.locator("#call-flags")).to_have_text("보류 중")
        assert port.calls[call_id].held
        await hold.click()
        await expect(page.locator("#call-flags")).to_have_text("")
        assert not port.calls[call_id].held
        await page.locator("#transfer").click()  # nobody else is skilled for the queue
        await expect(page.locator("#transfer-none")).to_have_text(
            "지금 이 통화를 받을 수 있는 대기 중인 다른 상담원이 없습니다.")
        await page.click("#transfer-cancel")
    except BaseException:
        await screenshot(page, "failed-agent-inbound")
        raise
    finally:
        await context.close()
