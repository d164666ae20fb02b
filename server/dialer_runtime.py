"""The live dialer inside the server process (and inside `telemart dialer`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import asyncpg
from aiohttp import web

from dialer.live.desk import LiveDesk
from dialer.live.runtime import DialerRuntime
from dialer.sim.scenario import Scenario
from dialer.telephony import DialingPort, SimCarrier, open_port
from server.keys import DATABASE_URL, POOL, SETTINGS
from server.metrics import observe_journey
from server.ws import live_services
from server.ws_pop import build_pop


def make_runtime(
    *,
    pool: asyncpg.Pool,
    url: str,
    desk: LiveDesk,
    port: DialingPort,
    tick_s: float = 1.0,
    scan_s: float = 2.0,
    lease_s: float = 60.0,
    owner: str | None = None,
) -> DialerRuntime:
    """A runtime with the server's screen pop and Prometheus histograms."""
    return DialerRuntime(pool=pool, url=url, desk=desk, port=port, pop_builder=build_pop,
                         observe=observe_journey, tick_s=tick_s, scan_s=scan_s,
                         lease_s=lease_s, owner=owner)


def make_dialer_ctx(
    *,
    seed: int = 1,
    time_scale: float = 1.0,
    tick_s: float = 1.0,
    scan_s: float = 2.0,
    scenario: Scenario | None = None,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running the dialer; tests and benches scale the sim's clock."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        services = live_services(app)
        name = app[SETTINGS].telephony
        port: DialingPort = (
            SimCarrier(seed=seed, time_scale=time_scale, scenario=scenario)
            if name == "sim" else open_port(name, seed=seed, time_scale=time_scale)
        )
        runtime = make_runtime(pool=app[POOL], url=app[DATABASE_URL], desk=services.desk,
                               port=port, tick_s=tick_s, scan_s=scan_s)
        services.runtime = runtime
        await runtime.start()
        try:
            yield
        finally:
            await services.hub.close_all()
            await runtime.stop()
            services.runtime = None

    return ctx


async def dialer_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the pacing loops for running campaigns; stop them on the way out."""
    async for _ in make_dialer_ctx()(app):
        yield
