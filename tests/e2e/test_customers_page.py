"""A marketer uploads a customer CSV in the browser, sees the summary and the new customers."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from server.auth import Role
from tests.e2e.conftest import LiveApp, login, screenshot

pytestmark = pytest.mark.e2e

CSV = (
    "고객번호,이름,휴대폰,생년월일,성별,마케팅수신동의,주소\r\n"
    "W1,한가람,010-7777-1234,1988.05.06,여,Y,서울 마포구 월드컵로 1\r\n"
    "W2,오세훈,+82 10 7777 5678,19790102,남,N,부산 해운대구\r\n"
    "W3,무효,1234,,,,\r\n"
    "W1,,01077771234,1988-13-01,,,\r\n"
)


async def test_marketer_uploads_customers_and_sees_them(
    live_app: LiveApp, page: Page, tmp_path: Path
) -> None:
    upload = tmp_path / "고객목록.csv"
    upload.write_bytes(CSV.encode("cp949"))
    await live_app.add_user("mia", Role.MARKETER)
    await login(page, live_app, "mia")

    await page.goto(live_app.url("/customers"))
    await expect(page.locator("#customers tbody")).to_contain_text("No customers")
    await page.set_input_files("#import-file", str(upload))
    await page.fill("#import-source", "봄 박람회")
    await page.click("#import-submit")

    summary = page.locator("#import-summary")
    await expect(summary).to_be_visible()
    await expect(summary.locator("[data-key=rows]")).to_have_text("4")
    await expect(summary.locator("[data-key=imported]")).to_have_text("2")
    await expect(summary.locator("[data-key=duplicates]")).to_have_text("1")
    await expect(summary.locator("[data-key=invalid]")).to_have_text("1")
    await expect(summary.locator("[data-key=warnings]")).to_have_text("1")
    await expect(page.locator("#import-errors tbody tr")).to_have_count(2)
    await expect(page.locator("#import-errors")).to_contain_text("invalid phone number")

    rows = page.locator("#customers tbody tr")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#customers tbody")).to_contain_text("한가람")
    await expect(page.locator("#customers tbody")).to_contain_text("+821077775678")
    await screenshot(page, "customers")

    await page.fill("input[name=q]", "010-7777-5678")
    await page.click(".cust-search button")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("오세훈")
