"""Every role's pages in Korean, at 1440×900 and 1366×768: no English on screen (text,
placeholders, titles, labels for assistive technology), `lang="ko"`, and axe-core's checks
(form labels, colour contrast of badges and text ≥ 4.5:1, names of buttons, valid ARIA).

English that stays on purpose: the product's name, zone and unit labels, codes that are data
(a campaign's own words, product codes), and the API documentation (Swagger UI, a third-party
page in English, not checked here).
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, expect

from cli.demo_data import seed_catalog
from crm.segments import SegmentKind, save_segment
from dialer.sim.seed import seed_campaign
from logistics.relay import relay_all
from logistics.shipments import dispatch
from server.auth import Role
from tests.e2e.conftest import TIMEOUT_MS, login, screenshot
from tests.e2e.test_agent_desktop import DialerApp, dialer_app  # noqa: F401
from tests.integration.logistics.conftest import make_order

pytestmark = pytest.mark.e2e

# Latin words allowed on a Korean page: the product, units and labels, codes that are data.
ALLOWED = re.compile(
    r"^(Telemart|KST|RFM|CSV|UTF|CP\d*|Excel|Ctrl|Enter|F\d+|ms|CJ|mypackage|pacing|"
    r"MyStrategy|module|Class|English|UK|HTTP|"
    r"[A-Z]{2,4}|[A-Z]+-\d+.*|Asia|Seoul|name|first_name|region|agent|campaign|"
    r"last_purchase_date|Ofcom|kg|ml|Erlang|"
    # data of this test: usernames, the seed's actor and its list
    r"ana|sam|mia|lena|seed|seeded)$"
)
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
# axe-core rules that must pass on every page.
AXE_RULES = ["label", "color-contrast", "button-name", "select-name", "html-has-lang",
             "html-lang-valid", "aria-valid-attr", "aria-valid-attr-value", "aria-allowed-attr",
             "image-alt", "link-name", "duplicate-id-aria", "document-title",
             "aria-required-children", "list", "listitem"]  # fmt: skip
# Text marked translate="no" (identifiers a person types or reads as they are: CSV column
# names, an ARS menu's step names) is left out of the check.
VISIBLE_TEXT = """() => {
  let body = document.body.innerText;
  const kept = [...document.querySelectorAll('[translate=no]')].map((el) => el.innerText)
    .filter(Boolean).sort((a, b) => b.length - a.length);  // longest first: "product_again"
  for (const text of kept) body = body.split(text).join(' ');
  const out = [body];
  for (const el of document.querySelectorAll('[placeholder],[title],[aria-label]')) {
    for (const a of ['placeholder', 'title', 'aria-label']) {
      if (el.getAttribute(a)) out.push(el.getAttribute(a));
    }
  }
  return out.join('\\n');
}"""


@dataclass(frozen=True, kw_only=True)
class Seeded:
    campaign_id: int
    customer_id: int
    shipment_id: int


async def seed_everything(app: DialerApp) -> Seeded:
    conn = await app.connect()
    try:
        await seed_catalog(conn, random.Random(7))
        campaign_id = await seed_campaign(conn, leads=6, name="봄 홈쇼핑")
        order_id = await make_order(conn, phone="010-5555-0202")
        await relay_all(conn)
        # The fixture names its product "product <hex>": Korean data here.
        await conn.execute("UPDATE products SET name = '시험 상품' WHERE category = 'test'")
        shipment_id = await conn.fetchval("SELECT id FROM shipments WHERE order_id = $1",
                                          order_id)  # fmt: skip
        async with conn.transaction():
            await dispatch(conn, shipment_id=shipment_id, carrier_code="cj",
                           tracking_number="610000000099", actor="seed")  # fmt: skip
        customer_id = await conn.fetchval("SELECT customer_id FROM orders WHERE id = $1",
                                          order_id)  # fmt: skip
        await save_segment(conn, name="서울 고객", kind=SegmentKind.DYNAMIC,
                           filter_doc={"all": [{"field": "region", "op": "in",
                                                "value": ["서울"]}]}, actor="seed")  # fmt: skip
    finally:
        await conn.close()
    for name, role in (("ana", Role.AGENT), ("sam", Role.SUPERVISOR), ("mia", Role.MARKETER),
                       ("lena", Role.LOGISTICS)):  # fmt: skip
        await app.add_user(name, role)
    return Seeded(campaign_id=campaign_id, customer_id=customer_id, shipment_id=shipment_id)


def english_on(text: str) -> list[str]:
    return sorted({w for w in WORD.findall(text) if not ALLOWED.match(w)})


async def check_page(page: Page, name: str, problems: list[str]) -> None:
    await expect(page.locator("html")).to_have_attribute("lang", "ko")
    found = english_on(await page.evaluate(VISIBLE_TEXT))
    if found:
        problems.append(f"{name}: English on screen: {found}")
    result = await Axe().run(page, options={"runOnly": {"type": "rule", "values": AXE_RULES}})
    for v in result.response["violations"]:
        targets = [n["target"] for n in v["nodes"]][:5]
        problems.append(f"{name}: axe {v['id']} ({v['impact']}): {targets}")


@pytest.fixture
async def people(browser: Browser) -> AsyncIterator[Any]:
    contexts = []

    async def person(viewport: tuple[int, int]) -> Page:
        context = await browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                            locale="ko-KR", timezone_id="Asia/Seoul")  # fmt: skip
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return await context.new_page()

    try:
        yield person
    finally:
        for context in contexts:
            await context.close()


@pytest.mark.parametrize("viewport", [(1440, 900), (1366, 768)])
async def test_every_role_sees_korean_pages(
    dialer_app: DialerApp, people: Any, viewport: tuple[int, int]  # noqa: F811
) -> None:
    seeded = await seed_everything(dialer_app)
    problems: list[str] = []
    size = f"{viewport[0]}x{viewport[1]}"

    page = await people(viewport)
    await page.goto(dialer_app.url("/login"))
    await check_page(page, "login", problems)

    # Agent: the desktop before a call and with a call up; a page outside the role.
    await login(page, dialer_app, "ana")
    await check_page(page, "home (agent)", problems)
    await page.goto(dialer_app.url("/agent"))
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    await check_page(page, "agent desktop, idle", problems)
    await page.select_option("#campaign", str(seeded.campaign_id))
    await page.click("#ready")
    await expect(page.locator("#call")).to_be_visible()
    await expect(page.locator("#product-list li").first).to_be_visible()
    await check_page(page, "agent desktop, on a call", problems)
    await page.goto(dialer_app.url("/wallboard"))
    await check_page(page, "403 page", problems)

    # Supervisor: the wallboard while the agent's call is on.
    sup = await people(viewport)
    await login(sup, dialer_app, "sam")
    await sup.goto(dialer_app.url("/wallboard"))
    await expect(sup.locator("#updated")).not_to_have_attribute("data-ticks", "0")
    await check_page(sup, "wallboard", problems)
    await screenshot(sup, f"korean-wallboard-{size}")

    # Marketer: segments, campaigns, a campaign, customers, a customer.
    mk = await people(viewport)
    await login(mk, dialer_app, "mia")
    for path, name in (("/segments", "segments"), ("/campaigns", "campaigns"),
                       (f"/campaigns/{seeded.campaign_id}", "campaign"),
                       ("/customers", "customers"),
                       (f"/customers/{seeded.customer_id}", "customer")):  # fmt: skip
        await mk.goto(dialer_app.url(path))
        if name == "segments":
            await expect(mk.locator("#count")).to_have_attribute("data-state", "idle")
        if name == "campaign":
            await mk.click("#edit-settings")
        await check_page(mk, name, problems)

    # Supervisor: the inbound order line and its ARS.
    await sup.goto(dialer_app.url("/inbound"))
    await expect(sup.locator("#queue-tiles .tile").first).to_be_visible()
    await check_page(sup, "inbound", problems)
    await sup.goto(dialer_app.url("/inbound/ars"))
    await expect(sup.locator("#steps tbody tr").first).to_be_visible()
    await check_page(sup, "inbound ARS", problems)

    # Logistics: the board with a shipment open.
    lg = await people(viewport)
    await login(lg, dialer_app, "lena")
    await lg.goto(dialer_app.url(f"/logistics?shipment={seeded.shipment_id}"))
    await check_page(lg, "logistics", problems)

    assert not problems, "\n".join(problems)

    # The checks can fail: a bare input and a word of English are found on the same page.
    await lg.evaluate("""() => { const i = document.createElement('input');
        document.querySelector('main').append(i, 'Shipment'); }""")
    caught: list[str] = []
    await check_page(lg, "logistics with a planted fault", caught)
    assert any("English on screen: ['Shipment']" in c for c in caught), caught
    assert any("axe label" in c for c in caught), caught
