"""An agent in Chromium, in Korean, at 1440×900 and 1366×768: log in, go ready (F2), get
the screen pop (focused and announced), find any product of the catalog, see line prices,
the total and the per-customer limit before placing, place the order with the button only
(Enter does nothing), see it in Purchases, survive a dropped websocket, hang up (F8), choose
an outcome (none by default) and confirm it; the screen says the next call may come, the
callback set for oneself is in My callbacks, and My day counts the call and the order. Ready
again, the next call comes at once; away with its outcome (F4 changes the reason), the agent
looks a number up and is told dialling it by hand needs preview mode and Ready."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from playwright.async_api import Browser, Page, expect

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


async def essentials_fit(page: Page) -> None:
    """The call's essentials are on screen without scrolling the page."""
    height = await page.evaluate("window.innerHeight")
    width = await page.evaluate("window.innerWidth")
    assert await page.evaluate("document.documentElement.scrollHeight") <= height + 1
    for selector in (
        "#call-heading",
        "#script",
        "#product-search",
        "#order-total",
        "#submit-order",
        "#disposition",
        "#dispose",
        "#hangup",
    ):
        box = await page.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["y"] >= 0, (selector, box)
        assert box["y"] + box["height"] <= height, (selector, box, height)
        assert box["x"] + box["width"] <= width, (selector, box, width)


@pytest.mark.parametrize("viewport", [(1440, 900), (1366, 768)])
async def test_agent_takes_a_call_orders_and_dispositions(
    dialer_app: DialerApp, browser: Browser, viewport: tuple[int, int]
) -> None:
    campaign_id = await seed(dialer_app)
    conn = await dialer_app.connect()
    try:
        products = await conn.fetch("SELECT id, code, name FROM products ORDER BY id")
        on_air = products[7]  # on air now: first on the list
        await conn.execute(
            "UPDATE products SET broadcast_price_krw = price_krw - 1000,"
            " broadcast_from = now() - interval '1 hour', broadcast_until = now() + interval"
            " '1 hour' WHERE id = $1", on_air["id"])  # fmt: skip
    finally:
        await conn.close()
    await dialer_app.add_user("ana", Role.AGENT)
    width, height = viewport
    context = await browser.new_context(viewport={"width": width, "height": height},
                                        locale="ko-KR", timezone_id="Asia/Seoul")  # fmt: skip
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await run_desktop(page, dialer_app, campaign_id, products, on_air, f"{width}x{height}")
    except BaseException:
        await screenshot(page, f"failed-agent-{width}x{height}")
        raise
    finally:
        await context.close()


