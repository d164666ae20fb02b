"""Users, passwords, sessions and API tokens; every API route declares its roles.

A password change, a role change, disabling a user or `revoke_user` deletes every session
and token of that user in the same transaction and tells every server process (PostgreSQL
NOTIFY on `telemart_auth`), whose token caches forget the user at once. A process whose
listener is down does not cache at all. Page sessions also end after
`session_idle_minutes` without a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import hashlib
import ipaddress
import logging
import secrets
import time
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

import asyncpg
from aiohttp import web
from yarl import URL

from config.sql import load_queries
from server import login_guard
from server.errors import ApiError, Handler
from server.keys import DATABASE_URL, POOL, SETTINGS, USER

Q = load_queries("server")
LOGIN_Q = load_queries("server", "login.sql")
log = logging.getLogger(__name__)
SESSION_COOKIE = "telemart_session"
NOTIFY_CHANNEL = "telemart_auth"
TOUCH_EVERY_S = 60.0  # a session's last use is written at most this often
# How the caller proved who it is: "bearer", "session" (the cookie) or None.
AUTH_VIA = web.RequestKey("auth_via", str)


class Role(enum.StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MARKETER = "marketer"
    LOGISTICS = "logistics"
    ADMIN = "admin"


class UserExists(Exception):
    """That username is taken."""


class UserNotFound(Exception):
    """No such user."""


@dataclass(frozen=True, kw_only=True)
class User:
    id: int
    username: str
    role: Role


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _user(row: asyncpg.Record) -> User:
    return User(id=row["id"], username=row["username"], role=Role(row["role"]))


async def _revoke_all(conn: asyncpg.Connection, user_id: int) -> None:
    """Delete the user's sessions and tokens; every process forgets them on commit."""
    await conn.execute(Q["delete_user_tokens"], user_id)
    await conn.execute("SELECT pg_notify($1, $2)", NOTIFY_CHANNEL, str(user_id))
    for cache in _token_caches.values():  # this process: at once, even before commit
        cache.forget_user(user_id)


async def create_user(
    conn: asyncpg.Connection, *, username: str, password: str, role: Role, replace: bool = False
) -> User:
    """Add a user; with `replace`, an existing one gets this password and role (and loses its
    sessions)."""
    password_hash = await login_guard.password_pool().hash(password)
    async with conn.transaction():
        try:
            async with conn.transaction():
                row = await conn.fetchrow(Q["insert_user"], username, password_hash, role.value)
        except asyncpg.UniqueViolationError:
            if not replace:
                raise UserExists(f"user {username!r} already exists") from None
            row = await conn.fetchrow(Q["set_user_password"], username, password_hash, role.value)
            assert row is not None
            await _revoke_all(conn, row["id"])
    assert row is not None
    return _user(row)


async def _change(conn: asyncpg.Connection, query: str, username: str, *args: Any) -> User:
    async with conn.transaction():
        row = await conn.fetchrow(query, username, *args)
        if row is None:
            raise UserNotFound(f"no user {username!r}")
        await _revoke_all(conn, row["id"])
    return _user(row)


async def set_password(conn: asyncpg.Connection, *, username: str, password: str) -> User:
    password_hash = await login_guard.password_pool().hash(password)
    return await _change(conn, Q["change_password"], username, password_hash)


async def set_role(conn: asyncpg.Connection, *, username: str, role: Role) -> User:
    return await _change(conn, Q["change_role"], username, role.value)


async def set_disabled(conn: asyncpg.Connection, *, username: str, disabled: bool) -> User:
    return await _change(conn, Q["set_disabled"], username, disabled)


async def revoke_user(conn: asyncpg.Connection, *, username: str) -> User:
    """End every session and API token of the user now."""
    async with conn.transaction():
        row = await conn.fetchrow(Q["user_by_id_or_name"], username)
        if row is None:
            raise UserNotFound(f"no user {username!r}")
        await _revoke_all(conn, row["id"])
    return _user(row)


async def list_users(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(Q["list_users"])]


# --- logging in ------------------------------------------------------------------------


