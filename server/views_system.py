"""Health and metrics.

/metrics is not public: Prometheus sends `Authorization: Bearer <metrics_token>`, or an
admin or supervisor may look; with `metrics_listen` set it is served alone on that
address (a port kept off the network the pages are on) and not on the main one.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator

import asyncpg
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.auth import PUBLIC, Role, _resolve_user, allow
from server.keys import POOL, SETTINGS
from server.metrics import REGISTRY

routes = web.RouteTableDef()
METRICS_ROLES = (Role.ADMIN, Role.SUPERVISOR)


@routes.get("/healthz")
@allow(PUBLIC)
async def healthz(request: web.Request) -> web.Response:
    try:
        async with request.app[POOL].acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return web.json_response(
            {"status": "error", "database": "unreachable"}, status=503,
            headers={"Retry-After": "1"},
        )  # fmt: skip
    return web.json_response({"status": "ok", "database": "ok"})


def _metrics_response() -> web.Response:
    body = generate_latest(REGISTRY)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def _may_read_metrics(request: web.Request) -> bool:
    token = request.app[SETTINGS].metrics_token
    header = request.headers.get("Authorization", "")
    if token is not None and header.startswith("Bearer "):
        if hmac.compare_digest(header[7:].strip().encode(), token.get_secret_value().encode()):
            return True
    user, _ = await _resolve_user(request)
    return user is not None and user.role in METRICS_ROLES


@routes.get("/metrics")
@allow(PUBLIC)
async def metrics(request: web.Request) -> web.Response:
    if request.app[SETTINGS].metrics_listen:
        raise web.HTTPNotFound(text="metrics are served on their own address")
    if not await _may_read_metrics(request):
        raise web.HTTPUnauthorized(
            text="metrics: send Authorization: Bearer <metrics_token>, or log in as admin",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return _metrics_response()


async def metrics_listener_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: /metrics alone on `metrics_listen` (host:port), if set."""
    listen = app[SETTINGS].metrics_listen
    if not listen:
        yield
        return
    host, _, port = listen.rpartition(":")

    async def handler(_: web.Request) -> web.Response:
        return _metrics_response()

    side = web.Application()
    side.router.add_get("/metrics", handler)
    runner = web.AppRunner(side, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host.strip("[]") or "127.0.0.1", int(port)).start()
    try:
        yield
    finally:
        await runner.cleanup()
