"""One connected journey through Telemart in headless Chromium, four people, four browsers:

1. the marketer builds a segment, makes a new campaign's list (suppression report) and
   starts the campaign;
2. an agent takes the campaign's first call, gets the screen pop, places a cash-on-delivery
   order, hangs up and sets the disposition `sale`;
3. the supervisor sees the order, the revenue and the abandon rate against its cap on the
   wallboard;
4. the outbox relay makes the shipment; logistics staff find it by the customer's phone and
   dispatch it; the carrier's signed webhook reports it delivered; the board shows it.

Each step saves `tests/e2e/artifacts/journey-<n>-<role>.png`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import pytest
from playwright.async_api import Browser, Page, expect
from playwright.async_api import Error as PlaywrightError

from logistics.relay import relay_all
from orders.follow import follow_all
from server.auth import Role
from server.formats import phone
from tests.e2e.conftest import TIMEOUT_MS, login, screenshot
from tests.e2e.journey_helpers import (
    CATEGORY,
    REGION,
    JourneyApp,
    Seeded,
    delivered_events,
    journey_app,  # noqa: F401 - the fixture
    seed_journey,
)

pytestmark = pytest.mark.e2e

CAMPAIGN = "제주 건강식품 재구매"
SCRIPT = "안녕하세요 {{name}} 고객님, {{campaign}}의 {{agent}}입니다."
TRACKING_NUMBER = "6100-2300-0042"  # CJ: 12 digits


@asynccontextmanager
async def person(browser: Browser, app: JourneyApp, username: str, step: str,
                 ) -> AsyncIterator[Page]:  # fmt: skip
    """A logged-in browser of one's own (own cookies); a failure keeps a screenshot."""
    context = await browser.new_context(viewport={"width": 1360, "height": 900},
                                        locale="ko-KR", timezone_id="Asia/Seoul")  # fmt: skip
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    try:
        await login(page, app, username)
        yield page
    except BaseException:
        with suppress(PlaywrightError):  # keep the test's own error, not the screenshot's
            await screenshot(page, f"failed-{step}")
        raise
    finally:
        await context.close()


async def marketer_starts_campaign(browser: Browser, app: JourneyApp, seeded: Seeded) -> int:
    async with person(browser, app, "mia", "journey-1-marketer") as page:
        await page.goto(app.url("/segments"))
        count = page.locator("#count")
        await expect(count).to_have_attribute("data-count", "6")  # empty first row: everyone

        region = page.locator(".seg-row").nth(0)
        await region.locator("[data-role=field]").select_option("region")
        await region.locator("[data-role=regions]").get_by_label(REGION, exact=True).check()
        await expect(count).to_have_attribute("data-count", "5")

        await page.click("#add-condition")
        bought = page.locator(".seg-row").nth(1)
        await bought.locator("[data-role=field]").select_option("bought_category")
        await bought.locator("[data-role=op]").select_option("in")
        await bought.locator("[data-role=value]").fill(CATEGORY)
        await bought.locator("[data-role=within]").fill("365")
        await expect(count).to_have_attribute("data-count", "4")
        sample = page.locator("#sample tbody")
        await expect(sample.locator("tr")).to_have_count(4)
        for name in seeded.buyers:
            await expect(sample).to_contain_text(name)
        await expect(sample).to_contain_text("010-****-")  # phones stay masked
        await expect(page.locator("#filter-error")).to_be_hidden()

        await page.fill("#segment-name", "제주 건강식품 구매 고객")
        await page.click("#save")
        await expect(page.locator("#saved")).to_contain_text("(4명)")

        await page.select_option("#campaign-choice", "new")
        await page.fill("#campaign-name", CAMPAIGN)
        await page.fill("#exclude-days", "7")
        await page.click("#make-list")
        report = page.locator("#report-table")
        await expect(report.locator("tr[data-key=candidates] td")).to_have_text("4")
        await expect(report.locator("tr[data-key=no_consent] td")).to_have_text("1")
        await expect(report.locator("tr.ok td")).to_have_text("3")  # added as leads

        async with page.expect_navigation():
            await page.click("#campaign-link")
        campaign_id = int(await page.locator("#campaign").get_attribute("data-id") or 0)
        await expect(page.locator("#status")).to_have_attribute("data-status", "draft")
        await expect(page.locator("#leads-total")).to_have_text("3")
        await expect(page.locator("#lists tbody tr")).to_have_count(1)
        await expect(page.locator("#lists td[data-reason=no_consent]")).to_have_text("1")

        # The page has no editor for these yet; the marketer sets them through the API the
        # page uses: calls all day (the test must not depend on the hour) and a script.
        token = await page.get_attribute('meta[name="csrf-token"]', "content") or ""
        resp = await page.request.patch(
            app.url(f"/api/v1/campaigns/{campaign_id}"),
            data={"script": SCRIPT, "calling_window": {"start": "00:00", "end": "00:00"}},
            headers={"Origin": app.base_url, "X-CSRF-Token": token},  # as the page sends it
        )  # fmt: skip
        assert resp.ok, await resp.text()
        await page.reload()
        await expect(page.locator("#script")).to_contain_text(f"고객님, {CAMPAIGN}의 mia입니다.")

        await page.click("#action-start")
        await expect(page.locator("#status")).to_have_attribute("data-status", "running")
        await expect(page.locator("#action-pause")).to_be_visible()
        await expect(page.locator("#history li[data-to=running]")).to_contain_text("진행 중 · mia")
        await screenshot(page, "journey-1-marketer")

    row = await app.fetchrow(
        "SELECT c.status, c.name, array_agg(l.customer_id ORDER BY l.customer_id) AS leads"
        " FROM campaigns c JOIN campaign_leads l ON l.campaign_id = c.id"
        " WHERE c.id = $1 GROUP BY c.id", campaign_id,
    )  # fmt: skip
    assert (row["status"], row["name"]) == ("running", CAMPAIGN)
    assert row["leads"] == sorted(seeded.buyers.values())
    return campaign_id