async def run_desktop(page: Page, dialer_app: DialerApp, campaign_id: int, products: Any,
                      on_air: Any, size: str) -> None:  # fmt: skip
    await login(page, dialer_app, "ana")
    await page.goto(dialer_app.url("/agent"))
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    await expect(page.locator("#state")).to_have_attribute("data-state", "offline")
    # Not blank before the first call: what to do, the day's figures, the callbacks.
    await expect(page.locator("#idle-title")).to_have_text("통화를 받지 않는 중")
    await expect(page.locator("#my-day [data-key=calls]")).to_have_text("0")
    await page.select_option("#campaign", str(campaign_id))
    await page.keyboard.press("F2")  # ready

    call = page.locator("#call")
    await expect(call).to_be_visible()
    await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")
    attempt_id = int(await call.get_attribute("data-attempt") or 0)
    # Focus moves to the pop and it is announced.
    await expect(page.locator("#call-heading")).to_be_focused()
    await expect(page.locator("#announce")).to_contain_text("새 통화")
    await expect(page.locator("#script")).to_contain_text("ana입니다")
    await expect(page.locator("#customer")).to_contain_text("010-")
    await essentials_fit(page)
    await screenshot(page, f"agent-{size}")

    # The whole catalog, searchable; the product on air comes first.
    first = page.locator("#product-list li").first
    await expect(first).to_have_attribute("data-product", str(on_air["id"]))
    await expect(first).to_contain_text("방송 중")
    search = page.locator("#product-search")
    for p in products:
        await search.fill(p["code"])
        await expect(page.locator(f"#product-list li[data-product='{p['id']}']").first
                     ).to_be_visible()  # fmt: skip
    await search.press("Enter")  # Enter in the search places nothing
    await search.fill("")

    # Two lines: prices, amounts and the total before placing; Enter does not order.
    sku_a = page.locator("#product-list li:not(.out)").nth(1)
    sku_b = page.locator("#product-list li:not(.out)").nth(2)
    price_a = int(re.sub(r"[^0-9]", "", await sku_a.locator(".price").inner_text()))
    await sku_a.locator("button").click()
    await sku_b.locator("button").click()
    lines = page.locator("#lines tbody tr[data-sku]")
    await expect(lines).to_have_count(2)
    qty = lines.nth(0).locator("[data-role=qty]")
    await qty.fill("2")
    await qty.press("Enter")
    await expect(page.locator("#order-result")).to_have_text("")
    total = await page.evaluate(
        """() => [...document.querySelectorAll('#lines tbody tr[data-sku]')].reduce((sum, tr) =>
             sum + Number(tr.children[1].textContent.replace(/[^0-9]/g, '')) *
                   Number(tr.querySelector('[data-role=qty]').value), 0)"""
    )
    assert total > price_a
    await expect(page.locator("#order-total")).to_have_attribute("data-total", str(total))
    await expect(page.locator("#order-total")).to_have_text(f"{total:,}원")
    # The per-customer limit shows before placing, and stops the order.
    await qty.fill("6")
    await expect(page.locator("#limit-note")).to_contain_text("1인 5개까지만")
    await expect(page.locator("#submit-order")).to_be_disabled()
    await qty.fill("2")
    await expect(page.locator("#submit-order")).to_be_enabled()
    conn = await dialer_app.connect()
    try:
        assert await conn.fetchval("SELECT count(*) FROM orders") == 0  # nothing placed yet
    finally:
        await conn.close()
    await page.click("#submit-order")
    result = page.locator("#order-result")
    await expect(result).to_contain_text("번 접수")
    await expect(result).to_contain_text(f"{total:,}원")
    order_id = int(await result.get_attribute("data-order-id") or 0)
    # The order just placed is in Purchases.
    placed = page.locator(f"#orders-history tr[data-order='{order_id}']")
    await expect(placed).to_contain_text("방금")
    await expect(placed).to_contain_text(f"{total:,}원")

    # The websocket drops: the page reconnects and the call is still on screen.
    # (closed lasts the 250 ms before the reconnect: the count of opens shows it happened)
    opened = int(await page.locator("#conn").get_attribute("data-opened") or 0)
    await page.evaluate("window.telemartAgent.dropSocket()")
    await expect(page.locator("#conn")).to_have_attribute("data-opened", str(opened + 1))
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")
    await expect(call).to_have_attribute("data-attempt", str(attempt_id))

    await page.keyboard.press("F8")  # hang up
    await expect(page.locator("#state")).to_have_attribute("data-state", "wrap_up")
    # With an order placed, "sale" is offered; a call back to myself instead.
    await expect(page.locator("#disposition")).to_have_value("sale")
    await page.select_option("#disposition", "callback")
    callback_at = await page.locator("#callback-at").input_value()
    await page.select_option("#then-pause", "break")
    await page.click("#dispose")
    dialog = page.locator("#confirm-dispose")
    await expect(dialog).to_contain_text("이석(휴식)")
    await dialog.locator("#confirm-dispose-ok").click()
    await expect(page.locator("#state")).to_have_attribute("data-state", "paused")
    await expect(call).to_be_hidden()
    await expect(page.locator("#saved-banner")).to_contain_text("상담 결과를 저장했습니다")
    await expect(page.locator("#idle-title")).to_have_text("이석")
    # My callbacks: the one just set, with its time; My day: one call, one order.
    row = page.locator("#my-callbacks tbody tr[data-lead]")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text(callback_at.replace("T", " "))
    await expect(row).to_contain_text("KST")
    await expect(page.locator("#my-day [data-key=calls]")).to_have_text("1")
    await expect(page.locator("#my-day [data-key=orders]")).to_have_text("1")
    # Calling it now needs preview mode and Ready: the desktop says so in Korean.
    await row.locator("[data-role=call-callback]").click()
    await expect(page.locator("#notice")).to_contain_text("고객 정보를 먼저 보고 발신")

    # The next call: no outcome chosen by default; saving without one is refused.
    await page.keyboard.press("F2")
    await expect(call).to_be_visible()
    second_id = await call.get_attribute("data-attempt")
    await expect(page.locator("#disposition")).to_have_value("")
    await page.keyboard.press("F8")
    await expect(page.locator("#state")).to_have_attribute("data-state", "wrap_up")
    await page.click("#dispose")
    await expect(page.locator("#dispose-error")).to_contain_text("상담 결과를 먼저 고르세요")
    await page.select_option("#disposition", "no_sale")
    await page.click("#dispose")
    await expect(dialog).to_contain_text("다음 전화가 곧바로 연결될 수 있습니다")
    await dialog.locator("#confirm-dispose-ok").click()
    # Ready again, as the dialog said: the next call comes at once and takes the screen.
    # (F4 here would race that pop: a call being connected cannot be paused, and the pop
    # hides the lookup. The agent goes away with this call's outcome instead, so no call
    # can come while the lookup below is used.)
    await expect(call).to_have_attribute("data-attempt", re.compile(rf"^(?!{second_id}$)\d+$"))
    await expect(call).to_be_visible()
    await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")
    await page.keyboard.press("F8")
    await expect(page.locator("#state")).to_have_attribute("data-state", "wrap_up")
    await page.select_option("#disposition", "no_sale")
    await page.select_option("#then-pause", "break")
    await page.click("#dispose")
    await expect(dialog).to_contain_text("이석(휴식)")
    await dialog.locator("#confirm-dispose-ok").click()
    await expect(page.locator("#state")).to_have_attribute("data-state", "paused")
    await expect(page.locator("#state")).to_contain_text("휴식")
    await expect(call).to_be_hidden()
    # F4 sends the reason chosen beside the Away button.
    await page.select_option("#pause-reason", "lunch")
    await page.keyboard.press("F4")
    await expect(page.locator("#state")).to_contain_text("식사")
    await expect(page.locator("#state")).to_have_attribute("data-state", "paused")

    # A number looked up before dialing by hand.
    await page.fill("#lookup-phone", "010-9999-0000")
    await page.click("#lookup-form button")
    await expect(page.locator("#lookup-result [data-role=dnc]")).to_contain_text(
        "수신 거부 목록에 없습니다"
    )
    # Dialling it by hand: the button is there in Korean; not ready in preview mode, the
    # desktop says so (the dialer's own refusals are said from the same NOTICES).
    dial = page.locator("#lookup-result [data-role=dial-by-hand]")
    await expect(dial).to_have_text("전화 걸기")
    await dial.click()
    await expect(page.locator("#notice")).to_contain_text("고객 정보를 먼저 보고 발신")

    await dialer_app.calls_settled()
    conn = await dialer_app.connect()
    try:
        order = await conn.fetchrow("SELECT * FROM orders WHERE attempt_id = $1", attempt_id)
        row = await conn.fetchrow("SELECT * FROM contact_attempts WHERE id = $1", attempt_id)
        journey = await conn.fetchrow(
            "SELECT * FROM call_journeys WHERE attempt_id = $1", attempt_id
        )
        lead = await conn.fetchrow("SELECT callback_at, callback_agent_id FROM campaign_leads"
                                   " WHERE id = (SELECT lead_id FROM call_journeys"
                                   " WHERE attempt_id = $1)", attempt_id)  # fmt: skip
    finally:
        await conn.close()
    assert order is not None
    assert order["total_krw"] == total
    assert row["disposition"] == "callback"
    assert journey["order_id"] == order["id"]
    assert journey["pop_acked_at"] is not None
    assert lead is not None
    assert lead["callback_at"] is not None
