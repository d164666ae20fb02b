"""The live dialer inside the server process (and inside `telemart dialer`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import asyncpg
from aiohttp import web

from dialer.inbound.ars import OrderIntent
from dialer.live.campaign import LiveCampaign
from dialer.live.desk import LiveDesk
from dialer.live.inbound_ars import ArsHooks
from dialer.live.inbound_call import Caller
from dialer.live.runtime import DialerRuntime
from dialer.recordings.files import sim_folder
from dialer.sim.scenario import Scenario, load_scenario
from dialer.store.hopper import LeasedLead
from dialer.telephony import TelephonyPort, open_port
from dialer.telephony.port import AmdMode
from server.inbound import ArsOrderResult, build_inbound_pop, place_ars_order, products_for
from server.keys import DATABASE_URL, LIVE, POOL, SETTINGS
from server.metrics import count_decision, observe_journey
from server.ws import runtime_time_scale
from server.ws_pop import build_pop


def make_runtime(
    *,
    pool: asyncpg.Pool,
    url: str,
    desk: LiveDesk,
    port: TelephonyPort,
    tick_s: float = 1.0,
    scan_s: float = 2.0,
    lease_s: float = 60.0,
    owner: str | None = None,
    **options: Any,
) -> DialerRuntime:
    """A runtime with the server's screen pop and Prometheus histograms."""

    async def pop(campaign: LiveCampaign, lead: LeasedLead, attempt_id: int) -> dict[str, Any]:
        async with pool.acquire() as conn:
            return await build_pop(conn, campaign, lead, attempt_id)

    async def inbound_pop(caller: Caller, attempt_id: int) -> dict[str, Any]:
        async with pool.acquire() as conn:
            return await build_inbound_pop(conn, caller, attempt_id)

    return DialerRuntime(pool=pool, url=url, desk=desk, port=port, pop_builder=pop,
                         inbound_pop=inbound_pop, observe=observe_journey,
                         on_decision=count_decision, tick_s=tick_s, scan_s=scan_s,
                         lease_s=lease_s, owner=owner, **options)


def ars_hooks(app: web.Application) -> ArsHooks:
    """The ARS on live calls: the products on air from the catalog, its orders through
    the agent's capture path (`server.inbound`)."""

    async def place(intent: OrderIntent, customer: Mapping[str, Any]) -> ArsOrderResult:
        return await place_ars_order(app, intent=intent, customer=customer)

    return ArsHooks(products_for=products_for, place_order=place)


def make_dialer_ctx(
    *,
    seed: int = 1,
    time_scale: float = 1.0,
    tick_s: float = 1.0,
    scan_s: float = 2.0,
    lease_s: float = 60.0,
    scenario: Scenario | None = None,
    port: TelephonyPort | None = None,
    runtime_scale: float = 1.0,
    **options: Any,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running the dialer; tests and benches scale the sim's clock
    (or hand in a port of their own)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        services = app[LIVE]
        settings = app[SETTINGS]
        chosen = port
        if chosen is None:
            sim = {"seed": seed, "time_scale": time_scale, "scenario": scenario,
                   "recordings_dir": sim_folder(settings)}
            chosen = open_port(settings, **(sim if settings.telephony == "sim" else {}))
        if settings.telephony != "sim":  # on real lines AMD is off unless a campaign asks
            options.setdefault("amd", AmdMode.OFF)
        runtime = make_runtime(pool=app[POOL], url=app[DATABASE_URL], desk=services.desk,
                               port=chosen, tick_s=tick_s, scan_s=scan_s, lease_s=lease_s,
                               bus=services.bus, owner=services.node,
                               time_scale=runtime_scale, ars=ars_hooks(app), **options)
        services.runtime = runtime
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()
            services.runtime = None

    return ctx


async def dialer_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the pacing loops for running campaigns; stop them on the way out."""
    s = app[SETTINGS]
    ctx = make_dialer_ctx(seed=s.sim_seed, time_scale=s.sim_time_scale,
                          scenario=load_scenario(s.sim_scenario), tick_s=s.dialer_tick_s,
                          scan_s=s.dialer_scan_s, lease_s=s.dialer_lease_s,
                          port=open_port(s) if s.telephony != "sim" else None,
                          runtime_scale=runtime_time_scale(s))
    async for _ in ctx(app):
        yield
