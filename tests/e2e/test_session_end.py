"""A session that ends while the agent desktop is open (revoked, idle, a password change):
the desktop does not retry its websocket forever, it goes to the login page, which says
in Korean that the session ended and brings the agent back to the desktop."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from server.auth import Role
from tests.e2e.conftest import LiveApp, login

pytestmark = pytest.mark.e2e


async def test_an_ended_session_sends_the_desktop_to_the_login_page(
    live_app: LiveApp, page: Page
) -> None:
    await live_app.add_user("ana", Role.AGENT)
    await login(page, live_app, "ana")
    await page.goto(live_app.url("/agent"))
    await expect(page.locator("#conn")).to_have_attribute("data-conn", "open")
    conn = await live_app.connect()
    try:
        await conn.execute(
            "DELETE FROM auth_tokens WHERE kind = 'session'"
            " AND user_id = (SELECT id FROM users WHERE username = 'ana')"
        )
    finally:
        await conn.close()
    await page.evaluate("window.telemartAgent.dropSocket()")
    await expect(page).to_have_url(re.compile(r"/login\?next=/agent&expired=1$"))
    await expect(page.locator("#login-notice")).to_contain_text("세션이 끝났습니다")
    await page.fill("input[name=password]", live_app.password)
    await page.fill("input[name=username]", "ana")
    async with page.expect_navigation():
        await page.click('form[action="/login"] button[type=submit]')
    await expect(page).to_have_url(re.compile(r"/agent$"))
