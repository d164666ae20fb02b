"""The logistics board in headless Chromium: filters, search, timeline, dispatch, returns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page, expect

from logistics.relay import relay_all
from logistics.returns import Reason, request_return
from logistics.shipments import dispatch
from logistics.tracking import S, TrackingEvent
from logistics.tracking_ingest import ingest
from server.auth import Role
from tests.e2e.conftest import LiveApp, login, screenshot
from tests.integration.logistics.conftest import make_order

pytestmark = pytest.mark.e2e


async def seed(live_app: LiveApp) -> dict[str, int]:
    conn = await live_app.connect()
    try:
        orders = [await make_order(conn, phone=f"010-4000-00{i:02d}") for i in range(6)]
        await relay_all(conn)
        rows = await conn.fetch("SELECT order_id, id FROM shipments ORDER BY id")
        sid = {r["order_id"]: r["id"] for r in rows}
        t0 = datetime.now(UTC) - timedelta(days=1)
        numbers = ["610000000001", "610000000002", "1300000000003", "61000000004"]
        carriers = ["cj", "cj", "epost", "logen"]
        for order_id, number, code in zip(orders, numbers, carriers, strict=False):
            async with conn.transaction():
                await dispatch(conn, shipment_id=sid[order_id], carrier_code=code,
                               tracking_number=number, actor="seed", now=t0)  # fmt: skip
        steps = [
            ("610000000001", S.IN_TRANSIT, 2, "곤지암 Hub"),
            ("610000000001", S.OUT_FOR_DELIVERY, 10, "서울강남"),
            ("610000000001", S.DELIVERED, 12, "서울강남"),
            ("610000000002", S.IN_TRANSIT, 3, "대전 Hub"),
            ("610000000002", S.ATTEMPT_FAIL, 14, "부산해운대"),
            ("1300000000003", S.IN_TRANSIT, 4, "옥천 HUB"),
        ]
        events = [
            TrackingEvent(tracking_number=n, status=s, occurred_at=t0 + timedelta(hours=h),
                          location=loc, message="scan")
            for n, s, h, loc in steps
        ]
        async with conn.transaction():
            await ingest(conn, provider="telemart", events=events, actor="seed")
        async with conn.transaction():
            ret = await request_return(conn, order_id=orders[0], kind="return",
                                       reason=Reason.CHANGED_MIND, actor="seed",
                                       now=datetime.now(UTC))  # fmt: skip
        return {"delivered": sid[orders[0]], "failed": sid[orders[1]],
                "pending": sid[orders[5]], "return": ret.id}  # fmt: skip
    finally:
        await conn.close()


async def test_logistics_board(live_app: LiveApp, page: Page) -> None:
    ids = await seed(live_app)
    await live_app.add_user("lena", Role.LOGISTICS)
    await login(page, live_app, "lena")
    await page.goto(live_app.url("/logistics"))
    counts = page.locator("#counts")
    await expect(counts.locator("tr[data-status=delivered]")).to_contain_text("배송 완료")
    await expect(counts.locator("tr[data-status=delivered] strong")).to_have_text("1")
    await expect(counts.locator("tr[data-status=pending] strong")).to_have_text("2")

    # The failed attempt is on the list to call about, in words, with the number to call.
    failed_row = page.locator(f"#exceptions tr[data-exception='{ids['failed']}']")
    await expect(failed_row).to_contain_text("배송 실패")
    await expect(failed_row).to_contain_text("010-4000-0001")

    # Filter by carrier (GET form), then search by phone, then by the recipient's name.
    await page.select_option("select[name=carrier]", "cj")
    async with page.expect_navigation():
        await page.click("#filters button[type=submit]")
    await expect(page.locator("table.shipments tbody tr")).to_have_count(2)
    await page.goto(live_app.url("/logistics"))
    await page.fill("#search", "010-4000-0002")
    async with page.expect_navigation():
        await page.press("#search", "Enter")
    rows = page.locator("table.shipments tbody tr")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("1300000000003")
    await page.fill("#search", "김고")
    async with page.expect_navigation():
        await page.press("#search", "Enter")
    await expect(rows).to_have_count(6)
    await expect(rows.first).to_contain_text("김고객")

    # A shipment's timeline: newest first, statuses in words, no provider names.
    await page.goto(live_app.url("/logistics"))
    async with page.expect_navigation():
        await page.click(f"tr[data-shipment='{ids['delivered']}'] td.mono >> nth=0")
    timeline = page.locator("#timeline .timeline li")
    await expect(timeline).to_have_count(4)
    await expect(timeline.first).to_contain_text("배송 완료")
    await expect(timeline.first).to_contain_text("KST")
    await expect(timeline.last).to_contain_text("송장 출력")
    await expect(page.locator("#timeline")).not_to_contain_text("telemart")
    await expect(page.locator("#timeline")).not_to_contain_text("info_received")

    # The deadlines a return would get, shown before opening one (the telephone-sale window:
    # 14 days for a change of mind, 3 months for a defect).
    form = page.locator("#new-return")
    await expect(form.locator("#deadlines li[data-reason=changed_mind]")).to_contain_text("까지")
    # An exchange opened from the shipment whose delivery failed (its window not started).
    await page.goto(live_app.url(f"/logistics?shipment={ids['failed']}"))
    await expect(form.locator("#deadlines li[data-reason=defective]")).to_contain_text(
        "배송 완료 후부터")
    await form.locator("select[name=kind]").select_option("exchange")
    await form.locator("select[name=reason]").select_option("defective")
    await form.locator("button[type=submit]").click()
    dialog = page.locator("#confirm")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("교환을 접수할까요?")
    await dialog.locator("#confirm-ok").click()
    await expect(page.locator("#return-result")).to_contain_text("교환")
    await expect(page.locator("#return-result")).to_contain_text("접수 완료")
    conn = await live_app.connect()
    try:
        made = await conn.fetchrow("SELECT * FROM returns WHERE order_id = (SELECT order_id"
                                   " FROM shipments WHERE id = $1) AND kind = 'exchange'",
                                   ids["failed"])  # fmt: skip
    finally:
        await conn.close()
    assert made is not None
    assert (made["reason"], made["deadline"], made["status"]) == ("defective", None, "requested")

    # Dispatch the pending shipment from its page; a bad number is explained in Korean.
    await page.goto(live_app.url(f"/logistics?shipment={ids['pending']}"))
    form = page.locator("form.dispatch")
    await form.locator("select[name=carrier]").select_option("lotte")
    await form.locator("input[name=tracking_number]").fill("123")
    await form.locator("button").click()
    await expect(form.locator(".result")).to_contain_text("송장번호 형식이 아닙니다")
    await form.locator("input[name=tracking_number]").fill("5100-0000-0006")
    async with page.expect_navigation():
        await form.locator("button").click()
    await expect(page.locator("#timeline")).to_contain_text("510000000006")
    await expect(page.locator("#timeline .timeline li").first).to_contain_text("송장 출력")

    # Move the return along: a final move asks first; going back changes nothing.
    ret_row = page.locator(f"tr[data-return='{ids['return']}']")
    await expect(ret_row).to_contain_text("단순 변심")
    await ret_row.locator("button[data-next=rejected]").click()
    await expect(dialog).to_contain_text("되돌릴 수 없습니다")
    await dialog.locator("#confirm-cancel").click()
    await expect(dialog).to_be_hidden()
    await expect(ret_row.locator(".rstatus")).to_have_text("접수")
    await ret_row.locator("button[data-next=received]").click()
    await dialog.locator("#confirm-ok").click()
    await expect(ret_row.locator(".rstatus")).to_have_text("입고")
    await expect(page.locator("#return-result")).to_contain_text("입고 처리되었습니다")
    await expect(ret_row.locator("button[data-next=restocked]")).to_be_visible()

    # What was done about the failed delivery goes on its timeline.
    row = page.locator(f"#exceptions tr[data-exception='{ids['failed']}']")
    await row.locator("button[data-act=redelivery_date]").click()
    await dialog.locator("input[name=redeliver_on]").fill("2099-01-15")
    await dialog.locator("input[name=note]").fill("고객 요청: 다음 주 수요일")
    await dialog.locator("#confirm-ok").click()
    await expect(row.locator(".last-action")).to_contain_text("배송일 재지정 2099-01-15")
    await page.goto(live_app.url(f"/logistics?shipment={ids['failed']}"))
    first = page.locator("#timeline .timeline li").first
    await expect(first).to_contain_text("배송일 재지정")
    await expect(first).to_contain_text("고객 요청: 다음 주 수요일")
    await screenshot(page, "logistics")


async def test_agents_may_not_open_the_board(live_app: LiveApp, page: Page) -> None:
    await live_app.add_user("ann", Role.AGENT)
    await login(page, live_app, "ann")
    resp = await page.goto(live_app.url("/logistics"))
    assert resp is not None
    assert resp.status == 403
