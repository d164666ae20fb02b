"""Login page, logout, and API tokens."""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web
from pydantic import BaseModel, Field

from server.auth import (
    PUBLIC,
    SESSION_COOKIE,
    TooManyAttempts,
    User,
    allow,
    client_address,
    current_user,
    issue_token,
    login,
    revoke_token,
    session_cookie_kwargs,
)
from server.errors import ApiError, read_json
from server.i18n import gettext, ngettext
from server.keys import POOL, SETTINGS
from server.login_guard import Busy
from server.openapi import api

routes = web.RouteTableDef()


class TokenRequest(BaseModel):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class TokenResponse(BaseModel):
    token: str
    token_type: str = "bearer"
    role: str
    expires_in: float


class Me(BaseModel):
    id: int
    username: str
    role: str


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link reuse our login.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


async def _login(
    request: web.Request, conn: Any, username: str, password: str, *, via: str
) -> User | None:
    """Check a login; throttled or busy logins are a 429 with Retry-After."""
    try:
        return await login(conn, username=username, password=password,
                           address=client_address(request), via=via)  # fmt: skip
    except TooManyAttempts as exc:
        raise ApiError(
            429,
            "too_many_attempts",
            f"Too many failed logins. Try again in {exc.retry_after_s} seconds.",
            headers={"Retry-After": str(exc.retry_after_s)},
            retry_after=exc.retry_after_s,
        ) from None
    except Busy:
        raise ApiError(
            429,
            "busy",
            "Too many logins at once. Try again in a second.",
            headers={"Retry-After": "1"},
            retry_after=1,
        ) from None


@routes.post("/api/v1/auth/token")
@allow(PUBLIC)
@api("Exchange a username and password for an API token", body=TokenRequest,
     response=TokenResponse, tags=("auth",))  # fmt: skip
async def create_token(request: web.Request) -> web.Response:
    body = TokenRequest.model_validate(await read_json(request))
    async with request.app[POOL].acquire() as conn:
        user = await _login(request, conn, body.username, body.password, via="api")
        if user is None:
            raise ApiError(401, "bad_credentials", "wrong username or password")
        hours = request.app[SETTINGS].token_hours
        token = await issue_token(conn, user=user, kind="api", hours=hours)
    return web.json_response(
        {
            "token": token,
            "token_type": "bearer",
            "role": user.role.value,
            "expires_in": hours * 3600,
        }
    )


@routes.get("/api/v1/auth/me")
@allow("agent", "supervisor", "marketer", "logistics")
@api("Who the token belongs to", response=Me, tags=("auth",))
async def me(request: web.Request) -> web.Response:
    user = current_user(request)
    return web.json_response({"id": user.id, "username": user.username, "role": user.role.value})


@routes.post("/api/v1/auth/revoke")
@allow("agent", "supervisor", "marketer", "logistics")
@api("Revoke the bearer token this request carries", tags=("auth",))
async def revoke(request: web.Request) -> web.Response:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise ApiError(400, "no_bearer_token", "send the token to revoke as Authorization: Bearer")
    async with request.app[POOL].acquire() as conn:
        await revoke_token(conn, header[7:].strip())
    return web.json_response({"revoked": True})


def _refusal(exc: ApiError) -> str:
    """A throttled or busy login, said on the login page in the reader's language (the
    API's message stays English)."""
    seconds = int(exc.extra.get("retry_after") or 1)
    if exc.code == "busy":
        return gettext("Many people are logging in at once. Try again in a moment.")
    return ngettext(
        "Too many failed logins. Try again in %(num)d second.",
        "Too many failed logins. Try again in %(num)d seconds.", seconds,
    ) % {"num": seconds}  # fmt: skip


@routes.get("/login")
@allow(PUBLIC)
@aiohttp_jinja2.template("login.html")
async def login_page(request: web.Request) -> dict[str, Any]:
    # A page opened with a session that has ended sends here with ?expired=1.
    notice = None
    if request.query.get("expired"):
        minutes = round(request.app[SETTINGS].session_idle_minutes)
        notice = ngettext(
            "Your session ended (no activity for %(num)d minute, or it was closed). "
            "Log in again to continue.",
            "Your session ended (no activity for %(num)d minutes, or it was closed). "
            "Log in again to continue.", minutes,
        ) % {"num": minutes}  # fmt: skip
    return {"next": _safe_next(request.query.get("next")), "error": None, "username": "",
            "notice": notice}  # fmt: skip


@routes.post("/login")
@allow(PUBLIC)
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    async with request.app[POOL].acquire() as conn:
        try:
            user = (
                await _login(request, conn, username, password, via="page")
                if username and password else None
            )  # fmt: skip
        except ApiError as exc:
            context = {"next": target, "error": _refusal(exc), "username": username}
            response = aiohttp_jinja2.render_template("login.html", request, context, status=429)
            response.headers.update(exc.headers)
            return response
        if user is None:
            context = {"next": target, "error": gettext("Wrong username or password."),
                       "username": username}  # fmt: skip
            return aiohttp_jinja2.render_template("login.html", request, context, status=401)
        token = await issue_token(
            conn, user=user, kind="session", hours=request.app[SETTINGS].session_hours
        )
    response = web.HTTPFound(target)
    response.set_cookie(SESSION_COOKIE, token, **session_cookie_kwargs(request))
    raise response


@routes.post("/logout")
@allow(PUBLIC)
async def logout(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        async with request.app[POOL].acquire() as conn:
            await revoke_token(conn, token)
    response = web.HTTPFound("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response
