"""Users, passwords, sessions and API tokens; every API route declares its roles."""

from __future__ import annotations

import enum
import hashlib
import secrets
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from config.sql import load_queries
from server.errors import ApiError, Handler
from server.keys import POOL, SETTINGS, USER

Q = load_queries("server")
SESSION_COOKIE = "telemart_session"
_hasher = PasswordHasher()
# Verifying against a throwaway hash when the user does not exist keeps the
# response time the same, so usernames cannot be probed by timing.
_DUMMY_HASH = _hasher.hash("not a password")


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MARKETER = "marketer"
    LOGISTICS = "logistics"
    ADMIN = "admin"


class UserExists(Exception):
    """That username is taken."""


@dataclass(frozen=True, kw_only=True)
class User:
    id: int
    username: str
    role: Role


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


async def create_user(
    conn: asyncpg.Connection, *, username: str, password: str, role: Role, replace: bool = False
) -> User:
    password_hash = _hasher.hash(password)
    try:
        row = await conn.fetchrow(Q["insert_user"], username, password_hash, role.value)
    except asyncpg.UniqueViolationError:
        if not replace:
            raise UserExists(f"user {username!r} already exists") from None
        row = await conn.fetchrow(Q["set_user_password"], username, password_hash, role.value)
    assert row is not None
    return User(id=row["id"], username=row["username"], role=Role(row["role"]))


async def authenticate(conn: asyncpg.Connection, username: str, password: str) -> User | None:
    row = await conn.fetchrow(Q["user_by_name"], username)
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row["disabled"]:
        return None
    return User(id=row["id"], username=row["username"], role=Role(row["role"]))


async def issue_token(conn: asyncpg.Connection, *, user: User, kind: str, hours: float) -> str:
    token = secrets.token_urlsafe(32)
    await conn.execute(Q["insert_token"], hash_token(token), user.id, kind, hours * 3600.0)
    return token


async def user_for_token(conn: asyncpg.Connection, token: str, kind: str) -> User | None:
    row = await conn.fetchrow(Q["user_by_token"], hash_token(token), kind)
    if row is None:
        return None
    return User(id=row["id"], username=row["username"], role=Role(row["role"]))


async def revoke_token(conn: asyncpg.Connection, token: str) -> None:
    digest = hash_token(token)
    await conn.execute(Q["delete_token"], digest)
    for cache in _token_caches.values():
        cache.forget(digest)


class TokenCache:
    """Who is behind an API token, remembered for a short while in this process.

    Saves a database round trip per API call. Only tokens that resolved to a user are
    kept, for at most `ttl_s`; revoking a token through `revoke_token` forgets it here at
    once, but another server process may honour a revoked or expired token (or a disabled
    user's) for up to `ttl_s` more."""

    def __init__(self, *, ttl_s: float = 30.0, max_size: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self._entries: dict[bytes, tuple[float, User]] = {}

    def get(self, digest: bytes) -> User | None:
        found = self._entries.get(digest)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            del self._entries[digest]
            return None
        return found[1]

    def put(self, digest: bytes, user: User) -> None:
        if len(self._entries) >= self.max_size:  # drop the oldest (insertion order)
            for old in list(self._entries)[: max(1, self.max_size // 8)]:
                del self._entries[old]
        self._entries[digest] = (time.monotonic() + self.ttl_s, user)

    def forget(self, digest: bytes) -> None:
        self._entries.pop(digest, None)


# One cache per application, so test apps on fresh databases share nothing.
_token_caches: weakref.WeakKeyDictionary[web.Application, TokenCache] = weakref.WeakKeyDictionary()


def token_cache(app: web.Application) -> TokenCache:
    cache = _token_caches.get(app)
    if cache is None:
        cache = _token_caches[app] = TokenCache()
    return cache


# --- declaring and enforcing roles -------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])
PUBLIC = "public"


def allow(*roles: Role | str) -> Callable[[F], F]:
    """Declare who may call a handler: `@allow(Role.MARKETER, Role.ADMIN)`.

    Admin may do everything, so it is added implicitly. `@allow(PUBLIC)` opens
    a route to everyone."""

    def mark(handler: F) -> F:
        names = {str(r) for r in roles}
        if PUBLIC not in names:
            names.add(Role.ADMIN.value)
        handler.allowed_roles = frozenset(names)  # type: ignore[attr-defined]
        return handler

    return mark


def current_user(request: web.Request) -> User:
    user = request.get(USER)
    if user is None:
        raise ApiError(401, "unauthenticated", "log in or send Authorization: Bearer <token>")
    assert isinstance(user, User)
    return user


async def _resolve_user(request: web.Request) -> User | None:
    header = request.headers.get("Authorization", "")
    pool = request.app[POOL]
    if header.startswith("Bearer "):
        token = header[7:].strip()
        cache = token_cache(request.app)
        digest = hash_token(token)
        user = cache.get(digest)
        if user is None:
            async with pool.acquire() as conn:
                user = await user_for_token(conn, token, "api")
            if user is not None:
                cache.put(digest, user)
        return user
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        async with pool.acquire() as conn:
            return await user_for_token(conn, cookie, "session")
    return None


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find who is calling; on /api/ refuse routes that declare no roles."""
    route_handler = request.match_info.handler
    allowed: frozenset[str] | None = getattr(route_handler, "allowed_roles", None)
    if allowed is not None and PUBLIC in allowed:
        request[USER] = None
        return await handler(request)
    user = await _resolve_user(request)
    request[USER] = user
    if request.path.startswith("/api/"):
        if allowed is None and not isinstance(request.match_info.http_exception, web.HTTPException):
            raise ApiError(403, "forbidden", "this route declares no roles")
        if user is None:
            raise ApiError(401, "unauthenticated", "log in or send Authorization: Bearer <token>")
        if allowed is not None and user.role.value not in allowed:
            raise ApiError(
                403,
                "forbidden",
                f"role {user.role.value!r} may not {request.method} {request.path}",
            )
    return await handler(request)


def page_user(request: web.Request, *roles: Role) -> User:
    """For pages: the logged-in user, or a redirect to the login page."""
    user = request.get(USER)
    if user is None:
        raise web.HTTPFound(f"/login?next={request.path_qs}")
    assert isinstance(user, User)
    if roles and user.role not in roles and user.role is not Role.ADMIN:
        raise web.HTTPForbidden(text=f"role {user.role.value} may not open this page")
    return user


def session_cookie_kwargs(request: web.Request) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": settings.cookie_secure,
        "max_age": int(settings.session_hours * 3600),
        "path": "/",
    }
