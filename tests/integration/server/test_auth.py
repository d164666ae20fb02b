"""Login, tokens, roles and the error shape, against a real database."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from server.auth import Role
from tests.conftest import make_user


async def test_healthz_checks_the_database(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert (await resp.json()) == {"status": "ok", "database": "ok"}


async def test_metrics_are_prometheus_text(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def,type-arg]
    await client.get("/healthz")
    resp = await client.get("/metrics", headers=await auth_headers(Role.ADMIN))
    assert resp.status == 200
    assert "telemart_http_requests_total" in await resp.text()


async def test_token_for_good_password_and_401_for_bad(client: TestClient, db_url: str) -> None:  # type: ignore[type-arg]
    await make_user(db_url, "mia", Role.MARKETER, "correct horse")
    bad = await client.post("/api/v1/auth/token", json={"username": "mia", "password": "nope"})
    assert bad.status == 401
    assert (await bad.json())["error"] == "bad_credentials"
    good = await client.post(
        "/api/v1/auth/token", json={"username": "mia", "password": "correct horse"}
    )
    token = (await good.json())["token"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert (await me.json())["username"] == "mia"


async def test_missing_field_is_422_naming_the_field(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.post("/api/v1/auth/token", json={"username": "x"})
    assert resp.status == 422
    body = await resp.json()
    assert body["field"] == "password"
    assert body["error"] == "invalid"


async def test_bad_json_is_400(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.post(
        "/api/v1/auth/token", data=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert (await resp.json())["error"] == "bad_json"


async def test_api_without_credentials_is_401_json(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.get("/api/v1/auth/me")
    assert resp.status == 401
    assert (await resp.json())["error"] == "unauthenticated"


async def test_unknown_api_route_is_404_json(client: TestClient, auth_headers) -> None:  # type: ignore[no-untyped-def,type-arg]
    headers = await auth_headers(Role.ADMIN)
    resp = await client.get("/api/v1/nothing-here", headers=headers)
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"


async def test_login_page_sets_httponly_samesite_cookie(client: TestClient, db_url: str) -> None:  # type: ignore[type-arg]
    await make_user(db_url, "sam", Role.SUPERVISOR, "pw-123456")
    page = await client.get("/")
    assert page.url.path == "/login"
    resp = await client.post(
        "/login", data={"username": "sam", "password": "pw-123456", "next": "/"},
        allow_redirects=False,
    )  # fmt: skip
    assert resp.status == 302
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    home = await client.get("/")
    assert "sam님, 안녕하세요" in await home.text()  # pages speak Korean by default


async def test_wrong_login_shows_error(client: TestClient) -> None:  # type: ignore[type-arg]
    resp = await client.post("/login", data={"username": "ghost", "password": "x"})
    assert resp.status == 401
    assert "아이디 또는 비밀번호가 맞지 않습니다" in await resp.text()


async def test_revoked_token_is_refused_at_once(client: TestClient, db_url: str) -> None:  # type: ignore[type-arg]
    await make_user(db_url, "rex", Role.AGENT, "pw-7654321")
    resp = await client.post(
        "/api/v1/auth/token", json={"username": "rex", "password": "pw-7654321"}
    )
    headers = {"Authorization": f"Bearer {(await resp.json())['token']}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status == 200  # now cached
    assert (await client.post("/api/v1/auth/revoke", headers=headers)).status == 200
    again = await client.get("/api/v1/auth/me", headers=headers)
    assert again.status == 401
