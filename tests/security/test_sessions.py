"""Logins, sessions and tokens (issue 16, findings 1 and 9); each failed on commit 1a94a10."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from config.db import connect
from config.settings import Settings
from server.app import create_app
from server.auth import Role, token_cache
from tests.conftest import make_user
from tests.integration.server.test_cli import run_cli

Client = TestClient  # type: ignore[type-arg]


async def _token(client: Client, username: str, password: str) -> Any:
    return await client.post("/api/v1/auth/token",
                             json={"username": username, "password": password})  # fmt: skip


async def test_wrong_passwords_are_throttled_even_before_the_right_one(
    client: Client, db_url: str
) -> None:
    await make_user(db_url, "vic", Role.AGENT, "right-password")
    statuses = [(await _token(client, "vic", f"wrong-{i}")).status for i in range(8)]
    assert statuses[:5] == [401] * 5  # the free allowance
    assert 429 in statuses[5:]
    refused = await _token(client, "vic", "right-password")
    assert refused.status == 429, "the right password must wait too while throttled"
    assert int(refused.headers["Retry-After"]) >= 1
    body = await refused.json()
    assert body["error"] == "too_many_attempts"
    assert body["retry_after"] >= 1


async def test_waits_grow_with_each_failure(client: Client, db_url: str) -> None:
    await make_user(db_url, "wes", Role.AGENT, "right-password")
    conn = await connect(db_url)
    waits = []
    try:
        for _ in range(9):
            # Let each wait lapse so that the attempt is counted, then read the new wait.
            await conn.execute("UPDATE login_throttle SET blocked_until = now()")
            await _token(client, "wes", "wrong")
            waits.append(await conn.fetchval(
                "SELECT extract(epoch FROM blocked_until - now()) FROM login_throttle"
                " WHERE key = 'user:wes'"))  # fmt: skip
    finally:
        await conn.close()
    blocked = [w for w in waits if w > 0]
    assert len(blocked) == 4
    assert blocked == sorted(blocked)
    assert blocked[-1] > 2 * blocked[0]


async def test_logins_and_failures_are_audited(client: Client, db_url: str) -> None:
    await make_user(db_url, "amy", Role.MARKETER, "right-password")
    await _token(client, "amy", "wrong")
    assert (await _token(client, "amy", "right-password")).status == 200
    login_form = await client.post("/login", data={"username": "amy", "password": "nope"})
    assert login_form.status == 401
    conn = await connect(db_url)
    try:
        rows = await conn.fetch(
            "SELECT action, details FROM audit_log WHERE subject = 'amy' ORDER BY id")
    finally:
        await conn.close()
    actions = [(r["action"], r["details"]["via"]) for r in rows]
    assert actions == [("auth.login_failed", "api"), ("auth.login", "api"),
                       ("auth.login_failed", "page")]  # fmt: skip
    assert all(r["details"]["address"] for r in rows)


async def test_a_password_change_revokes_cached_tokens_at_once(
    client: Client, db_url: str
) -> None:
    await make_user(db_url, "pat", Role.SUPERVISOR, "old-password")
    await _wait_listening(client)
    token = (await (await _token(client, "pat", "old-password")).json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 200  # cached now
    changed = run_cli(db_url, "user", "set-password", "pat", password="new-password")
    assert changed.returncode == 0, changed.stderr
    assert "revoked" in changed.stdout
    assert await _status_soon(client, "/api/v1/auth/me", headers, 401)


async def test_a_role_change_through_user_add_update_revokes_too(
    client: Client, db_url: str
) -> None:
    await make_user(db_url, "ray", Role.SUPERVISOR, "a-password")
    await _wait_listening(client)
    token = (await (await _token(client, "ray", "a-password")).json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/campaigns", headers=headers)).status == 200
    demoted = run_cli(db_url, "user", "add", "ray", "--role", "agent", "--update",
                      password="a-password")  # fmt: skip
    assert demoted.returncode == 0, demoted.stderr
    assert await _status_soon(client, "/api/v1/campaigns", headers, 401)


async def test_revocation_reaches_another_server_process_at_once(
    client: Client, db_url: str, settings: Settings
) -> None:
    other = TestClient(TestServer(create_app(settings, url=db_url, background=False)))
    await other.start_server()
    try:
        await make_user(db_url, "una", Role.MARKETER, "a-password")
        await _wait_listening(client)
        await _wait_listening(other)
        token = (await (await _token(client, "una", "a-password")).json())["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert (await other.get("/api/v1/auth/me", headers=headers)).status == 200  # cached
        disabled = run_cli(db_url, "user", "disable", "una")
        assert disabled.returncode == 0, disabled.stderr
        assert await _status_soon(other, "/api/v1/auth/me", headers, 401)
        assert (await _token(client, "una", "a-password")).status == 401
    finally:
        await other.close()


async def test_cli_lists_revokes_and_enables(client: Client, db_url: str) -> None:
    await make_user(db_url, "ivy", Role.LOGISTICS, "a-password")
    token = (await (await _token(client, "ivy", "a-password")).json())["token"]
    listed = run_cli(db_url, "user", "list")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith("ivy "))
    assert "logistics" in line
    assert "active" in line
    assert " 1 " in line
    assert run_cli(db_url, "user", "revoke", "ivy").returncode == 0
    headers = {"Authorization": f"Bearer {token}"}
    assert await _status_soon(client, "/api/v1/auth/me", headers, 401)
    assert run_cli(db_url, "user", "disable", "ivy").returncode == 0
    assert (await _token(client, "ivy", "a-password")).status == 401
    assert run_cli(db_url, "user", "enable", "ivy").returncode == 0
    assert (await _token(client, "ivy", "a-password")).status == 200
    missing = run_cli(db_url, "user", "revoke", "nobody")
    assert missing.returncode == 1
    assert "no user" in missing.stderr


async def test_an_idle_session_is_logged_out(client: Client, db_url: str) -> None:
    await make_user(db_url, "ida", Role.MARKETER, "a-password")
    await client.post("/login", data={"username": "ida", "password": "a-password"},
                      allow_redirects=False)  # fmt: skip
    assert (await client.get("/api/v1/segments")).status == 200
    conn = await connect(db_url)
    try:
        await conn.execute("UPDATE auth_tokens SET last_seen_at = now() - interval '61 minutes'")
    finally:
        await conn.close()
    assert (await client.get("/api/v1/segments")).status == 401


async def test_session_cookie_is_secure_outside_localhost(client: Client, db_url: str) -> None:
    await make_user(db_url, "sal", Role.MARKETER, "a-password")
    form = {"username": "sal", "password": "a-password"}
    local = await client.post("/login", data=form, allow_redirects=False)
    assert "Secure" not in local.headers["Set-Cookie"]
    remote = await client.post("/login", data=form, allow_redirects=False,
                               headers={"Host": "telemart.example.com"})  # fmt: skip
    assert "Secure" in remote.headers["Set-Cookie"]


async def test_api_tokens_live_a_day_not_a_month(client: Client, db_url: str) -> None:
    await make_user(db_url, "tim", Role.AGENT, "a-password")
    body = await (await _token(client, "tim", "a-password")).json()
    assert body["expires_in"] <= 24 * 3600


async def test_pages_and_api_carry_security_headers(client: Client, db_url: str) -> None:
    page = await client.get("/login")
    csp = page.headers["Content-Security-Policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    api = await client.get("/api/v1/auth/me")
    assert api.headers["Cache-Control"] == "no-store"
    assert api.headers["X-Content-Type-Options"] == "nosniff"


async def test_metrics_need_a_token_or_an_admin(
    db_url: str, settings: Settings, auth_headers: Any, client: Client
) -> None:
    assert (await client.get("/metrics")).status == 401
    admin = await auth_headers(Role.ADMIN)
    assert (await client.get("/metrics", headers=admin)).status == 200
    agent = await auth_headers(Role.AGENT)
    assert (await client.get("/metrics", headers=agent)).status == 401
    with_token = settings.model_copy(update={"metrics_token": SecretStr("prom-secret")})
    async with TestClient(TestServer(create_app(with_token, url=db_url, background=False))) as c:
        ok = await c.get("/metrics", headers={"Authorization": "Bearer prom-secret"})
        assert ok.status == 200
        assert "telemart_http_requests_total" in await ok.text()
        assert (await c.get("/metrics", headers={"Authorization": "Bearer nope"})).status == 401


# --- helpers ---------------------------------------------------------------------------


async def _wait_listening(client: Client) -> None:
    """Until the app's revocation listener is up (its token cache is on)."""
    async with asyncio.timeout(10):
        for _ in range(500):  # the listener connects within a few ms
            if token_cache(client.app).enabled:  # type: ignore[arg-type]
                return
            await asyncio.sleep(0.02)


async def _status_soon(client: Client, path: str, headers: dict[str, str], status: int) -> bool:
    """The status is `status` now: asked at once, no waiting for a cache to expire. (One
    retry after 0.5 s covers the NOTIFY's trip; the old cache kept a token 30 s.)"""
    for _ in range(2):
        if (await client.get(path, headers=headers)).status == status:
            return True
        await asyncio.sleep(0.5)
    return False
