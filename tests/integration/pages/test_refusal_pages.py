"""Refusals that a person meets on the pages speak the person's language, Korean first:
a cross-site or stale form (CSRF), a body too large, a throttled login, an ended session.
The API keeps its English JSON with a stable code (tests/security/ checks those)."""

from __future__ import annotations

import re

from aiohttp import web
from aiohttp.test_utils import TestClient

from server.auth import Role
from tests.conftest import make_user
from tests.integration.pages.test_language import log_in, switch

Client = TestClient[web.Request, web.Application]
ELSEWHERE = "http://127.0.0.1:1"


def _own(client: Client) -> str:
    return f"http://{client.host}:{client.port}"


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


async def test_a_form_from_another_site_is_a_korean_page(client: Client) -> None:
    resp = await client.post("/login", data={"username": "x", "password": "y"},
                             headers={"Origin": ELSEWHERE}, allow_redirects=False)  # fmt: skip
    assert resp.status == 403
    assert resp.content_type == "text/html"
    html = await resp.text()
    assert '<html lang="ko"' in html
    assert 'data-code="csrf"' in html
    assert "이 화면의 유효 시간이 지났습니다" in html


async def test_a_form_without_the_sessions_token_is_refused_in_the_users_language(
    client: Client, db_url: str
) -> None:
    await log_in(client, db_url, "min", Role.MARKETER)
    resp = await client.post("/language", data={"lang": "en"}, headers={"Origin": _own(client)})
    assert resp.status == 403
    assert "이 화면의 유효 시간이 지났습니다" in await resp.text()
    assert (await switch(client, "en", "/")).status == 303  # with the token it goes through
    client.session.cookie_jar.clear(lambda c: c.key == "telemart_lang")  # the user's choice
    resp = await client.post("/language", data={"lang": "ko"}, headers={"Origin": _own(client)})
    html = await resp.text()
    assert resp.status == 403
    assert '<html lang="en"' in html
    assert "This form has expired" in html


async def test_a_body_too_large_for_the_login_page_is_a_page(client: Client) -> None:
    resp = await client.post("/login", data={"username": "x" * (64 << 10), "password": "y"})
    assert resp.status == 413
    text = _text(await resp.text())
    assert "한 번에 보내는 내용이 너무 큽니다" in text
    assert "최대 16 KB" in text
    api = await client.post("/api/v1/auth/token", data=b"x" * (64 << 10),
                            headers={"Content-Type": "application/json"})  # fmt: skip
    assert api.status == 413
    assert (await api.json())["error"] == "body_too_large"  # the API keeps its JSON


async def test_a_throttled_login_says_how_long_to_wait_in_korean(
    client: Client, db_url: str
) -> None:
    await make_user(db_url, "slow", Role.AGENT, "right-password")
    for _ in range(12):
        resp = await client.post("/login", data={"username": "slow", "password": "wrong"},
                                 allow_redirects=False)  # fmt: skip
        if resp.status == 429:
            break
    assert resp.status == 429, "throttled after repeated failures"
    seconds = int(resp.headers["Retry-After"])
    html = await resp.text()
    assert f"로그인 실패가 너무 많습니다. {seconds}초 후에 다시 시도하세요." in html
    api = await client.post("/api/v1/auth/token",
                            json={"username": "slow", "password": "wrong"})  # fmt: skip
    assert api.status == 429
    assert (await api.json())["message"].startswith("Too many failed logins")


async def test_an_ended_session_is_named_on_the_login_page(client: Client, db_url: str) -> None:
    await log_in(client, db_url, "ended", Role.AGENT)
    client.session.cookie_jar.clear(lambda c: c.key == "telemart_session")
    client.session.cookie_jar.update_cookies({"telemart_session": "no-longer-valid"},
                                             client.make_url("/"))  # fmt: skip
    resp = await client.get("/agent?campaign=1", allow_redirects=False)
    assert resp.status == 302
    target = resp.headers["Location"]
    assert target == "/login?next=/agent?campaign%3D1&expired=1"  # the query kept whole
    html = await (await client.get(target)).text()
    assert "세션이 끝났습니다" in html
    assert 'name="next" value="/agent?campaign=1"' in html
    # Never logged in: no such notice.
    client.session.cookie_jar.clear()
    resp = await client.get("/agent", allow_redirects=False)
    assert resp.headers["Location"] == "/login?next=/agent"


async def test_a_bad_form_post_is_a_page_not_bare_text(client: Client) -> None:
    resp = await client.post("/language", data={"lang": "xx"})
    assert resp.status == 400
    assert resp.content_type == "text/html"
    assert "요청이 거부되었습니다" in await resp.text()