async def agent_sells(browser: Browser, app: JourneyApp, campaign_id: int,
                      seeded: Seeded) -> int:  # fmt: skip
    async with person(browser, app, "ana", "journey-2-agent") as page:
        await page.goto(app.url("/agent"))
        await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
        await expect(page.locator("#state")).to_have_attribute("data-state", "offline")
        await page.select_option("#campaign", str(campaign_id))
        await page.click("#ready")

        call = page.locator("#call")
        await expect(call).to_be_visible()
        await expect(page.locator("#state")).to_have_attribute("data-state", "on_call")
        attempt_id = int(await call.get_attribute("data-attempt") or 0)
        # The attempt's row is written when the call ends: the pop names the lead.
        name = await page.locator("#call-name").inner_text()
        assert name in seeded.buyers, name
        lead = await app.fetchrow(
            "SELECT id AS customer_id, name, phone_e164 FROM customers WHERE id = $1",
            seeded.buyers[name],
        )  # fmt: skip
        await expect(page.locator("#call-heading")).to_contain_text(lead["name"])
        await expect(page.locator("#customer")).to_contain_text(phone(lead["phone_e164"]))
        await expect(page.locator("#script")).to_contain_text(
            f"안녕하세요 {lead['name']} 고객님, {CAMPAIGN}의 ana입니다.")  # fmt: skip
        await expect(page.locator("#orders-history tbody")).to_contain_text("49,000원")

        await page.select_option("#payment", "cod")
        await page.locator("#product-list li:not(.out) button").first.click()
        line = page.locator("#lines tbody tr[data-sku]")
        await expect(line).to_have_count(1)
        await line.locator("[data-role=qty]").fill("2")
        await page.click("#submit-order")
        result = page.locator("#order-result")
        await expect(result).to_contain_text("번 접수")
        order_id = int(await result.get_attribute("data-order-id") or 0)
        await expect(page.locator("#disposition")).to_have_value("sale")

        await page.click("#hangup")
        await expect(page.locator("#state")).to_have_attribute("data-state", "wrap_up")
        await expect(page.locator("#disposition")).to_have_value("sale")
        await page.select_option("#then-pause", "break")
        await screenshot(page, "journey-2-agent")
        await page.click("#dispose")
        await page.locator("#confirm-dispose-ok").click()
        await expect(page.locator("#state")).to_have_attribute("data-state", "paused")
        await expect(call).to_be_hidden()

    await app.calls_settled()
    order = await app.fetchrow("SELECT * FROM orders WHERE id = $1", order_id)
    attempt = await app.fetchrow("SELECT * FROM contact_attempts WHERE id = $1", attempt_id)
    journey = await app.fetchrow("SELECT * FROM call_journeys WHERE attempt_id = $1", attempt_id)
    lines = await app.fetchrow(
        "SELECT count(*) AS n, sum(qty) AS qty FROM order_lines WHERE order_id = $1", order_id
    )
    assert order["attempt_id"] == attempt_id
    assert order["customer_id"] == lead["customer_id"]
    assert order["payment_method"] == "cod"
    assert (lines["n"], lines["qty"]) == (1, 2)
    assert (attempt["campaign_id"], attempt["disposition"]) == (campaign_id, "sale")
    assert attempt["outcome"] == "answered_live"
    assert journey["order_id"] == order_id
    assert journey["pop_acked_at"] is not None
    return order_id