class TooManyAttempts(Exception):
    """Too many failed logins: wait before trying again."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many failed logins: try again in {retry_after_s} s")
        self.retry_after_s = retry_after_s


async def _audit(conn: asyncpg.Connection, action: str, username: str, **details: Any) -> None:
    await conn.execute(LOGIN_Q["audit"], f"user:{username}", action, username, details)


async def login(
    conn: asyncpg.Connection, *, username: str, password: str, address: str | None, via: str
) -> User | None:
    """The user if the password is right; None if not. Raises TooManyAttempts while the
    account or the address is throttled, and login_guard.Busy when too many checks wait.
    Successes and failures are logged and audited (throttled attempts only when a wait
    starts, so a storm does not flood the audit log)."""
    throttled = await login_guard.check(conn, username, address)
    if throttled is not None:
        raise TooManyAttempts(throttled.retry_after_s)
    row = await conn.fetchrow(Q["user_by_name"], username)
    ok = await login_guard.password_pool().verify(row["password_hash"] if row else None, password)
    if ok and row is not None and not row["disabled"]:
        await login_guard.succeeded(conn, username)
        await _audit(conn, "auth.login", username, address=address, via=via)
        log.info("login %s from %s (%s)", username, address, via)
        return _user(row)
    wait = await login_guard.failed(conn, username, address)
    reason = "disabled" if row is not None and row["disabled"] and ok else "bad_credentials"
    await _audit(conn, "auth.login_failed", username, address=address, via=via, reason=reason,
                 throttled_for_s=wait)  # fmt: skip
    log.warning("failed login for %r from %s (%s)%s", username, address, via,
                f": waits {wait:.0f} s from now" if wait else "")  # fmt: skip
    return None


def client_address(request: web.Request) -> str | None:
    """The caller's address (a proxy in front should pass the real one as the remote)."""
    remote = request.remote
    if not remote:
        return None
    try:
        ip = ipaddress.ip_address(remote)
    except ValueError:
        return remote[:64]
    if ip.version == 6:  # one host or one home has a whole /64
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


# --- tokens ----------------------------------------------------------------------------


async def issue_token(conn: asyncpg.Connection, *, user: User, kind: str, hours: float) -> str:
    token = secrets.token_urlsafe(32)
    await conn.execute(Q["insert_token"], hash_token(token), user.id, kind, hours * 3600.0)
    return token


async def user_for_token(
    conn: asyncpg.Connection, token: str, kind: str, *, idle_s: float | None = None
) -> User | None:
    """The user behind a live token; a session unused for `idle_s` is deleted instead."""
    digest = hash_token(token)
    row = await conn.fetchrow(Q["user_by_token_seen"], digest, kind)
    if row is None:
        return None
    if idle_s is not None and row["idle_s"] > idle_s:
        await conn.execute(Q["delete_token"], digest)
        return None
    if row["idle_s"] > TOUCH_EVERY_S:
        await conn.execute(Q["touch_token"], digest)
    return _user(row)


async def revoke_token(conn: asyncpg.Connection, token: str) -> None:
    digest = hash_token(token)
    await conn.execute(Q["delete_token"], digest)
    for cache in _token_caches.values():
        cache.forget(digest)


