"""Pieces of the end-to-end journey (tests/e2e/test_journeys.py): the app, the seed, the
carrier's signed webhook and the database checks.

The app is the one of `tests/e2e/test_agent_desktop.py` (live dialer on a fast sim carrier
where every dial is a live answer) plus a tracking-webhook secret, so a carrier can report
the parcel delivered through the real signed endpoint.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from pydantic import SecretStr

from cli.demo_data import seed_catalog
from config.scratch import free_port
from config.settings import Settings
from logistics.tracking import SIGNATURE_HEADER, sign
from server.app import create_app
from server.dialer_runtime import make_dialer_ctx
from tests.e2e.test_agent_desktop import DialerApp
from tests.integration.dialer.helpers import scenario
from tests.integration.segments.seed import add_customer, add_order

TRACKING_PROVIDER = "telemart"
TRACKING_SECRET = "journey-webhook-secret"
REGION = "제주"
CATEGORY = "health"


@dataclasses.dataclass(frozen=True, kw_only=True)
class JourneyApp(DialerApp):
    tracking_secret: str

    async def post_tracking(self, events: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """Send carrier events as the carrier would: raw JSON body, HMAC-SHA256 header."""
        body = json.dumps(list(events), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign(self.tracking_secret, body)}  # fmt: skip
        url = self.url(f"/api/v1/tracking/webhook/{TRACKING_PROVIDER}")
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as resp,
        ):
            answer: dict[str, Any] = await resp.json()
            assert resp.status == 200, answer
            return answer

    async def fetchrow(self, sql: str, *args: Any) -> asyncpg.Record:
        conn = await self.connect()
        try:
            row = await conn.fetchrow(sql, *args)
        finally:
            await conn.close()
        assert row is not None, f"no row for {sql!r} {args!r}"
        return row


@pytest.fixture
async def journey_app(db_url: str, tmp_path: Path) -> AsyncIterator[JourneyApp]:
    """The whole server: pages, APIs, the live dialer (sim carrier, 20x speed) and a
    tracking webhook secret. No scheduler: the test runs the outbox relay itself."""
    settings = Settings(
        home=tmp_path / "home", pool_min_size=1, pool_max_size=10,
        tracking_secrets={TRACKING_PROVIDER: SecretStr(TRACKING_SECRET)},
    )  # fmt: skip
    ctx = make_dialer_ctx(time_scale=0.05, tick_s=0.1, scan_s=0.1, scenario=scenario())
    app = create_app(settings, url=db_url, background=False, extra_ctx=[ctx])
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield JourneyApp(base_url=f"http://127.0.0.1:{port}", db_url=db_url, app=app,
                         tracking_secret=TRACKING_SECRET)  # fmt: skip
    finally:
        await runner.cleanup()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Seeded:
    buyers: dict[str, int]  # the three customers the segment and the list should hold
    no_consent: int  # in the segment, but the list must leave them out
    others: list[int]  # not in the segment


async def seed_journey(conn: asyncpg.Connection) -> Seeded:
    """The demo catalog, and customers in Jeju and Seoul, some of whom bought health food."""
    await seed_catalog(conn, random.Random(7))
    sku = await conn.fetchval(
        "SELECT s.id FROM skus s JOIN products p ON p.id = s.product_id"
        " WHERE p.category = $1 ORDER BY s.id LIMIT 1", CATEGORY,
    )  # fmt: skip
    other_sku = await conn.fetchval(
        "SELECT s.id FROM skus s JOIN products p ON p.id = s.product_id"
        " WHERE p.category = 'kitchen' ORDER BY s.id LIMIT 1"
    )

    async def customer(name: str, phone: str, *, region: str = REGION, consent: bool = True,
                       ) -> int:  # fmt: skip
        return await add_customer(
            conn, name=name, phone_e164=phone, region=region, consent_marketing=consent,
            consent_night=True, address=f"{region}특별자치도 제주시 중앙로 {phone[-2:]}",
            postal_code="63100", birth_date=dt.date(1975, 3, 1),
        )  # fmt: skip

    buyers = {
        "김한라": await customer("김한라", "+821055500001"),
        "이서귀": await customer("이서귀", "+821055500002"),
        "박성산": await customer("박성산", "+821055500003"),
    }
    no_consent = await customer("최동의없음", "+821055500004", consent=False)
    jeju_kitchen = await customer("정주방", "+821055500005")
    seoul_buyer = await customer("서울고객", "+821055500006", region="서울")
    for days, customer_id in enumerate([*buyers.values(), no_consent, seoul_buyer], start=20):
        await add_order(conn, customer_id=customer_id, sku_id=sku, total=49000, days_ago=days)
    await add_order(conn, customer_id=jeju_kitchen, sku_id=other_sku, total=59000, days_ago=30)
    return Seeded(buyers=buyers, no_consent=no_consent, others=[jeju_kitchen, seoul_buyer])


def delivered_events(tracking_number: str, *, after: dt.datetime) -> list[dict[str, Any]]:
    """What the carrier reports after pickup (dispatched at `after`): in transit, out for
    delivery, delivered, a moment apart, so the timeline shows them in that order."""
    steps = [("in_transit", "곤지암 Hub", "간선 상차"),
             ("out_for_delivery", "제주 서귀포", "배송 출발"),
             ("delivered", "제주 서귀포", "배송 완료 (문 앞)")]  # fmt: skip
    return [
        {"tracking_number": tracking_number, "status": status, "location": where,
         "occurred_at": (after + dt.timedelta(milliseconds=100 * n)).isoformat(),
         "message": message, "event_id": f"journey-{tracking_number}-{status}", "carrier": "cj"}
        for n, (status, where, message) in enumerate(steps, start=1)
    ]  # fmt: skip
