"""A marketer creates a campaign from /campaigns and edits its settings on the campaign page."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from playwright.async_api import Locator, Page, Route, expect

from server.auth import Role
from tests.e2e.conftest import LiveApp, login, screenshot

INVALID = re.compile(r"\binvalid\b")


def field_error(page: Page, path: str) -> Locator:
    return page.locator(f".field-error[data-error-field='{path}']")


pytestmark = pytest.mark.e2e

NAME = "가을 재구매 캠페인"
SCRIPT = "안녕하세요 {{name}} 고객님, {{campaign}}입니다."


async def campaign_row(live_app: LiveApp, campaign_id: int) -> dict[str, Any]:
    conn = await live_app.connect()
    try:
        row = await conn.fetchrow(
            "SELECT name, status, pacing_strategy, pacing_settings, calling_window, compliance,"
            " script, data_source_line, dispositions FROM campaigns WHERE id = $1",
            campaign_id,
        )
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


async def create_from_list_page(page: Page, live_app: LiveApp, name: str) -> int:
    await page.goto(live_app.url("/campaigns"))
    await expect(page.locator("#campaigns")).to_contain_text("아직 캠페인이 없습니다")
    # A bad time zone comes back as a field error on the time-zone input; nothing is created.
    await page.fill("#new-name", name)
    await page.fill("#new-tz", "Mars/Olympus")
    await page.click("#create-campaign")
    await expect(page.locator("#new-tz")).to_have_class(INVALID)
    await expect(field_error(page, "calling_window.tz")).to_have_text(
        "알 수 없는 시간대: Mars/Olympus"
    )
    await page.fill("#new-tz", "Asia/Seoul")
    await expect(page.locator(".field-error")).to_have_count(0)  # typing clears the error
    await page.select_option("#new-strategy", "ratio")
    await page.fill("#new-start", "09:30")
    async with page.expect_navigation(url=re.compile(r"/campaigns/\d+$")):
        await page.click("#create-campaign")
    campaign_id = int(await page.locator("#campaign").get_attribute("data-id") or 0)
    assert campaign_id > 0
    await expect(page.locator("#campaign-title")).to_have_text(name)
    await expect(page.locator("#status")).to_have_text("준비 중")
    return campaign_id


async def test_marketer_creates_and_edits_campaign_settings(live_app: LiveApp, page: Page) -> None:
    await live_app.add_user("mia", Role.MARKETER)
    await login(page, live_app, "mia")
    campaign_id = await create_from_list_page(page, live_app, NAME)
    row = await campaign_row(live_app, campaign_id)
    assert row["pacing_strategy"] == "ratio"
    assert row["calling_window"] == {"start": "09:30:00", "end": "20:00:00", "tz": "Asia/Seoul"}

    await expect(page.locator("#settings-form")).to_be_hidden()
    await page.click("#edit-settings")
    await expect(page.locator("#settings-form")).to_be_visible()
    await expect(page.locator("#set-start")).to_have_value("09:30")
    await page.fill("#set-start", "10:00")
    await page.fill("#set-end", "19:30")
    await expect(page.locator("#set-strategy-custom")).to_be_hidden()
    await page.select_option("#set-strategy", "__custom__")
    await expect(page.locator("#set-strategy-custom")).to_be_visible()
    await page.select_option("#set-strategy", "predictive")
    await expect(page.locator("#set-strategy-custom")).to_be_hidden()
    await page.fill("#set-pacing-max_dial_level", "2.5")
    await page.fill("#set-data-source", "고객님의 연락처는 {{campaign}} 행사 응모에서 받았습니다.")
    await page.fill("#set-script", SCRIPT)
    # No leads yet: the preview uses the same stand-in customer as the server's preview.
    preview = page.locator("#script-preview")
    await expect(preview).to_contain_text(f"안녕하세요 홍길동 고객님, {NAME}입니다.")
    await expect(preview).to_contain_text(f"연락처는 {NAME} 행사")
    await page.fill("#set-script", SCRIPT + " {{nickname}}")
    await expect(page.locator("#script-warning")).to_contain_text("{{nickname}}")
    await page.fill("#set-script", SCRIPT)
    await expect(page.locator("#script-warning")).to_be_hidden()

    # Dispositions: drop "wrong_number", add a "moved" row.
    disp = page.locator("#dispositions-edit tbody tr")
    await expect(disp).to_have_count(7)
    wrong_number = disp.filter(has=page.locator("input[value=wrong_number]"))
    await wrong_number.locator("[data-remove]").click()
    await page.click("#add-disposition")
    new_row = disp.last
    await new_row.locator("[data-key=code]").fill("moved")
    await new_row.locator("[data-key=label]").fill("이사함")
    await new_row.locator("[data-key=final]").check()

    # Hold the PATCH in flight: the button is disabled until the answer arrives.
    release = asyncio.Event()

    async def hold(route: Route) -> None:
        await asyncio.wait_for(release.wait(), timeout=10)
        await route.continue_()

    api = live_app.url(f"/api/v1/campaigns/{campaign_id}")
    await page.route(api, hold)
    await page.click("#save-settings")
    await expect(page.locator("#save-settings")).to_be_disabled()
    await expect(page.locator("#settings-status")).to_have_text("저장 중…")
    release.set()
    await expect(page.locator("#settings-status")).to_have_text("저장됨")
    await expect(page.locator("#save-settings")).to_be_enabled()
    await page.unroute(api, hold)
    await expect(page.locator("#summary")).to_contain_text("10:00–19:30 (Asia/Seoul)")
    await expect(page.locator("#summary")).to_contain_text("예측 발신")
    await expect(page.locator("#dispositions-view")).to_contain_text("이사함")

    row = await campaign_row(live_app, campaign_id)
    assert row["calling_window"] == {"start": "10:00:00", "end": "19:30:00", "tz": "Asia/Seoul"}
    assert row["pacing_strategy"] == "predictive"
    assert row["pacing_settings"] == {"max_dial_level": 2.5}
    assert row["script"] == SCRIPT
    assert [d["code"] for d in row["dispositions"]] == [
        "sale", "no_sale", "callback", "no_answer", "busy", "do_not_call", "moved",
    ]  # fmt: skip
    assert row["compliance"]["abandon_cap"] == 0.03
    saved = row

    await page.reload()
    await page.click("#edit-settings")
    await expect(page.locator("#set-start")).to_have_value("10:00")
    await expect(page.locator("#set-end")).to_have_value("19:30")
    await expect(page.locator("#set-strategy")).to_have_value("predictive")
    await expect(page.locator("#set-script")).to_have_value(SCRIPT)
    await expect(page.locator("#script")).to_contain_text(f"홍길동 고객님, {NAME}입니다.")
    await expect(page.locator("#dispositions-edit tbody tr")).to_have_count(7)

    # Over the legal limits: the API refuses, the page shows why at the input, nothing saved.
    await page.fill("#set-abandon-cap", "5")
    await page.fill("#set-end", "18:00")
    await page.click("#save-settings")
    await expect(field_error(page, "compliance.abandon_cap")).to_contain_text(
        "3% 이하로 입력하세요"
    )
    await expect(page.locator("#set-abandon-cap")).to_have_class(INVALID)
    await expect(page.locator("#settings-status")).to_have_text("저장 안 됨")
    await screenshot(page, "campaign-settings")
    assert await campaign_row(live_app, campaign_id) == saved

    await page.fill("#set-abandon-cap", "3")
    await page.fill("#set-ring-timeout", "10")
    await page.click("#save-settings")
    await expect(field_error(page, "compliance.ring_timeout_s")).to_contain_text(
        "15 이상으로 입력하세요"
    )
    await expect(page.locator("#set-abandon-cap")).not_to_have_class(INVALID)
    assert await campaign_row(live_app, campaign_id) == saved

    # A bad disposition code points at its own cell.
    await page.fill("#set-ring-timeout", "20")
    await disp.last.locator("[data-key=code]").fill("Moved Out")
    await page.click("#save-settings")
    await expect(disp.last.locator("[data-key=code]")).to_have_class(INVALID)
    await expect(field_error(page, "dispositions.6.code")).to_be_visible()
    assert await campaign_row(live_app, campaign_id) == saved

    await disp.last.locator("[data-key=code]").fill("moved_out")
    await page.click("#save-settings")
    await expect(page.locator("#settings-status")).to_have_text("저장됨")
    row = await campaign_row(live_app, campaign_id)
    assert row["calling_window"]["end"] == "18:00:00"
    assert row["dispositions"][-1]["code"] == "moved_out"


async def test_stopped_campaign_refuses_edits(live_app: LiveApp, page: Page) -> None:
    await live_app.add_user("sam", Role.SUPERVISOR)
    await login(page, live_app, "sam")
    campaign_id = await create_from_list_page(page, live_app, "멈춘 캠페인")
    await page.click("#edit-settings")
    await page.fill("#set-name", "새 이름")
    # Someone stops the campaign meanwhile: the API's refusal is shown, nothing changes.
    # As the page's own scripts would send it: our Origin and the page's CSRF token.
    token = await page.get_attribute('meta[name="csrf-token"]', "content") or ""
    resp = await page.request.post(live_app.url(f"/api/v1/campaigns/{campaign_id}/stop"),
                                   headers={"Origin": live_app.base_url, "X-CSRF-Token": token})
    assert resp.ok, await resp.text()
    await page.click("#save-settings")
    await expect(page.locator("#settings-error")).to_contain_text("더 바꿀 수 없습니다")
    await expect(page.locator("#settings-status")).to_have_text("저장 안 됨")
    assert (await campaign_row(live_app, campaign_id))["name"] == "멈춘 캠페인"
    await page.reload()
    await expect(page.locator("#settings-closed")).to_be_visible()
    await expect(page.locator("#edit-settings")).to_have_count(0)
