"""The page scripts format times, phones and amounts as the server does (server/formats.py
with phonenumbers and Babel): one rule on every screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Page

from server import formats
from server.i18n import set_language
from tests.e2e.conftest import LiveApp

pytestmark = pytest.mark.e2e

PHONES = [
    "+821039260306", "+821012345678", "+82212345678", "+8221234567", "+82311234567",
    "+82317654321", "+82641234567", "+8215881234", "+8216001234", "+827012345678",
    "+825012345678", "+82161234567", "+821612345678", "+82519876543", "+82629876543",
    "+14155550100",
]  # fmt: skip


async def test_phones_times_and_amounts_match_the_server(live_app: LiveApp, page: Page) -> None:
    await page.goto(live_app.url("/login"))
    shown = await page.evaluate("(phones) => phones.map((p) => fmt.phone(p))", PHONES)
    assert shown == [formats.phone(p) for p in PHONES]

    seoul = formats.zone("Asia/Seoul")
    base = datetime(2026, 11, 23, 14, 59, 30, tzinfo=UTC)
    times = [base + timedelta(hours=h, minutes=7 * h) for h in range(0, 30, 5)]
    shown = await page.evaluate("(ts) => ts.map((t) => fmt.when(t))",
                                [t.isoformat() for t in times])  # fmt: skip
    assert shown == [formats.when(t, seoul) for t in times]
    shown = await page.evaluate("(ts) => ts.map((t) => fmt.day(t))",
                                [t.isoformat() for t in times])  # fmt: skip
    assert shown == [formats.day(t, seoul) for t in times]

    set_language("ko")
    amounts = [0, 900, 12_900, 1_234_567, 98_000_000]
    shown = await page.evaluate("(ns) => ns.map((n) => fmt.won(n))", amounts)
    assert shown == [formats.won(n) for n in amounts]
