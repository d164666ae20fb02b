"""The pages' language: Korean by default, the switch (cookie, then the user's own
choice), `lang`, the page scripts' catalog, and the 403 / 404 pages."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from config.db import connect
from server.auth import Role
from tests.conftest import make_user

Client = TestClient  # type: ignore[type-arg]


async def log_in(client: Client, db_url: str, username: str, role: Role) -> None:
    await make_user(db_url, username, role)
    resp = await client.post("/login", data={"username": username, "password": "password-1",
                                              "next": "/"}, allow_redirects=False)  # fmt: skip
    assert resp.status == 302, await resp.text()


async def switch(client: Client, lang: str, next_path: str) -> Any:
    """The language switch as the page's form sends it (same origin, the session's token)."""
    html = await (await client.get(next_path)).text()
    found = re.search(r'<meta name="csrf-token" content="([^"]*)"', html)
    origin = str(client.make_url("/")).rstrip("/")
    data = {"lang": lang, "next": next_path, "csrf_token": found.group(1) if found else ""}
    return await client.post("/language", data=data, headers={"Origin": origin},
                             allow_redirects=False)  # fmt: skip


async def test_pages_are_korean_by_default(client: Client) -> None:
    resp = await client.get("/login")
    html = await resp.text()
    assert '<html lang="ko"' in html
    assert "<h1>로그인</h1>" in html
    assert 'data-tz="Asia/Seoul"' in html


async def test_the_switch_before_login_sets_a_cookie(client: Client) -> None:
    resp = await client.post("/language", data={"lang": "en", "next": "/login"},
                             allow_redirects=False)  # fmt: skip
    assert resp.status == 303
    assert resp.headers["Location"] == "/login"
    html = await (await client.get("/login")).text()
    assert '<html lang="en"' in html
    assert "<h1>Log in</h1>" in html


async def test_the_switch_refuses_unknown_languages_and_foreign_targets(client: Client) -> None:
    assert (await client.post("/language", data={"lang": "xx"})).status == 400
    resp = await client.post("/language", data={"lang": "ko", "next": "//evil.example/"},
                             allow_redirects=False)  # fmt: skip
    assert resp.headers["Location"] == "/"


async def test_a_users_choice_is_kept_with_the_user(client: Client, db_url: str) -> None:
    await log_in(client, db_url, "eun", Role.MARKETER)
    resp = await switch(client, "en", "/")
    assert resp.status == 303
    conn = await connect(db_url)
    try:
        assert await conn.fetchval("SELECT lang FROM users WHERE username = 'eun'") == "en"
    finally:
        await conn.close()
    # Another browser (no language cookie): the user's choice still holds.
    client.session.cookie_jar.clear(lambda c: c.key == "telemart_lang")
    html = await (await client.get("/")).text()
    assert '<html lang="en"' in html
    assert "Welcome, eun" in html


async def test_a_page_outside_ones_role_is_a_page_with_a_way_back(
    client: Client, db_url: str
) -> None:
    await log_in(client, db_url, "ana", Role.AGENT)
    resp = await client.get("/wallboard")
    assert resp.status == 403
    html = await resp.text()
    assert "이 페이지를 볼 권한이 없습니다" in html
    assert "현재 역할(상담원)" in html
    assert 'href="/"' in html
    missing = await client.get("/no-such-page")
    assert missing.status == 404
    assert "페이지를 찾을 수 없음" in await missing.text()


async def test_the_api_keeps_json_errors(client: Client) -> None:
    resp = await client.get("/api/v1/no-such-route")
    assert resp.status in (401, 403, 404)
    assert resp.content_type == "application/json"


async def test_script_catalog_and_favicon(client: Client) -> None:
    ko = await client.get("/i18n/ko.js")
    assert ko.status == 200
    text = await ko.text()
    assert text.startswith("window.TELEMART_I18N = ")
    assert "다이얼러와 연결이 끊겼습니다" in text
    again = await client.get("/i18n/ko.js", headers={"If-None-Match": ko.headers["ETag"]})
    assert again.status == 304
    assert (await client.get("/i18n/xx.js")).status == 404
    icon = await client.get("/favicon.ico")
    assert icon.status == 200
    assert icon.content_type == "image/svg+xml"


async def test_english_pages_and_catalog(client: Client, db_url: str) -> None:
    await log_in(client, db_url, "eve", Role.AGENT)
    assert (await switch(client, "en", "/agent")).status == 303
    html = await (await client.get("/agent")).text()
    assert '<html lang="en"' in html
    assert "Agent desktop" in html
    assert "Leave the dialer" in html
    assert "/i18n/en.js" in html
    en = await (await client.get("/i18n/en.js")).text()
    assert '"messages": {}' in en  # English is the source: nothing to look up
    assert '"Logged out"' in html  # the labels table, in English