class TokenCache:
    """Who is behind an API token, remembered for a short while in this process.

    Saves a database round trip per API call. Only tokens that resolved to a user are
    kept, for at most `ttl_s`. Revocations reach every process through NOTIFY
    (`auth_ctx`); while this process is not listening, `enabled` is False and nothing is
    cached, so a revoked token is never honoured."""

    def __init__(self, *, ttl_s: float = 30.0, max_size: int = 4096) -> None:
        self.ttl_s = ttl_s
        self.max_size = max_size
        self.enabled = False
        self._entries: dict[bytes, tuple[float, User]] = {}

    def get(self, digest: bytes) -> User | None:
        found = self._entries.get(digest)
        if found is None:
            return None
        if found[0] <= time.monotonic() or not self.enabled:
            del self._entries[digest]
            return None
        return found[1]

    def put(self, digest: bytes, user: User) -> None:
        if not self.enabled:
            return
        if len(self._entries) >= self.max_size:  # drop the oldest (insertion order)
            for old in list(self._entries)[: max(1, self.max_size // 8)]:
                del self._entries[old]
        self._entries[digest] = (time.monotonic() + self.ttl_s, user)

    def forget(self, digest: bytes) -> None:
        self._entries.pop(digest, None)

    def forget_user(self, user_id: int) -> None:
        for digest in [d for d, (_, u) in self._entries.items() if u.id == user_id]:
            del self._entries[digest]

    def clear(self) -> None:
        self._entries.clear()


# One cache per application, so test apps on fresh databases share nothing.
_token_caches: weakref.WeakKeyDictionary[web.Application, TokenCache] = weakref.WeakKeyDictionary()


def token_cache(app: web.Application) -> TokenCache:
    cache = _token_caches.get(app)
    if cache is None:
        cache = _token_caches[app] = TokenCache()
    return cache


LISTEN_RETRY_S = (0.5, 1.0, 2.0, 5.0, 10.0)


async def _listen(app: web.Application, stop: asyncio.Event) -> None:
    """Keep a LISTEN connection; the cache is on only while it is up."""
    cache = token_cache(app)
    failures = 0
    while not stop.is_set():
        lost = asyncio.Event()

        def on_notify(_c: object, _pid: int, _channel: str, payload: str) -> None:
            with contextlib.suppress(ValueError):
                cache.forget_user(int(payload))

        try:
            conn = await asyncpg.connect(app[DATABASE_URL], timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            delay = LISTEN_RETRY_S[min(failures, len(LISTEN_RETRY_S) - 1)]
            if failures == 0:
                log.warning("auth listener cannot connect (%s): no token cache", exc)
            failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            continue
        try:
            conn.add_termination_listener(lambda _c, lost=lost: lost.set())
            await conn.add_listener(NOTIFY_CHANNEL, on_notify)
            cache.clear()  # anything revoked while we were away is forgotten
            cache.enabled = True
            failures = 0
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
            while not (stop.is_set() or lost.is_set()):
                await asyncio.wait(waiters, timeout=10.0, return_when=asyncio.FIRST_COMPLETED)
                if not (stop.is_set() or lost.is_set()):
                    try:  # a silent network loss shows only when we speak
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), 5.0)
                    except (OSError, asyncpg.PostgresError, TimeoutError):
                        lost.set()
            for waiter in waiters:
                waiter.cancel()
        finally:
            cache.enabled = False
            cache.clear()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2.0)
        if lost.is_set() and not stop.is_set():
            log.warning("auth listener lost its connection: no token cache until it is back")


async def auth_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the revocation listener, and throttle housekeeping."""
    stop = asyncio.Event()
    task = asyncio.create_task(_listen(app, stop), name="auth.listener")
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError):
            await asyncio.wait_for(task, 5.0)


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


async def _resolve_user(request: web.Request) -> tuple[User | None, str | None]:
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
        return user, "bearer" if user else None
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        idle_s = request.app[SETTINGS].session_idle_minutes * 60.0
        async with pool.acquire() as conn:
            user = await user_for_token(conn, cookie, "session", idle_s=idle_s)
        return user, "session" if user else None
    return None, None


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Find who is calling; on /api/ refuse routes that declare no roles."""
    route_handler = request.match_info.handler
    allowed: frozenset[str] | None = getattr(route_handler, "allowed_roles", None)
    if allowed is not None and PUBLIC in allowed:
        request[USER] = None
        return await handler(request)
    user, via = await _resolve_user(request)
    request[USER] = user
    if via is not None:
        request[AUTH_VIA] = via
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
        # A session cookie that no longer logs in: ended by the idle timeout or revoked;
        # the login page says so instead of appearing out of nowhere.
        ended = "&expired=1" if request.cookies.get(SESSION_COOKIE) else ""
        raise web.HTTPFound(f"/login?next={quote(request.path_qs, safe='/')}{ended}")
    assert isinstance(user, User)
    if roles and user.role not in roles and user.role is not Role.ADMIN:
        raise web.HTTPForbidden(text=f"role {user.role.value} may not open this page")
    return user


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def cookie_secure(request: web.Request) -> bool:
    """The Secure flag: the setting, else on unless the page came from localhost."""
    setting = request.app[SETTINGS].cookie_secure
    if setting is not None:
        return setting
    try:
        host = (URL(f"http://{request.host}").host or "").lower()
    except ValueError:
        return True
    return request.secure or not (host in LOOPBACK_HOSTS or host.startswith("127."))


def session_cookie_kwargs(request: web.Request) -> dict[str, Any]:
    settings = request.app[SETTINGS]
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": cookie_secure(request),
        "max_age": int(settings.session_hours * 3600),
        "path": "/",
    }
