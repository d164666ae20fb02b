"""A supervisor plays a recorded call from the customer's timeline (the play is audited);
a marketer sees the same timeline without players, and an agent can reach neither the
page nor the audio."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from playwright.async_api import Page, expect

from config.settings import Settings
from dialer.recordings import store
from dialer.recordings.files import sim_folder
from server.auth import Role
from tests.e2e.conftest import LiveApp, login, screenshot
from tests.fakes.ari import silent_wav

pytestmark = pytest.mark.e2e


async def _recorded_call(live_app: LiveApp) -> tuple[int, int, int]:
    """A customer with two calls, the second recorded (its file where the sim keeps it)."""
    conn = await live_app.connect()
    try:
        customer_id = await conn.fetchval(
            "INSERT INTO customers (name, phone_e164) VALUES ('김녹음', '+821055507777')"
            " RETURNING id"
        )
        ids = []
        for outcome in ("no_answer", "answered_live"):
            ids.append(
                await conn.fetchval(
                    "INSERT INTO contact_attempts (customer_id, campaign_id, phone_e164, outcome)"
                    " VALUES ($1, 12, '+821055507777', $2) RETURNING id",
                    customer_id,
                    outcome,
                )
            )
        recorded = ids[1]
        name = f"tm-12-{recorded}"
        rid = await store.save(
            conn, call_id=name, name=name, duration_s=3.0, at=dt.datetime.now(dt.UTC), port="sim"
        )
        assert rid is not None
    finally:
        await conn.close()
    # The live_app's home (tests/e2e/conftest.py): HOME/recordings holds the sim's files.
    assert live_app.home is not None
    folder = sim_folder(Settings(home=live_app.home))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.wav").write_bytes(silent_wav(3))
    return customer_id, recorded, rid


async def _plays(live_app: LiveApp, rid: int) -> list[str]:
    conn = await live_app.connect()
    try:
        rows = await conn.fetch(
            "SELECT actor FROM audit_log WHERE action = 'recording.play'"
            " AND (details ->> 'recording_id')::bigint = $1",
            rid,
        )
    finally:
        await conn.close()
    return [r["actor"] for r in rows]


async def test_a_supervisor_plays_a_recorded_call_and_the_play_is_audited(
    live_app: LiveApp, page: Page
) -> None:
    customer_id, recorded, rid = await _recorded_call(live_app)
    await live_app.add_user("sora", Role.SUPERVISOR)
    await login(page, live_app, "sora")
    await page.goto(live_app.url(f"/customers/{customer_id}"))
    players = page.locator("#timeline audio")
    await expect(players).to_have_count(1)  # the unrecorded call has none
    box = page.locator(f"#timeline [data-recording='{rid}']")
    await expect(box).to_contain_text("녹음")
    await expect(box).to_contain_text("0:03")
    await expect(box.locator("audio")).to_have_attribute("src", f"/api/v1/recordings/{rid}/audio")
    await expect(box.locator("audio")).to_have_attribute("aria-label", f"통화 {recorded} 녹음")
    assert await _plays(live_app, rid) == []  # showing the page plays (and audits) nothing
    # The play button sits at the left of the player's controls.
    await box.locator("audio").click(position={"x": 16, "y": 16})
    await page.wait_for_function(
        "() => { const a = document.querySelector('#timeline audio');"
        " return a.currentTime > 0 || a.ended; }"
    )
    assert await page.evaluate("document.querySelector('#timeline audio').error") is None
    for _ in range(100):
        if await _plays(live_app, rid):
            break
        await asyncio.sleep(0.05)
    assert set(await _plays(live_app, rid)) == {"sora"}
    await screenshot(page, "customer-recording")


async def test_marketers_see_no_player_and_agents_get_neither_page_nor_audio(
    live_app: LiveApp, page: Page
) -> None:
    customer_id, _, rid = await _recorded_call(live_app)
    await live_app.add_user("mia", Role.MARKETER)
    await login(page, live_app, "mia")
    await page.goto(live_app.url(f"/customers/{customer_id}"))
    await expect(page.locator("#timeline li[data-kind=call]")).to_have_count(2)
    await expect(page.locator("#timeline audio")).to_have_count(0)
    resp = await page.request.get(live_app.url(f"/api/v1/recordings/{rid}/audio"))
    assert resp.status == 403

    await page.context.clear_cookies()
    await live_app.add_user("ana", Role.AGENT)
    await login(page, live_app, "ana")
    resp = await page.request.get(live_app.url(f"/api/v1/recordings/{rid}/audio"))
    assert resp.status == 403
    opened = await page.goto(live_app.url(f"/customers/{customer_id}"))
    assert opened is not None
    assert opened.status == 403
    await expect(page.locator("audio")).to_have_count(0)
    assert await _plays(live_app, rid) == []