async def supervisor_watches(browser: Browser, app: JourneyApp, campaign_id: int,
                             order_id: int) -> None:  # fmt: skip
    order = await app.fetchrow("SELECT total_krw FROM orders WHERE id = $1", order_id)
    abandoned = await app.fetchrow(
        "SELECT count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned, count(*) AS calls"
        " FROM contact_attempts WHERE campaign_id = $1", campaign_id,
    )  # fmt: skip
    assert abandoned["abandoned"] == 0
    assert abandoned["calls"] >= 1
    async with person(browser, app, "sam", "journey-3-supervisor") as page:
        await page.goto(app.url("/wallboard"))
        row = page.locator(f"#campaigns tr[data-campaign='{campaign_id}']")
        await expect(row).to_contain_text(CAMPAIGN)
        await expect(row.locator("[data-role=status]")).to_have_attribute("data-status", "running")
        await expect(row.locator("[data-role=orders]")).to_have_text("1")
        await expect(row.locator("[data-role=revenue]")).to_have_text(f"{order['total_krw']:,}원")
        await expect(row.locator("[data-role=abandon]")).to_have_text("0.00% / 3.0%")
        await expect(row.locator("[data-role=abandon]")).not_to_have_class("over")
        await expect(page.locator("#agents tr[data-agent=ana] [data-role=state]")).to_have_text(
            "이석 (휴식)")  # fmt: skip
        await expect(page.locator("#journeys tbody tr").first).to_contain_text(CAMPAIGN)
        await expect(page.locator("#charts svg.chart")).to_have_count(1)
        await screenshot(page, "journey-3-supervisor")


def national(e164: str) -> str:
    """+821055500001 → 010-5550-0001, as a customer reads their number out."""
    digits = "0" + e164.removeprefix("+82")
    return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"


async def logistics_delivers(browser: Browser, app: JourneyApp, order_id: int) -> None:
    conn = await app.connect()
    try:
        relayed = await relay_all(conn)
    finally:
        await conn.close()
    assert relayed.created == 1
    shipment = await app.fetchrow(
        "SELECT s.id, s.status, s.cod, c.phone_e164 FROM shipments s"
        " JOIN orders o ON o.id = s.order_id JOIN customers c ON c.id = o.customer_id"
        " WHERE s.order_id = $1", order_id,
    )  # fmt: skip
    assert (shipment["status"], shipment["cod"]) == ("pending", True)
    number = TRACKING_NUMBER.replace("-", "")

    async with person(browser, app, "lena", "journey-4-logistics") as page:
        await page.goto(app.url("/logistics"))
        await page.fill("#search", national(shipment["phone_e164"]))
        async with page.expect_navigation():
            await page.press("#search", "Enter")
        rows = page.locator("table.shipments tbody tr")
        await expect(rows).to_have_count(1)
        found = page.locator(f"tr[data-shipment='{shipment['id']}']")
        await expect(found).to_contain_text(str(order_id))
        await expect(found.locator(".st")).to_have_text("출고 대기")

        async with page.expect_navigation():
            await found.locator("td a").first.click()
        form = page.locator("form.dispatch")
        await form.locator("select[name=carrier]").select_option("cj")
        await form.locator("input[name=tracking_number]").fill(TRACKING_NUMBER)
        async with page.expect_navigation():
            await form.locator("button").click()
        timeline = page.locator("#timeline .timeline li")
        await expect(page.locator("#timeline")).to_contain_text(number)
        await expect(timeline).to_have_count(1)
        await expect(timeline.first).to_contain_text("송장 출력")
        await expect(page.locator("form.dispatch")).to_have_count(0)

        dispatched = await app.fetchrow(
            "SELECT max(occurred_at) AS at FROM tracking_checkpoints WHERE shipment_id = $1",
            shipment["id"],
        )  # fmt: skip
        answer = await app.post_tracking(delivered_events(number, after=dispatched["at"]))
        assert (answer["received"], answer["stored"], answer["unknown"]) == (3, 3, [])

        await page.reload()
        await expect(timeline).to_have_count(4)
        await expect(timeline.first).to_contain_text("배송 완료 (문 앞)")
        await expect(timeline.last).to_contain_text("송장 출력")
        await expect(page.locator("#timeline p .st")).to_have_text("배송 완료")
        await expect(found.locator(".st")).to_have_text("배송 완료")
        await screenshot(page, "journey-4-logistics")

    conn = await app.connect()
    try:
        await follow_all(conn)  # orders' job (the test app runs no scheduler)
    finally:
        await conn.close()
    final = await app.fetchrow(
        "SELECT s.status AS shipment, s.carrier, s.tracking_number, o.status AS order_status"
        " FROM shipments s JOIN orders o ON o.id = s.order_id WHERE s.id = $1", shipment["id"],
    )  # fmt: skip
    assert dict(final) == {"shipment": "delivered", "carrier": "cj", "tracking_number": number,
                           "order_status": "delivered"}  # fmt: skip


async def test_segment_to_delivered_parcel(journey_app: JourneyApp,  # noqa: F811
                                           browser: Browser) -> None:  # fmt: skip
    conn = await journey_app.connect()
    try:
        seeded = await seed_journey(conn)
    finally:
        await conn.close()
    for username, role in (("mia", Role.MARKETER), ("ana", Role.AGENT),
                           ("sam", Role.SUPERVISOR), ("lena", Role.LOGISTICS)):  # fmt: skip
        await journey_app.add_user(username, role)

    campaign_id = await marketer_starts_campaign(browser, journey_app, seeded)
    order_id = await agent_sells(browser, journey_app, campaign_id, seeded)
    await supervisor_watches(browser, journey_app, campaign_id, order_id)
    await logistics_delivers(browser, journey_app, order_id)
