"""The aiohttp application factory."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp_jinja2
import jinja2
from aiohttp import web

from config.db import connect, create_pool, database_url
from config.migrations import migrate
from config.settings import Settings
from server import (
    openapi,
    pages,
    pages_agent,
    pages_i18n,
    pages_inbound,
    pages_logistics,
    pages_marketer,
    views_auth,
    views_crm,
    views_dialer,
    views_inbound,
    views_logistics,
    views_monitor,
    views_orders,
    views_recordings,
    views_segments,
    views_stock,
    views_system,
)
from server.auth import auth_ctx, auth_middleware
from server.csrf import csrf_context, csrf_middleware
from server.dialer_runtime import dialer_ctx
from server.errors import Handler, error_middleware
from server.jobs import scheduler_ctx
from server.keys import DATABASE_URL, LIVE, POOL, SETTINGS
from server.metrics import http_request_seconds, http_requests
from server.middlewares import DEFAULT_BODY_BYTES, limits_middleware, security_headers
from server.ws import live_ctx, live_services

HERE = Path(__file__).parent
# A database that refuses connections (down, restarting) fails a request at once; one that
# does not answer at all, after this. Shorter made a loaded but healthy server shed load.
DB_CONNECT_TIMEOUT_S = 5.0
CleanupCtx = Callable[[web.Application], AsyncIterator[None]]
ROUTE_MODULES = (
    views_system,
    views_auth,
    views_crm,
    views_orders,
    views_stock,
    views_segments,
    views_logistics,
    views_dialer,
    views_recordings,
    views_inbound,
    views_monitor,
    pages,
    pages_marketer,
    pages_agent,
    pages_inbound,
    pages_logistics,
    pages_i18n,
    openapi,
)


def _db_ctx(url: str | None) -> CleanupCtx:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            found = url
            if found is None:
                found = await stack.enter_async_context(database_url(app[SETTINGS]))
            conn = await connect(found)
            try:
                await migrate(conn)  # the server migrates on start
            finally:
                await conn.close()
            settings = app[SETTINGS]
            app[DATABASE_URL] = found
            # A new connection that cannot be made in time means the database is out of
            # reach: the request gets 503 + Retry-After instead of hanging (server/errors.py).
            app[POOL] = await create_pool(
                found, min_size=settings.pool_min_size, max_size=settings.pool_max_size,
                timeout=DB_CONNECT_TIMEOUT_S,
            )  # fmt: skip
            stack.push_async_callback(app[POOL].close)
            yield

    return ctx


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        http_requests.labels(request.method, str(status)).inc()
        http_request_seconds.observe(time.perf_counter() - started)


def create_app(
    settings: Settings,
    *,
    url: str | None = None,
    background: bool = True,
    extra_ctx: Sequence[CleanupCtx] = (),
) -> web.Application:
    """Build the app. `url` skips the settings' database lookup (tests pass one);
    `background=False` leaves out the scheduler and dialer (tests, benches)."""
    app = web.Application(
        middlewares=[
            metrics_middleware,
            error_middleware,
            pages_i18n.page_errors_middleware,
            limits_middleware,
            auth_middleware,
            csrf_middleware,
            pages_i18n.locale_middleware,
        ],
        # What a handler may read whole; routes say otherwise with @body_limit, and
        # customer files are streamed to disk (server/views_crm.py).
        client_max_size=DEFAULT_BODY_BYTES,
    )
    app.on_response_prepare.append(security_headers)
    app[SETTINGS] = settings
    app[LIVE] = live_services(settings)
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        context_processors=[pages.context, csrf_context],
    )
    pages_i18n.setup_templates(env, site_tz=settings.site_tz)
    app.cleanup_ctx.append(_db_ctx(url))
    app.cleanup_ctx.append(auth_ctx)
    app.cleanup_ctx.append(views_system.metrics_listener_ctx)
    app.cleanup_ctx.append(live_ctx(LIVE, POOL))  # the agents' websockets and their bus
    if background:
        app.cleanup_ctx.append(scheduler_ctx)
        if settings.dialer_enabled:
            app.cleanup_ctx.append(dialer_ctx)
    # Run after the pool exists (demo seeding, simulated agents, ...).
    app.cleanup_ctx.extend(extra_ctx)
    for module in ROUTE_MODULES:
        app.router.add_routes(module.routes)
    app.router.add_static("/static/", HERE / "static", name="static")
    swagger = openapi.swagger_ui_dir()
    if swagger is not None:
        app.router.add_static("/static-swagger/", swagger, name="swagger")
    return app
