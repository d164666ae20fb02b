"""Cross-site writes with the session cookie are refused (finding 3); bearer callers and
our own pages (Origin + token) go through. On commit 1a94a10 a form on another port added a
number to the do-not-call list with an agent's cookie and paused a campaign with a
supervisor's."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from config.db import _init_connection
from dialer.sim.seed import seed_campaign
from server.auth import Role
from server.csrf import token_for
from tests.conftest import make_user

Client = TestClient  # type: ignore[type-arg]
ELSEWHERE = "http://127.0.0.1:1"  # another port on the same host: same site, other origin


async def _log_in(client: Client, db_url: str, role: Role) -> str:
    """Log the client's cookie jar in; returns the page's CSRF token (from its meta tag)."""
    name = f"{role.value}-csrf"
    await make_user(db_url, name, role, "a-password")
    resp = await client.post("/login", data={"username": name, "password": "a-password"},
                             allow_redirects=False)  # fmt: skip
    assert resp.status == 302
    page = await (await client.get("/")).text()
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert found, "the page carries its token"
    return found.group(1)


def _own(client: Client) -> str:
    return f"http://{client.host}:{client.port}"


async def _dnc_rows(db_url: str) -> int:
    conn = await asyncpg.connect(db_url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM do_not_call"))
    finally:
        await conn.close()


async def test_a_text_plain_form_from_another_port_adds_nothing(
    client: Client, db_url: str
) -> None:
    await _log_in(client, db_url, Role.AGENT)
    # What <form enctype="text/plain"> on http://127.0.0.1:OTHER sends, cookie included.
    resp = await client.post(
        "/api/v1/dnc", data='{"phone": "010-1234-5678", "x": "="}',
        headers={"Content-Type": "text/plain", "Origin": ELSEWHERE},
    )  # fmt: skip
    assert resp.status in (403, 415), await resp.text()
    assert await _dnc_rows(db_url) == 0


async def test_cookie_writes_need_our_origin_and_the_token(client: Client, db_url: str) -> None:
    token = await _log_in(client, db_url, Role.AGENT)
    body = {"phone": "010-1234-5678"}
    foreign = await client.post("/api/v1/dnc", json=body,
                                headers={"Origin": ELSEWHERE, "X-CSRF-Token": token})
    assert foreign.status == 403
    assert (await foreign.json())["error"] == "csrf"
    no_origin = await client.post("/api/v1/dnc", json=body, headers={"X-CSRF-Token": token})
    assert no_origin.status == 403
    no_token = await client.post("/api/v1/dnc", json=body, headers={"Origin": _own(client)})
    assert no_token.status == 403
    wrong = await client.post("/api/v1/dnc", json=body,
                              headers={"Origin": _own(client), "X-CSRF-Token": "x" + token})
    assert wrong.status == 403
    assert await _dnc_rows(db_url) == 0
    ok = await client.post("/api/v1/dnc", json=body,
                           headers={"Origin": _own(client), "X-CSRF-Token": token})
    assert ok.status == 201, await ok.text()
    referer = await client.post(
        "/api/v1/dnc", json={"phone": "010-2222-3333"},
        headers={"Referer": _own(client) + "/agent", "X-CSRF-Token": token},
    )  # fmt: skip
    assert referer.status == 201, await referer.text()


async def test_a_supervisors_cookie_cannot_pause_a_campaign_from_elsewhere(
    client: Client, db_url: str
) -> None:
    conn = await asyncpg.connect(db_url)
    await _init_connection(conn)
    try:
        campaign_id = await seed_campaign(conn, leads=1)
    finally:
        await conn.close()
    token = await _log_in(client, db_url, Role.SUPERVISOR)
    path = f"/api/v1/campaigns/{campaign_id}/pause"
    assert (await client.post(path, headers={"Origin": ELSEWHERE})).status == 403
    ok = await client.post(path, headers={"Origin": _own(client), "X-CSRF-Token": token})
    assert ok.status == 200, await ok.text()
    assert (await ok.json())["status"] == "paused"


async def test_bearer_callers_need_no_origin_or_token(
    client: Client, auth_headers: Any
) -> None:
    headers = await auth_headers(Role.AGENT)
    resp = await client.post("/api/v1/dnc", json={"phone": "010-1234-5678"}, headers=headers)
    assert resp.status == 201


async def test_logging_in_from_another_site_is_refused(client: Client, db_url: str) -> None:
    await make_user(db_url, "lou", Role.AGENT, "a-password")
    resp = await client.post("/login", data={"username": "lou", "password": "a-password"},
                             headers={"Origin": ELSEWHERE}, allow_redirects=False)  # fmt: skip
    assert resp.status == 403
    assert "Set-Cookie" not in resp.headers


async def test_the_logout_form_carries_the_token(client: Client, db_url: str) -> None:
    token = await _log_in(client, db_url, Role.MARKETER)
    resp = await client.post("/logout", data={"csrf_token": token},
                             headers={"Origin": _own(client)}, allow_redirects=False)
    assert resp.status == 302
    assert (await client.get("/api/v1/auth/me")).status == 401  # logged out


def test_the_token_is_bound_to_the_session() -> None:
    assert token_for("session-a") != token_for("session-b")
    assert token_for("session-a") == token_for("session-a")


async def test_a_websocket_with_the_cookie_must_come_from_our_pages(
    client: Client, db_url: str
) -> None:
    await _log_in(client, db_url, Role.AGENT)
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/api/v1/dialer/echo", headers={"Origin": ELSEWHERE})
    assert refused.value.status == 403
    ws = await client.ws_connect("/api/v1/dialer/echo", headers={"Origin": _own(client)})
    await ws.send_str("hello")
    assert (await ws.receive_str()) == "hello"
    await ws.close()
