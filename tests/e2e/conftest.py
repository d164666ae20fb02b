"""Shared browser-test fixtures: a live Telemart on a free port and headless Chromium.

Use them from any `tests/e2e/test_*.py` (mark the module `pytestmark = pytest.mark.e2e`):

    async def test_something(live_app: LiveApp, page: Page) -> None:
        await live_app.add_user("mia", Role.MARKETER)          # password: live_app.password
        await login(page, live_app, "mia")                       # lands on the home page
        await page.goto(live_app.url("/segments"))
        ...
        await screenshot(page, "segments")                       # tests/e2e/artifacts/segments.png

Fixtures
    live_app   the real aiohttp app (no scheduler, no dialer) serving on 127.0.0.1 at a free
               port, against the fresh migrated database of the `db_url` fixture. Attributes:
               `base_url`, `db_url`, `url(path)`, `add_user(name, role, password=...)`,
               `connect()` (an asyncpg connection to seed data; close it yourself).
    browser    one headless Chromium per session: Debian's /usr/bin/chromium (or
               TELEMART_CHROMIUM), launched by Playwright. If it is missing and we are
               root with apt-get, it is installed (tests/e2e/chromium.py); otherwise the
               tests FAIL (never skip) saying exactly what to install.
    page       a fresh browser context and page per test (own cookies), closed afterwards;
               if the test failed, a screenshot `failed-<test name>.png` is kept.
Helpers
    login(page, live_app, username, password=None)  fills and submits the login form.
    screenshot(page, name)                          full-page PNG in tests/e2e/artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp import web

from config.db import connect
from config.scratch import free_port
from config.settings import Settings
from server.app import create_app
from server.auth import Role, create_user
from tests.e2e.chromium import chromium_or_reason

ARTIFACTS = Path(__file__).parent / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
DEFAULT_PASSWORD = "e2e-password-1"
TIMEOUT_MS = 10_000
_FAILED = pytest.StashKey[bool]()

try:
    from playwright.async_api import Browser, Page, async_playwright
except ImportError:  # pragma: no cover - playwright is a test dependency
    async_playwright = None  # type: ignore[assignment]



@dataclass(frozen=True, kw_only=True)
class LiveApp:
    base_url: str
    db_url: str
    password: str = DEFAULT_PASSWORD
    home: Path | None = None  # the server's TELEMART_HOME (the sim's recordings are there)

    def url(self, path: str) -> str:
        return self.base_url + path

    async def connect(self) -> asyncpg.Connection:
        return await connect(self.db_url)

    async def add_user(self, username: str, role: Role, password: str | None = None) -> None:
        conn = await self.connect()
        try:
            await create_user(conn, username=username, password=password or self.password,
                              role=role)  # fmt: skip
        finally:
            await conn.close()


@pytest.fixture
async def live_app(db_url: str, tmp_path: Path) -> AsyncIterator[LiveApp]:
    settings = Settings(home=tmp_path / "home", pool_min_size=1, pool_max_size=10)
    app = create_app(settings, url=db_url, background=False)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield LiveApp(base_url=f"http://127.0.0.1:{port}", db_url=db_url, home=settings.home)
    finally:
        await runner.cleanup()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    # A browser test that cannot run must fail, not skip: a skipped test proves nothing.
    if async_playwright is None:
        pytest.fail("Playwright is not installed: pip install playwright", pytrace=False)
    chromium, why = chromium_or_reason()
    if chromium is None:
        pytest.fail(why, pytrace=False)
    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    # Lets the `page` fixture know whether the test failed.
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.stash[_FAILED] = report.failed


@pytest.fixture
async def page(browser: Browser, request: pytest.FixtureRequest) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="ko-KR",
                                        timezone_id="Asia/Seoul")
    context.set_default_timeout(TIMEOUT_MS)
    new_page = await context.new_page()
    try:
        yield new_page
    finally:
        if request.node.stash.get(_FAILED, False):
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            await screenshot(new_page, f"failed-{safe}")
        await context.close()


async def login(page: Page, live_app: LiveApp, username: str, password: str | None = None) -> None:
    """Log in through the form and wait for the home page."""
    await page.goto(live_app.url("/login"))
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password or live_app.password)
    async with page.expect_navigation():
        await page.click("form[action=\"/login\"] button[type=submit]")
    if "/login" in page.url:
        raise AssertionError(f"login as {username!r} failed")


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
