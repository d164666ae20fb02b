"""The API docs page renders our OpenAPI document in a real browser, offline."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import LiveApp, screenshot

pytestmark = pytest.mark.e2e


async def test_api_docs_render_every_domain(live_app: LiveApp, page: Page) -> None:
    await page.goto(live_app.url("/api/docs"))
    await expect(page.locator(".info .title")).to_contain_text("Telemart API")
    for path in ("/api/v1/orders", "/api/v1/segments/preview", "/api/v1/shipments"):
        await expect(page.get_by_text(path, exact=True).first).to_be_visible()
    await screenshot(page, "api-docs")
